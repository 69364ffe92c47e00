/**
 * Snap sampling on an event-time grid (ENGINES.md §13, §17.2, W-19).
 *
 * Interleaves "snap" instants with the events: a snap at `T` means "evaluate every engine now, at `now = T`, having
 * applied every event with `ts_event_ns ≤ T` and none after". The grid is fixed in event time, never paced by a wall
 * clock, so a replay at any speed and a live run emit the same snaps.
 *
 * Rules (all integer nanoseconds, `I = intervalMs`, `G = maxGapMs`, `ceilI(t)` = first multiple of `I` that is ≥ t):
 * - Grid: `T_k = ceilI(first_ts) + k·I`; instants are always multiples of `I` (a first event on the grid gives
 *   `T_0 = first_ts`). No snap precedes the first event.
 * - Placement: snap `T` follows every event with `ts ≤ T` and precedes every event with `ts > T`. Input is expected
 *   in canonical order (e.g. after `reorderBuffer`).
 * - Gap rule: with `last` the newest event at or before `T`, `T` is a snap iff `T ≤ max(ceilI(last), last + G)`.
 *   Snaps therefore run on for `G` after the last event, then pause (an overnight break yields no flood of empty
 *   snaps); the grid resumes at `ceilI(next event)`, same phase. The instant `ceilI(last)` is never skipped, so every
 *   event is covered by a snap.
 * - Completion: a snap is known complete when an event with `ts > T` arrives, or a heartbeat `h ≥ T` arrives. On
 *   completion of the source the pending `ceilI(last)` is emitted (if not already), then the output completes. The
 *   end of input is not evidence that time went on, so the `G` tail after the last event is emitted only by
 *   heartbeats.
 * - Heartbeats (live mode only): a heartbeat `h` promises that every event with `ts ≤ h` has been delivered; it
 *   emits the snaps `T ≤ h` allowed by the gap rule, and nothing before the first event or beyond the gap. A
 *   heartbeat source built on a `reorderBuffer` watermark `W` (which has released every event `< W`) must send
 *   `W − 1n`. Heartbeats that go backwards are ignored. A heartbeat error errors the output; its completion does not.
 *   Live (events + heartbeats) and replay (events only) emit the same items in the same order up to the last event.
 * - Late: an event with `ts ≤` the last emitted snap (a broken heartbeat promise, or disorder) is passed through as
 *   an event at its arrival position and counted in `stats.late`; past snaps are never re-emitted. It still counts
 *   as activity for the gap rule.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { CONFIG } from '../common/config.js';

export type GridItem<T> =
  { readonly kind: 'event'; readonly event: T } | { readonly kind: 'snap'; readonly ts_ns: bigint };

/** Running counters, updated in place. */
export interface SnapGridStats {
  snaps: number;
  late: number;
}

export interface SnapGridOptions {
  /** Grid step in ms of event time (default `CONFIG.SNAP_INTERVAL_MS`). */
  readonly intervalMs?: number;
  /** How long after the last event the grid keeps ticking, in ms (default `CONFIG.SNAP_MAX_GAP_MS`). */
  readonly maxGapMs?: number;
  /** Event-time clock ticks in ns (live mode only). */
  readonly heartbeats?: Observable<bigint>;
  /** Counters shared by every subscription made with these options. */
  readonly stats?: SnapGridStats;
}

function msToNs(ms: number, name: string, positive: boolean): bigint {
  if (!Number.isFinite(ms) || ms < 0 || (positive && ms === 0)) {
    throw new RangeError(`snapGrid: ${name} must be a finite number ${positive ? '> 0' : '≥ 0'}, got ${String(ms)}`);
  }
  const ns = BigInt(Math.round(ms * 1e6));
  if (positive && ns === 0n) throw new RangeError(`snapGrid: ${name} must be at least 1 ns, got ${String(ms)} ms`);
  return ns;
}

/** The grid clock without RxJS: report events and heartbeats, receive snap instants through `emit`. */
export class SnapGrid {
  readonly intervalNs: bigint;
  readonly maxGapNs: bigint;
  readonly stats: SnapGridStats;
  private lastEventNs: bigint | null = null;
  /**
   * The newest instant the gap rule allows after `lastEventNs` is `max(ceilLastNs, gapEndNs)`. The BigInt sum
   * `gapEndNs` is made only when a snap beyond `ceilLastNs` is considered: most events need neither it nor a modulo.
   */
  private ceilLastNs = 0n;
  private gapEndNs: bigint | null = null;
  /**
   * Invariant: `nextSnapNs − I` is before the newest event or snap, so `ceil(ts) = nextSnapNs` for any later event
   * `ts ≤ nextSnapNs`: the usual event needs no modulo.
   */
  private nextSnapNs = 0n;
  private lastSnapNs: bigint | null = null;

  constructor(opts: Omit<SnapGridOptions, 'heartbeats'> = {}) {
    this.intervalNs = msToNs(opts.intervalMs ?? CONFIG.SNAP_INTERVAL_MS, 'intervalMs', true);
    this.maxGapNs = msToNs(opts.maxGapMs ?? CONFIG.SNAP_MAX_GAP_MS, 'maxGapMs', false);
    this.stats = opts.stats ?? { snaps: 0, late: 0 };
  }

  /** First grid instant ≥ `ts`. */
  ceil(ts: bigint): bigint {
    const r = ((ts % this.intervalNs) + this.intervalNs) % this.intervalNs;
    return r === 0n ? ts : ts - r + this.intervalNs;
  }

  /** The last snap emitted, or null. */
  get lastSnap(): bigint | null {
    return this.lastSnapNs;
  }

  /**
   * Report an event before it is delivered downstream: emits the snaps it completes (those `< ts`). Returns false
   * when the event is late (`ts ≤` last emitted snap).
   */
  event(ts: bigint, emit: (snapNs: bigint) => void): boolean {
    const last = this.lastEventNs;
    if (last === null) {
      this.nextSnapNs = this.ceil(ts);
      this.touch(ts, this.nextSnapNs);
      return true;
    }
    if (this.lastSnapNs !== null && ts <= this.lastSnapNs) {
      this.stats.late++;
      if (ts > last) this.touch(ts, this.ceil(ts));
      return false;
    }
    // An event behind the newest one but after every emitted snap completes nothing new and moves no state.
    if (ts < last) return true;
    if (this.nextSnapNs < ts) {
      while (this.nextSnapNs < ts && this.allows(this.nextSnapNs)) this.snapNext(emit);
      // Every snap before `ts` went out, so the next one is ceil(ts); unless the gap paused the grid: resume there.
      if (this.nextSnapNs < ts) this.nextSnapNs = this.ceil(ts);
    }
    this.touch(ts, this.nextSnapNs);
    return true;
  }

  /** Report a heartbeat `h`: emits the snaps `≤ h` the gap rule allows. */
  heartbeat(h: bigint, emit: (snapNs: bigint) => void): void {
    if (this.lastEventNs !== null) this.run(h, emit);
  }

  /** End of input: emits the first grid instant ≥ the last event unless it already went out. */
  finish(emit: (snapNs: bigint) => void): void {
    if (this.lastEventNs === null) return;
    const t = this.ceil(this.lastEventNs);
    if (this.lastSnapNs === null || this.lastSnapNs < t) this.snap(t, emit);
  }

  /** Record the newest event `ts`, whose first grid instant at or after it is `ceilTs`. */
  private touch(ts: bigint, ceilTs: bigint): void {
    this.lastEventNs = ts;
    this.ceilLastNs = ceilTs;
    this.gapEndNs = null;
  }

  /** The gap rule: `t ≤ max(ceil(last), last + G)`. */
  private allows(t: bigint): boolean {
    if (t <= this.ceilLastNs) return true;
    this.gapEndNs ??= this.lastEventNs! + this.maxGapNs;
    return t <= this.gapEndNs;
  }

  /** Emit pending snaps up to `upTo` inclusive, never beyond the gap limit. */
  private run(upTo: bigint, emit: (snapNs: bigint) => void): void {
    while (this.nextSnapNs <= upTo && this.allows(this.nextSnapNs)) this.snapNext(emit);
  }

  private snapNext(emit: (snapNs: bigint) => void): void {
    const t = this.nextSnapNs;
    this.nextSnapNs = t + this.intervalNs;
    this.snap(t, emit);
  }

  private snap(t: bigint, emit: (snapNs: bigint) => void): void {
    this.lastSnapNs = t;
    this.stats.snaps++;
    emit(t);
  }
}

/**
 * Interleave event-time snap instants with the events (see the rules above).
 *
 * ```
 * intervalMs = 250; letters carry ts_event_ns in ms: a=100 b=250 c=260 d=900; S(t) = {kind:'snap', ts_ns: t ms}
 * source:  --a---b---c---d---|
 * output:  --A---B---(xC)-(yzD)-(w|)     A = {kind:'event', event:a} …, x=S(250) y=S(500) z=S(750) w=S(1000)
 *
 * heartbeats complete snaps without an event (h ≥ T); a=100, heartbeats h=200 k=250 m=600
 * source:  --a-----------|
 * beats:   -----h--k--m---
 * output:  --A-----x--y--|               x=S(250) y=S(500); ceil(100)=250 is already out, so completion adds none
 * ```
 */
export function snapGrid<T extends { readonly ts_event_ns: bigint }>(
  opts: SnapGridOptions = {},
): OperatorFunction<T, GridItem<T>> {
  msToNs(opts.intervalMs ?? CONFIG.SNAP_INTERVAL_MS, 'intervalMs', true);
  msToNs(opts.maxGapMs ?? CONFIG.SNAP_MAX_GAP_MS, 'maxGapMs', false);
  const heartbeats = opts.heartbeats;
  return (source) =>
    new Observable<GridItem<T>>((subscriber) => {
      const grid = new SnapGrid(opts);
      const emitSnap = (ts_ns: bigint): void => subscriber.next({ kind: 'snap', ts_ns });
      subscriber.add(
        source.subscribe({
          next(event) {
            grid.event(event.ts_event_ns, emitSnap);
            subscriber.next({ kind: 'event', event });
          },
          error(err) {
            subscriber.error(err);
          },
          complete() {
            grid.finish(emitSnap);
            subscriber.complete();
          },
        }),
      );
      if (heartbeats !== undefined) {
        subscriber.add(
          heartbeats.subscribe({
            next(h) {
              grid.heartbeat(h, emitSnap);
            },
            error(err) {
              subscriber.error(err);
            },
          }),
        );
      }
    });
}
