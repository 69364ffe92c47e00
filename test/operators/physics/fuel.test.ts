import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Aggressor, optionTrade, type OptionTrade } from '../../../src/common/event-types.js';
import {
  FuelEngine,
  OptionFlowBook,
  flowTicker,
  fuelFromFlows,
  type FuelMetrics,
  type OptionFlowAggregate,
} from '../../../src/operators/physics/fuel.js';

const utcNs = (y: number, mo: number, d: number, h = 0, mi = 0): bigint =>
  BigInt(Date.UTC(y, mo - 1, d, h, mi)) * 1_000_000n;

const DAY = '2025-12-16';
/** 14:00 New York on DAY. */
const T0 = utcNs(2025, 12, 16, 19);

function print(
  strike: number,
  right: 'C' | 'P',
  size: number,
  aggressor: Aggressor,
  opts: { price?: number; exp?: string; ts?: bigint } = {},
): OptionTrade {
  return optionTrade({
    ts_event_ns: opts.ts ?? T0,
    source: 'replay',
    underlying: 'ES',
    option_symbol: `ES ${strike}${right}`,
    exp_date: opts.exp ?? DAY,
    strike,
    right,
    price: opts.price ?? 1,
    size,
    aggressor,
  });
}

/** Put an aggregate with dealer gamma `net` and volume `vol` into the book (customer sells → dealer long gamma). */
function inject(book: OptionFlowBook, strike: number, right: 'C' | 'P', net: number, vol: number, exp = DAY): void {
  const aggressor = net < 0 ? Aggressor.BUY : Aggressor.SELL;
  book.applyTrade(print(strike, right, vol, aggressor, { exp }), 0, Math.abs(net) / (vol * 50));
}

const fuel2 = new FuelEngine({ strikeRange: 2.0 });

describe('OptionFlowBook (§3 update_option_trade)', () => {
  it('customer BUY 10 × 545C @2.50, δ 0.50, γ 0.05, M 50', () => {
    const book = new OptionFlowBook();
    book.applyTrade(print(545, 'C', 10, Aggressor.BUY, { price: 2.5 }), 0.5, 0.05);
    const [agg] = book.aggregates();
    expect(agg).toMatchObject({
      strike: 545,
      right: 'C',
      exp_date: DAY,
      cumulative_volume: 10,
      cumulative_premium: 1250,
      net_delta_flow: 250,
      net_gamma_flow: -25,
      last_price: 2.5,
      last_timestamp_ns: T0,
      delta: 0.5,
      gamma: 0.05,
    });
  });

  it('MID prints add volume and premium but no flow; SELL flips the signs', () => {
    const book = new OptionFlowBook();
    book.applyTrade(print(545, 'C', 10, Aggressor.MID, { price: 2 }), 0.5, 0.05);
    book.applyTrade(print(545, 'C', 4, Aggressor.SELL, { price: 3 }), 0.4, 0.04);
    expect(book.aggregates()[0]).toMatchObject({
      cumulative_volume: 14,
      cumulative_premium: 1000 + 600,
      net_delta_flow: -80,
      net_gamma_flow: 8,
      last_price: 3,
      delta: 0.4,
    });
  });

  it('calls at 544, 545, 546, 548; L=545, R=2 → 3 aggregates', () => {
    const book = new OptionFlowBook();
    for (const k of [548, 544, 546, 545]) book.applyTrade(print(k, 'C', 1, Aggressor.BUY), 0.5, 0.05);
    expect(book.flowsNearLevel(545, 2).map((a) => a.strike)).toEqual([544, 545, 546]);
    expect(book.flowsNearLevel(545, 2, '2025-12-17')).toEqual([]);
  });

  it('iterates strike ascending, C before P, exp ascending, whatever the arrival order (§17.6)', () => {
    const book = new OptionFlowBook();
    book.applyTrade(print(6875, 'P', 1, Aggressor.BUY, { exp: '2025-12-19' }), 0, 0);
    book.applyTrade(print(6870, 'P', 1, Aggressor.BUY), 0, 0);
    book.applyTrade(print(6875, 'C', 1, Aggressor.BUY, { exp: '2025-12-19' }), 0, 0);
    book.applyTrade(print(6875, 'P', 1, Aggressor.BUY), 0, 0);
    book.applyTrade(print(6870, 'C', 1, Aggressor.BUY), 0, 0);
    expect(book.aggregates().map((a) => `${a.strike}${a.right} ${a.exp_date}`)).toEqual([
      '6870C 2025-12-16',
      '6870P 2025-12-16',
      '6875C 2025-12-19',
      '6875P 2025-12-16',
      '6875P 2025-12-19',
    ]);
    expect(book.strikeSummaries(6870, 10)).toEqual([
      { strike: 6870, exp_date: DAY, has_calls: true, has_puts: true },
      { strike: 6875, exp_date: DAY, has_calls: false, has_puts: true },
      { strike: 6875, exp_date: '2025-12-19', has_calls: true, has_puts: true },
    ]);
    expect(book.strikeSummaries(6870, 10, DAY)).toHaveLength(2);
  });

  it('greeks per print from Black-76: a customer buying 10 ATM calls leaves the dealer −4.154 gamma (§6.1)', () => {
    const book = new OptionFlowBook();
    const g = book.updateOptionTrade(print(6870, 'C', 10, Aggressor.BUY, { price: 19.152704 }), 6870);
    expect(g!.sigma).toBeCloseTo(0.2, 5);
    expect(book.aggregates()[0]!.net_gamma_flow).toBeCloseTo(-4.154, 3);
    expect(book.aggregates()[0]!.gamma).toBeCloseTo(0.0083088, 7);
  });

  it('16:00 New York expiry in summer; REF 21:00 UTC parity gives a longer T', () => {
    const summer = utcNs(2025, 7, 1, 18);
    const trade = print(6870, 'C', 10, Aggressor.BUY, { price: 0, exp: '2025-07-01', ts: summer });
    const ny = new OptionFlowBook();
    ny.updateOptionTrade(trade, 6870);
    expect(ny.aggregates()[0]!.net_gamma_flow).toBeCloseTo(-4.154, 3);
    const ref = new OptionFlowBook({ expiry: 'utc_21' });
    const g = ref.updateOptionTrade(trade, 6870)!;
    expect(g.T).toBeCloseTo(10800 / 5896800, 10);
    expect(ref.aggregates()[0]!.net_gamma_flow).toBeCloseTo(-10 * 50 * g.gamma, 10);
    expect(g.gamma).toBeLessThan(0.0083);
  });

  it('without a spot records the print with zero greeks', () => {
    const book = new OptionFlowBook();
    expect(book.updateOptionTrade(print(6870, 'C', 10, Aggressor.BUY, { price: 19 }), null)).toBeNull();
    expect(book.aggregates()[0]).toMatchObject({ cumulative_volume: 10, net_gamma_flow: 0, delta: 0, gamma: 0 });
  });

  it('W-12: empties on a new New York date, ignores prints of a past date', () => {
    const book = new OptionFlowBook();
    book.applyTrade(print(6870, 'C', 5, Aggressor.BUY), 0.5, 0.01);
    expect(book.sessionDate).toBe(DAY);
    // 23:30 New York is still the 16th; 00:30 the next day is the 17th.
    book.applyTrade(print(6875, 'C', 5, Aggressor.BUY, { ts: utcNs(2025, 12, 17, 4, 30) }), 0.5, 0.01);
    expect(book.size).toBe(2);
    book.applyTrade(print(6880, 'C', 5, Aggressor.BUY, { ts: utcNs(2025, 12, 17, 5, 30), exp: '2025-12-17' }), 0.5, 0);
    expect(book.sessionDate).toBe('2025-12-17');
    expect(book.aggregates().map((a) => a.strike)).toEqual([6880]);
    expect(book.applyTrade(print(6890, 'C', 5, Aggressor.BUY), 0.5, 0.01)).toBe(false);
    expect(book.stalePrints).toBe(1);
    expect(book.size).toBe(1);
    book.advanceTo(utcNs(2025, 12, 18, 14));
    expect(book.size).toBe(0);
    expect(book.sessionDate).toBe('2025-12-18');
  });

  it('W-12 parity: resetOnNewYorkDate false keeps flows forever (REF)', () => {
    const book = new OptionFlowBook({ resetOnNewYorkDate: false });
    book.applyTrade(print(6870, 'C', 5, Aggressor.BUY), 0.5, 0.01);
    book.applyTrade(print(6875, 'C', 5, Aggressor.BUY, { ts: utcNs(2025, 12, 18, 15) }), 0.5, 0.01);
    book.advanceTo(utcNs(2025, 12, 20, 15));
    expect(book.size).toBe(2);
    expect(book.sessionDate).toBeNull();
  });
});

describe('flow snapshot (market.flow, §3)', () => {
  it('keys O:ES{YYMMDD}{C|P}{strike·1000, 8 digits}, filters by expiry and STRIKE_RANGE around spot', () => {
    const book = new OptionFlowBook();
    book.applyTrade(print(6870, 'C', 10, Aggressor.BUY, { price: 2.5 }), 0.5, 0.05);
    book.applyTrade(print(6872.5, 'P', 2, Aggressor.SELL, { price: 4 }), -0.4, 0.05);
    book.applyTrade(print(6950, 'P', 1, Aggressor.BUY), -0.1, 0.01);
    book.applyTrade(print(6870, 'C', 1, Aggressor.BUY, { exp: '2025-12-19' }), 0.5, 0.05);
    const snap = book.flowSnapshot(6870.25, DAY, 50);
    expect(Object.keys(snap)).toEqual(['O:ES251216C06870000', 'O:ES251216P06872500']);
    expect(snap['O:ES251216C06870000']).toEqual({
      cumulative_volume: 10,
      cumulative_premium: 1250,
      last_price: 2.5,
      net_delta_flow: 250,
      net_gamma_flow: -25,
      delta: 0.5,
      gamma: 0.05,
      strike_price: 6870,
      type: 'C',
      expiration: DAY,
      last_timestamp: Number(T0 / 1_000_000n),
    });
    expect(Object.keys(book.flowSnapshot(6870.25, null, 50))).toHaveLength(3);
    expect(book.flowSnapshot(null, DAY)).toEqual({});
    expect(flowTicker(545, 'C', '2025-12-16')).toBe('O:ES251216C00545000');
  });
});

describe('FuelEngine worked examples (§7, FUEL_STRIKE_RANGE 2.0, L 680)', () => {
  it('680C −50000 (vol 500) → AMPLIFY, confidence 0.5', () => {
    const book = new OptionFlowBook();
    inject(book, 680, 'C', -50000, 500);
    const m = fuel2.compute(book, 680, DAY);
    expect(m.effect).toBe('AMPLIFY');
    expect(m.net_dealer_gamma).toBeCloseTo(-50000, 6);
    expect(m.confidence).toBe(0.5);
    expect(m.call_wall).toBeNull();
  });

  it('680C +50000 → DAMPEN and a call wall at 680 of strength 1.0 (threshold inclusive)', () => {
    const book = new OptionFlowBook();
    inject(book, 680, 'C', 50000, 1000);
    const m = fuel2.compute(book, 680, DAY);
    expect(m.effect).toBe('DAMPEN');
    expect(m.call_wall).toEqual({ strike: 680, net_gamma: 50000, wall_type: 'CALL', strength: 1 });
    expect(m.put_wall).toBeNull();
  });

  it('680C +5000 (vol 50) → NEUTRAL, confidence 0.05', () => {
    const book = new OptionFlowBook();
    inject(book, 680, 'C', 5000, 50);
    const m = fuel2.compute(book, 680, DAY);
    expect(m.effect).toBe('NEUTRAL');
    expect(m.confidence).toBeCloseTo(0.05, 12);
  });

  it('679C −10000 + 680C −20000 + 681P −15000 → −45000 AMPLIFY, confidence 0.45; 685C ignored', () => {
    const book = new OptionFlowBook();
    inject(book, 679, 'C', -10000, 100);
    inject(book, 680, 'C', -20000, 200);
    inject(book, 681, 'P', -15000, 150);
    inject(book, 685, 'C', -99000, 990);
    const m = fuel2.compute(book, 680, DAY);
    expect(m.net_dealer_gamma).toBeCloseTo(-45000, 6);
    expect(m.effect).toBe('AMPLIFY');
    expect(m.confidence).toBeCloseTo(0.45, 12);
    expect(Object.keys(m.gamma_by_strike)).toEqual(['679', '680', '681']);
  });

  it('681C +30000, 682C +80000 → call wall 682 strength 1.6, net +110000 DAMPEN, confidence 1.0; 683C ignored', () => {
    const book = new OptionFlowBook();
    inject(book, 681, 'C', 30000, 600);
    inject(book, 682, 'C', 80000, 600);
    inject(book, 683, 'C', 200000, 600);
    const m = fuel2.compute(book, 680, DAY);
    expect(m.call_wall).toEqual({ strike: 682, net_gamma: 80000, wall_type: 'CALL', strength: 1.6 });
    expect(m.net_dealer_gamma).toBeCloseTo(110000, 6);
    expect(m.effect).toBe('DAMPEN');
    expect(m.confidence).toBe(1);
  });

  it('679P +20000, 678P +70000 → put wall 678 strength 1.4, net +90000, confidence 0.9', () => {
    const book = new OptionFlowBook();
    inject(book, 679, 'P', 20000, 400);
    inject(book, 678, 'P', 70000, 500);
    const m = fuel2.compute(book, 680, DAY);
    expect(m.put_wall).toEqual({ strike: 678, net_gamma: 70000, wall_type: 'PUT', strength: 1.4 });
    expect(m.net_dealer_gamma).toBeCloseTo(90000, 6);
    expect(m.confidence).toBeCloseTo(0.9, 12);
  });

  it('681C +20000 alone → no wall', () => {
    const book = new OptionFlowBook();
    inject(book, 681, 'C', 20000, 100);
    const m = fuel2.compute(book, 680, DAY);
    expect(m.call_wall).toBeNull();
    expect(m.put_wall).toBeNull();
  });

  it('walls are per side of the level: a put above L or a call below L never counts', () => {
    const book = new OptionFlowBook();
    inject(book, 679, 'C', 90000, 100);
    inject(book, 681, 'P', 90000, 100);
    const m = fuel2.compute(book, 680, DAY);
    expect(m.call_wall).toBeNull();
    expect(m.put_wall).toBeNull();
  });

  it('HVL: 678 −30000, 679 −10000, 681 +20000, 682 +40000 → 679.666667', () => {
    const book = new OptionFlowBook();
    inject(book, 678, 'P', -30000, 100);
    inject(book, 679, 'P', -10000, 100);
    inject(book, 681, 'C', 20000, 100);
    inject(book, 682, 'C', 40000, 100);
    expect(fuel2.compute(book, 680, DAY).hvl).toBeCloseTo(679.666667, 6);
  });

  it('HVL: all-negative strikes → null; fewer than 3 strikes → null', () => {
    const book = new OptionFlowBook();
    inject(book, 679, 'C', -1000, 10);
    inject(book, 681, 'C', 1000, 10);
    expect(fuel2.compute(book, 680, DAY).hvl).toBeNull();
    const neg = new OptionFlowBook();
    for (const k of [678, 679, 680, 681]) inject(neg, k, 'C', -1000, 10);
    expect(fuel2.compute(neg, 680, DAY).hvl).toBeNull();
  });

  it('HVL sums both rights per strike (gamma_by_strike)', () => {
    const book = new OptionFlowBook();
    inject(book, 679, 'C', -3000, 10);
    inject(book, 679, 'P', 1000, 10);
    inject(book, 680, 'P', 500, 10);
    inject(book, 681, 'C', 1000, 10);
    const m = fuel2.compute(book, 680, DAY);
    expect(m.gamma_by_strike).toEqual({ '679': -2000, '680': 500, '681': 1000 });
    expect(m.hvl).toBeCloseTo(679 + 2000 / 2500, 12);
  });

  it('W-09: the crossing nearest L wins (REF parity picks the first from below); ties go to the lower one', () => {
    const book = new OptionFlowBook();
    inject(book, 670, 'C', 10000, 10);
    inject(book, 672, 'C', -10000, 10);
    inject(book, 679, 'C', -10000, 10);
    inject(book, 681, 'C', 10000, 10);
    expect(new FuelEngine({ strikeRange: 10 }).compute(book, 680, DAY).hvl).toBe(680);
    expect(new FuelEngine({ strikeRange: 10, hvl: 'first' }).compute(book, 680, DAY).hvl).toBe(671);

    const tie = new OptionFlowBook();
    inject(tie, 678, 'C', 10000, 10);
    inject(tie, 679, 'C', -10000, 10);
    inject(tie, 681, 'C', -10000, 10);
    inject(tie, 682, 'C', 10000, 10);
    // Crossings at 678.5 and 681.5, both 1.5 from L.
    expect(new FuelEngine({ strikeRange: 5 }).compute(tie, 680, DAY).hvl).toBe(678.5);
  });

  it('empty → NEUTRAL metrics; the expiry filter applies (0DTE)', () => {
    const book = new OptionFlowBook();
    expect(fuel2.compute(book, 680, DAY)).toEqual({
      effect: 'NEUTRAL',
      net_dealer_gamma: 0,
      call_wall: null,
      put_wall: null,
      hvl: null,
      confidence: 0,
      gamma_by_strike: {},
    });
    inject(book, 680, 'C', -50000, 500, '2025-12-19');
    expect(fuel2.compute(book, 680, DAY).effect).toBe('NEUTRAL');
    expect(fuel2.compute(book, 680, null).effect).toBe('AMPLIFY');
  });

  it('allWalls: spot ± WALL_SEARCH_RANGE, judged from spot; nothing without a spot', () => {
    const book = new OptionFlowBook();
    inject(book, 6805, 'C', 60000, 100);
    inject(book, 6795, 'P', 70000, 100);
    inject(book, 6815, 'C', 900000, 100);
    const engine = new FuelEngine();
    const w = engine.allWalls(book, 6800, DAY);
    expect(w.call_wall).toMatchObject({ strike: 6805, strength: 1.2 });
    expect(w.put_wall).toMatchObject({ strike: 6795, strength: 1.4 });
    expect(engine.allWalls(book, 6800, DAY, 6790, 6820).call_wall!.strike).toBe(6815);
    expect(engine.allWalls(book, null)).toEqual({ call_wall: null, put_wall: null });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties: the indexed book and Fuel equal brute force over all aggregates.
// ---------------------------------------------------------------------------------------------------------------

const EXPS = ['2025-12-16', '2025-12-17', '2025-12-19'];
const tradeArb = fc.record({
  strikeTicks: fc.integer({ min: 0, max: 40 }),
  right: fc.constantFrom('C' as const, 'P' as const),
  exp: fc.constantFrom(...EXPS),
  size: fc.integer({ min: 1, max: 50 }),
  aggressor: fc.constantFrom(Aggressor.BUY, Aggressor.SELL, Aggressor.MID),
  price: fc.double({ min: 0, max: 30, noNaN: true }),
  delta: fc.double({ min: -1, max: 1, noNaN: true }),
  gamma: fc.double({ min: 0, max: 40, noNaN: true }),
});
type TradeSpec = typeof tradeArb extends fc.Arbitrary<infer T> ? T : never;

const toTrade = (t: TradeSpec): OptionTrade =>
  print(6850 + 2.5 * t.strikeTicks, t.right, t.size, t.aggressor, { price: t.price, exp: t.exp });

/** Aggregates folded naively (REF's dict), then sorted by (strike, C<P, exp). */
function bruteAggregates(trades: readonly TradeSpec[]): OptionFlowAggregate[] {
  const m = new Map<string, OptionFlowAggregate & Record<string, unknown>>();
  for (const t of trades) {
    const o = toTrade(t);
    const key = `${o.strike}|${o.right}|${o.exp_date}`;
    const a = m.get(key) ?? {
      strike: o.strike,
      right: o.right,
      exp_date: o.exp_date,
      cumulative_volume: 0,
      cumulative_premium: 0,
      net_delta_flow: 0,
      net_gamma_flow: 0,
      last_price: 0,
      last_timestamp_ns: null,
      delta: 0,
      gamma: 0,
    };
    m.set(key, {
      ...a,
      cumulative_volume: a.cumulative_volume + o.size,
      cumulative_premium: a.cumulative_premium + o.price * o.size * 50,
      net_delta_flow: a.net_delta_flow + o.aggressor * o.size * t.delta * 50,
      net_gamma_flow: a.net_gamma_flow + -o.aggressor * o.size * t.gamma * 50,
      last_price: o.price,
      last_timestamp_ns: o.ts_event_ns,
      delta: t.delta,
      gamma: t.gamma,
    });
  }
  return [...m.values()].sort(
    (a, b) =>
      a.strike - b.strike ||
      (a.right === b.right ? 0 : a.right === 'C' ? -1 : 1) ||
      (a.exp_date < b.exp_date ? -1 : a.exp_date > b.exp_date ? 1 : 0),
  );
}

/** §7 straight from the text, over the brute-force list. */
function bruteFuel(all: readonly OptionFlowAggregate[], L: number, R: number, exp: string | null): FuelMetrics {
  const f = all.filter((a) => a.strike >= L - R && a.strike <= L + R && (exp === null || a.exp_date === exp));
  if (f.length === 0) return fuelFromFlows([], L);
  const net = f.reduce((s, a) => s + a.net_gamma_flow, 0);
  const byStrike: Record<string, number> = {};
  for (const a of f) byStrike[String(a.strike)] = (byStrike[String(a.strike)] ?? 0) + a.net_gamma_flow;
  const wall = (right: 'C' | 'P') => {
    const side = f.filter((a) => a.right === right && (right === 'C' ? a.strike >= L : a.strike <= L));
    if (side.length === 0) return null;
    const g = Math.max(...side.map((a) => a.net_gamma_flow));
    if (g < 50000) return null;
    const first = side.find((a) => a.net_gamma_flow === g)!;
    return {
      strike: first.strike,
      net_gamma: g,
      wall_type: right === 'C' ? 'CALL' : 'PUT',
      strength: g / 50000,
    } as const;
  };
  const ks = [...new Set(f.map((a) => a.strike))].sort((a, b) => a - b);
  const crossings: number[] = [];
  for (let i = 0; ks.length >= 3 && i + 1 < ks.length; i++) {
    const ga = byStrike[String(ks[i])]!;
    const gb = byStrike[String(ks[i + 1])]!;
    if (ga * gb < 0) crossings.push(ks[i]! + (ks[i + 1]! - ks[i]!) * (-ga / (gb - ga)));
  }
  crossings.sort((a, b) => Math.abs(a - L) - Math.abs(b - L) || a - b);
  const volume = f.reduce((s, a) => s + a.cumulative_volume, 0);
  return {
    effect: net < -10000 ? 'AMPLIFY' : net > 10000 ? 'DAMPEN' : 'NEUTRAL',
    net_dealer_gamma: net,
    call_wall: wall('C'),
    put_wall: wall('P'),
    hvl: crossings[0] ?? null,
    confidence: Math.min(1, volume / 1000),
    gamma_by_strike: byStrike,
  };
}

describe('OptionFlowBook and FuelEngine properties', () => {
  const query = fc.record({
    L: fc.integer({ min: 6840, max: 6960 }).map((x) => x + 0.25 * (x % 4)),
    R: fc.constantFrom(0, 2, 2.5, 5, 15, 50),
    exp: fc.constantFrom(null, ...EXPS),
  });

  test.prop([fc.array(tradeArb, { maxLength: 120 }), fc.array(query, { minLength: 1, maxLength: 8 })])(
    'range queries and Fuel equal a brute-force scan over all aggregates',
    (trades, queries) => {
      const book = new OptionFlowBook();
      for (const t of trades) book.applyTrade(toTrade(t), t.delta, t.gamma);
      const all = bruteAggregates(trades);
      expect(book.aggregates()).toEqual(all);
      for (const { L, R, exp } of queries) {
        const want = all.filter((a) => a.strike >= L - R && a.strike <= L + R && (exp === null || a.exp_date === exp));
        expect(book.flowsNearLevel(L, R, exp)).toEqual(want);
        const got = new FuelEngine({ strikeRange: R, effectGamma: 10000, wallGamma: 50000, confidenceScale: 1000 });
        expect(got.compute(book, L, exp)).toEqual(bruteFuel(all, L, R, exp));
      }
    },
  );

  test.prop([
    fc.array(tradeArb, { maxLength: 80 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 41 * 2 * 3, maxLength: 41 * 2 * 3 }),
  ])('results do not depend on which contract traded first (§17.6)', (trades, rank) => {
    const keyRank = (t: TradeSpec) => rank[(t.strikeTicks * 2 + (t.right === 'C' ? 0 : 1)) * 3 + EXPS.indexOf(t.exp)]!;
    // Reorder contracts, keeping the order of prints within each contract.
    const shuffled = trades.map((t, i) => ({ t, i })).sort((a, b) => keyRank(a.t) - keyRank(b.t) || a.i - b.i);
    const a = new OptionFlowBook();
    const b = new OptionFlowBook();
    for (const t of trades) a.applyTrade(toTrade(t), t.delta, t.gamma);
    for (const { t } of shuffled) b.applyTrade(toTrade(t), t.delta, t.gamma);
    expect(b.aggregates()).toEqual(a.aggregates());
    const engine = new FuelEngine({ strikeRange: 15 });
    expect(engine.compute(b, 6900, null)).toEqual(engine.compute(a, 6900, null));
    expect(b.flowSnapshot(6900, DAY)).toEqual(a.flowSnapshot(6900, DAY));
    expect(JSON.stringify(Object.keys(b.flowSnapshot(6900, null)))).toBe(
      JSON.stringify(Object.keys(a.flowSnapshot(6900, null))),
    );
  });
});
