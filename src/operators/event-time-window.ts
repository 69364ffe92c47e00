/**
 * Sliding event-time window with incremental aggregates (ENGINES.md §3 ring buffers, §5, W-19, W-32).
 *
 * The window ending at `now` holds every pushed item with `ts` in `[now − W, now]` (`closed: 'both'`, the reference
 * rule) or `(now − W, now]` (`closed: 'right'`, W-32: passive windows that tile time without double-counting a print
 * on a shared boundary). Both ends are compared in integer nanoseconds, so an item exactly `W` old stays in a closed
 * window and one nanosecond older leaves it.
 */
import { SKIP, statefulMap } from './stateful-map.js';
import type { OperatorFunction } from 'rxjs';
import { CONFIG } from '../common/config.js';

/** Which ends of the window `[now − W, now]` are inclusive; the right end always is. */
export type WindowClosure = 'both' | 'right';

/**
 * What to do with an item older than the window's clock (the newest timestamp pushed or evicted to). The reorder
 * buffer upstream makes this rare; dropping keeps every aggregate exact and a long-running service alive, and the
 * drop is counted (`late`) and reported (`onLate`). `'error'` fails the stream instead, for strict pipelines and tests.
 */
export type OutOfOrderPolicy = 'drop' | 'error';

/** An aggregate that can take an item out again, so the window never rescans (sum-like, counts, products of ≠ 0). */
export interface ReducibleAggregate<T, A> {
  /** The value of an empty window; a function is called on each reset so a mutable accumulator is never shared. */
  readonly init: A | (() => A);
  add(acc: A, item: T): A;
  remove(acc: A, item: T): A;
}

/** The window's aggregates at `ts_ns`; `min`/`max` are `null` only for an empty window. */
export interface WindowStats<A = never> {
  ts_ns: bigint;
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  /** Present when a `ReducibleAggregate` is configured. */
  agg?: A;
}

/** Thrown (or routed to the subscriber) for an out-of-order item under the `'error'` policy. */
export class OutOfOrderError extends RangeError {
  override readonly name = 'OutOfOrderError';
  constructor(
    readonly ts_ns: bigint,
    readonly clock_ns: bigint,
  ) {
    super(`event at ${ts_ns} ns is older than the window clock ${clock_ns} ns`);
  }
}

/** Seconds → integer nanoseconds; rejects what cannot be a duration. */
export function secondsToNs(seconds: number, name = 'window'): bigint {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`${name} must be a finite number ≥ 0 s`);
  return BigInt(Math.round(seconds * 1e9));
}

/** The default time selector: the event's `ts_event_ns`; anything else needs an explicit `time` option. */
export function eventTime(x: unknown): bigint {
  const ts = (x as { ts_event_ns?: unknown } | null)?.ts_event_ns;
  if (typeof ts !== 'bigint') throw new TypeError('item has no bigint ts_event_ns; pass a `time` selector');
  return ts;
}

// `Number(a − b)` on bigints allocates the difference, and `Number(ts)` of an epoch-sized bigint is slower still. A
// store into a BigInt64Array converts a bigint to its 64-bit two's complement in place, and a 32-bit view reads the
// halves as plain numbers; a difference of two such pairs is then exact integer arithmetic on doubles.
const I64 = new BigInt64Array(1);
const I32 = new Int32Array(I64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A nanosecond origin that measures the time since itself, `Number(ts − origin)` bit for bit, without allocating a
 * BigInt: the differences of the 32-bit halves are exact and the one addition rounds the exact difference to nearest,
 * as the BigInt conversion does (exact below 2^53 ns, 104 days). Times outside int64 (beyond the year 2262) take the
 * BigInt path. Callers pass `ts ≥ origin`, which they have checked anyway, so one comparison keeps `ts` in range.
 */
export class NsClock {
  private origin = 0n;
  private inRange = true;
  private hi = 0;
  private lo = 0;

  /** Move the origin to `ts`. */
  set(ts: bigint): void {
    this.origin = ts;
    this.inRange = ts >= INT64_MIN && ts <= INT64_MAX;
    if (this.inRange) {
      I64[0] = ts;
      this.hi = I32[HI]!;
      this.lo = I32[LO]! >>> 0;
    }
  }

  /** `Number(ts − origin)` for `ts ≥ origin`. */
  since(ts: bigint): number {
    if (!this.inRange || ts > INT64_MAX) return Number(ts - this.origin);
    I64[0] = ts;
    return (I32[HI]! - this.hi) * 4294967296 + ((I32[LO]! >>> 0) - this.lo);
  }

  /** `since(ts)`, then move the origin to `ts`: one conversion for both. */
  step(ts: bigint): number {
    if (!this.inRange || ts > INT64_MAX) {
      const d = Number(ts - this.origin);
      this.set(ts);
      return d;
    }
    I64[0] = ts;
    const hi = I32[HI]!;
    const lo = I32[LO]! >>> 0;
    const d = (hi - this.hi) * 4294967296 + (lo - this.lo);
    this.origin = ts;
    this.hi = hi;
    this.lo = lo;
    return d;
  }
}

const INITIAL_CAPACITY = 16;

export interface EventTimeWindowConfig<T, A = never> {
  /** Window length W in seconds of event time (default `CONFIG.W_t`). */
  windowS?: number;
  /** Default `'both'`, the reference's closed interval. */
  closed?: WindowClosure;
  aggregate?: ReducibleAggregate<T, A>;
  /** Default `'drop'`. */
  outOfOrder?: OutOfOrderPolicy;
}

/**
 * The window's state: a ring of items in arrival (= time) order, running sums, and monotonic deques of item
 * sequence numbers for min and max, so push and eviction are O(1) amortised and nothing is copied while the window
 * keeps its size. Engines call it directly at snap time: `evict(T_k)` then read the aggregates. Items must be pushed
 * in non-decreasing time; values must be finite.
 */
export class EventTimeWindow<T = unknown, A = never> {
  readonly windowNs: bigint;
  readonly closed: WindowClosure;
  private readonly aggregate: ReducibleAggregate<T, A> | undefined;
  private readonly outOfOrder: OutOfOrderPolicy;

  // Ring slots are addressed by `seq & mask`; `head`/`tail` are absolute sequence numbers (exact below 2^53).
  private mask = INITIAL_CAPACITY - 1;
  private head = 0;
  private tail = 0;
  private ts: bigint[] = new Array<bigint>(INITIAL_CAPACITY).fill(0n);
  private vals = new Float64Array(INITIAL_CAPACITY);
  private items: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  // A deque never holds more entries than the window, so it shares the ring's capacity and mask. Each entry keeps
  // its item's sequence number (for eviction) and a copy of its value (compared on every push, without a detour
  // through the ring).
  private minQ = new Float64Array(INITIAL_CAPACITY);
  private minV = new Float64Array(INITIAL_CAPACITY);
  private minH = 0;
  private minT = 0;
  private maxQ = new Float64Array(INITIAL_CAPACITY);
  private maxV = new Float64Array(INITIAL_CAPACITY);
  private maxH = 0;
  private maxT = 0;
  // Neumaier-compensated sum: add/remove of large and small values would otherwise drift from a rescan.
  private s = 0;
  private c = 0;
  private acc: A | undefined;
  private clock: bigint | null = null;
  private lateCount = 0;
  // How long an item stays: W, or W − 1 ns when the left end is open (an item leaves once `now − ts > keepNs`).
  private readonly keepNs: bigint;
  // `now` beyond which the oldest item leaves (ts + keepNs); `null` when empty. One bigint comparison per query
  // instead of a subtraction, which allocates.
  private headExpiry: bigint | null = null;

  constructor(config: EventTimeWindowConfig<T, A> = {}) {
    this.windowNs = secondsToNs(config.windowS ?? CONFIG.W_t);
    this.closed = config.closed ?? 'both';
    this.keepNs = this.closed === 'both' ? this.windowNs : this.windowNs - 1n;
    this.aggregate = config.aggregate;
    this.outOfOrder = config.outOfOrder ?? 'drop';
    this.acc = this.initAcc();
  }

  /** Items currently held. */
  get count(): number {
    return this.tail - this.head;
  }

  get sum(): number {
    return this.s + this.c;
  }

  get min(): number | null {
    return this.minH < this.minT ? this.minV[this.minH & this.mask]! : null;
  }

  get max(): number | null {
    return this.maxH < this.maxT ? this.maxV[this.maxH & this.mask]! : null;
  }

  /** The user aggregate (`undefined` when none is configured). */
  get agg(): A | undefined {
    return this.acc;
  }

  /** Items dropped as out of order. */
  get late(): number {
    return this.lateCount;
  }

  /** Timestamp of the oldest item held, or `null` when empty. */
  get oldestTs(): bigint | null {
    return this.head < this.tail ? this.ts[this.head & this.mask]! : null;
  }

  /**
   * Append an item. Returns `false` when it is dropped as out of order (older than the clock); throws
   * `OutOfOrderError` instead under the `'error'` policy.
   */
  push(ts: bigint, value: number, item: T): boolean {
    if (this.clock !== null && ts < this.clock) {
      if (this.outOfOrder === 'error') throw new OutOfOrderError(ts, this.clock);
      this.lateCount++;
      return false;
    }
    this.clock = ts;
    if (this.headExpiry === null) this.headExpiry = this.expiryOf(ts);
    if (this.tail - this.head > this.mask) this.grow();
    const mask = this.mask;
    const seq = this.tail++;
    const i = seq & mask;
    this.ts[i] = ts;
    this.vals[i] = value;
    this.items[i] = item;
    this.addSum(value);
    if (this.aggregate !== undefined) this.acc = this.aggregate.add(this.acc as A, item);

    const minV = this.minV;
    const minH = this.minH;
    let t = this.minT;
    while (t > minH && minV[(t - 1) & mask]! >= value) t--;
    this.minQ[t & mask] = seq;
    minV[t & mask] = value;
    this.minT = t + 1;
    const maxV = this.maxV;
    const maxH = this.maxH;
    t = this.maxT;
    while (t > maxH && maxV[(t - 1) & mask]! <= value) t--;
    this.maxQ[t & mask] = seq;
    maxV[t & mask] = value;
    this.maxT = t + 1;
    return true;
  }

  /**
   * Make this the window ending at `now`: drop items older than `now − W` (`'both'`) or not newer than it
   * (`'right'`). Time never runs backwards for a window, so `now` before the clock is a caller bug and throws.
   */
  evict(now: bigint): void {
    if (this.clock !== null && now < this.clock) {
      throw new RangeError(`evict(${now}) is before the window clock ${this.clock}: items after now would be counted`);
    }
    this.clock = now;
    if (this.headExpiry !== null && now > this.headExpiry) this.evictBefore(now - this.keepNs);
  }

  /** Drop every item with `ts < cutoff` (a raw time bound, independent of W). */
  evictBefore(cutoff: bigint): void {
    const { ts, vals, items, mask, tail, aggregate } = this;
    let head = this.head;
    while (head < tail && ts[head & mask]! < cutoff) {
      const i = head & mask;
      this.addSum(-vals[i]!);
      if (aggregate !== undefined) this.acc = aggregate.remove(this.acc as A, items[i] as T);
      items[i] = undefined;
      head++;
    }
    if (head === this.head) return;
    this.head = head;
    while (this.minH < this.minT && this.minQ[this.minH & mask]! < head) this.minH++;
    while (this.maxH < this.maxT && this.maxQ[this.maxH & mask]! < head) this.maxH++;
    if (head === tail) {
      this.headExpiry = null;
      this.resetAggregates();
    } else {
      this.headExpiry = this.expiryOf(ts[head & mask]!);
    }
  }

  /** Evict to `now` and read every aggregate. */
  stats(now: bigint): WindowStats<A> {
    this.evict(now);
    const out: WindowStats<A> = { ts_ns: now, count: this.count, sum: this.sum, min: this.min, max: this.max };
    if (this.aggregate !== undefined) out.agg = this.acc as A;
    return out;
  }

  /** Visit the items held, oldest first. */
  forEach(fn: (ts: bigint, value: number, item: T) => void): void {
    const mask = this.mask;
    for (let seq = this.head; seq < this.tail; seq++) {
      const i = seq & mask;
      fn(this.ts[i]!, this.vals[i]!, this.items[i] as T);
    }
  }

  /** Forget everything, including the clock and the late count. */
  clear(): void {
    this.mask = INITIAL_CAPACITY - 1;
    this.head = this.tail = 0;
    this.ts = new Array<bigint>(INITIAL_CAPACITY).fill(0n);
    this.vals = new Float64Array(INITIAL_CAPACITY);
    this.items = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
    this.minQ = new Float64Array(INITIAL_CAPACITY);
    this.minV = new Float64Array(INITIAL_CAPACITY);
    this.maxQ = new Float64Array(INITIAL_CAPACITY);
    this.maxV = new Float64Array(INITIAL_CAPACITY);
    this.minH = this.minT = this.maxH = this.maxT = 0;
    this.resetAggregates();
    this.clock = null;
    this.lateCount = 0;
    this.headExpiry = null;
  }

  private expiryOf(ts: bigint): bigint {
    return ts + this.keepNs;
  }

  private addSum(x: number): void {
    const s = this.s;
    const t = s + x;
    this.c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    this.s = t;
  }

  // An empty window restarts exactly at zero, so float residue never outlives the items that caused it.
  private resetAggregates(): void {
    this.s = 0;
    this.c = 0;
    this.acc = this.initAcc();
  }

  private initAcc(): A | undefined {
    const init = this.aggregate?.init;
    return typeof init === 'function' ? (init as () => A)() : init;
  }

  // Doubling keeps growth O(1) amortised; slots move to `seq & newMask`, sequence numbers stay.
  private grow(): void {
    const oldMask = this.mask;
    const cap = (oldMask + 1) * 2;
    const mask = cap - 1;
    const ts = new Array<bigint>(cap).fill(0n);
    const vals = new Float64Array(cap);
    const items = new Array<T | undefined>(cap).fill(undefined);
    for (let seq = this.head; seq < this.tail; seq++) {
      ts[seq & mask] = this.ts[seq & oldMask]!;
      vals[seq & mask] = this.vals[seq & oldMask]!;
      items[seq & mask] = this.items[seq & oldMask];
    }
    const minQ = new Float64Array(cap);
    const minV = new Float64Array(cap);
    for (let k = this.minH; k < this.minT; k++) {
      minQ[k & mask] = this.minQ[k & oldMask]!;
      minV[k & mask] = this.minV[k & oldMask]!;
    }
    const maxQ = new Float64Array(cap);
    const maxV = new Float64Array(cap);
    for (let k = this.maxH; k < this.maxT; k++) {
      maxQ[k & mask] = this.maxQ[k & oldMask]!;
      maxV[k & mask] = this.maxV[k & oldMask]!;
    }
    this.mask = mask;
    this.ts = ts;
    this.vals = vals;
    this.items = items;
    this.minQ = minQ;
    this.minV = minV;
    this.maxQ = maxQ;
    this.maxV = maxV;
  }
}

export interface EventTimeWindowOptions<T, A = never> extends EventTimeWindowConfig<T, A> {
  /** The number to aggregate (sum, min, max). */
  value: (x: T) => number;
  /** Event time of an item (default `x.ts_event_ns`). */
  time?: (x: T) => bigint;
  /** Called with each item dropped as out of order. */
  onLate?: (x: T) => void;
}

/**
 * Per input, the aggregates of the window ending at that input's event time, the input included.
 *
 * ```
 * W = 1 s, value = v                 (a@0s v=1, b@0.5s v=3, c@1.0s v=2, d@2.1s v=5; marble time ≠ event time)
 * source: --a----b----c----d----|
 * output: --A----B----C----D----|    A {count 1, sum 1, min 1, max 1}   B {2, 4, 1, 3}
 *                                    C {3, 6, 1, 3} (a is exactly 1 s old: kept)   D {1, 5, 5, 5}
 * source: --a----b----#              errors pass through; unsubscribing drops the window
 * output: --A----B----#
 * ```
 *
 * Input must be in non-decreasing event time; a late item emits nothing (see `OutOfOrderPolicy`). Completion
 * passes through immediately: nothing is buffered. Each subscription has its own window.
 */
export function eventTimeWindow<T, A = never>(
  options: EventTimeWindowOptions<T, A>,
): OperatorFunction<T, WindowStats<A>> {
  const { value, time = eventTime, onLate } = options;
  const config: EventTimeWindowConfig<T, A> = options;
  // Validate at composition time, not on first item.
  new EventTimeWindow<T, A>(config);
  return statefulMap<T, WindowStats<A>>(() => {
    const win = new EventTimeWindow<T, A>(config);
    return {
      step: (x) => {
        const ts = time(x);
        if (!win.push(ts, value(x), x)) {
          onLate?.(x);
          return SKIP;
        }
        return win.stats(ts);
      },
      dispose: () => win.clear(),
    };
  });
}
