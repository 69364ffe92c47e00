import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Aggressor, futuresTrade, mbp10, type FuturesTrade } from '../../../src/common/event-types.js';
import type { SweepDetection } from '../../../src/operators/sweeps.js';
import {
  REF_TAPE_PARITY,
  TapeEngine,
  type TapeMetrics,
  type TapeOptions,
} from '../../../src/operators/physics/tape.js';

const S = 1_000_000_000n;
const T0 = 1_765_896_600_000_000_000n; // 2025-12-16 09:50:00 ET
const at = (s: number): bigint => T0 + BigInt(Math.round(s * 1e9));
const byTime = (a: FuturesTrade, b: FuturesTrade): number =>
  a.ts_event_ns < b.ts_event_ns ? -1 : a.ts_event_ns > b.ts_event_ns ? 1 : 0;

function print(ts: bigint, price: number, size: number, aggressor: Aggressor): FuturesTrade {
  return futuresTrade({ ts_event_ns: ts, source: 'replay', symbol: 'ESZ5', price, size, aggressor });
}

function run(trades: FuturesTrade[], level: number, now: bigint, options: TapeOptions = {}): TapeMetrics {
  const engine = new TapeEngine(options);
  engine.track('L', level);
  for (const t of trades) engine.onEvent(t);
  return engine.metrics('L', now);
}

describe('TapeEngine worked examples (ENGINES.md §5, L = 6870, band 0.50)', () => {
  const buyImbalance = [
    ...Array.from({ length: 10 }, (_, i) => print(at(i * 0.5), 6870.25, 50, Aggressor.BUY)),
    ...[0.1, 0.6, 1.1].map((s) => print(at(s), 6870, 30, Aggressor.SELL)),
  ].sort(byTime);

  it('buy imbalance 500/90: W-15 0.694915254…, REF ε 0.694915; confidence 1; velocity of all 13 prints', () => {
    const w15 = run(buyImbalance, 6870, at(4.5), { windowS: 10 });
    expect(w15).toMatchObject({ buy_vol: 500, sell_vol: 90, confidence: 1 });
    expect(w15.imbalance).toBe(410 / 590);
    expect(w15.imbalance).toBeCloseTo(0.694915254, 9);
    const ref = run(buyImbalance, 6870, at(4.5), { windowS: 10, ...REF_TAPE_PARITY });
    expect(ref.imbalance).toBeCloseTo(0.694915, 6);
    expect(ref.imbalance).toBe(410 / (590 + 1e-6));
    // REF fits all 13 prints (its window has no upper end); a 10 s velocity window holds them all at now = 4.5 s.
    expect(run(buyImbalance, 6870, at(4.5), { windowS: 10, velocityWindowS: 10 }).velocity).toBeCloseTo(0.034732, 6);
  });

  it('sell imbalance 600/100 → −0.714286; balanced → 0; one-sided reads exactly ±1 under W-15', () => {
    const sell = [
      ...Array.from({ length: 15 }, (_, i) => print(at(i * 0.3), 6870, 40, Aggressor.SELL)),
      ...Array.from({ length: 5 }, (_, i) => print(at(i * 0.3 + 0.15), 6870, 20, Aggressor.BUY)),
    ].sort(byTime);
    const m = run(sell, 6870, at(4.5));
    expect(m).toMatchObject({ buy_vol: 100, sell_vol: 600 });
    expect(m.imbalance).toBeCloseTo(-0.714286, 6);
    const balanced = [
      ...Array.from({ length: 10 }, (_, i) => print(at(i * 0.2), 6870, 50, Aggressor.BUY)),
      ...Array.from({ length: 10 }, (_, i) => print(at(i * 0.2 + 0.1), 6870, 50, Aggressor.SELL)),
    ].sort(byTime);
    expect(run(balanced, 6870, at(2)).imbalance).toBe(0);
    expect(run([print(at(0), 6870, 5, Aggressor.BUY)], 6870, at(0)).imbalance).toBe(1);
  });

  it('velocity: 10 prints every 0.3 s rising 0.5 → +1.666667 pt/s; falling → −1.666667; no trades → zeros', () => {
    const rising = Array.from({ length: 10 }, (_, i) => print(at(i * 0.3), 6870 + 0.5 * i, 1, Aggressor.BUY));
    const falling = Array.from({ length: 10 }, (_, i) => print(at(i * 0.3), 6870 - 0.5 * i, 1, Aggressor.SELL));
    expect(run(rising, 6870, at(2.7)).velocity).toBeCloseTo(1.666667, 6);
    expect(run(falling, 6870, at(2.7)).velocity).toBeCloseTo(-1.666667, 6);
    const none = run([], 6870, at(0));
    expect(none).toMatchObject({ imbalance: 0, buy_vol: 0, sell_vol: 0, velocity: 0, confidence: 0 });
    expect(none.sweep.detected).toBe(false);
  });

  it('sweep (min notional 100,000): the three prints within ±0.50 → 103,053,750 UP, 3 prints, 100 ms', () => {
    const up = [6870, 6870.25, 6870.5, 6870.75, 6871].map((p, i) => print(at(i * 0.05), p, 100, Aggressor.BUY));
    const s = run(up, 6870, at(0.2), { sweepMinNotional: 100_000 }).sweep;
    expect(s).toMatchObject({ detected: true, direction: 'UP', notional: 103_053_750, num_prints: 3, window_ms: 100 });
    expect(s.venues).toBeNull();
    const down = [6870, 6869.75, 6869.5, 6869.25, 6869].map((p, i) => print(at(i * 0.05), p, 100, Aggressor.SELL));
    expect(run(down, 6870, at(0.2), { sweepMinNotional: 100_000 }).sweep).toMatchObject({
      detected: true,
      direction: 'DOWN',
      notional: 103_046_250,
      num_prints: 3,
    });
    const alternating = [6870, 6870.25, 6870.5].map((p, i) =>
      print(at(i * 0.05), p, 100, i % 2 === 0 ? Aggressor.BUY : Aggressor.SELL),
    );
    expect(run(alternating, 6870, at(0.1), { sweepMinNotional: 100_000 }).sweep.detected).toBe(false);
  });

  it('sweep W-14: three BUY 1-lots within 100 ms — none at 10,000,000, detected at the seed 500,000', () => {
    const ones = [0, 0.05, 0.1].map((s) => print(at(s), 6870, 1, Aggressor.BUY));
    expect(run(ones, 6870, at(0.1), { sweepMinNotional: 10_000_000 }).sweep).toEqual({
      detected: false,
      direction: 'NONE',
      notional: 0,
      num_prints: 0,
      window_ms: 0,
      venues: null,
    });
    expect(run(ones, 6870, at(0.1)).sweep).toMatchObject({ detected: true, notional: 1_030_500, num_prints: 3 });
  });

  it('band and confidence: a print 5 points away is outside; 10 lots → 0.02, 1000 lots → 1.0', () => {
    const m = run([print(at(0), 6870, 50, Aggressor.BUY), print(at(0.1), 6875, 100, Aggressor.BUY)], 6870, at(1));
    expect(m.buy_vol).toBe(50);
    expect(run([print(at(0), 6870, 10, Aggressor.BUY)], 6870, at(0)).confidence).toBe(0.02);
    expect(run([print(at(0), 6870, 1000, Aggressor.SELL)], 6870, at(0)).confidence).toBe(1);
  });

  it('§16 ROUND_6870: buy 2 / sell 100 → imbalance −0.960784, velocity +0.245902 (5 prints in 3 s)', () => {
    const engine = new TapeEngine();
    engine.track('ROUND_6870', 6870);
    engine.track('PM_LOW', 6869);
    engine.track('PM_HIGH', 6880);
    const ts8 = T0 - (110n * 60n - 0n) * S; // 08:00 ET
    engine.onEvent(print(ts8, 6880, 5, Aggressor.BUY));
    engine.onEvent(print(ts8 + 30n * 60n * S, 6869, 5, Aggressor.SELL));
    engine.onEvent(
      mbp10({
        ts_event_ns: at(0),
        source: 'replay',
        symbol: 'ESZ5',
        levels: [{ bid_px: 6870, bid_sz: 400, ask_px: 6870.25, ask_sz: 200 }],
      }),
    );
    for (const s of [0.2, 0.4, 0.6, 0.8]) engine.onEvent(print(at(s), 6870, 25, Aggressor.SELL));
    engine.onEvent(print(at(1.1), 6870.25, 2, Aggressor.BUY));
    const m = engine.metrics('ROUND_6870', at(1.1));
    expect(m).toMatchObject({ buy_vol: 2, sell_vol: 100 });
    expect(m.imbalance).toBeCloseTo(-0.960784, 6);
    expect(m.velocity).toBeCloseTo(0.245902, 6);
    expect(m.confidence).toBeCloseTo(0.204, 12);
    expect(engine.metrics('PM_LOW', at(1.1))).toMatchObject({ buy_vol: 0, sell_vol: 0, imbalance: 0 });
    expect(engine.metrics('PM_HIGH', at(1.1)).velocity).toBeCloseTo(0.245902, 6);
  });
});

describe('TapeEngine windows', () => {
  it('a mixed oldest cluster becomes a sweep once its opposite print leaves the window', () => {
    const engine = new TapeEngine({ windowS: 1 });
    engine.track('L', 6870);
    engine.onTrade(print(at(0), 6870, 5, Aggressor.SELL));
    for (const s of [0.01, 0.02, 0.03]) engine.onTrade(print(at(s), 6870, 5, Aggressor.BUY));
    expect(engine.metrics('L', at(1)).sweep.detected).toBe(false);
    const s = engine.metrics('L', at(1.005)).sweep;
    expect(s).toMatchObject({ detected: true, direction: 'UP', num_prints: 3, window_ms: 20 });
    expect(s.start_ts_ns).toBe(at(0.01));
    expect(engine.metrics('L', at(1.03) + 1n)).toMatchObject({ buy_vol: 0, sweep: { detected: false } });
    expect(() => engine.metrics('L', at(1))).toThrow(RangeError);
    expect(() => engine.metrics('X', at(2))).toThrow(/not tracked/);
  });

  it('a level tracked mid-stream is back-filled from the window', () => {
    const trades = [0, 0.05, 0.1, 0.5, 0.55].map((s, i) => print(at(s), 6870 + 0.25 * (i % 2), 3, Aggressor.BUY));
    const early = new TapeEngine();
    early.track('L', 6870);
    const late = new TapeEngine();
    for (const t of trades) {
      early.onTrade(t);
      late.onTrade(t);
    }
    late.track('L', 6870);
    expect(late.metrics('L', at(1))).toEqual(early.metrics('L', at(1)));
  });
});

/* ---------- property: incremental == brute force written from §5 + §18 ---------- */

const TICK = 0.25;
const B = 27480;

function olsSlope(ps: FuturesTrade[]): number {
  if (ps.length < 2) return 0;
  const t0 = ps[0]!.ts_event_ns;
  const t = ps.map((p) => Number(p.ts_event_ns - t0) / 1e9);
  const tm = t.reduce((a, b) => a + b, 0) / t.length;
  const pm = ps.reduce((a, p) => a + p.price, 0) / ps.length;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < ps.length; i++) {
    sxx += (t[i]! - tm) ** 2;
    sxy += (t[i]! - tm) * (ps[i]!.price - pm);
  }
  return sxx > 0 ? sxy / sxx : 0;
}

function sweepOracle(n: FuturesTrade[], gapMs: number, minNotional: number): SweepDetection {
  const none: SweepDetection = {
    detected: false,
    direction: 'NONE',
    notional: 0,
    num_prints: 0,
    window_ms: 0,
    venues: null,
  };
  if (n.length < 3) return none;
  const clusters: FuturesTrade[][] = [[n[0]!]];
  for (let i = 1; i < n.length; i++) {
    const gap = Number(n[i]!.ts_event_ns - n[i - 1]!.ts_event_ns) / 1e6;
    if (gap <= gapMs) clusters[clusters.length - 1]!.push(n[i]!);
    else clusters.push([n[i]!]);
  }
  let best: SweepDetection | null = null;
  for (const c of clusters) {
    if (c.length < 2) continue;
    const notional = c.reduce((a, t) => a + t.price * t.size * 50, 0);
    const buys = c.filter((t) => t.aggressor === Aggressor.BUY).length;
    const sells = c.filter((t) => t.aggressor === Aggressor.SELL).length;
    if (!((buys > 0 && sells === 0) || (sells > 0 && buys === 0))) continue;
    if (notional < minNotional) continue;
    if (best === null || notional > best.notional) {
      best = {
        detected: true,
        direction: buys > 0 ? 'UP' : 'DOWN',
        notional,
        num_prints: c.length,
        window_ms: Number(c[c.length - 1]!.ts_event_ns - c[0]!.ts_event_ns) / 1e6,
        venues: null,
      };
    }
  }
  return best ?? none;
}

function oracle(
  applied: FuturesTrade[],
  L: number,
  now: bigint,
  wt: bigint,
  wv: bigint,
  minNotional: number,
): TapeMetrics {
  const N = applied.filter((t) => t.ts_event_ns >= now - wt && t.price >= L - 0.5 && t.price <= L + 0.5);
  let buy = 0;
  let sell = 0;
  for (const t of N) {
    if (t.aggressor === Aggressor.BUY) buy += t.size;
    else if (t.aggressor === Aggressor.SELL) sell += t.size;
  }
  const total = buy + sell;
  return {
    imbalance: total === 0 ? 0 : (buy - sell) / total,
    buy_vol: buy,
    sell_vol: sell,
    velocity: olsSlope(applied.filter((t) => t.ts_event_ns >= now - wv)),
    sweep: sweepOracle(N, 100, minNotional),
    confidence: Math.min(1, total / 500),
  };
}

const rel = (x: number, y: number): boolean => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));

const evArb = fc.record({
  dtMs: fc.oneof(
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 5, arbitrary: fc.integer({ min: 1, max: 100 }) },
    { weight: 3, arbitrary: fc.integer({ min: 101, max: 400 }) },
    { weight: 2, arbitrary: fc.integer({ min: 401, max: 2500 }) },
    { weight: 1, arbitrary: fc.integer({ min: 2501, max: 8000 }) },
  ),
  tick: fc.oneof(fc.integer({ min: B - 2, max: B + 2 }), fc.integer({ min: B - 8, max: B + 8 })),
  size: fc.oneof(fc.constantFrom(1, 2, 10), fc.integer({ min: 1, max: 60 })),
  // Sides come in runs, so one-sided clusters (sweeps) are common.
  flip: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
  mid: fc.integer({ min: 0, max: 9 }),
});

describe('TapeEngine property', () => {
  test.prop(
    [
      fc.array(evArb, { minLength: 1, maxLength: 200, size: 'max' }),
      fc.array(
        fc.record({
          off: fc.integer({ min: -6, max: 6 }),
          frac: fc.constantFrom(0, 0, 0, 0.1),
          from: fc.nat({ max: 120 }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 200, maxLength: 200 }),
      fc.constantFrom(1, 2, 60),
      fc.constantFrom(1, 3),
      fc.constantFrom(500_000, 2_000_000, 10_000_000),
      fc.boolean(),
    ],
    { numRuns: 120 },
  )('equals a brute-force recomputation over the window', (evs, levelSpecs, dice, wtS, wvS, minNotional, uniform) => {
    const engine = new TapeEngine({ windowS: wtS, velocityWindowS: wvS, sweepMinNotional: minNotional });
    const trades: FuturesTrade[] = [];
    let ts = T0;
    let side: Aggressor = Aggressor.BUY;
    for (const e of evs) {
      ts += BigInt(e.dtMs) * 1_000_000n;
      if (e.flip) side = side === Aggressor.BUY ? Aggressor.SELL : Aggressor.BUY;
      // Uniform prints make equal-notional clusters, which exercises the first-wins tie rule.
      const tick = uniform ? B : e.tick;
      trades.push(print(ts, tick * TICK, uniform ? 1 : e.size, e.mid === 0 ? Aggressor.MID : side));
    }
    const plans = levelSpecs.map((l, i) => ({
      id: `L${i}`,
      price: (B + l.off) * TICK + l.frac,
      from: Math.min(l.from, trades.length - 1),
    }));
    const tracked: typeof plans = [];
    for (let i = 0; i < trades.length; i++) {
      for (const p of plans) {
        if (p.from === i) {
          engine.track(p.id, p.price);
          tracked.push(p);
        }
      }
      engine.onEvent(trades[i]!);
      const cur = trades[i]!.ts_event_ns;
      const next = trades[i + 1]?.ts_event_ns;
      if ((next !== undefined && next === cur) || dice[i]! < 0.4) continue;
      const span = next === undefined ? 3n * S : next - cur - 1n;
      const now = cur + BigInt(Math.floor(Number(span) * dice[i]!));
      const applied = trades.slice(0, i + 1);
      for (const p of tracked) {
        const got = engine.metrics(p.id, now);
        const want = oracle(applied, p.price, now, BigInt(wtS) * S, BigInt(wvS) * S, minNotional);
        const ctx = `${p.id}@${p.price} now=${now - T0}`;
        expect(got.buy_vol, ctx).toBe(want.buy_vol);
        expect(got.sell_vol, ctx).toBe(want.sell_vol);
        expect(rel(got.imbalance, want.imbalance), ctx).toBe(true);
        expect(rel(got.confidence, want.confidence), ctx).toBe(true);
        if (!rel(got.velocity, want.velocity)) expect.fail(`${ctx}: velocity ${got.velocity} vs ${want.velocity}`);
        const { start_ts_ns: _s, end_ts_ns: _e, ...sweep } = got.sweep;
        expect(sweep, ctx).toEqual(want.sweep);
      }
    }
  });
});
