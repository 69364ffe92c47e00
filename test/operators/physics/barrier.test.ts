import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CONFIG, loadConfig, type Config } from '../../../src/common/config.js';
import {
  Aggressor,
  futuresTrade,
  isMbp10,
  mbp10,
  type BidAskLevel,
  type FuturesTrade,
  type MBP10,
} from '../../../src/common/event-types.js';
import {
  BarrierEngine,
  REF_BARRIER_PARITY,
  neutralBarrierMetrics,
  type BarrierMetrics,
  type BarrierOptions,
  type BookVisibility,
} from '../../../src/operators/physics/barrier.js';
import type { LevelDirection } from '../../../src/operators/physics/types.js';

const S = 1_000_000_000n;
const T0 = 1_765_896_600_000_000_000n; // 2025-12-16 09:50:00 ET
const at = (s: number): bigint => T0 + BigInt(Math.round(s * 1e9));

type Quote = [number, number];

function book(ts: bigint, bids: Quote[], asks: Quote[] = [], ts_recv_ns?: bigint): MBP10 {
  const levels: BidAskLevel[] = [];
  for (let i = 0; i < 10; i++) {
    const b = bids[i];
    const a = asks[i];
    levels.push({ bid_px: b?.[0] ?? 0, bid_sz: b?.[1] ?? 0, ask_px: a?.[0] ?? 0, ask_sz: a?.[1] ?? 0 });
  }
  return mbp10({ ts_event_ns: ts, ts_recv_ns: ts_recv_ns ?? ts, source: 'replay', symbol: 'ESZ5', levels });
}

function print(ts: bigint, price: number, size: number, aggressor: Aggressor): FuturesTrade {
  return futuresTrade({ ts_event_ns: ts, source: 'replay', symbol: 'ESZ5', price, size, aggressor });
}

const cfg = (overrides: Record<string, unknown>): Config => loadConfig({ env: {}, overrides });

function run(
  events: (MBP10 | FuturesTrade)[],
  level: number,
  direction: LevelDirection,
  now: bigint,
  options: BarrierOptions = {},
): BarrierMetrics {
  const engine = new BarrierEngine(options);
  engine.track('L', level);
  for (const e of events) engine.onEvent(e);
  return engine.metrics('L', direction, now);
}

describe('BarrierEngine worked examples (ENGINES.md §4, L = 6870)', () => {
  const vacuum = [
    book(at(0), [
      [6870, 500],
      [6869.75, 300],
    ]),
    book(at(2), [
      [6870, 100],
      [6869.75, 300],
    ]),
  ];
  const vacuumConfig = cfg({ W_b: 10, F_thresh: 50 });

  it('Vacuum — REF parity: filled 1, canceled 400, delta −401, VACUUM, conf 0.802', () => {
    const m = run(vacuum, 6870, 'SUPPORT', at(2), { config: vacuumConfig, ...REF_BARRIER_PARITY });
    expect(m).toMatchObject({
      state: 'VACUUM',
      filled_size: 1,
      canceled_size: 400,
      added_size: 0,
      delta_liq: -401,
      replenishment_ratio: 0,
      churn: 400,
      depth_in_zone: 400,
      defending_quote: { price: 6870, size: 100 },
    });
    expect(m.confidence).toBeCloseTo(0.802, 12);
  });

  it('Vacuum — W-03: filled 0, canceled 400, delta −400, VACUUM; the ask mirror reads the same', () => {
    const m = run(vacuum, 6870, 'SUPPORT', at(2), { config: vacuumConfig });
    expect(m).toMatchObject({ state: 'VACUUM', filled_size: 0, canceled_size: 400, delta_liq: -400, churn: 400 });
    expect(m.confidence).toBe(0.8);
    const mirror = [
      book(
        at(0),
        [],
        [
          [6870, 500],
          [6870.25, 300],
        ],
      ),
      book(
        at(2),
        [],
        [
          [6870, 100],
          [6870.25, 300],
        ],
      ),
    ];
    const r = run(mirror, 6870, 'RESISTANCE', at(2), { config: vacuumConfig, ...REF_BARRIER_PARITY });
    expect(r).toMatchObject({ state: 'VACUUM', filled_size: 1, canceled_size: 400, delta_liq: -401 });
    expect(r.defending_quote).toEqual({ price: 6870, size: 100 });
  });

  const wall = [
    book(at(0), [
      [6870, 200],
      [6869.75, 100],
    ]),
    ...[0.5, 1.5, 2.5, 3.5, 4.5].map((s) => print(at(s), 6870, 20, Aggressor.SELL)),
    book(at(5), [
      [6870, 400],
      [6869.75, 150],
    ]),
  ];

  it('Wall — REF R 2.5e8; W-02 R = 250 / max(0, 1) = 250; WALL, conf 0.5', () => {
    const config = cfg({ F_thresh: 50 });
    const ref = run(wall, 6870, 'SUPPORT', at(5), { config, ...REF_BARRIER_PARITY });
    expect(ref).toMatchObject({ state: 'WALL', added_size: 250, filled_size: 0, canceled_size: 0, confidence: 0.5 });
    expect(ref.replenishment_ratio).toBeCloseTo(2.5e8, 0);
    const w = run(wall, 6870, 'SUPPORT', at(5), { config });
    expect(w).toMatchObject({ state: 'WALL', added_size: 250, replenishment_ratio: 250, confidence: 0.5 });
  });

  const consumed = [
    book(at(0), [
      [6870, 300],
      [6869.75, 100],
    ]),
    ...[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5].map((s) => print(at(s), 6870, 20, Aggressor.SELL)),
    book(at(3), [
      [6870, 200],
      [6869.75, 100],
    ]),
    book(at(6), [
      [6870, 250],
      [6869.75, 100],
    ]),
    book(at(9), [
      [6870, 100],
      [6869.75, 100],
    ]),
  ].sort((a, b) => (a.ts_event_ns < b.ts_event_ns ? -1 : a.ts_event_ns > b.ts_event_ns ? 1 : 0));

  it('"Consumed" — REF: added 50, canceled 130, filled 122, delta −202, R 0.198413 → VACUUM, conf 0.604', () => {
    const m = run(consumed, 6870, 'SUPPORT', at(9.5), { config: cfg({ F_thresh: 50 }), ...REF_BARRIER_PARITY });
    expect(m).toMatchObject({
      state: 'VACUUM',
      added_size: 50,
      canceled_size: 130,
      filled_size: 122,
      delta_liq: -202,
      churn: 300,
      depth_in_zone: 200,
    });
    expect(m.replenishment_ratio).toBeCloseTo(0.198413, 6);
    expect(m.confidence).toBeCloseTo(0.604, 12);
  });

  it('"Consumed" — W-01/W-02/W-03: filled 60+60, canceled 40+90, delta −200, R 0.2; canceled ≥ filled → VACUUM', () => {
    const m = run(consumed, 6870, 'SUPPORT', at(9.5), { config: cfg({ F_thresh: 50 }) });
    expect(m).toMatchObject({
      state: 'VACUUM',
      added_size: 50,
      filled_size: 120,
      canceled_size: 130,
      delta_liq: -200,
      replenishment_ratio: 0.2,
      churn: 300,
      confidence: 0.6,
      depth_in_zone: 200,
    });
  });

  it('W-01: fill-driven depletion reads CONSUMED, where REF reads VACUUM', () => {
    const events = [book(at(0), [[6870, 300]]), print(at(0.5), 6870, 150, Aggressor.SELL), book(at(1), [[6870, 100]])];
    const config = cfg({ F_thresh: 50 });
    expect(run(events, 6870, 'SUPPORT', at(1), { config }).state).toBe('CONSUMED');
    expect(run(events, 6870, 'SUPPORT', at(1), { config, ...REF_BARRIER_PARITY }).state).toBe('VACUUM');
  });

  it('Defending quote (defaults); a −100 drop is VACUUM only with the REF +1 tolerance; one image → NEUTRAL', () => {
    const bids = [book(at(0), [[6870, 300]]), book(at(1), [[6870, 200]])];
    const ref = run(bids, 6870, 'SUPPORT', at(1), REF_BARRIER_PARITY);
    expect(ref).toMatchObject({ state: 'VACUUM', delta_liq: -101, defending_quote: { price: 6870, size: 200 } });
    const w03 = run(bids, 6870, 'SUPPORT', at(1));
    expect(w03).toMatchObject({ state: 'NEUTRAL', delta_liq: -100, defending_quote: { price: 6870, size: 200 } });
    const asks = [book(at(0), [], [[6870, 400]]), book(at(1), [], [[6870, 300]])];
    expect(run(asks, 6870, 'RESISTANCE', at(1)).defending_quote).toEqual({ price: 6870, size: 300 });
    const single = run([book(at(0), [[6870, 300]])], 6870, 'SUPPORT', at(0));
    expect(single).toEqual(neutralBarrierMetrics());
    expect(single.defending_quote).toEqual({ price: 0, size: 0 });
    expect(run([], 6870, 'SUPPORT', at(0))).toEqual(neutralBarrierMetrics());
  });

  const e2e = [
    book(
      at(0),
      [
        [6870, 400],
        [6869.75, 300],
      ],
      [
        [6870.25, 200],
        [6870.5, 150],
      ],
    ),
    ...[0.2, 0.4, 0.6, 0.8].map((s) => print(at(s), 6870, 25, Aggressor.SELL)),
    book(
      at(1),
      [
        [6870, 150],
        [6869.75, 300],
      ],
      [
        [6870.25, 200],
        [6870.5, 150],
      ],
    ),
    print(at(1.1), 6870.25, 2, Aggressor.BUY),
  ];

  it('§16 ROUND_6870: depth 700→450, V 100 → REF filled 101, canceled 150, delta −251, VACUUM', () => {
    const ref = run(e2e, 6870, 'SUPPORT', at(1.1), REF_BARRIER_PARITY);
    expect(ref).toMatchObject({ state: 'VACUUM', filled_size: 101, canceled_size: 150, delta_liq: -251 });
    expect(ref.confidence).toBeCloseTo(0.502, 12);
    const port = run(e2e, 6870, 'SUPPORT', at(1.1));
    expect(port).toMatchObject({ state: 'VACUUM', filled_size: 100, canceled_size: 150, delta_liq: -250 });
    expect(port.confidence).toBe(0.5);
    expect(run(e2e, 6869, 'SUPPORT', at(1.1))).toMatchObject({ state: 'VACUUM', delta_liq: -250, depth_in_zone: 450 });
    expect(run(e2e, 6880, 'RESISTANCE', at(1.1))).toMatchObject({ state: 'WEAK', delta_liq: 0, depth_in_zone: 0 });
  });
});

describe('BarrierEngine window rules', () => {
  it('W-32: a print at a shared image time counts once, for the pair it closes — even arriving after the image', () => {
    const a = [
      book(at(0), [[6870, 300]]),
      print(at(1), 6870, 100, Aggressor.SELL),
      book(at(1), [[6870, 200]]),
      book(at(2), [[6870, 100]]),
    ];
    expect(run(a, 6870, 'SUPPORT', at(2))).toMatchObject({ filled_size: 100, canceled_size: 100 });
    const b = [
      book(at(0), [[6870, 300]]),
      book(at(1), [[6870, 200]]),
      print(at(1), 6870, 100, Aggressor.SELL),
      book(at(1), [[6870, 150]]),
      print(at(1), 6870, 30, Aggressor.SELL),
      book(at(2), [[6870, 100]]),
    ];
    // (0, 1]: −100 with V 130 → filled 100; (1, 1]: −50 with no prints → canceled 50; (1, 2]: −50 canceled.
    expect(run(b, 6870, 'SUPPORT', at(2))).toMatchObject({ filled_size: 100, canceled_size: 100 });
  });

  it('W-31 both_images: prices scrolling out of or into the top 10 are neither cancels nor adds', () => {
    const events = [
      book(at(0), [
        [6870, 300],
        [6869.75, 200],
      ]),
      book(at(1), [
        [6869.75, 250],
        [6869.5, 400],
      ]),
    ];
    expect(run(events, 6870, 'SUPPORT', at(1), { visibility: 'both_images' })).toMatchObject({
      added_size: 50,
      canceled_size: 0,
      churn: 50,
    });
  });

  it("visible_range (default): a best bid hit until it vanishes is removed depth; a price beyond a full side's 10th is not", () => {
    const events = [
      book(at(0), [
        [6870, 100],
        [6869.75, 200],
      ]),
      print(at(0.5), 6870, 100, Aggressor.SELL),
      book(at(1), [[6869.75, 200]]),
    ];
    expect(run(events, 6870, 'SUPPORT', at(1), { visibility: 'both_images' })).toMatchObject({
      filled_size: 0,
      canceled_size: 0,
    });
    expect(run(events, 6870, 'SUPPORT', at(1))).toMatchObject({
      filled_size: 100,
      canceled_size: 0,
      churn: 100,
    });
    const ten = (top: number): Quote[] => Array.from({ length: 10 }, (_, i): Quote => [top - 0.25 * i, 100]);
    // The book ticks up one level: 6867.75 scrolls out of view, 6870.25 enters at the top.
    const scroll = [book(at(0), ten(6870)), book(at(1), ten(6870.25))];
    expect(run(scroll, 6869, 'SUPPORT', at(1), { visibility: 'visible_range' })).toMatchObject({
      added_size: 100,
      canceled_size: 0,
    });
  });

  it('pairs leave the window with their older image; fewer than two images in the window → NEUTRAL', () => {
    const engine = new BarrierEngine({ windowS: 10 });
    engine.track('L', 6870);
    engine.onMbp10(book(at(0), [[6870, 300]]));
    engine.onMbp10(book(at(5), [[6870, 100]]));
    expect(engine.metrics('L', 'SUPPORT', at(10))).toMatchObject({ canceled_size: 200 });
    engine.onMbp10(book(at(12), [[6870, 150]]));
    expect(engine.metrics('L', 'SUPPORT', at(12))).toMatchObject({ canceled_size: 0, added_size: 50 });
    expect(engine.metrics('L', 'SUPPORT', at(15))).toMatchObject({ added_size: 50 });
    expect(engine.metrics('L', 'SUPPORT', at(15) + 1n)).toEqual(neutralBarrierMetrics());
    expect(() => engine.metrics('L', 'SUPPORT', at(14))).toThrow(RangeError);
    expect(() => engine.metrics('X', 'SUPPORT', at(16))).toThrow(/not tracked/);
  });

  it('a level tracked mid-stream is back-filled exactly', () => {
    const late = new BarrierEngine();
    const early = new BarrierEngine();
    early.track('L', 6870);
    const events = [
      book(at(0), [[6870, 300]]),
      print(at(0.5), 6870, 40, Aggressor.SELL),
      book(at(1), [[6870, 100]]),
      book(at(2), [[6870, 180]]),
    ];
    for (const e of events) {
      late.onEvent(e);
      early.onEvent(e);
    }
    late.track('L', 6870);
    late.track('M', 6870.25);
    expect(late.metrics('L', 'SUPPORT', at(2))).toEqual(early.metrics('L', 'SUPPORT', at(2)));
    expect(late.metrics('M', 'SUPPORT', at(2))).toMatchObject({ added_size: 80, filled_size: 40, canceled_size: 160 });
  });
});

/* ---------- property: incremental == brute force written from §4 + §18 ---------- */

const TICK = 0.25;
const B = 27480; // 6870.00 in ticks

interface Ev {
  dt: number; // ns
  mbp: { bids: Quote[]; asks: Quote[] } | null;
  trade: { tick: number; size: number; ag: Aggressor } | null;
}

const sizeArb = fc.constantFrom(0, 25, 50, 100, 150, 200, 300);
const sideArb = (from: number, to: number, desc: boolean): fc.Arbitrary<Quote[]> =>
  fc.array(sizeArb, { minLength: to - from + 1, maxLength: to - from + 1 }).map((sizes) => {
    const q: Quote[] = [];
    sizes.forEach((sz, i) => {
      if (sz > 0) q.push([(from + i) * TICK, sz]);
    });
    if (desc) q.reverse();
    return q.slice(0, 10);
  });

const evArb: fc.Arbitrary<Ev> = fc.record({
  dt: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 5, arbitrary: fc.integer({ min: 1, max: 900_000_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000_000_000, max: 7_000_000_000 }) },
  ),
  mbp: fc.option(fc.record({ bids: sideArb(B - 14, B + 2, true), asks: sideArb(B - 2, B + 14, false) }), { freq: 2 }),
  trade: fc.record({
    tick: fc.integer({ min: B - 12, max: B + 12 }),
    size: fc.integer({ min: 1, max: 120 }),
    ag: fc.constantFrom(Aggressor.BUY, Aggressor.SELL, Aggressor.SELL, Aggressor.MID),
  }) as fc.Arbitrary<Ev['trade']>,
});

interface LevelPlan {
  id: string;
  price: number;
  from: number; // event index at which it is tracked
}

const levelsArb = fc.array(
  fc.record({
    off: fc.integer({ min: -12, max: 12 }),
    frac: fc.constantFrom(0, 0, 0, 0.1, 0.125),
    from: fc.nat({ max: 80 }),
  }),
  { minLength: 1, maxLength: 6 },
);

function oracle(
  applied: (MBP10 | FuturesTrade)[],
  L: number,
  dir: LevelDirection,
  now: bigint,
  W: bigint,
  tol: number,
  refRatio: boolean,
  guard: boolean,
  config: Config,
  visibility: BookVisibility = 'both_images',
): BarrierMetrics {
  const mbps = applied.filter((e): e is MBP10 => isMbp10(e));
  if (mbps.length === 0) return neutralBarrierMetrics();
  const H = mbps.filter((m) => m.ts_event_ns >= now - W && m.ts_event_ns <= now);
  if (H.length < 2) return neutralBarrierMetrics();
  const T = applied.filter((e): e is FuturesTrade => !isMbp10(e) && e.ts_event_ns >= now - W);
  const z = config.BARRIER_ZONE_ES_TICKS * TICK;
  const lo = L - z;
  const hi = L + z;
  const bid = dir === 'SUPPORT';
  const present = (m: MBP10): Map<number, number> => {
    const out = new Map<number, number>();
    for (const l of m.levels) {
      const sz = bid ? l.bid_sz : l.ask_sz;
      if (sz > 0) out.set(bid ? l.bid_px : l.ask_px, sz);
    }
    return out;
  };
  // A full side (all 10 slots populated) shows prices up to its worst level; beyond it depth is unknown.
  const shows = (m: MBP10, img: Map<number, number>, px: number): boolean => {
    if (img.size === 0 || img.size < m.levels.length) return true;
    const worst = bid ? Math.min(...img.keys()) : Math.max(...img.keys());
    return bid ? px >= worst : px <= worst;
  };
  let added = 0;
  let filled = 0;
  let canceled = 0;
  let removed = 0;
  for (let i = 1; i < H.length; i++) {
    const p = present(H[i - 1]!);
    const c = present(H[i]!);
    let d = 0;
    if (visibility === 'both_images') {
      for (const [px, sz] of c) if (px >= lo && px <= hi && p.has(px)) d += sz - p.get(px)!;
    } else {
      for (const px of new Set([...p.keys(), ...c.keys()])) {
        if (px < lo || px > hi) continue;
        if (shows(H[i - 1]!, p, px) && shows(H[i]!, c, px)) d += (c.get(px) ?? 0) - (p.get(px) ?? 0);
      }
    }
    if (d > 0) added += d;
    else if (d < 0) {
      const lost = -d;
      removed += lost;
      let v = 0;
      for (const t of T) {
        if (t.ts_event_ns <= H[i - 1]!.ts_event_ns || t.ts_event_ns > H[i]!.ts_event_ns) continue;
        if (t.price < lo || t.price > hi) continue;
        if (t.aggressor === (bid ? Aggressor.SELL : Aggressor.BUY)) v += t.size;
      }
      filled += Math.min(lost, v + tol);
      canceled += Math.max(0, lost - v);
    }
  }
  const last = mbps[mbps.length - 1]!;
  let depth = 0;
  for (const l of last.levels) {
    const px = bid ? l.bid_px : l.ask_px;
    if (px >= lo && px <= hi) depth += bid ? l.bid_sz : l.ask_sz;
  }
  const best = last.levels[0]!;
  const delta = added - canceled - filled;
  const R = refRatio ? added / (canceled + filled + 1e-6) : added / Math.max(canceled + filled, 1);
  const churn = added + removed;
  const F = config.F_thresh;
  let state: BarrierMetrics['state'];
  if (R < config.R_vac && delta < -F && (!guard || canceled >= filled)) state = 'VACUUM';
  else if (R > config.R_wall && delta > F) state = 'WALL';
  else if (delta < -F && filled > canceled) state = 'CONSUMED';
  else if (delta > 0 && R > 1.0) state = 'ABSORPTION';
  else if (depth < 50) state = 'WEAK';
  else if (Math.abs(delta) < F / 2 && churn > F) state = 'ABSORPTION';
  else state = 'NEUTRAL';
  return {
    state,
    delta_liq: delta,
    replenishment_ratio: R,
    added_size: added,
    canceled_size: canceled,
    filled_size: filled,
    churn,
    defending_quote: bid
      ? { price: best.bid_px || 0, size: best.bid_sz }
      : { price: best.ask_px || 0, size: best.ask_sz },
    confidence: Math.min(1, (added + canceled + filled) / 500),
    depth_in_zone: depth,
  };
}

function expectClose(a: BarrierMetrics, b: BarrierMetrics, ctx: string): void {
  const rel = (x: number, y: number): boolean => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
  const keys = [
    'delta_liq',
    'replenishment_ratio',
    'added_size',
    'canceled_size',
    'filled_size',
    'churn',
    'confidence',
    'depth_in_zone',
  ] as const;
  for (const k of keys) if (!rel(a[k], b[k])) expect.fail(`${ctx}: ${k} ${a[k]} vs oracle ${b[k]}`);
  expect(a.state, ctx).toBe(b.state);
  expect(a.defending_quote, ctx).toEqual(b.defending_quote);
}

describe('BarrierEngine property', () => {
  test.prop(
    [
      fc.array(evArb, { minLength: 2, maxLength: 160, size: 'max' }),
      levelsArb,
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 160, maxLength: 160 }),
      fc.boolean(),
      fc.constantFrom(2, 5, 240),
      fc.constantFrom(30, 100),
      fc.constantFrom<BookVisibility>('both_images', 'visible_range'),
    ],
    { numRuns: 120 },
  )('equals a brute-force recomputation over the window', (evs, levelSpecs, snapDice, ref, windowS, fThresh, vis) => {
    const config = fThresh === 100 ? CONFIG : cfg({ F_thresh: fThresh });
    const options: BarrierOptions = ref
      ? { config, windowS, visibility: vis, ...REF_BARRIER_PARITY }
      : { config, windowS, visibility: vis };
    const W = BigInt(windowS) * S;
    const engine = new BarrierEngine(options);
    const events: (MBP10 | FuturesTrade)[] = [];
    let ts = T0;
    for (const e of evs) {
      ts += BigInt(e.dt);
      if (e.mbp !== null) events.push(book(ts, e.mbp.bids, e.mbp.asks));
      else events.push(print(ts, e.trade!.tick * TICK, e.trade!.size, e.trade!.ag));
    }
    const plans: LevelPlan[] = levelSpecs.map((l, i) => ({
      id: `L${i}`,
      price: (B + l.off) * TICK + l.frac,
      from: Math.min(l.from, events.length - 1),
    }));
    const tracked: LevelPlan[] = [];
    let lastNow = -1n;
    for (let i = 0; i < events.length; i++) {
      for (const p of plans) {
        if (p.from === i) {
          engine.track(p.id, p.price);
          tracked.push(p);
        }
      }
      engine.onEvent(events[i]!);
      const cur = events[i]!.ts_event_ns;
      const next = events[i + 1]?.ts_event_ns;
      if (next !== undefined && next === cur) continue;
      if (snapDice[i]! < 0.5) continue;
      const span = next === undefined ? 3n * S : next - cur - 1n;
      const now = cur + BigInt(Math.floor(Number(span) * snapDice[i]!));
      if (now < lastNow) continue;
      lastNow = now;
      const applied = events.slice(0, i + 1);
      for (const p of tracked) {
        for (const dir of ['SUPPORT', 'RESISTANCE'] as const) {
          const got = engine.metrics(p.id, dir, now);
          const want = oracle(applied, p.price, dir, now, W, ref ? 1 : 0, ref, !ref, config, vis);
          expectClose(got, want, `${p.id}@${p.price} ${dir} now=${now - T0}`);
        }
      }
    }
  });
});
