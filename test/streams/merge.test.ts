import { fc, test } from '@fast-check/vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { compareEvents, futuresTrade, mbp10 } from '../../src/common/event-types.js';
import type { MarketEvent } from '../../src/common/event-types.js';
import { fromPulled, mergeByEventTime } from '../../src/streams/merge.js';
import type { MergeStats } from '../../src/streams/merge.js';

function trade(ts: bigint, tag: number, seq: bigint | null = null): MarketEvent {
  return futuresTrade({ ts_event_ns: ts, source: 'replay', symbol: 'ESZ5', price: 6870 + tag, size: 1, seq });
}

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const batch of it) out.push(...batch);
  return out;
}

/** An async source that yields batches and records how far it has been pulled. */
function countingSource<T>(events: T[], batch: number, log: { pulled: number; closed: boolean }): AsyncIterable<T[]> {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (let i = 0; i < events.length; i += batch) {
          const chunk = events.slice(i, i + batch);
          log.pulled += chunk.length;
          yield chunk;
        }
      } finally {
        log.closed = true;
      }
    },
  };
}

const sortedTimes = fc
  .array(fc.bigInt({ min: 0n, max: 50n }), { maxLength: 40 })
  .map((a) => a.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));

describe('mergeByEventTime', () => {
  test.prop([fc.array(sortedTimes, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 7 })])(
    'equals a stable sort of the concatenation, ties to the earlier source',
    async (lists, batch) => {
      const sources = lists.map((ts, k) => ts.map((t, i) => trade(t, k * 1000 + i)));
      const merged = await collect(
        mergeByEventTime(
          sources.map((s, k) => (k % 2 === 0 ? s : countingSource(s, batch, { pulled: 0, closed: false }))),
          { batchSize: batch },
        ),
      );
      const oracle = sources.flat().sort(compareEvents); // Array.prototype.sort is stable
      expect(merged).toEqual(oracle);
    },
  );

  it('orders equal timestamps trade < mbp10 and by seq, whatever the source order', async () => {
    const book = mbp10({ ts_event_ns: 5n, source: 'replay', symbol: 'ESZ5', levels: [] });
    const t2 = trade(5n, 2, 2n);
    const t1 = trade(5n, 1, 1n);
    expect(await collect(mergeByEventTime([[book], [t2], [t1]]))).toEqual([t1, t2, book]);
  });

  it('pulls a source only as far as needed (bounded read-ahead)', async () => {
    const a = Array.from({ length: 1000 }, (_, i) => trade(BigInt(i), 0));
    const b = Array.from({ length: 1000 }, (_, i) => trade(BigInt(10_000 + i), 1));
    const logA = { pulled: 0, closed: false };
    const logB = { pulled: 0, closed: false };
    const it = mergeByEventTime([countingSource(a, 10, logA), countingSource(b, 10, logB)], { batchSize: 10 })[
      Symbol.asyncIterator
    ]();
    let consumed = 0;
    while (consumed < 500) consumed += (await it.next()).value!.length;
    expect(logA.pulled - consumed).toBeLessThanOrEqual(10);
    expect(logB.pulled).toBe(10); // only its head, to compare with
    await it.return?.(undefined);
    expect(logA.closed && logB.closed).toBe(true);
  });

  it('counts order violations inside a source', async () => {
    const stats: MergeStats = { emitted: [], outOfOrder: [] };
    const seen: number[] = [];
    await collect(
      mergeByEventTime([[trade(1n, 0), trade(3n, 0), trade(2n, 0)], [trade(2n, 1)]], {
        stats,
        onOutOfOrder: (k) => seen.push(k),
      }),
    );
    expect(stats.outOfOrder).toEqual([1, 0]);
    expect(stats.emitted).toEqual([3, 1]);
    expect(seen).toEqual([0]);
  });

  it('propagates a source error and closes the other sources', async () => {
    const log = { pulled: 0, closed: false };
    const failing: AsyncIterable<MarketEvent> = {
      async *[Symbol.asyncIterator]() {
        yield trade(1n, 0);
        throw new Error('disk on fire');
      },
    };
    const other = countingSource(
      Array.from({ length: 100 }, (_, i) => trade(BigInt(i), 1)),
      5,
      log,
    );
    await expect(collect(mergeByEventTime([failing, other]))).rejects.toThrow('disk on fire');
    expect(log.closed).toBe(true);
  });
});

describe('fromPulled', () => {
  it('emits every event in order and completes', async () => {
    const events = Array.from({ length: 50 }, (_, i) => trade(BigInt(i), 0));
    const out = await firstValueFrom(fromPulled(mergeByEventTime([events], { batchSize: 7 })).pipe(toArray()));
    expect(out).toEqual(events);
  });

  it('waits on the gate before every pull, so a slow sink bounds the read-ahead', async () => {
    const log = { pulled: 0, closed: false };
    const events = Array.from({ length: 100 }, (_, i) => trade(BigInt(i), 0));
    let inFlight = 0;
    let maxAhead = 0;
    const waiters: (() => void)[] = [];
    const gate = () => (inFlight < 20 ? undefined : new Promise<void>((r) => waiters.push(r)));
    const received: MarketEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      fromPulled(() => countingSource(events, 10, log), { gate }).subscribe({
        next: (e) => {
          received.push(e);
          inFlight++;
          maxAhead = Math.max(maxAhead, log.pulled - (received.length - inFlight));
          // the "sink" acknowledges asynchronously
          setImmediate(() => {
            inFlight--;
            if (inFlight < 20) waiters.shift()?.();
          });
        },
        error: reject,
        complete: resolve,
      });
    });
    expect(received).toEqual(events);
    expect(maxAhead).toBeLessThanOrEqual(30);
  });

  it('stops pulling and closes the source when unsubscribed', async () => {
    const log = { pulled: 0, closed: false };
    const events = Array.from({ length: 1000 }, (_, i) => trade(BigInt(i), 0));
    const first = await firstValueFrom(fromPulled(() => countingSource(events, 10, log)).pipe(take(15), toArray()));
    expect(first).toHaveLength(15);
    await new Promise((r) => setImmediate(r));
    expect(log.closed).toBe(true);
    expect(log.pulled).toBeLessThanOrEqual(30);
  });
});
