/**
 * Operator throughput: 1,000,000 synthetic ES prints through `from(array).pipe(op)` into a no-op subscriber, against
 * an identity `map` measured in the same rounds. Inputs are generated before timing with a fixed-seed generator, so
 * every run sees the same events. Rounds interleave the cases (after one warm-up round) so drift of the machine hits
 * all of them alike; each figure is the median of 5 rounds.
 */
import { from, map, type Observable, type OperatorFunction } from 'rxjs';
import { Aggressor, type FuturesTrade } from '../src/common/event-types.js';
import { confluence, type ConfluenceSnapshot, type LevelLike } from '../src/operators/confluence.js';
import { eventTimeWindow } from '../src/operators/event-time-window.js';
import { ewma, keyedEwma } from '../src/operators/ewma.js';
import { sweepDetector } from '../src/operators/sweeps.js';
import { velocity } from '../src/operators/velocity.js';
import { holdTrigger } from '../src/operators/hold-trigger.js';
import { reorderBuffer } from '../src/operators/reorder-buffer.js';
import { snapGrid } from '../src/operators/snap-grid.js';
import { median, type BenchRow } from './types.js';

const N = 1_000_000;
const ROUNDS = 5;
const SUITE = 'operators';

/** Deterministic uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bursty tape: runs of prints a few ms apart on one side, separated by quiet gaps of 50–400 ms. */
function makeTrades(n: number): FuturesTrade[] {
  const r = rng(20251216);
  const out: FuturesTrade[] = new Array(n);
  let ts = 1_765_890_000_000_000_000n;
  let ticks = 27480; // 6870.00 in 0.25-point ticks
  let side: Aggressor = Aggressor.BUY;
  for (let i = 0; i < n; i++) {
    const burst = r() < 0.7;
    ts += BigInt(Math.floor(burst ? r() * 5e6 : 5e7 + r() * 3.5e8));
    if (!burst) side = r() < 0.5 ? Aggressor.BUY : Aggressor.SELL;
    ticks += r() < 0.5 ? 0 : r() < 0.5 ? 1 : -1;
    out[i] = {
      ts_event_ns: ts,
      ts_recv_ns: ts,
      source: 'replay',
      symbol: 'ESZ5',
      price: ticks * 0.25,
      size: 1 + Math.floor(r() * 20),
      aggressor: r() < 0.1 ? Aggressor.MID : side,
      exchange: 'XCME',
      conditions: null,
      seq: BigInt(i),
    };
  }
  return out;
}

interface Case {
  name: string;
  input: readonly unknown[];
  op: OperatorFunction<unknown, unknown>;
  extra?: string;
}

function timeOnce(c: Case): number {
  const source = from(c.input) as Observable<unknown>;
  const t0 = performance.now();
  source.pipe(c.op).subscribe({ next: () => undefined });
  const ms = performance.now() - t0;
  return (c.input.length / ms) * 1000;
}

function toolkitCases(trades: readonly FuturesTrade[]): Case[] {
  const r = rng(7);
  const inputs = trades.map((t, i) => ({
    key: `L${i % 8}`,
    ts_ns: t.ts_event_ns,
    score: (t.price * 40) % 100,
    touching: r() < 0.5,
    activity: t.size * 100,
  }));
  return [
    { name: 'reorderBuffer', input: trades, op: reorderBuffer() as OperatorFunction<unknown, unknown> },
    {
      name: 'snapGrid',
      input: trades,
      op: snapGrid() as OperatorFunction<unknown, unknown>,
      extra: 'emits events and 250 ms snaps',
    },
    {
      name: 'holdTrigger',
      input: inputs,
      op: holdTrigger() as OperatorFunction<unknown, unknown>,
      extra: '8 level keys',
    },
  ];
}

/** A universe the size the orchestrator sees near spot: structural levels plus strikes and rounds. */
function makeUniverse(): LevelLike[] {
  const kinds = ['PM_HIGH', 'PM_LOW', 'OR_HIGH', 'OR_LOW', 'SMA_200', 'SMA_400', 'SESSION_HIGH', 'SESSION_LOW'];
  const levels: LevelLike[] = kinds.map((kind, i) => ({ id: kind, kind, price: 6860 + i * 2.5 }));
  for (let k = 6850; k <= 6890; k += 10) levels.push({ id: `STRIKE_${k}`, kind: 'STRIKE', price: k });
  return levels;
}

export async function runOperatorBenchmarks(): Promise<BenchRow[]> {
  const trades = makeTrades(N);
  const universe = makeUniverse();
  const snapshots: ConfluenceSnapshot[] = trades.map((t) => ({ levels: universe, spot: t.price }));
  const keys = Array.from({ length: 50 }, (_, i) => `L${i}`);
  const keyed = trades.map((t, i) => ({ ts_event_ns: t.ts_event_ns, value: t.price, key: keys[i % 50]! }));

  const baseline: Case = { name: 'identity map (baseline)', input: trades, op: map((x: unknown) => x) };
  const cases: Case[] = [
    baseline,
    {
      name: 'eventTimeWindow',
      input: trades,
      op: eventTimeWindow({ windowS: 60, value: (t: FuturesTrade) => t.price }) as OperatorFunction<unknown, unknown>,
      extra: 'W 60 s: count/sum/min/max',
    },
    {
      name: 'ewma',
      input: trades,
      op: ewma({ tauS: 2, value: (t: FuturesTrade) => t.price }) as OperatorFunction<unknown, unknown>,
    },
    {
      name: 'keyedEwma',
      input: keyed,
      op: keyedEwma({ tauS: 2, key: (x: { key: string }) => x.key, idleEvictS: 600 }) as OperatorFunction<
        unknown,
        unknown
      >,
      extra: '50 keys, idle eviction 600 s',
    },
    {
      name: 'velocity',
      input: trades,
      op: velocity({ windowS: 3 }) as OperatorFunction<unknown, unknown>,
      extra: 'W_v 3 s',
    },
    {
      name: 'sweepDetector',
      input: trades,
      op: sweepDetector() as OperatorFunction<unknown, unknown>,
      extra: 'seed thresholds, all prints',
    },
    {
      name: 'confluence',
      input: snapshots,
      op: confluence() as OperatorFunction<unknown, unknown>,
      extra: `stateless; ${universe.length} levels scored per snapshot`,
    },
    ...toolkitCases(trades),
  ];

  for (const c of cases) timeOnce(c);
  const rates = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let round = 0; round < ROUNDS; round++) for (const c of cases) rates.get(c)!.push(timeOnce(c));

  const base = median(rates.get(baseline)!);
  return cases.map((c) => {
    const eventsPerSec = median(rates.get(c)!);
    const row: BenchRow = { suite: SUITE, name: c.name, eventsPerSec, ratioToBaseline: eventsPerSec / base };
    if (c.extra !== undefined) row.extra = c.extra;
    return row;
  });
}
