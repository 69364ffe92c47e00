/**
 * Event-time merge of several sources (DATA.md §6.4, ENGINES.md §17.1).
 *
 * Each source is already in canonical order (a DBN file, a Bronze partition, the simulator). The merge is a pull-based
 * k-way merge: it holds one buffered batch per source and pulls the next batch from a source only when that source's
 * buffer is empty and its head is needed, so memory is bounded by k batches whatever the length of the day.
 * Ties on the canonical key (`ts_event_ns`, `ts_recv_ns`, `seq`, kind rank) go to the earlier source in the list.
 *
 * Sources may be synchronous iterables (the simulator) or async iterables of single events or of batches (arrays)
 * of events (the DBN decoder yields batches so the per-event cost is not a promise). Output is batched the same way.
 *
 *   source A:  --a1-------a3---a4--|
 *   source B:  -----b2--b2'--------------b5--|
 *   merged:    --a1-b2--b2'-a3---a4------b5--|
 */
import { Observable } from 'rxjs';
import { compareEvents } from '../common/event-types.js';
import type { MarketEvent } from '../common/event-types.js';

export type MergeSource<T> = Iterable<T> | AsyncIterable<T | readonly T[]>;

export interface MergeOptions<T> {
  /** Canonical order; default `compareEvents`. */
  readonly compare?: (a: T, b: T) => number;
  /** Largest output batch (default 4096). */
  readonly batchSize?: number;
  /** Receives per-source order violations (an event that sorts before its predecessor in the same source). */
  readonly onOutOfOrder?: (sourceIndex: number, event: T, previous: T) => void;
}

export interface MergeStats {
  /** Events emitted, per source. */
  readonly emitted: number[];
  /** Order violations seen inside each source. */
  readonly outOfOrder: number[];
}

/** One source's read position: a buffered batch and the iterator that refills it. */
class Cursor<T> {
  buf: readonly T[] = [];
  i = 0;
  done = false;
  last: T | undefined;
  private readonly sync: Iterator<T> | undefined;
  private readonly async: AsyncIterator<T | readonly T[]> | undefined;

  constructor(
    source: MergeSource<T>,
    private readonly syncChunk: number,
  ) {
    if (Symbol.asyncIterator in source) this.async = source[Symbol.asyncIterator]();
    else this.sync = (source as Iterable<T>)[Symbol.iterator]();
  }

  get empty(): boolean {
    return this.i >= this.buf.length;
  }

  /** Refill the buffer; returns false at the end of the source. Synchronous sources never await. */
  refill(): boolean | Promise<boolean> {
    if (this.sync) {
      const chunk: T[] = [];
      while (chunk.length < this.syncChunk) {
        const r = this.sync.next();
        if (r.done) {
          this.done = true;
          break;
        }
        chunk.push(r.value);
      }
      this.buf = chunk;
      this.i = 0;
      return chunk.length > 0;
    }
    return this.refillAsync();
  }

  private async refillAsync(): Promise<boolean> {
    for (;;) {
      const r = await this.async!.next();
      if (r.done) {
        this.done = true;
        this.buf = [];
        this.i = 0;
        return false;
      }
      const v = r.value;
      const batch: readonly T[] = Array.isArray(v) ? (v as readonly T[]) : [v as T];
      if (batch.length === 0) continue;
      this.buf = batch;
      this.i = 0;
      return true;
    }
  }

  async close(): Promise<void> {
    this.done = true;
    if (this.sync) this.sync.return?.();
    else await this.async!.return?.();
  }
}

/**
 * Merge sources into one stream of batches in canonical order. Pulls from a source only when its next event is needed.
 * Stops the sources (calls `return()`) when the consumer stops early or a source throws.
 */
export async function* mergeByEventTime<T = MarketEvent>(
  sources: readonly MergeSource<T>[],
  options: MergeOptions<T> & { stats?: MergeStats } = {},
): AsyncGenerator<T[], void, undefined> {
  const compare = options.compare ?? (compareEvents as unknown as (a: T, b: T) => number);
  const batchSize = options.batchSize ?? 4096;
  const cursors = sources.map((s) => new Cursor(s, batchSize));
  const stats: MergeStats = options.stats ?? { emitted: [], outOfOrder: [] };
  for (let k = 0; k < cursors.length; k++) {
    stats.emitted[k] = 0;
    stats.outOfOrder[k] = 0;
  }
  try {
    for (const c of cursors) await c.refill();
    let out: T[] = [];
    for (;;) {
      let best = -1;
      let head: T | undefined;
      for (let k = 0; k < cursors.length; k++) {
        const c = cursors[k]!;
        if (c.empty) {
          if (c.done) continue;
          // A source is refilled only here, when its next event is needed to decide the order.
          if (!(await c.refill())) continue;
        }
        const h = c.buf[c.i]!;
        if (best < 0 || compare(h, head!) < 0) {
          best = k;
          head = h;
        }
      }
      if (best < 0) break;
      const c = cursors[best]!;
      c.i++;
      if (c.last !== undefined && compare(head!, c.last) < 0) {
        stats.outOfOrder[best]!++;
        options.onOutOfOrder?.(best, head!, c.last);
      }
      c.last = head;
      stats.emitted[best]!++;
      out.push(head!);
      if (out.length >= batchSize) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await Promise.allSettled(cursors.filter((c) => !c.done).map((c) => c.close()));
  }
}

/**
 * An Observable over a pulled batch source. Before each pull it awaits `gate()` — the pipeline runner's high-water mark
 * (for example "fewer than N messages in flight to NATS") — so a slow asynchronous sink bounds how far the source
 * reads ahead. Unsubscribing stops the pull and closes the source.
 */
export function fromPulled<T>(
  source: AsyncIterable<readonly T[]> | (() => AsyncIterable<readonly T[]>),
  options: { gate?: () => void | Promise<void> } = {},
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const iterable = typeof source === 'function' ? source() : source;
    const it = iterable[Symbol.asyncIterator]();
    let stopped = false;
    void (async () => {
      try {
        for (;;) {
          if (options.gate) await options.gate();
          if (stopped) return;
          const r = await it.next();
          if (stopped) return;
          if (r.done) {
            subscriber.complete();
            return;
          }
          for (const v of r.value) {
            if (stopped) return;
            subscriber.next(v);
          }
        }
      } catch (err) {
        if (!stopped) subscriber.error(err);
      }
    })();
    return () => {
      stopped = true;
      void it.return?.();
    };
  });
}
