/**
 * EWMA on irregularly spaced samples (ENGINES.md §9, W-08, W-35; §17.7 same-timestamp rule).
 *
 * `α = 1 − 2^(−dt/τ)` with τ the true half-life (the port's decision), or `α = 1 − e^(−dt/τ)` with
 * `mode: 'time_constant'` for parity with the reference. The first sample passes through; a sample with `dt ≤ 0` is
 * ignored (value unchanged, clock unchanged); `dt` is capped at `maxDtS`; α is clamped to [0, 1].
 */
import { statefulMap } from './stateful-map.js';
import type { OperatorFunction } from 'rxjs';
import { CONFIG } from '../common/config.js';
import { NsClock } from './event-time-window.js';

export type EwmaMode = 'half_life' | 'time_constant';

/**
 * Smoothing factor for a step of `dtS` seconds. `2^(−x)` is computed as `e^(−x·ln 2)`: the same number to within an
 * ulp, and V8's `Math.exp` is about six times faster than its `Math.pow` with a fractional exponent.
 */
export function ewmaAlpha(dtS: number, tauS: number, mode: EwmaMode): number {
  const a = mode === 'half_life' ? 1 - Math.exp((-dtS / tauS) * Math.LN2) : 1 - Math.exp(-dtS / tauS);
  return a < 0 ? 0 : a > 1 ? 1 : a;
}

export interface EwmaConfig {
  /** Half-life (or time constant) in seconds (default `CONFIG.tau_score`). */
  tauS?: number;
  /** Default `CONFIG.EWMA_ALPHA_MODE`. */
  mode?: EwmaMode;
  /** Longest step that still counts, in seconds (default `CONFIG.EWMA_MAX_DT_S`). */
  maxDtS?: number;
}

interface ResolvedEwma {
  tauS: number;
  mode: EwmaMode;
  maxDtS: number;
}

function resolveEwma(config: EwmaConfig): ResolvedEwma {
  const tauS = config.tauS ?? CONFIG.tau_score;
  const maxDtS = config.maxDtS ?? CONFIG.EWMA_MAX_DT_S;
  const mode = config.mode ?? CONFIG.EWMA_ALPHA_MODE;
  if (!(Number.isFinite(tauS) && tauS > 0)) throw new RangeError(`tauS must be a finite number > 0, got ${tauS}`);
  if (!(maxDtS > 0)) throw new RangeError(`maxDtS must be > 0, got ${maxDtS}`);
  if (mode !== 'half_life' && mode !== 'time_constant') throw new RangeError(`unknown EWMA mode ${String(mode)}`);
  return { tauS, mode, maxDtS };
}

/** One smoothed series. Samples must be finite numbers; a NaN would stay in the value as in the reference. */
export class Ewma {
  private readonly tauS: number;
  private readonly mode: EwmaMode;
  private readonly maxDtS: number;
  // A plain number field is updated in place; a `number | null` one would box every new value. Unset while `last`
  // is null.
  private v = 0;
  private last: bigint | null = null;
  // Measures `ts − last` without a BigInt subtraction per sample.
  private readonly clock = new NsClock();

  constructor(config: EwmaConfig = {}) {
    ({ tauS: this.tauS, mode: this.mode, maxDtS: this.maxDtS } = resolveEwma(config));
  }

  /** The smoothed value, `null` before the first sample. */
  get value(): number | null {
    return this.last === null ? null : this.v;
  }

  /** Event time of the last sample that counted. */
  get lastTs(): bigint | null {
    return this.last;
  }

  /** Feed one sample and return the smoothed value. */
  update(x: number, ts: bigint): number {
    const prev = this.v;
    const last = this.last;
    if (last === null) {
      this.v = x;
      this.last = ts;
      this.clock.set(ts);
      return x;
    }
    if (ts <= last) return prev;
    let dt = this.clock.step(ts) / 1e9;
    if (dt > this.maxDtS) dt = this.maxDtS;
    const a = ewmaAlpha(dt, this.tauS, this.mode);
    const next = a * x + (1 - a) * prev;
    this.v = next;
    this.last = ts;
    return next;
  }

  reset(): void {
    this.v = 0;
    this.last = null;
  }
}

/** A smoothed value with the event time of the input that produced it. */
export interface EwmaPoint {
  ts_ns: bigint;
  value: number;
}

/** A sample as the operators read it by default. */
export interface TimedValue {
  ts_event_ns: bigint;
  value: number;
}

function defaultValue(x: unknown): number {
  return (x as TimedValue).value;
}

function defaultTime(x: unknown): bigint {
  const ts = (x as { ts_event_ns?: unknown } | null)?.ts_event_ns;
  if (typeof ts !== 'bigint') throw new TypeError('item has no bigint ts_event_ns; pass a `time` selector');
  return ts;
}

export interface EwmaOptions<T> extends EwmaConfig {
  /** Sample value (default `x.value`). */
  value?: (x: T) => number;
  /** Event time (default `x.ts_event_ns`). */
  time?: (x: T) => bigint;
}

/**
 * Per input, the smoothed value after that input.
 *
 * ```
 * τ = 2 s, time_constant        (a 50@0s, b 100@0.25s, c 100@0.5s, d 100@2.5s, e 0@2.5s)
 * source: -a--b--c--d--e--|
 * output: -A--B--C--D--E--|     A 50   B 55.875155   C 61.059961   D 85.674760   E 85.674760 (dt = 0: ignored)
 * source: -a--b--#              errors pass through; unsubscribing drops the state
 * output: -A--B--#
 * ```
 *
 * Completion passes through immediately (nothing is buffered). Each subscription smooths independently.
 */
export function ewma<T = TimedValue>(options: EwmaOptions<T> = {}): OperatorFunction<T, EwmaPoint> {
  const value: (x: T) => number = options.value ?? defaultValue;
  const time: (x: T) => bigint = options.time ?? defaultTime;
  const config = resolveEwma(options);
  return statefulMap<T, EwmaPoint>(() => {
    const state = new Ewma(config);
    return {
      step: (x) => {
        const ts = time(x);
        return { ts_ns: ts, value: state.update(value(x), ts) };
      },
      dispose: () => state.reset(),
    };
  });
}

export interface KeyedEwmaConfig extends EwmaConfig {
  /**
   * Forget a key after this much event time without a sample that counted (W-35); its next sample starts afresh.
   * `undefined` keeps every key for the life of the object.
   */
  idleEvictS?: number;
}

// A store into a BigInt64Array converts an int64 bigint to two's complement without allocating, and a 32-bit view
// reads the halves as plain numbers (as `NsClock` does). For two times split into `(hiA, loA)` and `(hiB, loB)`,
// `(hiA − hiB) · 2^32 + (loA − loB)` is `Number(a − b)` bit for bit: both terms are exact and the one addition rounds
// the exact difference to nearest, as the BigInt conversion does (exact below 2^53 ns, 104 days). Its sign and its
// zero are those of `a − b`, so it also orders the two times. (2^32 is written out: a module constant is reloaded.)
const I64 = new BigInt64Array(1);
const I32 = new Int32Array(I64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** The time whose int64 halves are `hi` (signed) and `lo` (unsigned). */
function joinHalves(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) + BigInt(lo);
}

/**
 * One key's series: its value and the time of its last sample that counted, as int64 halves; as a BigInt (`last`)
 * only once the owner has switched to BigInt times. `nextKey`/`next` remember the key sampled after this one last
 * time, and its state.
 */
class KeyState {
  nextKey: string | null = null;
  next: KeyState | null = null;
  constructor(
    public v: number,
    public hi: number,
    public lo: number,
    public last: bigint | null,
  ) {}
}

/**
 * One EWMA per key (level id) sharing τ and mode. Idle keys are treated as gone the moment they reach `idleEvictS`
 * (exact, whenever the sweep last ran), and memory is reclaimed by a sweep over all keys at most once per half
 * `idleEvictS` of event time: O(keys) per half-period, so O(1) amortised per sample while a key set is live.
 *
 * A sample costs one split of its time into int64 halves and double arithmetic: steps, idle times and the sweep
 * schedule are differences of halves, which equal the BigInt differences bit for bit, and only a difference that
 * rounds onto a threshold is settled on BigInts. The first time outside int64 (beyond the year 2262) switches the
 * object to BigInt times until `clear`. Keys that come round in a repeating order (every level at each snap) skip the
 * map lookup, and consecutive steps of the same length (keys sampled on a common grid) reuse the last α instead of
 * another `Math.exp`; neither changes a result.
 */
export class KeyedEwma {
  private readonly tauS: number;
  private readonly mode: EwmaMode;
  private readonly maxDtS: number;
  private readonly idleNs: bigint | null;
  // `idleNs` as a number (exact: it was rounded from one), `Infinity` without eviction.
  private readonly idleNum: number;
  private readonly sweepEveryNs: bigint | null;
  // `sweepEveryNs` as a number (rounded to nearest), `Infinity` without eviction.
  private readonly sweepEveryNum: number;
  private entries = new Map<string, KeyState>();
  // The state of the key sampled last (not `wide`). Keys tend to come round in the same order (every level at each
  // snap), so the key after it is usually the one it remembers, and its state is at hand without a map lookup.
  // Evicting a key clears every remembered successor, so a remembered state is always the one the map holds.
  private prev: KeyState | null = null;
  // Whether a time has been seen since construction or `clear`; until then the clocks below are unset.
  private started = false;
  // The newest time seen, and the clock when the pending sweep was scheduled (due `sweepEveryNs` later), as int64
  // halves; as BigInts (`wideClock`, `wideSweepFrom`) once `wide`.
  private clockHi = 0;
  private clockLo = 0;
  private sweepFromHi = 0;
  private sweepFromLo = 0;
  private wide = false;
  private wideClock = 0n;
  private wideSweepFrom = 0n;
  // The last step in seconds (after the cap) and its α; NaN matches no step.
  private lastDtS = NaN;
  private lastAlpha = 0;

  constructor(config: KeyedEwmaConfig = {}) {
    ({ tauS: this.tauS, mode: this.mode, maxDtS: this.maxDtS } = resolveEwma(config));
    const idle = config.idleEvictS;
    if (idle === undefined) {
      this.idleNs = null;
      this.idleNum = Infinity;
      this.sweepEveryNs = null;
      this.sweepEveryNum = Infinity;
    } else {
      if (!(Number.isFinite(idle) && idle > 0)) throw new RangeError(`idleEvictS must be > 0, got ${idle}`);
      this.idleNum = Math.round(idle * 1e9);
      this.idleNs = BigInt(this.idleNum);
      const half = this.idleNs / 2n;
      this.sweepEveryNs = half > 0n ? half : 1n;
      this.sweepEveryNum = Number(this.sweepEveryNs);
    }
  }

  /** Keys held (idle keys not yet swept included). */
  get size(): number {
    return this.entries.size;
  }

  /** Feed one sample of `key` and return that key's smoothed value. */
  update(key: string, x: number, ts: bigint): number {
    // The per-sample path is kept small enough for V8 to inline whole into a caller; the rare cases are calls.
    if (this.wide || BigInt.asIntN(64, ts) !== ts) return this.updateWide(key, x, ts);
    I64[0] = ts;
    const hi = I32[HI]!;
    const lo = I32[LO]! >>> 0;
    if (!this.started || (hi - this.clockHi) * 4294967296 + (lo - this.clockLo) > 0) this.moveClock(hi, lo);
    const prev = this.prev;
    const st = prev !== null && prev.nextKey === key ? prev.next! : this.find(prev, key);
    if (st === undefined) return this.add(prev, key, x, hi, lo);
    this.prev = st;
    if (this.expired(st)) {
      st.v = x;
      st.hi = hi;
      st.lo = lo;
      return x;
    }
    // `Number(ts − last)`, ≤ 0 exactly when `ts ≤ last`.
    let dt = (hi - st.hi) * 4294967296 + (lo - st.lo);
    if (dt <= 0) return st.v;
    dt /= 1e9;
    if (dt > this.maxDtS) dt = this.maxDtS;
    if (dt !== this.lastDtS) {
      this.lastDtS = dt;
      this.lastAlpha = ewmaAlpha(dt, this.tauS, this.mode);
    }
    const a = this.lastAlpha;
    const next = a * x + (1 - a) * st.v;
    st.v = next;
    st.hi = hi;
    st.lo = lo;
    return next;
  }

  /** The key's smoothed value, `undefined` if unknown or idle past `idleEvictS` at the current clock. */
  get(key: string): number | undefined {
    const st = this.entries.get(key);
    return st === undefined || this.expired(st) ? undefined : st.v;
  }

  /** Advance the clock without a sample (a snap instant) and reclaim idle keys when due. */
  advance(now: bigint): void {
    if (this.wide || BigInt.asIntN(64, now) !== now) {
      this.advanceWide(now);
      return;
    }
    I64[0] = now;
    const hi = I32[HI]!;
    const lo = I32[LO]! >>> 0;
    if (!this.started || (hi - this.clockHi) * 4294967296 + (lo - this.clockLo) > 0) this.moveClock(hi, lo);
  }

  /** Drop every key idle for at least `idleEvictS` at the current clock; returns how many went. */
  evictIdle(): number {
    let n = 0;
    for (const [key, st] of this.entries) {
      if (this.expired(st)) {
        this.entries.delete(key);
        n++;
      }
    }
    if (n > 0) {
      // A remembered successor may be gone.
      this.prev = null;
      for (const st of this.entries.values()) {
        st.nextKey = null;
        st.next = null;
      }
    }
    return n;
  }

  clear(): void {
    this.entries = new Map();
    this.prev = null;
    this.started = false;
    this.wide = false;
  }

  /** Move the clock to a time later than it (or the first), given by its int64 halves; sweep when due. */
  private moveClock(hi: number, lo: number): void {
    this.clockHi = hi;
    this.clockLo = lo;
    if (!this.started) {
      this.started = true;
      this.sweepFromHi = hi;
      this.sweepFromLo = lo;
      return;
    }
    // `Number(clock − sweepFrom)` against `sweepEveryNs` (`Infinity` without eviction): the BigInts settle a tie.
    const waited = (hi - this.sweepFromHi) * 4294967296 + (lo - this.sweepFromLo);
    if (waited >= this.sweepEveryNum) this.sweepIfDue(waited);
  }

  private sweepIfDue(waited: number): void {
    const { clockHi, clockLo } = this;
    if (
      waited > this.sweepEveryNum ||
      joinHalves(clockHi, clockLo) - joinHalves(this.sweepFromHi, this.sweepFromLo) >= this.sweepEveryNs!
    ) {
      this.evictIdle();
      this.sweepFromHi = clockHi;
      this.sweepFromLo = clockLo;
    }
  }

  /** The state of `key` from the map, remembered as the successor of `prev`. */
  private find(prev: KeyState | null, key: string): KeyState | undefined {
    const st = this.entries.get(key);
    if (st !== undefined && prev !== null) {
      prev.nextKey = key;
      prev.next = st;
    }
    return st;
  }

  /** A sample of a new key: it starts at `x`. */
  private add(prev: KeyState | null, key: string, x: number, hi: number, lo: number): number {
    const st = new KeyState(x, hi, lo, null);
    this.entries.set(key, st);
    if (prev !== null) {
      prev.nextKey = key;
      prev.next = st;
    }
    this.prev = st;
    return x;
  }

  /** `update` once any time has been outside int64: BigInt times throughout. */
  private updateWide(key: string, x: number, ts: bigint): number {
    this.advanceWide(ts);
    const st = this.entries.get(key);
    if (st === undefined) {
      this.entries.set(key, new KeyState(x, 0, 0, ts));
      return x;
    }
    if (this.expired(st)) {
      st.v = x;
      st.last = ts;
      return x;
    }
    const last = st.last!;
    if (ts <= last) return st.v;
    let dt = Number(ts - last) / 1e9;
    if (dt > this.maxDtS) dt = this.maxDtS;
    const a = ewmaAlpha(dt, this.tauS, this.mode);
    st.v = a * x + (1 - a) * st.v;
    st.last = ts;
    return st.v;
  }

  private advanceWide(now: bigint): void {
    if (!this.wide) {
      // Carry the clocks and every key's time over to BigInts.
      this.wide = true;
      if (this.started) {
        this.wideClock = joinHalves(this.clockHi, this.clockLo);
        this.wideSweepFrom = joinHalves(this.sweepFromHi, this.sweepFromLo);
      }
      for (const st of this.entries.values()) st.last = joinHalves(st.hi, st.lo);
    }
    if (!this.started) {
      this.started = true;
      this.wideClock = this.wideSweepFrom = now;
      return;
    }
    if (now <= this.wideClock) return;
    this.wideClock = now;
    if (this.sweepEveryNs !== null && now - this.wideSweepFrom >= this.sweepEveryNs) {
      this.evictIdle();
      this.wideSweepFrom = now;
    }
  }

  // The key's last time is never after the clock. The rounded idle time decides unless it lands exactly on
  // `idleNum`, which only an idle time of exactly `idleNs` or one beyond 2^53 ns can do; BigInts settle that case.
  private expired(st: KeyState): boolean {
    if (this.wide) return this.idleNs !== null && this.wideClock - st.last! >= this.idleNs;
    // `Number(clock − last)`; `idleNum` is `Infinity` without eviction.
    const idle = (this.clockHi - st.hi) * 4294967296 + (this.clockLo - st.lo);
    return idle > this.idleNum || (idle === this.idleNum && this.idleExactly(st));
  }

  /** Whether `clock − last ≥ idleNs` on BigInts. */
  private idleExactly(st: KeyState): boolean {
    return joinHalves(this.clockHi, this.clockLo) - joinHalves(st.hi, st.lo) >= this.idleNs!;
  }
}

/** A smoothed value of one key. */
export interface KeyedEwmaPoint extends EwmaPoint {
  key: string;
}

export interface KeyedEwmaOptions<T> extends KeyedEwmaConfig {
  key: (x: T) => string;
  value?: (x: T) => number;
  time?: (x: T) => bigint;
}

/**
 * Per input, the smoothed value of that input's key.
 *
 * ```
 * τ = 2 s, time_constant, idleEvictS = 10      (a A:50@0s, b B:10@0s, c A:100@0.25s, d A:0@20s)
 * source: -a--b--c--d--|
 * output: -A--B--C--D--|    A {A, 50}   B {B, 10}   C {A, 55.875155}   D {A, 0} (A idle 19.75 s ≥ 10 s: restarts)
 * ```
 *
 * Input should be in non-decreasing event time: the idle clock is the newest time seen. Errors and completion pass
 * through; unsubscribing drops every key.
 */
export function keyedEwma<T = TimedValue>(options: KeyedEwmaOptions<T>): OperatorFunction<T, KeyedEwmaPoint> {
  const { key } = options;
  const value: (x: T) => number = options.value ?? defaultValue;
  const time: (x: T) => bigint = options.time ?? defaultTime;
  const config: KeyedEwmaConfig = { ...resolveEwma(options) };
  if (options.idleEvictS !== undefined) config.idleEvictS = options.idleEvictS;
  new KeyedEwma(config);
  return statefulMap<T, KeyedEwmaPoint>(() => {
    const state = new KeyedEwma(config);
    return {
      step: (x) => {
        const ts = time(x);
        const k = key(x);
        return { key: k, ts_ns: ts, value: state.update(k, value(x), ts) };
      },
      dispose: () => state.clear(),
    };
  });
}
