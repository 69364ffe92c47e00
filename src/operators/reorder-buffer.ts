/**
 * Reorder buffer with an event-time watermark (ENGINES.md §17.1, §17.4).
 *
 * Sources merged from several feeds (or one feed over NATS) deliver events slightly out of event-time order. The
 * buffer holds every event until the watermark has passed it, then releases the held events in canonical order, so
 * every engine downstream sees one sorted sequence.
 *
 * Rules (all integer nanoseconds):
 * - `watermark = max ts_event_ns seen − lateness`; it only moves forward (undefined before the first event).
 * - Release: a held event is released as soon as `ts_event_ns < watermark` (strict). An event delayed by exactly
 *   `latenessMs` is therefore still on time, and every event of one timestamp leaves in the same batch.
 * - Late: an arriving event with `ts_event_ns < watermark` is late. Events of that timestamp may already have been
 *   released, so it can no longer be placed in order; it is never emitted on the ordered stream and never dropped
 *   silently: it is counted (`stats.late`), handed to `onLate(event, watermark)`, and `reorderWithLate` emits it as a
 *   `{ kind: 'late' }` item at its arrival position.
 * - Order: `compare` (canonical order by default), ties in arrival order (stable). `compare` must order by
 *   `ts_event_ns` first, otherwise the release rule cannot guarantee sorted output.
 * - Completion flushes every held event in order, then completes. A source error discards the held events and
 *   is forwarded at once. Unsubscribing releases the buffer.
 *
 * Events usually arrive in order, so an arrival is appended to a ring in O(1) and a release pops from its front in
 * O(1); only a disordered arrival pays a binary search and a shift of the events younger than it.
 */
import { Observable, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import { CONFIG } from '../common/config.js';
import { eventRank, type MarketEvent } from '../common/event-types.js';

/** Anything that carries an event time. */
export interface Timestamped {
  readonly ts_event_ns: bigint;
}

/** Running counters; pass one object in the options to read them while the stream runs. */
export interface ReorderStats {
  /** Events emitted in order. */
  released: number;
  /** Events that arrived behind the watermark. */
  late: number;
  /** Events held right now (0 after completion, error or unsubscription). */
  buffered: number;
}

export interface ReorderBufferOptions<T extends Timestamped> {
  /** Allowed disorder in milliseconds of event time (default `CONFIG.LATENESS_BUFFER_MS`). */
  readonly latenessMs?: number;
  /** Sort order; must compare `ts_event_ns` first (default `canonicalCompare`). */
  readonly compare?: (a: T, b: T) => number;
  /** Called synchronously for every late event with the watermark it missed. */
  readonly onLate?: (event: T, watermarkNs: bigint) => void;
  /**
   * Counters updated in place. Every subscription made with these options writes to the same object, so give each
   * pipeline its own.
   */
  readonly stats?: ReorderStats;
}

/** `reorderWithLate` output: events in canonical order, late events tagged where they arrived. */
export type Reordered<T> =
  | { readonly kind: 'ordered'; readonly event: T }
  | { readonly kind: 'late'; readonly event: T; readonly watermark_ns: bigint };

/**
 * Canonical order on whatever canonical fields an event has: `ts_event_ns`, then `ts_recv_ns` (a missing one after a
 * present one), then `seq` (a missing or null `seq` after a present one), then the market-event kind rank
 * (trade < option < mbp10). For a `MarketEvent` this is exactly `compareEvents`.
 */
export function canonicalCompare(a: Timestamped, b: Timestamped): number {
  if (a.ts_event_ns !== b.ts_event_ns) return a.ts_event_ns < b.ts_event_ns ? -1 : 1;
  const x = a as Partial<Record<'ts_recv_ns' | 'seq', unknown>>;
  const y = b as Partial<Record<'ts_recv_ns' | 'seq', unknown>>;
  const ra = x.ts_recv_ns;
  const rb = y.ts_recv_ns;
  // A missing receive time sorts after a present one (as a null seq does), so the order stays total and transitive
  // for items that carry no ts_recv_ns; market events always carry one.
  const ha = typeof ra === 'bigint';
  const hb = typeof rb === 'bigint';
  if (ha !== hb) return ha ? -1 : 1;
  if (ha && ra !== rb) return (ra as bigint) < (rb as bigint) ? -1 : 1;
  const sa = typeof x.seq === 'bigint' ? x.seq : null;
  const sb = typeof y.seq === 'bigint' ? y.seq : null;
  if (sa !== sb) {
    if (sa === null) return 1;
    if (sb === null) return -1;
    return sa < sb ? -1 : 1;
  }
  return eventRank(a as MarketEvent) - eventRank(b as MarketEvent);
}

/** Milliseconds (a config value) to integer nanoseconds, rejecting what would make event time meaningless. */
function latenessToNs(latenessMs: number): bigint {
  if (!Number.isFinite(latenessMs) || latenessMs < 0) {
    throw new RangeError(`reorderBuffer: latenessMs must be a finite number ≥ 0, got ${String(latenessMs)}`);
  }
  return BigInt(Math.round(latenessMs * 1e6));
}

const INITIAL_CAPACITY = 1024;

/** The buffer itself, without RxJS: push events, receive released ones through `emit`. */
export class ReorderBuffer<T extends Timestamped> {
  readonly latenessNs: bigint;
  readonly stats: ReorderStats;
  private readonly compare: (a: T, b: T) => number;
  // A ring (power-of-two capacity) sorted from `start`: in-order arrivals append and releases pop in O(1).
  private ring: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  private mask = INITIAL_CAPACITY - 1;
  private start = 0;
  private count = 0;
  private maxTs: bigint | null = null;
  private watermark: bigint | null = null;

  constructor(opts: Omit<ReorderBufferOptions<T>, 'onLate'> = {}) {
    this.latenessNs = latenessToNs(opts.latenessMs ?? CONFIG.LATENESS_BUFFER_MS);
    this.compare = opts.compare ?? canonicalCompare;
    this.stats = opts.stats ?? { released: 0, late: 0, buffered: 0 };
  }

  /** Current watermark in ns, or null before the first event. */
  get watermarkNs(): bigint | null {
    return this.watermark;
  }

  /** Number of held events. */
  get size(): number {
    return this.count;
  }

  /**
   * Accept one event and emit whatever the watermark now releases. Returns false, and emits nothing, when the event
   * is late (`ts_event_ns < watermark`).
   */
  push(event: T, emit: (event: T) => void): boolean {
    const ts = event.ts_event_ns;
    if (this.count === this.mask + 1) this.grow();
    if (this.maxTs === null || ts > this.maxTs) {
      // The usual case: newer than everything held, so it goes last without a compare, and it moves the watermark.
      this.ring[(this.start + this.count) & this.mask] = event;
      this.count++;
      this.maxTs = ts;
      this.watermark = ts - this.latenessNs;
      this.release(this.watermark, emit);
    } else {
      if (ts < this.watermark!) {
        this.stats.late++;
        return false;
      }
      if (this.count === 0 || this.compare(this.ring[(this.start + this.count - 1) & this.mask]!, event) <= 0) {
        this.ring[(this.start + this.count) & this.mask] = event;
      } else {
        this.insertAt(this.upperBound(event), event);
      }
      this.count++;
    }
    this.stats.buffered = this.count;
    return true;
  }

  /**
   * Live clock tick: the event-time clock reads `nowNs` even if no event arrived, so the watermark may move to
   * `nowNs − lateness` and release what is older. Returns the newest instant up to which every event has now been
   * released (`watermark − 1 ns`, the heartbeat a snap grid may use).
   */
  advanceTo(nowNs: bigint, emit: (event: T) => void): bigint {
    const w = nowNs - this.latenessNs;
    if (this.watermark === null || w > this.watermark) {
      this.watermark = w;
      if (this.maxTs === null || nowNs > this.maxTs) this.maxTs = nowNs;
      this.release(w, emit);
      this.stats.buffered = this.count;
    }
    return this.watermark - 1n;
  }

  /** Emit every held event in order and empty the buffer (end of input). */
  flush(emit: (event: T) => void): void {
    while (this.count > 0) emit(this.shift());
    this.stats.buffered = 0;
  }

  /** Drop every held event (error, unsubscription). */
  clear(): void {
    this.ring = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
    this.mask = INITIAL_CAPACITY - 1;
    this.start = 0;
    this.count = 0;
    this.stats.buffered = 0;
  }

  private release(watermark: bigint, emit: (event: T) => void): void {
    while (this.count > 0 && this.ring[this.start]!.ts_event_ns < watermark) emit(this.shift());
  }

  /** Pop the oldest event; state is updated before the caller emits, so a re-entrant push sees a consistent ring. */
  private shift(): T {
    const e = this.ring[this.start]!;
    this.ring[this.start] = undefined;
    this.start = (this.start + 1) & this.mask;
    this.count--;
    this.stats.released++;
    return e;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.ring.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.start + i) & this.mask];
    this.ring = next;
    this.mask = next.length - 1;
    this.start = 0;
  }

  /** Insert at logical position `pos` (< count), shifting the younger tail up by one slot. */
  private insertAt(pos: number, event: T): void {
    const ring = this.ring;
    const mask = this.mask;
    for (let i = this.count; i > pos; i--) ring[(this.start + i) & mask] = ring[(this.start + i - 1) & mask];
    ring[(this.start + pos) & mask] = event;
  }

  /** First logical index after every held event that sorts ≤ `event`: keeps ties in arrival order. */
  private upperBound(event: T): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.ring[(this.start + mid) & this.mask]!, event) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Buffer events until the watermark passes them, then emit them in canonical order. Late events go to `onLate`.
 *
 * ```
 * latenessMs = 2; letters carry ts_event_ns in ms: a=5 c=7 b=6 d=12 e=3 f=13
 * source:  --a--c--b--d-----e--f--|
 * output:  -----------(abc)--------(df|)      e is late (3 < watermark 10) → onLate(e, 10 ms)
 * ```
 */
export function reorderBuffer<T extends Timestamped>(opts: ReorderBufferOptions<T> = {}): MonoTypeOperatorFunction<T> {
  latenessToNs(opts.latenessMs ?? CONFIG.LATENESS_BUFFER_MS);
  const onLate = opts.onLate;
  return (source) =>
    new Observable<T>((subscriber) => {
      const buffer = new ReorderBuffer<T>(opts);
      const emit = (e: T): void => subscriber.next(e);
      const sub = source.subscribe({
        next(e) {
          if (subscriber.closed) return;
          try {
            if (!buffer.push(e, emit) && onLate !== undefined) onLate(e, buffer.watermarkNs!);
          } catch (err) {
            buffer.clear();
            subscriber.error(err);
          }
        },
        error(err) {
          buffer.clear();
          subscriber.error(err);
        },
        complete() {
          buffer.flush(emit);
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        buffer.clear();
      };
    });
}

/**
 * Same buffer, one output stream for both fates: ordered events and late events, tagged. A late item is emitted at
 * the moment it arrives (it cannot be placed among the ordered ones), carrying the watermark it missed.
 *
 * ```
 * latenessMs = 2; a=5 c=7 b=6 d=12 e=3 f=13
 * source:  --a--c--b--d-----e--f--|
 * output:  -----------(ABC)--L-----(DF|)      A = {kind:'ordered', event:a} …, L = {kind:'late', event:e, watermark_ns:10 ms}
 * ```
 */
export function reorderWithLate<T extends Timestamped>(
  opts: Omit<ReorderBufferOptions<T>, 'onLate'> = {},
): OperatorFunction<T, Reordered<T>> {
  latenessToNs(opts.latenessMs ?? CONFIG.LATENESS_BUFFER_MS);
  return (source) =>
    new Observable<Reordered<T>>((subscriber) => {
      const buffer = new ReorderBuffer<T>(opts);
      const emit = (event: T): void => subscriber.next({ kind: 'ordered', event });
      const sub = source.subscribe({
        next(event) {
          if (subscriber.closed) return;
          try {
            if (!buffer.push(event, emit)) subscriber.next({ kind: 'late', event, watermark_ns: buffer.watermarkNs! });
          } catch (err) {
            buffer.clear();
            subscriber.error(err);
          }
        },
        error(err) {
          buffer.clear();
          subscriber.error(err);
        },
        complete() {
          buffer.flush(emit);
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        buffer.clear();
      };
    });
}
