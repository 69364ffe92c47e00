import { fc, test } from '@fast-check/vitest';
import { Subject, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { compareEvents, futuresTrade, mbp10, optionTrade, type MarketEvent } from '../../src/common/event-types.js';
import {
  ReorderBuffer,
  canonicalCompare,
  reorderBuffer,
  reorderWithLate,
  type ReorderStats,
  type Reordered,
} from '../../src/operators/reorder-buffer.js';

/** Large enough that a conversion through `number` would lose digits. */
const BASE = 1_770_000_000_000_000_000n;
const MS = 1_000_000n;

interface Ev {
  ts_event_ns: bigint;
  ts_recv_ns?: bigint;
  seq?: bigint | null;
  id: string;
}

function ev(id: string, ms: number, extraNs = 0n, more: Partial<Ev> = {}): Ev {
  return { id, ts_event_ns: BASE + BigInt(ms) * MS + extraNs, ...more };
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('reorderBuffer — marbles', () => {
  it('releases held events in order once the watermark passes them, reports late ones, flushes on completion', () => {
    const a = ev('a', 5);
    const c = ev('c', 7);
    const b = ev('b', 6);
    const d = ev('d', 12);
    const e = ev('e', 3);
    const f = ev('f', 13);
    const late: [string, bigint][] = [];
    const stats: ReorderStats = { released: 0, late: 0, buffered: 0 };
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('--a--c--b--d--e--f--|', { a, b, c, d, e, f });
      const out = src.pipe(reorderBuffer<Ev>({ latenessMs: 2, stats, onLate: (x, w) => late.push([x.id, w]) }));
      expectObservable(out).toBe('-----------(abc)----(df|)', { a, b, c, d, f });
      expectSubscriptions(src.subscriptions).toBe('^-------------------!');
    });
    expect(late).toEqual([['e', BASE + 10n * MS]]);
    expect(stats).toEqual({ released: 5, late: 1, buffered: 0 });
  });

  it('watermark boundary: an event exactly at the watermark is on time and held; one ns older is late', () => {
    // lateness 500 ms. After x (1500 ms) the watermark is 1000 ms: a (1000 ms) is not < watermark, so it stays held.
    // y (1500 ms + 1 ns) moves it to 1000 ms + 1 ns: a leaves; then z exactly at the watermark is accepted, w one ns
    // older is late.
    const a = ev('a', 1000);
    const x = ev('x', 1500);
    const y = ev('y', 1500, 1n);
    const z = ev('z', 1000, 1n);
    const w = ev('w', 1000);
    const late: string[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-x-y-z-w-|', { a, x, y, z, w });
      const out = src.pipe(reorderBuffer<Ev>({ latenessMs: 500, onLate: (e) => late.push(e.id) }));
      expectObservable(out).toBe('-----a-----(zxy|)', { a, x, y, z });
    });
    expect(late).toEqual(['w']);
  });

  it('lateness 0: equal timestamps wait for a strictly newer event, then leave together', () => {
    const a = ev('a', 1);
    const b = ev('b', 1);
    const c = ev('c', 2);
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b-c---|', { a, b, c }).pipe(reorderBuffer<Ev>({ latenessMs: 0 }));
      expectObservable(out).toBe('-----(ab)(c|)', { a, b, c });
    });
  });

  it('a source error discards the held events and reaches the subscriber at once', () => {
    const stats: ReorderStats = { released: 0, late: 0, buffered: 0 };
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c-#', { a: ev('a', 0), b: ev('b', 10), c: ev('c', 20) }, new Error('feed lost'));
      const out = src.pipe(reorderBuffer<Ev>({ latenessMs: 15, stats }));
      expectObservable(out).toBe('-----a-#', { a: ev('a', 0) }, new Error('feed lost'));
      expectSubscriptions(src.subscriptions).toBe('^------!');
    });
    expect(stats).toEqual({ released: 1, late: 0, buffered: 0 });
  });

  it('unsubscribing unsubscribes the source and releases the buffer', () => {
    const stats: ReorderStats = { released: 0, late: 0, buffered: 0 };
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c-d-e-|', { a: ev('a', 0), b: ev('b', 1), c: ev('c', 2), d: ev('d', 3), e: ev('e', 4) });
      const out = src.pipe(reorderBuffer<Ev>({ latenessMs: 1000, stats }));
      expectObservable(out, '^----!').toBe('------');
      expectSubscriptions(src.subscriptions).toBe('^----!');
    });
    expect(stats.buffered).toBe(0);
    expect(stats.released).toBe(0);
  });

  it('reorderWithLate tags late events at their arrival position with the watermark they missed', () => {
    const a = ev('a', 5);
    const c = ev('c', 7);
    const b = ev('b', 6);
    const d = ev('d', 12);
    const e = ev('e', 3);
    const f = ev('f', 13);
    const O = (event: Ev): Reordered<Ev> => ({ kind: 'ordered', event });
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('--a--c--b--d------e--f--|', { a, b, c, d, e, f });
      expectObservable(src.pipe(reorderWithLate<Ev>({ latenessMs: 2 }))).toBe('-----------(ABC)--L-----(DF|)', {
        A: O(a),
        B: O(b),
        C: O(c),
        D: O(d),
        F: O(f),
        L: { kind: 'late', event: e, watermark_ns: BASE + 10n * MS },
      });
    });
  });

  it('an onLate callback that throws errors the output', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c-|', { a: ev('a', 10), b: ev('b', 0), c: ev('c', 20) });
      const boom = new Error('boom');
      const out = src.pipe(
        reorderBuffer<Ev>({
          latenessMs: 1,
          onLate: () => {
            throw boom;
          },
        }),
      );
      expectObservable(out).toBe('---#', undefined, boom);
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
  });
});

describe('reorderBuffer — order and configuration', () => {
  it('ties on ts_event_ns sort by ts_recv_ns, then seq (missing last), then arrival', () => {
    const t = 100;
    const input = [
      ev('r2', t, 0n, { ts_recv_ns: 2n, seq: 1n }),
      ev('r1-null', t, 0n, { ts_recv_ns: 1n, seq: null }),
      ev('r1-s5', t, 0n, { ts_recv_ns: 1n, seq: 5n }),
      ev('r1-s3', t, 0n, { ts_recv_ns: 1n, seq: 3n }),
      ev('r1-null-2', t, 0n, { ts_recv_ns: 1n, seq: null }),
      ev('early', t - 1),
    ];
    const out: string[] = [];
    of(...input)
      .pipe(reorderBuffer<Ev>({ latenessMs: 10 }))
      .subscribe((e) => out.push(e.id));
    expect(out).toEqual(['early', 'r1-s3', 'r1-s5', 'r1-null', 'r1-null-2', 'r2']);
  });

  it('a custom compare decides ties', () => {
    const out: string[] = [];
    of(ev('b', 1), ev('a', 1), ev('c', 0))
      .pipe(
        reorderBuffer<Ev>({
          latenessMs: 5,
          compare: (x, y) => canonicalCompare(x, y) || x.id.localeCompare(y.id),
        }),
      )
      .subscribe((e) => out.push(e.id));
    expect(out).toEqual(['c', 'a', 'b']);
  });

  it('rejects a lateness that is negative or not finite when the operator is built', () => {
    expect(() => reorderBuffer({ latenessMs: -1 })).toThrow(RangeError);
    expect(() => reorderBuffer({ latenessMs: Number.NaN })).toThrow(/latenessMs/);
    expect(() => new ReorderBuffer({ latenessMs: Infinity })).toThrow(RangeError);
  });

  it('defaults the lateness to CONFIG.LATENESS_BUFFER_MS (500 ms)', () => {
    expect(new ReorderBuffer().latenessNs).toBe(500n * MS);
  });

  it('grows past its initial capacity and keeps order under heavy reversal', () => {
    const n = 5000;
    const input = Array.from({ length: n }, (_, i) => ev(String(i), n - i));
    const out: number[] = [];
    const buf = new ReorderBuffer<Ev>({ latenessMs: n + 1 });
    const accepted = input.filter((e) => buf.push(e, () => out.push(-1)));
    expect(accepted).toHaveLength(n);
    expect(buf.size).toBe(n);
    buf.flush((e) => out.push(Number((e.ts_event_ns - BASE) / MS)));
    expect(out).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(buf.size).toBe(0);
  });

  it('wraps its ring many times in a long, mostly ordered stream', () => {
    const n = 50_000;
    const input: Ev[] = [];
    for (let i = 0; i < n; i++) input.push(ev(String(i), i, 0n, { seq: BigInt(i) }));
    // swap neighbours every 7th step: disorder within the lateness
    for (let i = 1; i < n; i += 7) [input[i - 1], input[i]] = [input[i]!, input[i - 1]!];
    const out: number[] = [];
    const buf = new ReorderBuffer<Ev>({ latenessMs: 3 });
    const emit = (e: Ev): void => void out.push(Number(e.seq));
    for (const e of input) buf.push(e, emit);
    buf.flush(emit);
    expect(out).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(buf.stats).toEqual({ released: n, late: 0, buffered: 0 });
  });
});

/*
 * Oracle: a late event is one older than (max ts seen before it − lateness); the ordered output is the stable sort of
 * the others; after arrival i exactly the accepted events older than the watermark at i have been released, and they
 * are a prefix of that sorted list.
 */
const arrival = fc.record({
  stepMs: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }) },
    { weight: 2, arbitrary: fc.integer({ min: -40, max: -1 }) },
    { weight: 1, arbitrary: fc.integer({ min: -400, max: 400 }) },
  ),
  extraNs: fc.constantFrom(0n, 1n, 999_999n),
  recv: fc.constantFrom<bigint | undefined>(undefined, 0n, 1n, 2n),
  seq: fc.constantFrom<bigint | null | undefined>(undefined, null, 0n, 1n),
});

function buildInput(
  steps: { stepMs: number; extraNs: bigint; recv: bigint | undefined; seq: bigint | null | undefined }[],
): Ev[] {
  let ms = 1000;
  return steps.map((s, i) => {
    ms += s.stepMs;
    const e: Ev = { id: String(i), ts_event_ns: BASE + BigInt(ms) * MS + s.extraNs };
    if (s.recv !== undefined) e.ts_recv_ns = BASE + s.recv;
    if (s.seq !== undefined) e.seq = s.seq;
    return e;
  });
}

function oracle(input: readonly Ev[], latenessMs: number): Reordered<Ev>[] {
  const lateness = BigInt(latenessMs) * MS;
  let max: bigint | null = null;
  const isLate: boolean[] = [];
  const watermarks: (bigint | null)[] = [];
  for (const e of input) {
    const wm: bigint | null = max === null ? null : max - lateness;
    isLate.push(wm !== null && e.ts_event_ns < wm);
    if (max === null || e.ts_event_ns > max) max = e.ts_event_ns;
    watermarks.push(max - lateness);
  }
  const accepted = input.filter((_, i) => !isLate[i]);
  const sorted = [...accepted].sort(canonicalCompare);
  const out: Reordered<Ev>[] = [];
  let released = 0;
  input.forEach((e, i) => {
    if (isLate[i]) {
      out.push({ kind: 'late', event: e, watermark_ns: watermarks[i - 1]! });
      return;
    }
    const wm = watermarks[i]!;
    const due = input.filter((x, j) => j <= i && !isLate[j] && x.ts_event_ns < wm).length;
    for (; released < due; released++) out.push({ kind: 'ordered', event: sorted[released]! });
  });
  for (; released < sorted.length; released++) out.push({ kind: 'ordered', event: sorted[released]! });
  return out;
}

describe('reorderBuffer — properties against a brute-force oracle', () => {
  test.prop([fc.array(arrival, { maxLength: 150 }), fc.constantFrom(0, 1, 5, 50, 500)], { numRuns: 400 })(
    'tagged output equals the oracle: late set, release timing and canonical order',
    (steps, latenessMs) => {
      const input = buildInput(steps);
      const src = new Subject<Ev>();
      const out: Reordered<Ev>[] = [];
      src.pipe(reorderWithLate<Ev>({ latenessMs })).subscribe((x) => out.push(x));
      for (const e of input) src.next(e);
      src.complete();
      expect(out).toEqual(oracle(input, latenessMs));
    },
  );

  test.prop([fc.array(arrival, { maxLength: 150 }), fc.constantFrom(0, 1, 5, 50, 500)], { numRuns: 400 })(
    'reorderBuffer output is sorted, a permutation of the accepted input, and onLate gets exactly the late ones',
    (steps, latenessMs) => {
      const input = buildInput(steps);
      const expected = oracle(input, latenessMs);
      const out: Ev[] = [];
      const late: Ev[] = [];
      const stats: ReorderStats = { released: 0, late: 0, buffered: 0 };
      of(...input)
        .pipe(reorderBuffer<Ev>({ latenessMs, stats, onLate: (e) => late.push(e) }))
        .subscribe((e) => out.push(e));
      for (let i = 1; i < out.length; i++) expect(canonicalCompare(out[i - 1]!, out[i]!)).toBeLessThanOrEqual(0);
      expect(late).toEqual(expected.filter((x) => x.kind === 'late').map((x) => x.event));
      const ids = (xs: Ev[]): string[] => xs.map((e) => e.id).sort();
      expect(ids(out)).toEqual(ids(input.filter((e) => !late.includes(e))));
      expect(stats).toEqual({ released: out.length, late: late.length, buffered: 0 });
    },
  );

  const marketEvent = fc
    .record({
      kind: fc.constantFrom('trade', 'option', 'mbp'),
      ts: fc.integer({ min: 0, max: 3 }),
      recv: fc.integer({ min: 0, max: 2 }),
      seq: fc.constantFrom<bigint | null>(null, 0n, 1n),
    })
    .map(({ kind, ts, recv, seq }): MarketEvent => {
      const base = { ts_event_ns: BASE + BigInt(ts), ts_recv_ns: BASE + BigInt(recv), source: 'sim' as const, seq };
      if (kind === 'trade') return futuresTrade({ ...base, symbol: 'ESZ5', price: 6000, size: 1 });
      if (kind === 'mbp') return mbp10({ ...base, symbol: 'ESZ5', levels: [] });
      return optionTrade({
        ...base,
        underlying: 'ES',
        option_symbol: 'E1',
        exp_date: '2025-12-19',
        strike: 6000,
        right: 'C',
        price: 1,
        size: 1,
      });
    });

  test.prop([marketEvent, marketEvent], { numRuns: 500 })(
    'canonicalCompare is compareEvents on market events',
    (a, b) => {
      expect(Math.sign(canonicalCompare(a, b))).toBe(Math.sign(compareEvents(a, b)));
    },
  );
});
