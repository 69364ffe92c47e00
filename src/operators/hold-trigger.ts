/**
 * Hold-time trigger with release, one state machine per level (ENGINES.md §8 "Trigger", W-04, W-05, W-06).
 *
 * A score flickering across a threshold must not fire: BREAK and REJECT fire only when their condition has held
 * without interruption for `holdTimeS` of event time, and stay on (hysteresis) until the score crosses back by
 * `releaseMargin`.
 *
 * Rules, per key (all times integer ns, `hold = round(holdTimeS·1e9)`):
 * - BREAK condition: `score > breakThreshold` (strict). REJECT condition: `score < rejectThreshold` (strict) and
 *   `touching`. Each has a timer holding the ts of the first sample of its current uninterrupted run; a sample not
 *   meeting the condition clears the timer, so any interruption restarts the count.
 * - Fire: when `ts − since ≥ hold` (at exactly `hold` it fires, one ns before it does not). `fired` is set only on
 *   the sample where the signal begins; a fired signal replaces whatever was active.
 * - Release (W-06): an active BREAK ends when `score ≤ breakThreshold − releaseMargin`, an active REJECT when
 *   `score ≥ rejectThreshold + releaseMargin`, and both when the key is removed. Release is checked before firing.
 *   A NaN score meets no condition: it interrupts both timers and releases nothing.
 * - CONTESTED (W-05): a per-sample state, recomputed on every sample, when no BREAK/REJECT is active and
 *   `contestedLow ≤ score ≤ contestedHigh` and `consumed` and `activity > contestedMinActivity`. The NEUTRAL fallback
 *   does not overwrite it. Otherwise NEUTRAL (also while a timer runs but has not fired yet).
 * - Keys (W-04): one independent state per key. `remove: true` (or `HoldTrigger.forget`) drops the key's state; the
 *   removal sample itself is answered with NEUTRAL. A key seen again starts fresh.
 * - Out-of-order: a sample with `ts` below that key's last accepted ts is ignored (the timers never run backwards,
 *   so a stale sample can neither fire nor interrupt); it is answered with the key's current signal, without
 *   `fired`, and counted in `stats.outOfOrder`. Equal timestamps are accepted.
 * - One output per input, in input order.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { CONFIG } from '../common/config.js';

export type TriggerSignal = 'BREAK' | 'REJECT' | 'CONTESTED' | 'NEUTRAL';
export type FiredSignal = 'BREAK' | 'REJECT';

export interface TriggerInput {
  /** Level id. */
  readonly key: string;
  readonly ts_ns: bigint;
  /** Composite score 0–100. */
  readonly score: number;
  /** Price within the touch band of the level (see `isTouching`). */
  readonly touching: boolean;
  /** Barrier state is CONSUMED. */
  readonly consumed?: boolean | undefined;
  /** Traded volume near the level (buy + sell). */
  readonly activity?: number | undefined;
  /** The level left the active set: release and forget it. */
  readonly remove?: boolean | undefined;
}

export interface TriggerOutput {
  readonly key: string;
  readonly ts_ns: bigint;
  readonly signal: TriggerSignal;
  /** Present only on the sample where BREAK or REJECT begins. */
  readonly fired?: FiredSignal;
}

export interface HoldTriggerStats {
  /** Samples ignored because their ts was below the key's last ts. */
  outOfOrder: number;
}

export interface HoldTriggerOptions {
  readonly breakThreshold?: number;
  readonly rejectThreshold?: number;
  readonly holdTimeS?: number;
  readonly releaseMargin?: number;
  readonly contestedLow?: number;
  readonly contestedHigh?: number;
  readonly contestedMinActivity?: number;
  /** Counters shared by every subscription made with these options. */
  readonly stats?: HoldTriggerStats;
}

/** Touching the level: `distance ≤ touchBand` (closed, ENGINES.md §8 step 2). */
export function isTouching(distance: number, touchBand: number = CONFIG.TOUCH_BAND): boolean {
  return distance <= touchBand;
}

interface KeyState {
  lastTs: bigint;
  highSince: bigint | null;
  lowSince: bigint | null;
  active: FiredSignal | null;
  signal: TriggerSignal;
}

interface Resolved {
  readonly breakThreshold: number;
  readonly rejectThreshold: number;
  readonly holdNs: bigint;
  readonly breakRelease: number;
  readonly rejectRelease: number;
  readonly contestedLow: number;
  readonly contestedHigh: number;
  readonly contestedMinActivity: number;
}

function resolve(opts: HoldTriggerOptions): Resolved {
  const num = (name: string, v: number, min = -Infinity): number => {
    if (!Number.isFinite(v) || v < min) {
      throw new RangeError(`holdTrigger: ${name} must be a finite number${min === 0 ? ' ≥ 0' : ''}, got ${String(v)}`);
    }
    return v;
  };
  const breakThreshold = num('breakThreshold', opts.breakThreshold ?? CONFIG.BREAK_SCORE_THRESHOLD);
  const rejectThreshold = num('rejectThreshold', opts.rejectThreshold ?? CONFIG.REJECT_SCORE_THRESHOLD);
  if (rejectThreshold >= breakThreshold) {
    throw new RangeError(
      `holdTrigger: rejectThreshold (${rejectThreshold}) must be below breakThreshold (${breakThreshold})`,
    );
  }
  const holdTimeS = num('holdTimeS', opts.holdTimeS ?? CONFIG.TRIGGER_HOLD_TIME, 0);
  const margin = num('releaseMargin', opts.releaseMargin ?? CONFIG.SIGNAL_RELEASE_MARGIN, 0);
  return {
    breakThreshold,
    rejectThreshold,
    holdNs: BigInt(Math.round(holdTimeS * 1e9)),
    breakRelease: breakThreshold - margin,
    rejectRelease: rejectThreshold + margin,
    contestedLow: num('contestedLow', opts.contestedLow ?? CONFIG.CONTESTED_LOW),
    contestedHigh: num('contestedHigh', opts.contestedHigh ?? CONFIG.CONTESTED_HIGH),
    contestedMinActivity: num('contestedMinActivity', opts.contestedMinActivity ?? CONFIG.CONTESTED_MIN_ACTIVITY),
  };
}

/** The keyed state machines without RxJS. */
export class HoldTrigger {
  readonly stats: HoldTriggerStats;
  private readonly cfg: Resolved;
  private readonly states = new Map<string, KeyState>();

  constructor(opts: HoldTriggerOptions = {}) {
    this.cfg = resolve(opts);
    this.stats = opts.stats ?? { outOfOrder: 0 };
  }

  /** Number of keys with state. */
  get size(): number {
    return this.states.size;
  }

  /** Current signal of a key (NEUTRAL when unknown). */
  signalOf(key: string): TriggerSignal {
    return this.states.get(key)?.signal ?? 'NEUTRAL';
  }

  /** Drop a key's state, releasing any active signal. Returns whether the key had state. */
  forget(key: string): boolean {
    return this.states.delete(key);
  }

  /** Drop every key's state. */
  reset(): void {
    this.states.clear();
  }

  /** Apply one sample and return the key's signal after it. */
  update(input: TriggerInput): TriggerOutput {
    const { key, ts_ns: ts, score } = input;
    if (input.remove === true) {
      this.states.delete(key);
      return { key, ts_ns: ts, signal: 'NEUTRAL' };
    }
    const c = this.cfg;
    let s = this.states.get(key);
    if (s === undefined) {
      s = { lastTs: ts, highSince: null, lowSince: null, active: null, signal: 'NEUTRAL' };
      this.states.set(key, s);
    } else if (ts < s.lastTs) {
      this.stats.outOfOrder++;
      return { key, ts_ns: ts, signal: s.signal };
    }
    s.lastTs = ts;

    if (score > c.breakThreshold) s.highSince ??= ts;
    else s.highSince = null;
    if (score < c.rejectThreshold && input.touching) s.lowSince ??= ts;
    else s.lowSince = null;

    if (s.active === 'BREAK' && score <= c.breakRelease) s.active = null;
    else if (s.active === 'REJECT' && score >= c.rejectRelease) s.active = null;

    let fired: FiredSignal | null = null;
    if (s.highSince !== null && s.active !== 'BREAK' && ts - s.highSince >= c.holdNs) fired = 'BREAK';
    else if (s.lowSince !== null && s.active !== 'REJECT' && ts - s.lowSince >= c.holdNs) fired = 'REJECT';
    if (fired !== null) s.active = fired;

    s.signal =
      s.active ??
      (score >= c.contestedLow &&
      score <= c.contestedHigh &&
      input.consumed === true &&
      (input.activity ?? 0) > c.contestedMinActivity
        ? 'CONTESTED'
        : 'NEUTRAL');
    return fired === null ? { key, ts_ns: ts, signal: s.signal } : { key, ts_ns: ts, signal: s.signal, fired };
  }
}

/**
 * Per-level BREAK / REJECT / CONTESTED / NEUTRAL with hold time and release; one output per input.
 *
 * ```
 * defaults (BREAK > 80 held 3 s, release ≤ 70); one key; letters carry (score, ts):
 * a=(85,0s) b=(85,1s) c=(85,4s) d=(75,5s) e=(65,6s)
 * source:  --a--b--c--d--e--|
 * output:  --N--N--F--B--N--|     N = NEUTRAL, F = BREAK with fired:'BREAK', B = BREAK (hysteresis holds at 75)
 * ```
 */
export function holdTrigger(opts: HoldTriggerOptions = {}): OperatorFunction<TriggerInput, TriggerOutput> {
  resolve(opts);
  return (source) =>
    new Observable<TriggerOutput>((subscriber) => {
      const trigger = new HoldTrigger(opts);
      const sub = source.subscribe({
        next(input) {
          subscriber.next(trigger.update(input));
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        trigger.reset();
      };
    });
}
