import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Aggressor, optionTrade } from '../../../src/common/event-types.js';
import { OptionFlowBook } from '../../../src/operators/physics/fuel.js';
import {
  DirectionMemory,
  activeLevels,
  buildLevelUniverse,
  levelIdPrice,
  type UniverseInputs,
} from '../../../src/operators/physics/level-universe.js';
import type { StrikeSummary } from '../../../src/operators/physics/types.js';

const DAY = '2025-12-16';
const NOW = 1765896601100000000n;

/** The §3 trades (PM 6900/6860, OR 6890/6875), spot 6870.25, flows 6870C, 6875P, 6950P, hotzone 6872.5. */
function section10(): UniverseInputs {
  const book = new OptionFlowBook({ resetOnNewYorkDate: false });
  for (const [strike, right] of [
    [6870, 'C'],
    [6875, 'P'],
    [6950, 'P'],
  ] as const) {
    book.applyTrade(
      optionTrade({
        ts_event_ns: NOW,
        source: 'replay',
        underlying: 'ES',
        option_symbol: 'x',
        exp_date: DAY,
        strike,
        right,
        price: 1,
        size: 1,
        aggressor: Aggressor.BUY,
      }),
      0,
      0,
    );
  }
  return {
    spot: 6870.25,
    pmHigh: 6900,
    pmLow: 6860,
    orHigh: 6890,
    orLow: 6875,
    sma200: null,
    sma400: null,
    strikes: book.strikeSummaries(6870.25, 50),
    tradingDate: DAY,
    hotzones: [6872.5],
    nowNs: NOW,
  };
}

const ROUNDS = Array.from({ length: 11 }, (_, i) => `ROUND_${6820 + 10 * i}`);

describe('LevelUniverse worked example (§10)', () => {
  it('PM, OR, 11 ROUND levels, STRIKE_6870, STRIKE_6875 (6950 too far), HOTZONE_6872.5 (W-33 id)', () => {
    const u = buildLevelUniverse(section10());
    expect(u.map((l) => l.id)).toEqual([
      'PM_HIGH',
      'PM_LOW',
      'OR_HIGH',
      'OR_LOW',
      ...ROUNDS,
      'STRIKE_6870',
      'STRIKE_6875',
      'HOTZONE_6872.5',
    ]);
    expect(u.slice(0, 4).map((l) => l.price)).toEqual([6900, 6860, 6890, 6875]);
    expect(u.find((l) => l.id === 'HOTZONE_6872.5')).toEqual({
      id: 'HOTZONE_6872.5',
      price: 6872.5,
      kind: 'USER_HOTZONE',
      dynamic: false,
      valid_from_ns: NOW,
      valid_to_ns: null,
    });
    expect(u.find((l) => l.id === 'STRIKE_6870')!.metadata).toEqual({ has_calls: true, has_puts: false });
    expect(u.find((l) => l.id === 'STRIKE_6875')!.metadata).toEqual({ has_calls: false, has_puts: true });
  });

  it('REF id parity truncates prices: HOTZONE_6872', () => {
    const u = buildLevelUniverse(section10(), { ids: 'truncate' });
    expect(u.at(-1)).toMatchObject({ id: 'HOTZONE_6872', price: 6872.5 });
  });

  it('no spot → empty universe', () => {
    expect(buildLevelUniverse({ ...section10(), spot: null })).toEqual([]);
  });
});

describe('LevelUniverse rules', () => {
  const base: UniverseInputs = {
    spot: 6870.25,
    pmHigh: null,
    pmLow: null,
    orHigh: null,
    orLow: null,
    sma200: null,
    sma400: null,
    strikes: [],
    tradingDate: DAY,
    hotzones: [],
  };
  const s = (strike: number, exp = DAY, has_calls = true, has_puts = false): StrikeSummary => ({
    strike,
    exp_date: exp,
    has_calls,
    has_puts,
  });

  it('W-33: exact tick ids keep 6872 and 6872.5 apart; REF truncation collides (later value, first position)', () => {
    const inputs = { ...base, strikes: [s(6872.5), s(6872)], hotzones: [] };
    const exact = buildLevelUniverse(inputs, { roundLevels: false });
    expect(exact.map((l) => l.id)).toEqual(['STRIKE_6872', 'STRIKE_6872.5']);
    const ref = buildLevelUniverse(inputs, { roundLevels: false, ids: 'truncate' });
    expect(ref).toHaveLength(1);
    expect(ref[0]).toMatchObject({ id: 'STRIKE_6872', price: 6872.5 });
  });

  it('ids: integers without decimals, ticks exact', () => {
    expect(levelIdPrice(6870)).toBe('6870');
    expect(levelIdPrice(6872.25)).toBe('6872.25');
    expect(levelIdPrice(6872.75)).toBe('6872.75');
    expect(levelIdPrice(-0)).toBe('0');
    expect(levelIdPrice(6872.75, 'truncate')).toBe('6872');
  });

  it('W-33: STRIKE levels only from the trading date expiry (REF parity: any expiry), merged per strike', () => {
    const inputs = {
      ...base,
      strikes: [s(6880, '2025-12-19'), s(6870, DAY, true, false), s(6870, '2025-12-19', false, true)],
    };
    expect(buildLevelUniverse(inputs, { roundLevels: false }).map((l) => l.id)).toEqual(['STRIKE_6870']);
    const any = buildLevelUniverse(inputs, { roundLevels: false, strikeExpiry: 'any' });
    expect(any.map((l) => l.id)).toEqual(['STRIKE_6870', 'STRIKE_6880']);
    expect(any[0]!.metadata).toEqual({ has_calls: true, has_puts: true });
  });

  it('STRIKE_RANGE is inclusive; STRIKE levels sorted by strike whatever the input order', () => {
    const inputs = { ...base, spot: 6870, strikes: [s(6920), s(6820), s(6920.25), s(6850)] };
    expect(buildLevelUniverse(inputs, { roundLevels: false }).map((l) => l.price)).toEqual([6820, 6850, 6920]);
  });

  it('W-22 flags: ROUND on by default; walls, VWAP and session levels off unless enabled', () => {
    const inputs = {
      ...base,
      sma200: 6865.1,
      sma400: 6850.3,
      vwap: 6868.4,
      sessionHigh: 6901,
      sessionLow: 6855,
      callWall: 6900,
      putWall: 6850,
      gammaFlip: 6866.5,
    };
    const dflt = buildLevelUniverse(inputs);
    expect(dflt.map((l) => l.kind)).toEqual(['SMA_200', 'SMA_400', ...ROUNDS.map(() => 'ROUND')]);
    expect(dflt[0]!.dynamic).toBe(true);
    expect(dflt[2]!.dynamic).toBe(false);
    const all = buildLevelUniverse(inputs, {
      roundLevels: false,
      wallLevels: true,
      vwapLevel: true,
      sessionLevels: true,
    });
    expect(all.map((l) => `${l.id}@${l.price}:${l.dynamic}`)).toEqual([
      'SMA_200@6865.1:true',
      'SMA_400@6850.3:true',
      'CALL_WALL@6900:true',
      'PUT_WALL@6850:true',
      'GAMMA_FLIP@6866.5:true',
      'VWAP@6868.4:true',
      'SESSION_HIGH@6901:false',
      'SESSION_LOW@6855:false',
    ]);
  });

  it('ROUND: only positive prices; fractional spacing gives exact tick ids', () => {
    expect(buildLevelUniverse({ ...base, spot: 30 }).map((l) => l.id)).toEqual(
      [10, 20, 30, 40, 50, 60, 70, 80].map((p) => `ROUND_${p}`),
    );
    const fine = buildLevelUniverse({ ...base, spot: 6870 }, { roundSpacing: 2.5, strikeRange: 5 });
    expect(fine.map((l) => l.id)).toEqual(['ROUND_6865', 'ROUND_6867.5', 'ROUND_6870', 'ROUND_6872.5', 'ROUND_6875']);
  });

  it('de-duplicates by id: later value, first position (hotzone listed twice)', () => {
    const u = buildLevelUniverse({ ...base, hotzones: [6872.5, 6880, 6872.5] }, { roundLevels: false });
    expect(u.map((l) => l.id)).toEqual(['HOTZONE_6872.5', 'HOTZONE_6880']);
  });

  it('without nowNs no validity stamps are set', () => {
    const [l] = buildLevelUniverse({ ...base, hotzones: [6880] }, { roundLevels: false });
    expect(l).toEqual({ id: 'HOTZONE_6880', price: 6880, kind: 'USER_HOTZONE', dynamic: false });
  });
});

describe('activeLevels (§13 step 2)', () => {
  it('§16: spot 6870.25 → PM_HIGH, PM_LOW (structural) then ROUND_6870 (within 0.25)', () => {
    const u = buildLevelUniverse({
      spot: 6870.25,
      pmHigh: 6880,
      pmLow: 6869,
      orHigh: null,
      orLow: null,
      sma200: null,
      sma400: null,
      strikes: [],
      tradingDate: DAY,
      hotzones: [6870.75],
    });
    expect(activeLevels(u, 6870.25).map((l) => l.id)).toEqual(['PM_HIGH', 'PM_LOW', 'ROUND_6870']);
    expect(activeLevels(u, 6870.25, 0.5).map((l) => l.id)).toEqual([
      'PM_HIGH',
      'PM_LOW',
      'ROUND_6870',
      'HOTZONE_6870.75',
    ]);
    expect(activeLevels(u, 6870.5).map((l) => l.id)).toEqual(['PM_HIGH', 'PM_LOW', 'HOTZONE_6870.75']);
  });
});

describe('DirectionMemory (W-36)', () => {
  it('spot above → SUPPORT, below → RESISTANCE, at the level → previous role (first sighting RESISTANCE)', () => {
    const m = new DirectionMemory();
    expect(m.direction('A', 6870, 6870)).toBe('RESISTANCE');
    expect(m.direction('B', 6870.25, 6870)).toBe('SUPPORT');
    expect(m.direction('B', 6870, 6870)).toBe('SUPPORT');
    expect(m.direction('B', 6869.75, 6870)).toBe('RESISTANCE');
    expect(m.direction('B', 6870, 6870)).toBe('RESISTANCE');
    m.forget('B');
    expect(m.size).toBe(1);
    m.clear();
    expect(m.size).toBe(0);
  });
});

describe('LevelUniverse properties', () => {
  const inputs = fc.record({
    spot: fc.oneof(
      fc.constant(null),
      fc.integer({ min: 26000, max: 28000 }).map((t) => t * 0.25),
    ),
    pmHigh: fc.option(fc.integer({ min: 26000, max: 28000 }).map((t) => t * 0.25)),
    pmLow: fc.option(fc.integer({ min: 26000, max: 28000 }).map((t) => t * 0.25)),
    orHigh: fc.option(fc.integer({ min: 26000, max: 28000 }).map((t) => t * 0.25)),
    orLow: fc.option(fc.integer({ min: 26000, max: 28000 }).map((t) => t * 0.25)),
    sma200: fc.option(fc.double({ min: 6500, max: 7000, noNaN: true })),
    sma400: fc.option(fc.double({ min: 6500, max: 7000, noNaN: true })),
    strikes: fc.array(
      fc.record({
        strike: fc.integer({ min: 1300, max: 1400 }).map((k) => k * 5),
        exp_date: fc.constantFrom(DAY, '2025-12-17'),
        has_calls: fc.boolean(),
        has_puts: fc.boolean(),
      }),
      { maxLength: 30 },
    ),
    tradingDate: fc.constant(DAY),
    hotzones: fc.array(
      fc.integer({ min: 26000, max: 28000 }).map((t) => t * 0.25),
      { maxLength: 5 },
    ),
  });

  test.prop([inputs, fc.constantFrom('exact' as const, 'truncate' as const)])(
    'deterministic, ids unique, independent of strike input order',
    (inp, ids) => {
      const a = buildLevelUniverse(inp, { ids });
      expect(buildLevelUniverse(inp, { ids })).toEqual(a);
      expect(new Set(a.map((l) => l.id)).size).toBe(a.length);
      expect(buildLevelUniverse({ ...inp, strikes: [...inp.strikes].reverse() }, { ids })).toEqual(a);
      if (inp.spot === null) expect(a).toEqual([]);
      for (const l of a) {
        if (l.kind === 'STRIKE' || l.kind === 'ROUND') expect(Math.abs(l.price - inp.spot!)).toBeLessThanOrEqual(60);
        if (ids === 'exact' && l.kind !== 'STRIKE' && l.kind !== 'ROUND' && l.kind !== 'USER_HOTZONE') {
          expect(l.id).toBe(l.kind);
        }
        if (ids === 'exact' && (l.kind === 'STRIKE' || l.kind === 'ROUND'))
          expect(Number(l.id.split('_')[1])).toBe(l.price);
      }
    },
  );
});
