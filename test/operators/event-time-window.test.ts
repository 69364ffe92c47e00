import fc from 'fast-check';
import { Subject, from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  EventTimeWindow,
  OutOfOrderError,
  eventTimeWindow,
  type ReducibleAggregate,
  type WindowClosure,
  type WindowStats,
} from '../../src/operators/event-time-window.js';

/** Large enough that a detour through `number` would lose digits. */
const BASE = 1_770_000_000_000_000_000n;
const MS = 1_000_000n;
const S = 1_000_000_000n;

interface Item {
  ts_event_ns: bigint;
  v: number;
  size: number;
}

const at = (ms: number, v: number, extraNs = 0n, size = 1): Item => ({
  ts_event_ns: BASE + BigInt(ms) * MS + extraNs,
  v,
  size,
});

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

function st(ts: bigint, count: number, sum: number, min: number | null, max: number | null): WindowStats {
  return { ts_ns: ts, count, sum, min, max };
}

const sizeSum: ReducibleAggregate<Item, number> = {
  init: 0,
  add: (acc, x) => acc + x.size,
  remove: (acc, x) => acc - x.size,
};

describe('eventTimeWindow — marbles', () => {
  it('emits the window ending at each input; an item exactly W old stays, 1 ns older leaves; completion passes', () => {
    const a = at(0, 1);
    const b = at(500, 3);
    const c = at(1000, 2); // a is exactly 1 s old
    const d = at(1000, 4, 1n); // a is 1 s + 1 ns old
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c-d-|', { a, b, c, d });
      expectObservable(src.pipe(eventTimeWindow({ windowS: 1, value: (x: Item) => x.v }))).toBe('-A-B-C-D-|', {
        A: st(a.ts_event_ns, 1, 1, 1, 1),
        B: st(b.ts_event_ns, 2, 4, 1, 3),
        C: st(c.ts_event_ns, 3, 6, 1, 3),
        D: st(d.ts_event_ns, 3, 9, 2, 4),
      });
      expectSubscriptions(src.subscriptions).toBe('^--------!');
    });
  });

  it("closed: 'right' makes the left end open (W-32): an item exactly W old leaves", () => {
    const a = at(0, 1);
    const c = at(1000, 2);
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-c-|', { a, c });
      const out = src.pipe(eventTimeWindow({ windowS: 1, closed: 'right', value: (x: Item) => x.v }));
      expectObservable(out).toBe('-A-C-|', { A: st(a.ts_event_ns, 1, 1, 1, 1), C: st(c.ts_event_ns, 1, 2, 2, 2) });
    });
  });

  it('carries a reducible aggregate', () => {
    const a = at(0, 1, 0n, 5);
    const b = at(600, 1, 0n, 7);
    const c = at(1200, 1, 0n, 11);
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('abc|', { a, b, c }).pipe(
        eventTimeWindow({ windowS: 1, value: (x: Item) => x.v, aggregate: sizeSum }),
      );
      expectObservable(out).toBe('abc|', {
        a: { ...st(a.ts_event_ns, 1, 1, 1, 1), agg: 5 },
        b: { ...st(b.ts_event_ns, 2, 2, 1, 1), agg: 12 },
        c: { ...st(c.ts_event_ns, 2, 2, 1, 1), agg: 18 },
      });
    });
  });

  it('passes a source error through after the values before it', () => {
    const a = at(0, 1);
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-#', { a }, new Error('feed lost')).pipe(
        eventTimeWindow({ windowS: 1, value: (x: Item) => x.v }),
      );
      expectObservable(out).toBe('-A-#', { A: st(a.ts_event_ns, 1, 1, 1, 1) }, new Error('feed lost'));
    });
  });

  it('unsubscribing unsubscribes from the source', () => {
    const a = at(0, 1);
    const b = at(10, 2);
    scheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const src = hot('-a--b--c--|', { a, b, c: at(20, 3) });
      expectObservable(src.pipe(eventTimeWindow({ windowS: 1, value: (x: Item) => x.v })), '^----!').toBe('-A--B', {
        A: st(a.ts_event_ns, 1, 1, 1, 1),
        B: st(b.ts_event_ns, 2, 3, 1, 2),
      });
      expectSubscriptions(src.subscriptions).toBe('^----!');
    });
  });

  it('drops a late item (nothing emitted, onLate told) by default, and errors with outOfOrder: error', () => {
    const a = at(100, 1);
    const late = at(50, 9);
    const b = at(200, 2);
    const seen: Item[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-l-b-|', { a, l: late, b });
      expectObservable(
        src.pipe(eventTimeWindow({ windowS: 1, value: (x: Item) => x.v, onLate: (x) => seen.push(x) })),
      ).toBe('-A---B-|', { A: st(a.ts_event_ns, 1, 1, 1, 1), B: st(b.ts_event_ns, 2, 3, 1, 2) });
      expectObservable(src.pipe(eventTimeWindow({ windowS: 1, value: (x: Item) => x.v, outOfOrder: 'error' }))).toBe(
        '-A-#',
        { A: st(a.ts_event_ns, 1, 1, 1, 1) },
        new OutOfOrderError(late.ts_event_ns, a.ts_event_ns),
      );
    });
    expect(seen).toEqual([late]);
  });

  it('gives each subscription its own window', async () => {
    const items = [at(0, 1), at(10, 2), at(20, 3)];
    const op$ = from(items).pipe(eventTimeWindow({ windowS: 1, value: (x: Item) => x.v }));
    const first = await lastValueFrom(op$.pipe(toArray()));
    const second = await lastValueFrom(op$.pipe(toArray()));
    expect(second).toEqual(first);
    expect(first.map((s) => s.count)).toEqual([1, 2, 3]);
  });

  it('reads ts_event_ns by default and asks for a selector otherwise', () => {
    const s = new Subject<{ v: number }>();
    const errors: unknown[] = [];
    s.pipe(eventTimeWindow({ windowS: 1, value: (x: { v: number }) => x.v })).subscribe({
      error: (e) => errors.push(e),
    });
    s.next({ v: 1 });
    expect(errors[0]).toBeInstanceOf(TypeError);
  });
});

describe('EventTimeWindow — direct use at snap time', () => {
  it('answers a snap query with no new item, and refuses to go back in time', () => {
    const w = new EventTimeWindow<Item>({ windowS: 1 });
    for (const x of [at(0, 5), at(400, -1), at(900, 3)]) w.push(x.ts_event_ns, x.v, x);
    expect(w.stats(BASE + 1000n * MS)).toEqual(st(BASE + 1000n * MS, 3, 7, -1, 5));
    expect(w.stats(BASE + 1400n * MS + 1n)).toEqual(st(BASE + 1400n * MS + 1n, 1, 3, 3, 3));
    expect(w.stats(BASE + 10n * S)).toEqual(st(BASE + 10n * S, 0, 0, null, null));
    expect(() => w.evict(BASE)).toThrow(RangeError);
  });

  it('evictBefore takes a raw bound; forEach visits oldest first; clear forgets', () => {
    const w = new EventTimeWindow<string>({ windowS: 60 });
    w.push(BASE, 1, 'a');
    w.push(BASE + 5n, 2, 'b');
    w.push(BASE + 9n, 3, 'c');
    w.evictBefore(BASE + 5n);
    const seen: string[] = [];
    w.forEach((_ts, _v, item) => seen.push(item));
    expect(seen).toEqual(['b', 'c']);
    expect(w.oldestTs).toBe(BASE + 5n);
    w.clear();
    expect([w.count, w.sum, w.min, w.max, w.oldestTs]).toEqual([0, 0, null, null, null]);
    expect(w.push(BASE - 1n, 1, 'z')).toBe(true);
  });

  it('a function init gives each reset a fresh accumulator', () => {
    const agg: ReducibleAggregate<number, Map<number, number>> = {
      init: () => new Map(),
      add: (m, x) => m.set(x, (m.get(x) ?? 0) + 1),
      remove: (m, x) => {
        const n = (m.get(x) ?? 0) - 1;
        if (n === 0) m.delete(x);
        else m.set(x, n);
        return m;
      },
    };
    const w = new EventTimeWindow<number, Map<number, number>>({ windowS: 1, aggregate: agg });
    w.push(BASE, 7, 7);
    w.push(BASE + 1n, 7, 7);
    w.push(BASE + 2n, 8, 8);
    expect([...w.agg!]).toEqual([
      [7, 2],
      [8, 1],
    ]);
    const before = w.agg;
    w.evict(BASE + 10n * S);
    expect(w.agg).not.toBe(before);
    expect(w.agg!.size).toBe(0);
  });

  it('rejects a negative or non-finite window', () => {
    expect(() => new EventTimeWindow({ windowS: -1 })).toThrow(RangeError);
    expect(() => eventTimeWindow({ windowS: Number.NaN, value: (x: number) => x })).toThrow(RangeError);
  });
});

describe('eventTimeWindow — property: equals a rescan', () => {
  const W = 1n * S;
  const gap = fc.oneof(
    { weight: 3, arbitrary: fc.constant(0n) },
    { weight: 6, arbitrary: fc.bigInt({ min: 0n, max: W / 2n }) },
    { weight: 2, arbitrary: fc.constantFrom(W, W - 1n, W + 1n, 1n) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 3n * W }) },
  );
  const value = fc.oneof(
    fc.integer({ min: -100, max: 100 }),
    fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  );
  const seq = fc.array(fc.record({ gap, v: value, size: fc.integer({ min: 1, max: 50 }) }), {
    maxLength: 300,
    size: 'large',
  });

  function rescan(items: Item[], i: number, closed: WindowClosure) {
    const now = items[i]!.ts_event_ns;
    const inWin = items
      .slice(0, i + 1)
      .filter((x) => (closed === 'both' ? x.ts_event_ns >= now - W : x.ts_event_ns > now - W));
    const vs = inWin.map((x) => x.v);
    return {
      count: vs.length,
      sum: vs.reduce((a, b) => a + b, 0),
      abs: vs.reduce((a, b) => a + Math.abs(b), 0),
      min: vs.length ? Math.min(...vs) : null,
      max: vs.length ? Math.max(...vs) : null,
      agg: inWin.reduce((a, x) => a + x.size, 0),
    };
  }

  it.each(['both', 'right'] as const)('closed %s: count, min, max and aggregate exact; sum within 1e-9', (closed) => {
    fc.assert(
      fc.property(seq, (raw) => {
        let ts = BASE;
        const items = raw.map((r) => ({ ts_event_ns: (ts += r.gap), v: r.v, size: r.size }));
        const out: WindowStats<number>[] = [];
        from(items)
          .pipe(eventTimeWindow({ windowS: 1, closed, value: (x: Item) => x.v, aggregate: sizeSum }))
          .subscribe((s) => out.push(s));
        expect(out.length).toBe(items.length);
        out.forEach((s, i) => {
          const o = rescan(items, i, closed);
          expect(s.ts_ns).toBe(items[i]!.ts_event_ns);
          // Signed zeros aside (Math.min/max prefer −0/+0, the deques the earlier one), min and max are exact.
          const z = (x: number | null) => (x === null ? null : x + 0);
          expect([s.count, z(s.min), z(s.max), s.agg]).toEqual([o.count, z(o.min), z(o.max), o.agg]);
          expect(Math.abs(s.sum - o.sum)).toBeLessThanOrEqual(1e-9 * o.abs + 1e-9);
        });
      }),
      { numRuns: 200 },
    );
  });
});
