import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { CONFIG } from '../../src/common/config.js';
import {
  CONFLUENCE_WEIGHTS,
  REFERENCE_OMEGA,
  computeConfluence,
  computeConfluenceBatch,
  confluence,
  confluenceLevel,
  confluenceLevelName,
  type ConfluenceDirection,
  type ConfluenceResult,
  type ConfluenceTarget,
  type LevelLike,
} from '../../src/operators/confluence.js';

const PM_HIGH: ConfluenceTarget = { id: 'PM_HIGH', price: 6900.0, kind: 'PM_HIGH', direction: 'RESISTANCE' };
const OR_HIGH: LevelLike = { id: 'OR_HIGH', price: 6900.1, kind: 'OR_HIGH' };
const SMA_200: LevelLike = { id: 'SMA_200', price: 6899.95, kind: 'SMA_200' };
const STRIKE: LevelLike = { id: 'STRIKE_6900', price: 6900.0, kind: 'STRIKE' };
const SMA_400: LevelLike = { id: 'SMA_400', price: 6890.0, kind: 'SMA_400' };

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('computeConfluence — ENGINES.md §12 worked examples', () => {
  const universe = [PM_HIGH, OR_HIGH, SMA_200, STRIKE];

  it('Ω is the reference weight sum 10.15', () => {
    expect(REFERENCE_OMEGA).toBeCloseTo(10.15, 12);
    expect(Object.keys(CONFLUENCE_WEIGHTS)).toHaveLength(12);
  });

  it('band 0.20, reference Ω: count 2, pressure 0.103448, min distance 0.05, NEUTRAL → 5 STRONG', () => {
    const r = computeConfluence(PM_HIGH, universe, { band: 0.2, spot: 6899.5, pressureNorm: REFERENCE_OMEGA });
    expect(r.confluence_count).toBe(2);
    expect(r.confluence_pressure).toBeCloseTo(0.103448, 6);
    expect(r.confluence_min_distance).toBeCloseTo(0.05, 9);
    expect(r.confluence_alignment).toBe(0);
    expect([r.confluence_level, r.confluence_level_name]).toEqual([5, 'STRONG']);
    expect(r.nearby_levels.map(([id, , w]) => [id, w])).toEqual([
      ['OR_HIGH', 0.9],
      ['SMA_200', 0.8],
    ]);
  });

  it('band 0.20 with the port default norm 4.0 (W-23): pressure (0.45 + 0.6)/4 = 0.2625, still 5 STRONG', () => {
    expect(CONFIG.CONFLUENCE_PRESSURE_NORM).toBe(4);
    const r = computeConfluence(PM_HIGH, universe, { band: 0.2, spot: 6899.5 });
    expect(r.confluence_pressure).toBeCloseTo(0.2625, 9);
    expect([r.confluence_count, r.confluence_level, r.confluence_level_name]).toEqual([2, 5, 'STRONG']);
  });

  it.each([
    ['RESISTANCE', -1, 6, 'STRONG'],
    ['SUPPORT', 1, 4, 'PREMIUM'],
  ] as const)('band 5.0 + SMA_400 @6890 (bullish): %s → alignment %i → %i %s', (direction, align, level, name) => {
    const target = { ...PM_HIGH, direction };
    const r = computeConfluence(target, [...universe, SMA_400], { band: 5, spot: 6899.5, pressureNorm: 10.15 });
    expect(r.confluence_count).toBe(2);
    expect(r.confluence_pressure).toBeCloseTo(0.164926, 6);
    expect([r.confluence_alignment, r.confluence_level, r.confluence_level_name]).toEqual([align, level, name]);
    const d = computeConfluence(target, [...universe, SMA_400], { band: 5, spot: 6899.5 });
    expect(d.confluence_pressure).toBeCloseTo((0.9 * 0.98 + 0.8 * 0.99) / 4, 6);
  });

  it('no spot → NEUTRAL; no neighbours → the empty result; a 0 band falls back to CONFIG', () => {
    const r = computeConfluence({ ...PM_HIGH, direction: 'SUPPORT' }, [...universe, SMA_400], { band: 5, spot: null });
    expect(r.confluence_alignment).toBe(0);
    expect(computeConfluence(PM_HIGH, [PM_HIGH, STRIKE], { spot: 1 })).toEqual({
      confluence_count: 0,
      confluence_pressure: 0,
      confluence_alignment: 0,
      confluence_min_distance: null,
      nearby_levels: [],
      confluence_level: 0,
      confluence_level_name: 'UNDEFINED',
    });
    expect(computeConfluence(PM_HIGH, universe, { band: 0 }).confluence_count).toBe(2);
  });

  it('levels 0–10 and names per §12 steps 5–6', () => {
    expect(confluenceLevel(4, 0.71, 0, 'PM_LOW')).toBe(1);
    expect(confluenceLevel(4, 0.71, 0, 'VWAP')).toBe(9);
    expect(confluenceLevel(3, 0.51, 0, 'CALL_WALL')).toBe(3);
    expect(confluenceLevel(3, 0.51, 0, 'STRIKE')).toBe(7);
    expect(confluenceLevel(2, 0.31, 0, 'OR_LOW')).toBe(3);
    expect(confluenceLevel(2, 0.31, 0, 'SMA_200')).toBe(5);
    expect(confluenceLevel(1, 0.9, 0, 'ROUND')).toBe(7);
    expect(confluenceLevel(4, 0.71, 1, 'PM_LOW')).toBe(1);
    expect(confluenceLevel(4, 0.71, -1, 'VWAP')).toBe(10);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(confluenceLevelName)).toEqual([
      'UNDEFINED',
      'ULTRA_PREMIUM',
      'ULTRA_PREMIUM',
      'PREMIUM',
      'PREMIUM',
      'STRONG',
      'STRONG',
      'MODERATE',
      'MODERATE',
      'CONSOLIDATION',
      'CONSOLIDATION',
    ]);
  });

  it("ignores kinds that are only inherited object keys ('toString')", () => {
    const odd: LevelLike = { id: 'x', price: 6900, kind: 'toString' };
    expect(computeConfluence(PM_HIGH, [PM_HIGH, odd]).confluence_count).toBe(0);
  });
});

describe('confluence — marbles', () => {
  it('maps each snapshot to results per level id; errors and completion pass through', () => {
    const s1 = { levels: [PM_HIGH, OR_HIGH, SMA_200, STRIKE], spot: 6899.5 };
    const s2 = { levels: [PM_HIGH, OR_HIGH, SMA_200, STRIKE, SMA_400], spot: 6899.5, targets: [PM_HIGH] };
    const opts = { band: 0.2, pressureNorm: REFERENCE_OMEGA };
    const expected1 = new Map(
      s1.levels.map((l) => [
        l.id,
        computeConfluence({ ...l, direction: l.price < s1.spot ? 'SUPPORT' : 'RESISTANCE' }, s1.levels, {
          ...opts,
          spot: s1.spot,
        }),
      ]),
    );
    const expected2 = new Map([['PM_HIGH', computeConfluence(PM_HIGH, s2.levels, { ...opts, spot: 6899.5 })]]);
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const src = cold('-a--b--|', { a: s1, b: s2 });
      expectObservable(src.pipe(confluence(opts))).toBe('-A--B--|', { A: expected1, B: expected2 });
      expectSubscriptions(src.subscriptions).toBe('^------!');
      expectObservable(cold('-a-#', { a: s1 }).pipe(confluence(opts))).toBe('-A-#', { A: expected1 });
      const h = hot('-a--b-|', { a: s1, b: s2 });
      expectObservable(h.pipe(confluence(opts)), '^-!').toBe('-A-', { A: expected1 });
      expectSubscriptions(h.subscriptions).toBe('^-!');
    });
    expect(expected1.get('PM_HIGH')!.confluence_level).toBe(5);
  });
});

describe('computeConfluenceBatch — property: equals the O(n²) oracle', () => {
  const KINDS = [...Object.keys(CONFLUENCE_WEIGHTS), 'STRIKE', 'ROUND', 'USER_HOTZONE'];
  const level = fc.record({
    kind: fc.constantFrom(...KINDS),
    price: fc.oneof(
      fc.integer({ min: -40, max: 40 }).map((k) => 6900 + k * 0.25),
      fc.double({ min: 6890, max: 6910, noNaN: true }),
    ),
    dir: fc.constantFrom<ConfluenceDirection>('SUPPORT', 'RESISTANCE'),
  });

  /** The reference's loop, verbatim: every other level, every target. */
  function oracle(
    target: ConfluenceTarget,
    all: readonly LevelLike[],
    band: number,
    spot: number | null,
    norm: number,
  ): ConfluenceResult {
    const near: [string, number, number][] = [];
    for (const l of all) {
      if (l.id === target.id || !Object.hasOwn(CONFLUENCE_WEIGHTS, l.kind)) continue;
      const d = Math.abs(l.price - target.price);
      if (d > band) continue;
      near.push([l.id, d, CONFLUENCE_WEIGHTS[l.kind]!]);
    }
    if (near.length === 0) return computeConfluence(target, [], { band });
    let score = 0;
    for (const [, d, w] of near) score += w * Math.max(0, 1 - d / band);
    const pressure = score / norm;
    let s200: number | null = null;
    let s400: number | null = null;
    for (const l of all) {
      if (l.kind === 'SMA_200') s200 = l.price;
      if (l.kind === 'SMA_400') s400 = l.price;
    }
    let trend = 0;
    if (spot !== null && s200 !== null && s400 !== null) trend = s200 > s400 + 0.05 ? 1 : s200 < s400 - 0.05 ? -1 : 0;
    const alignment = trend === 0 ? 0 : (target.direction === 'SUPPORT') === (trend === 1) ? 1 : -1;
    const lvl = confluenceLevel(near.length, pressure, alignment, target.kind);
    return {
      confluence_count: near.length,
      confluence_pressure: pressure,
      confluence_alignment: alignment,
      confluence_min_distance: Math.min(...near.map(([, d]) => d)),
      nearby_levels: near,
      confluence_level: lvl,
      confluence_level_name: confluenceLevelName(lvl),
    };
  }

  it('every target of random universes, both norms, bands from sub-tick to 5 pt, duplicate prices and ids', () => {
    fc.assert(
      fc.property(
        fc.array(level, { maxLength: 80, size: 'large' }),
        fc.constantFrom(0.1, 0.2, 0.25, 0.5, 1, 5),
        fc.option(fc.double({ min: 6890, max: 6910, noNaN: true })),
        fc.constantFrom(4, REFERENCE_OMEGA),
        fc.integer({ min: 0, max: 3 }),
        (raw, band, spot, norm, dupEvery) => {
          const levels: ConfluenceTarget[] = raw.map((r, i) => ({
            id: dupEvery > 0 && i % (dupEvery + 3) === 0 ? 'dup' : `L${i}`,
            price: r.price,
            kind: r.kind,
            direction: r.dir,
          }));
          const opts = { band, spot, deadband: 0.05, pressureNorm: norm };
          const batch = computeConfluenceBatch(levels, levels, opts);
          levels.forEach((t, i) => {
            const want = oracle(t, levels, band, spot, norm);
            expect(batch[i]).toEqual(want);
            expect(computeConfluence(t, levels, opts)).toEqual(want);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('scales: 20,000 levels in one snapshot finish quickly (sort + sweep, not n²)', () => {
    const levels: ConfluenceTarget[] = [];
    const kinds = Object.keys(CONFLUENCE_WEIGHTS);
    for (let i = 0; i < 20_000; i++) {
      levels.push({ id: `L${i}`, price: 5000 + i * 0.25, kind: kinds[i % kinds.length]!, direction: 'SUPPORT' });
    }
    const t0 = performance.now();
    const out = computeConfluenceBatch(levels, levels, { band: 0.5, spot: 6000 });
    expect(out).toHaveLength(20_000);
    expect(out[100]!.confluence_count).toBe(4);
    // n² would be 4e8 distance tests; the sweep does ~1e5.
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
