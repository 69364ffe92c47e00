/**
 * What a trader reads at the end of a run: per level, the BREAK/REJECT triggers that fired (New York time, score),
 * how often each barrier state was seen, how many sweeps, and where the files are.
 */
import type { MarketEventKind } from '../common/event-types.js';
import type { LevelSignalsPayload } from '../common/payloads.js';
import { nyTime } from '../common/time.js';
import { nyClock } from './progress.js';

export interface FiredTrigger {
  readonly ts: number;
  readonly signal: 'BREAK' | 'REJECT';
  readonly score: number;
  readonly price: number;
}

const KIND_LABEL: Readonly<Record<MarketEventKind, string>> = {
  'futures.trades': 'trades',
  'futures.mbp10': 'MBP-10',
  'options.trades': 'option trades',
};

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function msToNs(ms: number): bigint {
  return BigInt(ms) * 1_000_000n;
}

/** `HH:MM:SS.mmm` New York time of a payload's `ts` (ms). */
function clockMs(ms: number): string {
  return `${nyClock(msToNs(ms))}.${String(ms % 1000).padStart(3, '0')}`;
}

export class RunSummary {
  readonly eventCounts: Record<MarketEventKind, number> = {
    'futures.trades': 0,
    'futures.mbp10': 0,
    'options.trades': 0,
  };
  readonly barrierStates = new Map<string, number>();
  readonly fired = new Map<string, FiredTrigger[]>();
  sweeps = 0;
  payloads = 0;
  snaps = 0;
  late = 0;
  invalid = 0;
  firstTs: bigint | null = null;
  lastTs: bigint | null = null;
  private readonly lastSignal = new Map<string, string>();
  private readonly sweepOn = new Set<string>();

  observeEvent(kind: MarketEventKind, ts: bigint): void {
    this.eventCounts[kind]++;
    if (this.firstTs === null || ts < this.firstTs) this.firstTs = ts;
    if (this.lastTs === null || ts > this.lastTs) this.lastTs = ts;
  }

  observePayload(p: LevelSignalsPayload): void {
    this.payloads++;
    for (const l of p.levels) {
      this.barrierStates.set(l.barrier.state, (this.barrierStates.get(l.barrier.state) ?? 0) + 1);
      // A sweep stays in the tape window for a minute: count it once, when it first shows at a level.
      if (l.tape.sweep.detected) {
        if (!this.sweepOn.has(l.id)) this.sweeps++;
        this.sweepOn.add(l.id);
      } else this.sweepOn.delete(l.id);
      const prev = this.lastSignal.get(l.id) ?? 'NEUTRAL';
      if ((l.signal === 'BREAK' || l.signal === 'REJECT') && l.signal !== prev) {
        let list = this.fired.get(l.id);
        if (!list) this.fired.set(l.id, (list = []));
        list.push({ ts: p.ts, signal: l.signal, score: l.break_score_raw, price: l.price });
      }
      this.lastSignal.set(l.id, l.signal);
    }
  }

  finish(stats: { snaps: number; late: number }, invalid: number): void {
    this.snaps = stats.snaps;
    this.late = stats.late;
    this.invalid = invalid;
  }

  get totalEvents(): number {
    return Object.values(this.eventCounts).reduce((a, b) => a + b, 0);
  }

  count(signal: 'BREAK' | 'REJECT'): number {
    let n = 0;
    for (const list of this.fired.values()) for (const f of list) if (f.signal === signal) n++;
    return n;
  }

  /** The text block printed at the end of `levelflow run`. */
  render(head: { runId: string; status: string; wallMs: number; files: [string, string][] }): string {
    const lines: string[] = [];
    const span =
      this.firstTs !== null && this.lastTs !== null
        ? `${nyTime(this.firstTs).date} ${nyClock(this.firstTs)} → ${nyClock(this.lastTs)} ET`
        : 'no events';
    const eventSeconds = this.firstTs !== null && this.lastTs !== null ? Number(this.lastTs - this.firstTs) / 1e9 : 0;
    const speedUp = head.wallMs > 0 ? eventSeconds / (head.wallMs / 1000) : 0;
    lines.push(`levelflow run ${head.runId}: ${head.status} in ${(head.wallMs / 1000).toFixed(1)} s`);
    const kinds = (Object.keys(this.eventCounts) as MarketEventKind[])
      .map((k) => `${fmtInt(this.eventCounts[k])} ${KIND_LABEL[k]}`)
      .join(', ');
    lines.push(`  events   ${fmtInt(this.totalEvents)} (${kinds})`);
    lines.push(
      `  session  ${span} (${fmtInt(Math.round(eventSeconds))} s of event time, ${speedUp.toFixed(0)}× real time)`,
    );
    lines.push(
      `  signals  ${fmtInt(this.payloads)} snaps of 250 ms; ${this.count('BREAK')} BREAK and ${this.count('REJECT')} REJECT ` +
        `triggers; ${this.sweeps} sweeps`,
    );
    if (this.late > 0 || this.invalid > 0) {
      lines.push(`  dropped  ${fmtInt(this.late)} late events, ${fmtInt(this.invalid)} invalid records (see the log)`);
    }
    lines.push('');
    lines.push('Triggers (held 3 s of event time; New York time, composite score 0–100):');
    if (this.fired.size === 0) lines.push('  none fired');
    const levels = [...this.fired.entries()].sort((a, b) => a[1][0]!.ts - b[1][0]!.ts);
    for (const [id, list] of levels) {
      const shown = list.slice(0, 6).map((f) => `${f.signal} ${clockMs(f.ts)} (${f.score.toFixed(1)})`);
      const more = list.length > 6 ? `, … ${list.length - 6} more` : '';
      lines.push(`  ${id.padEnd(16)} ${shown.join(', ')}${more}`);
    }
    lines.push('');
    const states = ['VACUUM', 'WALL', 'ABSORPTION', 'CONSUMED', 'WEAK', 'NEUTRAL']
      .map((s) => `${s} ${fmtInt(this.barrierStates.get(s) ?? 0)}`)
      .join(' · ');
    lines.push(`Barrier states (level × snap): ${states}`);
    lines.push('');
    lines.push('Files:');
    for (const [what, where] of head.files) lines.push(`  ${what.padEnd(9)} ${where}`);
    return lines.join('\n') + '\n';
  }
}
