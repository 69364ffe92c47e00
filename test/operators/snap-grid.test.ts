import { fc, test } from '@fast-check/vitest';
import { Subject, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { SnapGrid, snapGrid, type GridItem, type SnapGridStats } from '../../src/operators/snap-grid.js';

/** A multiple of every interval used here, so `ms` values below read as grid phases. */
const BASE = 1_770_000_000_000_000_000n;
const MS = 1_000_000n;

interface Ev {
  ts_event_ns: bigint;
  id: string;
}

const ev = (id: string, ms: number, extraNs = 0n): Ev => ({ id, ts_event_ns: BASE + BigInt(ms) * MS + extraNs });
const at = (ms: number, extraNs = 0n): bigint => BASE + BigInt(ms) * MS + extraNs;
const E = (event: Ev): GridItem<Ev> => ({ kind: 'event', event });
const S = (ms: number): GridItem<Ev> => ({ kind: 'snap', ts_ns: at(ms) });

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

function collect(events: readonly Ev[], opts: Parameters<typeof snapGrid>[0] = {}): GridItem<Ev>[] {
  const out: GridItem<Ev>[] = [];
  of(...events)
    .pipe(snapGrid<Ev>(opts))
    .subscribe((x) => out.push(x));
  return out;
}

describe('snapGrid — marbles', () => {
  it('emits each snap once an event beyond it arrives, and the pending one on completion', () => {
    const a = ev('a', 100);
    const b = ev('b', 250);
    const c = ev('c', 260);
    const d = ev('d', 900);
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c----d-----|', { a, b, c, d });
      expectObservable(src.pipe(snapGrid<Ev>({ intervalMs: 250 }))).toBe('-A-B-(xC)-(yzD)-(w|)', {
        A: E(a),
        B: E(b),
        C: E(c),
        D: E(d),
        x: S(250),
        y: S(500),
        z: S(750),
        w: S(1000),
      });
      expectSubscriptions(src.subscriptions).toBe('^---------------!');
    });
  });

  it('a first event exactly on the grid is T_0; events at T precede snap T, an event 1 ns later follows it', () => {
    const a = ev('a', 250);
    const b = ev('b', 250);
    const c = ev('c', 250, 1n);
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-b-c---|', { a, b, c });
      expectObservable(src.pipe(snapGrid<Ev>({ intervalMs: 250 }))).toBe('-A-B-(xC)(y|)', {
        A: E(a),
        B: E(b),
        C: E(c),
        x: S(250),
        y: S(500),
      });
    });
  });

  it('gap rule: snaps run for maxGap after the last event, pause, and resume on the grid at the next event', () => {
    const a = ev('a', 100);
    const b = ev('b', 5000);
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-b---------|', { a, b });
      expectObservable(src.pipe(snapGrid<Ev>({ intervalMs: 250, maxGapMs: 1000 }))).toBe('-A-(wxyzB)---(v|)', {
        A: E(a),
        B: E(b),
        w: S(250),
        x: S(500),
        y: S(750),
        z: S(1000),
        v: S(5000),
      });
    });
  });

  it('heartbeat h completes snap T when h ≥ T (T − 1 ns does not); the source end adds nothing already emitted', () => {
    const a = ev('a', 100);
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const src = cold('-a----------|', { a });
      const beats = hot('---h-i-j-k------', { h: at(200), i: at(250, -1n), j: at(250), k: at(600) });
      expectObservable(src.pipe(snapGrid<Ev>({ intervalMs: 250, heartbeats: beats }))).toBe('-A-----x-y--|', {
        A: E(a),
        x: S(250),
        y: S(500),
      });
      expectSubscriptions(beats.subscriptions).toBe('^-----------!');
    });
  });

  it('heartbeats beyond the gap emit nothing more; the next event resumes the grid', () => {
    const a = ev('a', 100);
    const b = ev('b', 20_000);
    scheduler().run(({ cold, hot, expectObservable }) => {
      const src = cold('-a------b---|', { a, b });
      const beats = hot('---h-k-------', { h: at(10_000), k: at(19_000) });
      const out = src.pipe(snapGrid<Ev>({ intervalMs: 250, maxGapMs: 500, heartbeats: beats }));
      expectObservable(out).toBe('-A-(xy)-B---(z|)', { A: E(a), B: E(b), x: S(250), y: S(500), z: S(20_000) });
    });
  });

  it('heartbeats before the first event do nothing: the grid starts at the first event', () => {
    const a = ev('a', 1000);
    scheduler().run(({ cold, hot, expectObservable }) => {
      const src = cold('---a---|', { a });
      const beats = hot('-h---k---', { h: at(500), k: at(1000) });
      const out = src.pipe(snapGrid<Ev>({ intervalMs: 250, heartbeats: beats }));
      expectObservable(out).toBe('---A-x-|', { A: E(a), x: S(1000) });
    });
  });

  it('an event at or before the last emitted snap passes through as an event and is counted late', () => {
    const a = ev('a', 100);
    const b = ev('b', 250);
    const c = ev('c', 260);
    const stats: SnapGridStats = { snaps: 0, late: 0 };
    scheduler().run(({ cold, hot, expectObservable }) => {
      const src = cold('-a---b-c-|', { a, b, c });
      const beats = hot('---h------', { h: at(250) });
      const out = src.pipe(snapGrid<Ev>({ intervalMs: 250, heartbeats: beats, stats }));
      expectObservable(out).toBe('-A-x-B-C-(y|)', { A: E(a), B: E(b), C: E(c), x: S(250), y: S(500) });
    });
    expect(stats).toEqual({ snaps: 2, late: 1 });
  });

  it('a source error reaches the subscriber with nothing flushed, and the heartbeats are unsubscribed', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const src = cold('-a---#', { a: ev('a', 100) }, new Error('feed lost'));
      const beats = hot<bigint>('--------');
      const out = src.pipe(snapGrid<Ev>({ intervalMs: 250, heartbeats: beats }));
      expectObservable(out).toBe('-A---#', { A: E(ev('a', 100)) }, new Error('feed lost'));
      expectSubscriptions(src.subscriptions).toBe('^----!');
      expectSubscriptions(beats.subscriptions).toBe('^----!');
    });
  });

  it('a heartbeat error errors the output and unsubscribes the source', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const src = cold('-a------|', { a: ev('a', 100) });
      const beats = hot<bigint>('---#', undefined, new Error('clock lost'));
      const out = src.pipe(snapGrid<Ev>({ intervalMs: 250, heartbeats: beats }));
      expectObservable(out).toBe('-A-#', { A: E(ev('a', 100)) }, new Error('clock lost'));
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
  });

  it('unsubscribing unsubscribes both the source and the heartbeats', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c-|', { a: ev('a', 100), b: ev('b', 300), c: ev('c', 600) });
      const beats = hot<bigint>('--------');
      const out = src.pipe(snapGrid<Ev>({ intervalMs: 250, heartbeats: beats }));
      expectObservable(out, '^---!').toBe('-A-(xB)', { A: E(ev('a', 100)), B: E(ev('b', 300)), x: S(250) });
      expectSubscriptions(src.subscriptions).toBe('^---!');
      expectSubscriptions(beats.subscriptions).toBe('^---!');
    });
  });

  it('an empty source completes without snaps', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Ev>('---|').pipe(snapGrid<Ev>())).toBe('---|');
    });
  });
});

describe('snapGrid — rules', () => {
  it('an overnight break yields maxGap worth of snaps, not a flood, then the grid resumes in phase', () => {
    const close = ev('close', 0);
    const open = ev('open', 10 * 3600_000 + 10);
    const out = collect([close, open]);
    const snaps = out.filter((x) => x.kind === 'snap').map((x) => Number((x.ts_ns - BASE) / MS));
    // defaults: 250 ms grid, 60 s gap → 0, 250, …, 60000 (241 instants), then ceil(open) on completion
    expect(snaps).toHaveLength(242);
    expect(snaps.slice(0, 2)).toEqual([0, 250]);
    expect(snaps.at(-2)).toBe(60_000);
    expect(snaps.at(-1)).toBe(10 * 3600_000 + 250);
  });

  it('maxGap 0 still snaps the first grid instant after every event', () => {
    const out = collect([ev('a', 100), ev('b', 900)], { intervalMs: 250, maxGapMs: 0 });
    expect(out).toEqual([E(ev('a', 100)), S(250), E(ev('b', 900)), S(1000)]);
  });

  it('an event behind the newest one but after the last snap passes through without moving the grid back', () => {
    const stats: SnapGridStats = { snaps: 0, late: 0 };
    const out = collect([ev('a', 100), ev('b', 600), ev('c', 300)], { intervalMs: 250, maxGapMs: 0, stats });
    expect(out).toEqual([E(ev('a', 100)), S(250), E(ev('b', 600)), E(ev('c', 300)), S(750)]);
    expect(stats).toEqual({ snaps: 2, late: 0 });
  });

  it('grid phase is absolute in event time, also for timestamps that are not multiples of a ms', () => {
    const g = new SnapGrid({ intervalMs: 250 });
    expect(g.ceil(at(0, 1n))).toBe(at(250));
    expect(g.ceil(at(250))).toBe(at(250));
    expect(g.ceil(at(250, -1n))).toBe(at(250));
    expect(g.ceil(-1n)).toBe(0n);
  });

  it('rejects an interval that is not positive or a gap that is negative when the operator is built', () => {
    expect(() => snapGrid({ intervalMs: 0 })).toThrow(RangeError);
    expect(() => snapGrid({ intervalMs: Number.NaN })).toThrow(/intervalMs/);
    expect(() => snapGrid({ maxGapMs: -1 })).toThrow(/maxGapMs/);
    expect(() => new SnapGrid({ intervalMs: 1e-9 })).toThrow(/1 ns/);
  });

  it('defaults to CONFIG.SNAP_INTERVAL_MS and CONFIG.SNAP_MAX_GAP_MS', () => {
    const g = new SnapGrid();
    expect(g.intervalNs).toBe(250n * MS);
    expect(g.maxGapNs).toBe(60_000n * MS);
  });
});

/* ---------- properties ---------- */

const eventsArb = fc.record({
  startMs: fc.integer({ min: 0, max: 999 }),
  startNs: fc.constantFrom(0n, 1n, 999_999n),
  steps: fc.array(
    fc.record({
      ms: fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 6, arbitrary: fc.integer({ min: 1, max: 400 }) },
        { weight: 2, arbitrary: fc.integer({ min: 400, max: 3000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 3000, max: 6000 }) },
      ),
      ns: fc.constantFrom(0n, 1n, 999_999n),
    }),
    { minLength: 1, maxLength: 60 },
  ),
});

function buildEvents(e: { startMs: number; startNs: bigint; steps: { ms: number; ns: bigint }[] }): Ev[] {
  let ts = BASE + BigInt(e.startMs) * MS + e.startNs;
  return e.steps.map((s, i) => {
    ts += BigInt(s.ms) * MS + s.ns;
    return { id: String(i), ts_event_ns: ts };
  });
}

/** Brute force: test every grid instant between the first and the last event against the rule, then place. */
function oracle(events: readonly Ev[], intervalMs: number, maxGapMs: number): GridItem<Ev>[] {
  const I = BigInt(intervalMs) * MS;
  const G = BigInt(maxGapMs) * MS;
  const ceil = (t: bigint): bigint => (t % I === 0n ? t : (t / I + 1n) * I);
  const ts = events.map((e) => e.ts_event_ns);
  const snaps: bigint[] = [];
  for (let T = ceil(ts[0]!); T <= ceil(ts.at(-1)!); T += I) {
    let last: bigint | null = null;
    for (const t of ts) if (t <= T && (last === null || t > last)) last = t;
    const limit = ceil(last!) > last! + G ? ceil(last!) : last! + G;
    if (T <= limit) snaps.push(T);
  }
  const out: GridItem<Ev>[] = [];
  let k = 0;
  for (const e of events) {
    while (k < snaps.length && snaps[k]! < e.ts_event_ns) out.push({ kind: 'snap', ts_ns: snaps[k++]! });
    out.push({ kind: 'event', event: e });
  }
  while (k < snaps.length) out.push({ kind: 'snap', ts_ns: snaps[k++]! });
  return out;
}

/** Feed events and heartbeats (`h` only after every event with ts ≤ h) through the operator synchronously. */
function live(events: readonly Ev[], beats: readonly bigint[], intervalMs: number, maxGapMs: number): GridItem<Ev>[] {
  const src = new Subject<Ev>();
  const hb = new Subject<bigint>();
  const out: GridItem<Ev>[] = [];
  src.pipe(snapGrid<Ev>({ intervalMs, maxGapMs, heartbeats: hb })).subscribe((x) => out.push(x));
  let j = 0;
  for (const e of events) {
    while (j < beats.length && beats[j]! < e.ts_event_ns) hb.next(beats[j++]!);
    src.next(e);
  }
  while (j < beats.length) hb.next(beats[j++]!);
  src.complete();
  return out;
}

function beatsEvery(stepMs: number, from: bigint, to: bigint): bigint[] {
  const step = BigInt(stepMs) * MS;
  const out: bigint[] = [];
  for (let h = (from / step) * step; h <= to; h += step) out.push(h);
  return out;
}

const intervalArb = fc.constantFrom(250, 100, 1000);
const gapArb = fc.constantFrom(0, 100, 250, 1000, 2500);

describe('snapGrid — properties', () => {
  test.prop([eventsArb, intervalArb, gapArb], { numRuns: 300 })(
    'replay output equals the brute-force oracle',
    (spec, intervalMs, maxGapMs) => {
      const events = buildEvents(spec);
      const stats: SnapGridStats = { snaps: 0, late: 0 };
      const out = collect(events, { intervalMs, maxGapMs, stats });
      const expected = oracle(events, intervalMs, maxGapMs);
      expect(out).toEqual(expected);
      expect(stats).toEqual({ snaps: expected.length - events.length, late: 0 });
    },
  );

  test.prop([eventsArb, intervalArb, gapArb, fc.constantFrom(100, 100, 37, 250, 1000)], { numRuns: 300 })(
    'live with heartbeats (up to the last event) emits exactly what a replay without them emits',
    (spec, intervalMs, maxGapMs, beatMs) => {
      const events = buildEvents(spec);
      const beats = beatsEvery(beatMs, events[0]!.ts_event_ns - 1000n * MS, events.at(-1)!.ts_event_ns);
      expect(live(events, beats, intervalMs, maxGapMs)).toEqual(collect(events, { intervalMs, maxGapMs }));
    },
  );

  test.prop([eventsArb, intervalArb, gapArb, fc.integer({ min: 0, max: 8000 })], { numRuns: 200 })(
    'heartbeats after the last event extend a replay only by the grid instants within maxGap of it',
    (spec, intervalMs, maxGapMs, tailMs) => {
      const events = buildEvents(spec);
      const last = events.at(-1)!.ts_event_ns;
      const hmax = last + BigInt(tailMs) * MS;
      const beats = beatsEvery(100, events[0]!.ts_event_ns, hmax);
      const replay = collect(events, { intervalMs, maxGapMs });
      const I = BigInt(intervalMs) * MS;
      const extra: GridItem<Ev>[] = [];
      const lastSnap = (replay.at(-1) as { ts_ns: bigint }).ts_ns;
      const end = last + BigInt(maxGapMs) * MS;
      for (let T = lastSnap + I; T <= end && T <= (beats.at(-1) ?? 0n); T += I) extra.push({ kind: 'snap', ts_ns: T });
      expect(live(events, beats, intervalMs, maxGapMs)).toEqual([...replay, ...extra]);
    },
  );
});
