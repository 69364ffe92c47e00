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

interface KeyState {
  v: number;
  last: bigint;
  /** Origin at `last`: measures steps and idle time without a BigInt subtraction. */
  readonly since: NsClock;
}

/**
 * One EWMA per key (level id) sharing τ and mode. Idle keys are treated as gone the moment they reach `idleEvictS`
 * (exact, whenever the sweep last ran), and memory is reclaimed by a sweep over all keys at most once per half
 * `idleEvictS` of event time: O(keys) per half-period, so O(1) amortised per sample while a key set is live.
 */
export class KeyedEwma {
  private readonly tauS: number;
  private readonly mode: EwmaMode;
  private readonly maxDtS: number;
  private readonly idleNs: bigint | null;
  // `idleNs` as a number (exact: it was rounded from one), for comparing with `NsClock` differences.
  private readonly idleNum: number;
  private readonly sweepEveryNs: bigint | null;
  private entries = new Map<string, KeyState>();
  private clock: bigint | null = null;
  private nextSweep: bigint | null = null;

  constructor(config: KeyedEwmaConfig = {}) {
    ({ tauS: this.tauS, mode: this.mode, maxDtS: this.maxDtS } = resolveEwma(config));
    const idle = config.idleEvictS;
    if (idle === undefined) {
      this.idleNs = null;
      this.idleNum = Infinity;
      this.sweepEveryNs = null;
    } else {
      if (!(Number.isFinite(idle) && idle > 0)) throw new RangeError(`idleEvictS must be > 0, got ${idle}`);
      this.idleNum = Math.round(idle * 1e9);
      this.idleNs = BigInt(this.idleNum);
      const half = this.idleNs / 2n;
      this.sweepEveryNs = half > 0n ? half : 1n;
    }
  }

  /** Keys held (idle keys not yet swept included). */
  get size(): number {
    return this.entries.size;
  }

  /** Feed one sample of `key` and return that key's smoothed value. */
  update(key: string, x: number, ts: bigint): number {
    this.advance(ts);
    const st = this.entries.get(key);
    if (st === undefined) {
      const since = new NsClock();
      since.set(ts);
      this.entries.set(key, { v: x, last: ts, since });
      return x;
    }
    if (this.expired(st)) {
      st.v = x;
      st.last = ts;
      st.since.set(ts);
      return x;
    }
    if (ts <= st.last) return st.v;
    let dt = st.since.step(ts) / 1e9;
    if (dt > this.maxDtS) dt = this.maxDtS;
    const a = ewmaAlpha(dt, this.tauS, this.mode);
    st.v = a * x + (1 - a) * st.v;
    st.last = ts;
    return st.v;
  }

  /** The key's smoothed value, `undefined` if unknown or idle past `idleEvictS` at the current clock. */
  get(key: string): number | undefined {
    const st = this.entries.get(key);
    return st === undefined || this.expired(st) ? undefined : st.v;
  }

  /** Advance the clock without a sample (a snap instant) and reclaim idle keys when due. */
  advance(now: bigint): void {
    if (this.clock === null || now > this.clock) this.clock = now;
    if (this.sweepEveryNs === null) return;
    if (this.nextSweep === null) {
      this.nextSweep = this.clock + this.sweepEveryNs;
    } else if (this.clock >= this.nextSweep) {
      this.evictIdle();
      this.nextSweep = this.clock + this.sweepEveryNs;
    }
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
    return n;
  }

  clear(): void {
    this.entries = new Map();
    this.clock = null;
    this.nextSweep = null;
  }

  // `st.last ≤ clock` always. The rounded difference decides unless it lands exactly on `idleNum`, which only a
  // difference of exactly `idleNs` or one beyond 2^53 ns can do; the BigInt comparison settles that case.
  private expired(st: KeyState): boolean {
    if (this.idleNs === null || this.clock === null) return false;
    const idle = st.since.since(this.clock);
    return idle === this.idleNum ? this.clock - st.last >= this.idleNs : idle > this.idleNum;
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
