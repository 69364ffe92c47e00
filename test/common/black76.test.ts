import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  black76Greeks,
  black76Price,
  erfc,
  expiryNs,
  greeksForPrint,
  impliedVol,
  normCdf,
  normCdfAbramowitzStegun,
  yearsToExpiry,
} from '../../src/common/black76.js';

const utcNs = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): bigint =>
  BigInt(Date.UTC(y, mo - 1, d, h, mi, s)) * 1_000_000n;

/** 2025-12-16 19:00 UTC = 14:00 EST: two hours before both REF's 21:00 UTC and 16:00 New York. */
const WINTER_TS = utcNs(2025, 12, 16, 19);
const WINTER_DATE = '2025-12-16';
/** 2025-07-01 18:00 UTC = 14:00 EDT: two hours before 16:00 New York, three before REF's 21:00 UTC. */
const SUMMER_TS = utcNs(2025, 7, 1, 18);
const SUMMER_DATE = '2025-07-01';

describe('normal CDF', () => {
  it('matches erfc-based reference values to ~1 ulp, tails included', () => {
    // 0.5·erfc(−x/√2) from CPython's libm.
    const ref: [number, number][] = [
      [-10, 7.619853024160593e-24],
      [-8, 6.220960574271819e-16],
      [-5, 2.866515718791946e-7],
      [-3, 0.0013498980316300957],
      [-1.5, 0.06680720126885809],
      [-0.5, 0.3085375387259869],
      [0, 0.5],
      [0.001, 0.500398942213911],
      [0.5, 0.6914624612740131],
      [1.5, 0.9331927987311419],
      [3, 0.9986501019683699],
      [8, 0.9999999999999993],
    ];
    for (const [x, p] of ref) expect(Math.abs(normCdf(x) - p)).toBeLessThanOrEqual(Math.abs(p) * 4e-16 + 1e-300);
    expect(normCdf(-40)).toBe(0);
    expect(normCdf(40)).toBe(1);
    expect(erfc(0)).toBe(1);
    expect(Number.isNaN(normCdf(Number.NaN))).toBe(true);
  });

  test.prop([fc.double({ min: -8, max: 8, noNaN: true })])('A&S 7.1.26 parity CDF is within 1.5e-7', (x) => {
    expect(Math.abs(normCdfAbramowitzStegun(x) - normCdf(x))).toBeLessThan(1.5e-7);
  });

  test.prop([fc.double({ min: -30, max: 30, noNaN: true })])('N(x) + N(−x) = 1 and N is monotone', (x) => {
    expect(normCdf(x) + normCdf(-x)).toBeCloseTo(1, 15);
    expect(normCdf(x + 1e-3)).toBeGreaterThanOrEqual(normCdf(x));
  });
});

describe('time to expiry (W-11)', () => {
  it('puts 16:00 New York at 21:00 UTC in winter and 20:00 UTC in summer', () => {
    expect(expiryNs(WINTER_DATE)).toBe(utcNs(2025, 12, 16, 21));
    expect(expiryNs(SUMMER_DATE)).toBe(utcNs(2025, 7, 1, 20));
    expect(expiryNs(SUMMER_DATE, { expiry: 'utc_21' })).toBe(utcNs(2025, 7, 1, 21));
    expect(expiryNs(WINTER_DATE, { expiryEt: '15:15' })).toBe(utcNs(2025, 12, 16, 20, 15));
  });

  it('follows DST on the transition days', () => {
    expect(expiryNs('2025-03-08')).toBe(utcNs(2025, 3, 8, 21));
    expect(expiryNs('2025-03-09')).toBe(utcNs(2025, 3, 9, 20));
    expect(expiryNs('2025-11-01')).toBe(utcNs(2025, 11, 1, 20));
    expect(expiryNs('2025-11-02')).toBe(utcNs(2025, 11, 2, 21));
    expect(() => expiryNs('2025/11/02')).toThrow(RangeError);
    expect(() => expiryNs('2025-11-02', { expiryEt: '4pm' })).toThrow(RangeError);
  });

  it('gives T = 2 h of a 252 × 6.5 h year two hours before expiry, in both seasons', () => {
    expect(yearsToExpiry(WINTER_TS, WINTER_DATE)).toBeCloseTo(0.001221, 8);
    expect(yearsToExpiry(WINTER_TS, WINTER_DATE, { expiry: 'utc_21' })).toBeCloseTo(0.001221, 8);
    expect(yearsToExpiry(SUMMER_TS, SUMMER_DATE)).toBeCloseTo(0.001221, 8);
    // REF's fixed 21:00 UTC is 17:00 EDT: one hour too many in summer.
    expect(yearsToExpiry(SUMMER_TS, SUMMER_DATE, { expiry: 'utc_21' })).toBeCloseTo(10800 / 5896800, 10);
    expect(yearsToExpiry(utcNs(2025, 12, 16, 21), WINTER_DATE)).toBe(0);
    expect(yearsToExpiry(utcNs(2025, 12, 16, 22), WINTER_DATE)).toBe(0);
  });
});

describe('Black-76 worked example (§6.1)', () => {
  for (const [name, ts, date] of [
    ['winter, 16:00 New York', WINTER_TS, WINTER_DATE],
    ['summer, 16:00 New York', SUMMER_TS, SUMMER_DATE],
    ['REF 21:00 UTC (winter)', WINTER_TS, WINTER_DATE],
  ] as const) {
    it(`S=K=6870, 2 h to expiry, σ 0.20 — ${name}`, () => {
      const T = yearsToExpiry(ts, date, name.startsWith('REF') ? { expiry: 'utc_21' } : {});
      expect(T).toBeCloseTo(0.001221, 8);
      const c = black76Greeks(6870, 6870, T, 0.2, 'C');
      const p = black76Greeks(6870, 6870, T, 0.2, 'P');
      expect(c.delta).toBeCloseTo(0.501366, 6);
      expect(p.delta).toBeCloseTo(-0.498579, 6);
      expect(c.gamma).toBeCloseTo(0.0083088, 7);
      expect(p.gamma).toBe(c.gamma);
      expect(c.price).toBeCloseTo(19.152704, 6);
      const c6900 = black76Greeks(6870, 6900, T, 0.2, 'C');
      expect(c6900.delta).toBeCloseTo(0.267615, 6);
      expect(c6900.gamma).toBeCloseTo(0.006856, 7);
      const p6840 = black76Greeks(6870, 6840, T, 0.2, 'P');
      expect(p6840.delta).toBeCloseTo(-0.264426, 6);
      expect(p6840.gamma).toBeCloseTo(0.0068145, 7);
      expect(impliedVol(c.price, 6870, 6870, T, 'C')!).toBeCloseTo(0.2, 4);
    });
  }

  it('gives the same numbers to 6 decimals with REF batch path A&S CDF', () => {
    const T = 7200 / 5896800;
    const c = black76Greeks(6870, 6870, T, 0.2, 'C', { cdf: 'abramowitz_stegun' });
    expect(c.delta).toBeCloseTo(0.501366, 6);
    // K·N(d2) magnifies the 1.5e-7 CDF error: the premium moves by ~1e-4.
    expect(Math.abs(c.price - 19.152704)).toBeLessThan(6870 * 2 * 1.5e-7);
  });

  it('greeksForPrint implies σ from the print price, falls back to the default vol', () => {
    const print = {
      ts_event_ns: WINTER_TS,
      exp_date: WINTER_DATE,
      strike: 6870,
      right: 'C' as const,
      price: 19.152704,
    };
    const g = greeksForPrint(print, 6870);
    expect(g.sigma).toBeCloseTo(0.2, 5);
    expect(g.gamma).toBeCloseTo(0.0083088, 7);
    expect(greeksForPrint({ ...print, price: 0 }, 6870).sigma).toBe(0.2);
    expect(greeksForPrint({ ...print, price: 0 }, 6870, { defaultVol: 0.3 }).sigma).toBe(0.3);
    expect(greeksForPrint(print, 6870, { sigma: 0.5 }).sigma).toBe(0.5);
    // After expiry: intrinsic deltas, no gamma.
    const late = greeksForPrint({ ...print, ts_event_ns: utcNs(2025, 12, 16, 21, 30) }, 6880);
    expect(late).toMatchObject({ T: 0, delta: 1, gamma: 0 });
  });
});

describe('Black-76 edge cases', () => {
  it('T ≤ 0: intrinsic deltas and price, zero gamma', () => {
    expect(black76Greeks(6880, 6870, 0, 0.2, 'C')).toMatchObject({ delta: 1, gamma: 0, price: 10 });
    expect(black76Greeks(6860, 6870, 0, 0.2, 'C')).toMatchObject({ delta: 0, price: 0 });
    expect(black76Greeks(6860, 6870, -1, 0.2, 'P')).toMatchObject({ delta: -1, gamma: 0, price: 10 });
    expect(black76Greeks(6870, 6870, 0, 0.2, 'P').delta === 0).toBe(true);
  });

  it('σ ≤ 0: deltas against the discounted strike', () => {
    const T = 0.5;
    const kDisc = 6870 * Math.exp(-0.045 * T);
    expect(black76Greeks(kDisc + 1, 6870, T, 0, 'C').delta).toBe(1);
    expect(black76Greeks(kDisc - 1, 6870, T, 0, 'C').delta).toBe(0);
    expect(black76Greeks(kDisc - 1, 6870, T, 0, 'P').delta).toBe(-1);
    expect(black76Greeks(kDisc - 1, 6870, T, 0, 'P').gamma).toBe(0);
  });

  it('implied vol is null for non-positive inputs', () => {
    expect(impliedVol(0, 6870, 6870, 0.001, 'C')).toBeNull();
    expect(impliedVol(1, 6870, 6870, 0, 'C')).toBeNull();
    expect(impliedVol(1, 0, 6870, 0.001, 'C')).toBeNull();
    expect(impliedVol(1, 6870, 0, 0.001, 'C')).toBeNull();
  });

  it('implied vol returns σ₀ = 0.3 when the starting vega vanishes (REF)', () => {
    const T = 0.0001;
    const price = black76Price(1000, 1000 * Math.exp(1.4 * 1.5 * Math.sqrt(T)), T, 1.5, 'C', { r: 0 });
    expect(impliedVol(price, 1000, 1000 * Math.exp(1.4 * 1.5 * Math.sqrt(T)), T, 'C', { r: 0 })).toBe(0.3);
  });

  it('implied vol stays within [0.01, 5]', () => {
    const T = 0.001221;
    expect(impliedVol(0.0001, 6870, 6900, T, 'C')).toBeGreaterThanOrEqual(0.01);
    expect(impliedVol(2000, 6870, 6870, T, 'C')).toBeLessThanOrEqual(5);
  });

  it('vega and theta agree with finite differences', () => {
    const [S, K, T, s] = [6870, 6880, 0.002, 0.18];
    const g = black76Greeks(S, K, T, s, 'C');
    const h = 1e-6;
    const dVdS = (black76Price(S, K, T, s + h, 'C') - black76Price(S, K, T, s - h, 'C')) / (2 * h) / 100;
    expect(g.vega).toBeCloseTo(dVdS, 6);
    const dt = 1e-8;
    const dVdt = (black76Price(S, K, T - dt, s, 'C') - black76Price(S, K, T + dt, s, 'C')) / (2 * dt) / 252;
    expect(g.theta).toBeCloseTo(dVdt, 4);
  });
});

const market = fc.record({
  S: fc.double({ min: 1000, max: 10000, noNaN: true }),
  moneyness: fc.double({ min: -1.5, max: 1.5, noNaN: true }),
  T: fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
  sigma: fc.double({ min: 0.05, max: 1.5, noNaN: true }),
  r: fc.double({ min: 0, max: 0.1, noNaN: true }),
});

describe('Black-76 properties', () => {
  test.prop([market])(
    'put-call parity C − P = e^{−rT}(S − K), and Δ_C − Δ_P = e^{−rT}',
    ({ S, moneyness, T, sigma, r }) => {
      const K = S * Math.exp(moneyness * sigma * Math.sqrt(T));
      const c = black76Greeks(S, K, T, sigma, 'C', { r });
      const p = black76Greeks(S, K, T, sigma, 'P', { r });
      expect(c.price - p.price).toBeCloseTo(Math.exp(-r * T) * (S - K), 8);
      expect(c.delta - p.delta).toBeCloseTo(Math.exp(-r * T), 12);
      expect(c.gamma).toBe(p.gamma);
    },
  );

  // Newton starts at σ₀ = 0.3 (REF), so the strike is placed within one σ₀ standard deviation: further out the
  // starting vega can vanish and REF's loop stops at σ₀ (see the edge-case test).
  test.prop([market, fc.constantFrom('C' as const, 'P' as const)])(
    'implied vol of a model price returns σ',
    ({ S, moneyness, T, sigma, r }, right) => {
      const K = S * Math.exp((moneyness / 1.5) * 0.3 * Math.sqrt(T));
      const price = black76Price(S, K, T, sigma, right, { r });
      fc.pre(price > 1e-6 * S);
      expect(impliedVol(price, S, K, T, right, { r })!).toBeCloseTo(sigma, 4);
    },
  );
});
