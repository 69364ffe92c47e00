import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { buildLevelUniverse } from '../../../src/operators/physics/level-universe.js';
import {
  RunwayIndex,
  breakDirectionOf,
  computeRunway,
  rejectDirectionOf,
  runwayDirection,
} from '../../../src/operators/physics/runway.js';
import { LevelKind, type Level } from '../../../src/operators/physics/types.js';

const lvl = (id: string, price: number, kind: LevelKind = LevelKind.STRIKE): Level => ({
  id,
  price,
  kind,
  dynamic: false,
});
const strikes = (...ps: number[]) => ps.map((p) => lvl(`STRIKE_${p}`, p));
const CURRENT = lvl('STRIKE_545', 545);

/** Both implementations must agree on every example. */
function both(levels: Level[], dir: 'UP' | 'DOWN', current: Level = CURRENT, ref = false) {
  const opts = ref ? { quality: 'ref' as const } : {};
  const a = computeRunway(current, dir, levels, opts);
  expect(new RunwayIndex(levels, opts).runway(current, dir)).toEqual(a);
  return a;
}

describe('runway worked examples (§11)', () => {
  it('current 545; 546, 548, 542 → UP STRIKE_546 at 1.0', () => {
    const r = both(strikes(546, 548, 542), 'UP');
    expect(r).toMatchObject({ direction: 'UP', distance: 1, quality: 'CLEAR' });
    expect(r.next_obstacle!.id).toBe('STRIKE_546');
  });

  it('DOWN among 546, 542, 540 → STRIKE_542 at 3.0', () => {
    const r = both(strikes(546, 542, 540), 'DOWN');
    expect(r.next_obstacle!.id).toBe('STRIKE_542');
    expect(r.distance).toBe(3);
  });

  it('nothing above → distance null, no obstacle, CLEAR (REF parity: Infinity)', () => {
    expect(both(strikes(542), 'UP')).toEqual({
      direction: 'UP',
      distance: null,
      next_obstacle: null,
      quality: 'CLEAR',
    });
    expect(both(strikes(542), 'UP', CURRENT, true).distance).toBe(Infinity);
    expect(both([], 'DOWN').next_obstacle).toBeNull();
  });

  it('bidirectional with 548 / 542 → 3.0 / 3.0', () => {
    const [up, down] = new RunwayIndex(strikes(548, 542)).bidirectional(CURRENT);
    expect([up.direction, up.distance, down.direction, down.distance]).toEqual(['UP', 3, 'DOWN', 3]);
  });

  it('ROUND_546, ROUND_547, STRIKE_548 → UP ROUND_546 at 1.0, CLEAR', () => {
    const r = both([lvl('ROUND_546', 546, 'ROUND'), lvl('ROUND_547', 547, 'ROUND'), lvl('STRIKE_548', 548)], 'UP');
    expect(r).toMatchObject({ distance: 1, quality: 'CLEAR' });
    expect(r.next_obstacle!.id).toBe('ROUND_546');
  });

  it('CALL_WALL 545.5 + ROUND_546 → next CALL_WALL at 0.5, OBSTRUCTED (W-18; REF says CLEAR)', () => {
    const levels = [lvl('CALL_WALL', 545.5, 'CALL_WALL'), lvl('ROUND_546', 546, 'ROUND')];
    const r = both(levels, 'UP');
    expect(r).toMatchObject({ distance: 0.5, quality: 'OBSTRUCTED' });
    expect(r.next_obstacle!.id).toBe('CALL_WALL');
    expect(both(levels, 'UP', CURRENT, true).quality).toBe('CLEAR');
  });

  it('every strong kind obstructs, weak kinds do not', () => {
    for (const kind of ['CALL_WALL', 'PUT_WALL', 'SESSION_HIGH', 'SESSION_LOW', 'VWAP', 'GAMMA_FLIP'] as const) {
      expect(both([lvl(kind, 544, kind)], 'DOWN').quality).toBe('OBSTRUCTED');
    }
    for (const kind of [
      'PM_HIGH',
      'PM_LOW',
      'OR_HIGH',
      'OR_LOW',
      'SMA_200',
      'SMA_400',
      'STRIKE',
      'ROUND',
      'USER_HOTZONE',
    ] as const) {
      expect(both([lvl(kind, 544, kind)], 'DOWN').quality).toBe('CLEAR');
    }
  });

  it('from ROUND_6870 in the §10 universe: UP → HOTZONE_6872.5 (2.5), DOWN → PM_LOW (10.0, wins the tie with ROUND_6860)', () => {
    const u = buildLevelUniverse({
      spot: 6870.25,
      pmHigh: 6900,
      pmLow: 6860,
      orHigh: 6890,
      orLow: 6875,
      sma200: null,
      sma400: null,
      strikes: [
        { strike: 6870, exp_date: '2025-12-16', has_calls: true, has_puts: false },
        { strike: 6875, exp_date: '2025-12-16', has_calls: false, has_puts: true },
      ],
      tradingDate: '2025-12-16',
      hotzones: [6872.5],
    });
    const from = u.find((l) => l.id === 'ROUND_6870')!;
    const up = both(u, 'UP', from);
    expect([up.next_obstacle!.id, up.distance, up.quality]).toEqual(['HOTZONE_6872.5', 2.5, 'CLEAR']);
    const down = both(u, 'DOWN', from);
    expect([down.next_obstacle!.id, down.distance, down.quality]).toEqual(['PM_LOW', 10, 'CLEAR']);
  });

  it('§16: ROUND_6870 DOWN → PM_LOW 1.0; PM_LOW DOWN → ROUND_6860 9.0; PM_HIGH UP → ROUND_6890 10.0', () => {
    const u = buildLevelUniverse({
      spot: 6870.25,
      pmHigh: 6880,
      pmLow: 6869,
      orHigh: null,
      orLow: null,
      sma200: null,
      sma400: null,
      strikes: [],
      tradingDate: '2025-12-16',
      hotzones: [],
    });
    const index = new RunwayIndex(u);
    const at = (id: string) => u.find((l) => l.id === id)!;
    expect(index.runway(at('ROUND_6870'), 'DOWN')).toMatchObject({ distance: 1, next_obstacle: { id: 'PM_LOW' } });
    expect(index.runway(at('PM_LOW'), 'DOWN')).toMatchObject({ distance: 9, next_obstacle: { id: 'ROUND_6860' } });
    expect(index.runway(at('PM_HIGH'), 'UP')).toMatchObject({ distance: 10, next_obstacle: { id: 'ROUND_6890' } });
  });
});

describe('runway direction helpers (§11, §13 step 4.5)', () => {
  it('break through SUPPORT is DOWN, through RESISTANCE UP; REJECT runs the other way', () => {
    expect(breakDirectionOf('SUPPORT')).toBe('DOWN');
    expect(breakDirectionOf('RESISTANCE')).toBe('UP');
    expect(rejectDirectionOf('SUPPORT')).toBe('UP');
    expect(rejectDirectionOf('RESISTANCE')).toBe('DOWN');
    expect(runwayDirection('SUPPORT', 'REJECT')).toBe('UP');
    expect(runwayDirection('SUPPORT', 'BREAK')).toBe('DOWN');
    expect(runwayDirection('RESISTANCE', 'NEUTRAL')).toBe('UP');
  });
});

describe('RunwayIndex properties', () => {
  const kinds = Object.values(LevelKind);
  const universe = fc
    .array(fc.record({ ticks: fc.integer({ min: 0, max: 30 }), kind: fc.constantFrom(...kinds) }), { maxLength: 60 })
    .map((xs) => xs.map((x, i) => lvl(`L${i}`, 6800 + 0.25 * x.ticks, x.kind)));

  test.prop([universe, fc.array(fc.integer({ min: -2, max: 32 }), { minLength: 1, maxLength: 10 }), fc.boolean()])(
    'equals the O(n) definition for every current price and direction, ties by universe order',
    (levels, currents, ref) => {
      const opts = ref ? { quality: 'ref' as const } : {};
      const index = new RunwayIndex(levels, opts);
      for (const t of currents) {
        const current = { price: 6800 + 0.25 * t };
        for (const dir of ['UP', 'DOWN'] as const) {
          const got = index.runway(current, dir);
          expect(got).toEqual(computeRunway(current, dir, levels, opts));
          // And the O(n) definition is §11's: filter, stable sort, first.
          const cands = levels
            .filter((l) => (dir === 'UP' ? l.price > current.price : l.price < current.price))
            .sort((a, b) => (dir === 'UP' ? a.price - b.price : b.price - a.price));
          expect(got.next_obstacle).toBe(cands[0] ?? null);
        }
      }
    },
  );
});
