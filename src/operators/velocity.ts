/**
 * Tape velocity: least-squares slope of price against event time, in points per second, over the closed window
 * `[now − W_v, now]` (ENGINES.md §5 step 3, W-16, W-19).
 *
 * Centred closed form `Σ(t−t̄)(p−p̄) / Σ(t−t̄)²`, 0 with fewer than two prints or zero time variance. Running sums
 * are kept relative to an anchor (time near the window's mean, price of a recent print), so no sum carries the 1.8e18
 * epoch or the 6,900-point price level and cancellation stays small. The sums are rebuilt from the window — O(n),
 * amortised O(1) — when the time mean drifts more than ten standard deviations from the anchor, or after more than
 * `8n + 64` updates, which bounds the accumulated rounding of add/remove.
 */
import { SKIP, statefulMap } from './stateful-map.js';
import type { OperatorFunction } from 'rxjs';
import { CONFIG } from '../common/config.js';
import { eventTime, NsClock, OutOfOrderError, secondsToNs, type OutOfOrderPolicy } from './event-time-window.js';

const INITIAL_CAPACITY = 16;
// Rebuild when the time mean sits more than √DRIFT standard deviations from the anchor: Σt² then exceeds Sxx by at
// most a factor 1 + DRIFT, about 7 bits of a double's 52, far inside the 1e-9 the slope must meet.
const DRIFT = 100;

export interface VelocityConfig {
  /** Regression window in seconds (default `CONFIG.W_v`). */
  windowS?: number;
  /** Default `'drop'` (see `OutOfOrderPolicy`). */
  outOfOrder?: OutOfOrderPolicy;
}

/** Incremental OLS slope over a sliding event-time window; prints must arrive in non-decreasing time. */
export class VelocityWindow {
  readonly windowNs: bigint;
  private readonly outOfOrder: OutOfOrderPolicy;
  // Ring addressed by `seq & mask`; head/tail are absolute sequence numbers.
  private mask = INITIAL_CAPACITY - 1;
  private head = 0;
  private tail = 0;
  private ts: bigint[] = new Array<bigint>(INITIAL_CAPACITY).fill(0n);
  private px = new Float64Array(INITIAL_CAPACITY);
  // Offsets from the anchor, kept per print so eviction subtracts exactly what was added.
  private dt = new Float64Array(INITIAL_CAPACITY);
  private dp = new Float64Array(INITIAL_CAPACITY);
  private anchorTs = 0n;
  // Origin at `anchorTs` (or the first print during a rebuild): offsets without a BigInt subtraction. New prints
  // arrive at or after it, since the anchor is never later than the newest print.
  private readonly anchor = new NsClock();
  private anchorPx = 0;
  private st = 0;
  private sp = 0;
  private stt = 0;
  private stp = 0;
  private ops = 0;
  private clock: bigint | null = null;
  private lateCount = 0;
  // Oldest print's ts + W: a comparison against it replaces a bigint subtraction per query.
  private headExpiry: bigint | null = null;

  constructor(config: VelocityConfig = {}) {
    this.windowNs = secondsToNs(config.windowS ?? CONFIG.W_v);
    this.outOfOrder = config.outOfOrder ?? 'drop';
  }

  /** Prints currently held. */
  get count(): number {
    return this.tail - this.head;
  }

  /** Prints dropped as out of order. */
  get late(): number {
    return this.lateCount;
  }

  /** Add a print; `false` if it was dropped as out of order. */
  add(ts: bigint, price: number): boolean {
    if (this.clock !== null && ts < this.clock) {
      if (this.outOfOrder === 'error') throw new OutOfOrderError(ts, this.clock);
      this.lateCount++;
      return false;
    }
    this.clock = ts;
    if (this.head === this.tail) {
      this.anchorTs = ts;
      this.anchor.set(ts);
      this.anchorPx = price;
      this.headExpiry = ts + this.windowNs;
    } else if (this.tail - this.head > this.mask) {
      this.grow();
    }
    const t = this.anchor.since(ts) / 1e9;
    const p = price - this.anchorPx;
    const i = this.tail++ & this.mask;
    this.ts[i] = ts;
    this.px[i] = price;
    this.dt[i] = t;
    this.dp[i] = p;
    this.st += t;
    this.sp += p;
    this.stt += t * t;
    this.stp += t * p;
    this.ops++;
    return true;
  }

  /** Drop prints older than `now − W`. `now` before the clock is a caller bug and throws. */
  evict(now: bigint): void {
    if (this.clock !== null && now < this.clock) {
      throw new RangeError(`evict(${now}) is before the velocity clock ${this.clock}`);
    }
    this.clock = now;
    if (this.headExpiry === null || now <= this.headExpiry) return;
    const cutoff = now - this.windowNs;
    const { ts, dt, dp, mask, tail } = this;
    let head = this.head;
    while (head < tail && ts[head & mask]! < cutoff) {
      const i = head & mask;
      const t = dt[i]!;
      const p = dp[i]!;
      this.st -= t;
      this.sp -= p;
      this.stt -= t * t;
      this.stp -= t * p;
      this.ops++;
      head++;
    }
    this.head = head;
    if (head === tail) {
      this.st = this.sp = this.stt = this.stp = 0;
      this.ops = 0;
      this.headExpiry = null;
    } else {
      this.headExpiry = ts[head & mask]! + this.windowNs;
    }
  }

  /** Slope in points per second of the window ending at `now`. */
  slopeAt(now: bigint): number {
    this.evict(now);
    const n = this.tail - this.head;
    if (n < 2 || this.ts[this.head & this.mask] === this.ts[(this.tail - 1) & this.mask]) return 0;
    let sxx = this.stt - (this.st * this.st) / n;
    if (this.ops > 8 * n + 64 || !(this.st * this.st <= DRIFT * n * sxx)) {
      this.rebuild();
      sxx = this.stt - (this.st * this.st) / n;
    }
    if (!(sxx > 0)) return 0;
    return (this.stp - (this.st * this.sp) / n) / sxx;
  }

  clear(): void {
    this.mask = INITIAL_CAPACITY - 1;
    this.head = this.tail = 0;
    this.ts = new Array<bigint>(INITIAL_CAPACITY).fill(0n);
    this.px = new Float64Array(INITIAL_CAPACITY);
    this.dt = new Float64Array(INITIAL_CAPACITY);
    this.dp = new Float64Array(INITIAL_CAPACITY);
    this.st = this.sp = this.stt = this.stp = 0;
    this.ops = 0;
    this.clock = null;
    this.lateCount = 0;
    this.headExpiry = null;
  }

  /**
   * Re-anchor at the window's mean time (whole ns) and its newest price, then sum afresh in window order. Offsets are
   * whole nanoseconds below 2^53, so `off − anchorOff` is exact and matches what `add` computes for later prints.
   */
  private rebuild(): void {
    const { ts, px, dt, dp, head, tail, mask } = this;
    const first = ts[head & mask]!;
    this.anchor.set(first);
    let total = 0;
    for (let seq = head; seq < tail; seq++) {
      const i = seq & mask;
      const off = this.anchor.since(ts[i]!);
      dt[i] = off;
      total += off;
    }
    const anchorOff = Math.round(total / (tail - head));
    this.anchorTs = first + BigInt(anchorOff);
    this.anchor.set(this.anchorTs);
    this.anchorPx = px[(tail - 1) & mask]!;
    let st = 0;
    let sp = 0;
    let stt = 0;
    let stp = 0;
    for (let seq = head; seq < tail; seq++) {
      const i = seq & mask;
      const t = (dt[i]! - anchorOff) / 1e9;
      const p = px[i]! - this.anchorPx;
      dt[i] = t;
      dp[i] = p;
      st += t;
      sp += p;
      stt += t * t;
      stp += t * p;
    }
    this.st = st;
    this.sp = sp;
    this.stt = stt;
    this.stp = stp;
    this.ops = 0;
  }

  private grow(): void {
    const oldMask = this.mask;
    const cap = (oldMask + 1) * 2;
    const mask = cap - 1;
    const ts = new Array<bigint>(cap).fill(0n);
    const px = new Float64Array(cap);
    const dt = new Float64Array(cap);
    const dp = new Float64Array(cap);
    for (let seq = this.head; seq < this.tail; seq++) {
      const from = seq & oldMask;
      const to = seq & mask;
      ts[to] = this.ts[from]!;
      px[to] = this.px[from]!;
      dt[to] = this.dt[from]!;
      dp[to] = this.dp[from]!;
    }
    this.mask = mask;
    this.ts = ts;
    this.px = px;
    this.dt = dt;
    this.dp = dp;
  }
}

/** The slope at one input's event time and the number of prints it was fitted on. */
export interface VelocityPoint {
  ts_ns: bigint;
  slope: number;
  count: number;
}

export interface VelocityOptions<T> extends VelocityConfig {
  /** Price of a print (default `x.price`). */
  price?: (x: T) => number;
  /** Event time (default `x.ts_event_ns`). */
  time?: (x: T) => bigint;
  onLate?: (x: T) => void;
}

function defaultPrice(x: unknown): number {
  return (x as { price: number }).price;
}

/**
 * Per input, the slope of the window ending at that input's event time, the input included.
 *
 * ```
 * W = 3 s        (a 6870.0@0s, b 6870.5@0.3s, c 6871.0@0.6s, d 6871.0@4.0s)
 * source: -a--b--c--d--|
 * output: -A--B--C--D--|    A 0 (one print)   B 1.666667   C 1.666667   D 0 (a, b, c left the window)
 * ```
 *
 * Input must be in non-decreasing event time; a late print emits nothing. Errors and completion pass through;
 * unsubscribing drops the window.
 */
export function velocity<T = { ts_event_ns: bigint; price: number }>(
  options: VelocityOptions<T> = {},
): OperatorFunction<T, VelocityPoint> {
  const { onLate } = options;
  const price: (x: T) => number = options.price ?? defaultPrice;
  const time: (x: T) => bigint = options.time ?? eventTime;
  const config: VelocityConfig = options;
  new VelocityWindow(config);
  return statefulMap<T, VelocityPoint>(() => {
    const win = new VelocityWindow(config);
    return {
      step: (x) => {
        const ts = time(x);
        if (!win.add(ts, price(x))) {
          onLate?.(x);
          return SKIP;
        }
        return { ts_ns: ts, slope: win.slopeAt(ts), count: win.count };
      },
      dispose: () => win.clear(),
    };
  });
}
