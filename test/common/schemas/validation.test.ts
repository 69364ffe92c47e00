import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  FUTURES_TRADES_V1,
  LEVELS_SIGNALS_V1,
  OPTIONS_TRADES_V1,
  SchemaRegistry,
  SchemaValidationError,
  TIMESTAMP_MAX_NS,
  TIMESTAMP_MIN_NS,
  col,
  defineSchema,
} from '../../../src/common/schemas/index.js';
import { rowArbitrary, wrongValue } from './arbitraries.js';

const TRADE = {
  ts_event_ns: 1_767_225_600_000_000_000n,
  ts_recv_ns: 1_767_225_600_000_000_500n,
  source: 'replay',
  symbol: 'ESH6',
  price: 6012.25,
  size: 2,
  aggressor: 1,
  exchange: 'CME',
  conditions: [3],
  seq: 17n,
};

const OPTION = {
  ts_event_ns: 1_767_225_600_000_000_000n,
  ts_recv_ns: 1_767_225_600_000_000_000n,
  source: 'direct_feed',
  underlying: 'ES',
  option_symbol: 'E1AF6 C6000',
  exp_date: '2026-01-01',
  strike: 6000,
  right: 'C',
  price: 12.5,
  size: 1,
};

const SIGNAL = {
  ts_event_ns: 1_767_225_600_000_000_000n,
  underlying: 'ES',
  level_id: 'PM_HIGH_6000',
  level_kind: 'PM_HIGH',
  level_price: 6000,
};

function issuesOf(fn: () => unknown): SchemaValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SchemaValidationError);
    return e as SchemaValidationError;
  }
  throw new Error('expected a SchemaValidationError');
}

const SCHEMAS = SchemaRegistry.listSchemas().map((name) => SchemaRegistry.require(name));

describe.each(SCHEMAS.map((s) => [s.fullName, s] as const))('%s rejects', (name, schema) => {
  test.prop([rowArbitrary(schema), fc.nat()], { numRuns: 60 })('a wrong-typed column, naming it', (row, pick) => {
    const column = schema.columns[pick % schema.columns.length]!;
    const error = issuesOf(() => SchemaRegistry.validate(name, { ...row, [column.name]: wrongValue(column) }));
    expect(error.schema).toBe(name);
    expect(error.issues.map((i) => i.path.split('.')[0])).toContain(column.name);
    expect(error.message).toContain(name);
    expect(error.message).toContain(column.name);
  });

  test.prop([rowArbitrary(schema), fc.string({ minLength: 1 })], { numRuns: 30 })(
    'an unknown key, naming it',
    (row, key) => {
      fc.pre(!schema.columns.some((c) => c.name === key) && key !== '__proto__');
      const error = issuesOf(() => SchemaRegistry.validate(name, { ...row, [key]: 1 }));
      expect(error.issues).toContainEqual({ path: key, code: 'unrecognized_keys', message: `unknown column ${key}` });
    },
  );
});

const junk = fc.oneof(
  fc.anything(),
  fc.integer({ min: -200, max: 200 }),
  fc.double(),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.string(),
  fc.constantFrom(undefined, null, '', '5', '-1', '1.5', '2024-02-29', '2023-02-29', 'C', 'BREAK', 'UP', 1.5e18, []),
  fc.array(fc.oneof(fc.integer({ min: -40_000, max: 40_000 }), fc.string())),
);

describe.each(SCHEMAS.map((s) => [s.fullName, s] as const))('%s fast path', (_name, schema) => {
  test.prop([rowArbitrary(schema), fc.array(fc.tuple(fc.nat(), junk), { maxLength: 3 }), fc.boolean()], {
    numRuns: 150,
  })('accepts exactly what the zod model accepts, with the same output', (row, edits, drop) => {
    const input: Record<string, unknown> = { ...row };
    for (const [pick, value] of edits) input[schema.columns[pick % schema.columns.length]!.name] = value;
    if (drop && edits.length > 0) delete input[schema.columns[edits[0]![0] % schema.columns.length]!.name];
    const reference = schema.model.safeParse(input);
    const result = schema.safeParse(input);
    expect(result.success).toBe(reference.success);
    if (result.success && reference.success) expect(result.data).toEqual(reference.data);
  });
});

describe('timestamps', () => {
  test.prop([
    fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: TIMESTAMP_MIN_NS - 1n }),
      fc.bigInt({ min: TIMESTAMP_MAX_NS + 1n, max: 2n ** 63n - 1n }),
    ),
    fc.constantFrom('ts_event_ns', 'ts_recv_ns'),
  ])('outside 2000..2100 are rejected with "outside valid range"', (ts, field) => {
    const error = issuesOf(() => FUTURES_TRADES_V1.parse({ ...TRADE, [field]: ts }));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.path).toBe(field);
    expect(error.issues[0]!.message).toContain('outside valid range');
  });

  it('accepts both bounds inclusive', () => {
    expect(FUTURES_TRADES_V1.parse({ ...TRADE, ts_event_ns: TIMESTAMP_MIN_NS }).ts_event_ns).toBe(TIMESTAMP_MIN_NS);
    expect(FUTURES_TRADES_V1.parse({ ...TRADE, ts_recv_ns: TIMESTAMP_MAX_NS }).ts_recv_ns).toBe(TIMESTAMP_MAX_NS);
  });

  it('rejects a ns timestamp sent as an unsafe double instead of rounding it', () => {
    const error = issuesOf(() => FUTURES_TRADES_V1.parse({ ...TRADE, ts_event_ns: 1.7672256e18 }));
    expect(error.issues[0]!.path).toBe('ts_event_ns');
  });
});

describe('value rules (DATA.md §2.2–2.8)', () => {
  it.each([
    ['price', 0],
    ['price', -1],
    ['size', 0],
    ['size', 1.5],
    ['aggressor', 2],
    ['symbol', ''],
    ['symbol', 'X'.repeat(21)],
    ['source', 'DATABENTO_CME'],
    ['seq', -1n],
    ['conditions', [40_000]],
  ])('futures.trades.v1 rejects %s = %s', (field, value) => {
    const error = issuesOf(() => FUTURES_TRADES_V1.parse({ ...TRADE, [field]: value }));
    expect(error.issues[0]!.path.split('.')[0]).toBe(field);
  });

  it.each([
    ['right', 'X'],
    ['right', 'CP'],
    ['strike', 0],
    ['price', -0.01],
    ['exp_date', '1999-12-31'],
    ['exp_date', '2026-02-30'],
    ['opt_bid', -1],
    ['underlying', 'ABCDEFGHIJK'],
  ])('options.trades.v1 rejects %s = %s', (field, value) => {
    const error = issuesOf(() => OPTIONS_TRADES_V1.parse({ ...OPTION, [field]: value }));
    expect(error.issues[0]!.path).toBe(field);
  });

  it.each([
    ['break_score_raw', 100.01],
    ['break_score_smooth', -1],
    ['tape_imbalance', 1.5],
    ['tape_buy_vol', -1],
    ['barrier_filled', -3],
    ['runway_distance', -0.25],
    ['tape_sweep_notional', -1],
    ['level_kind', 'PM_MID'],
    ['signal', 'BUY'],
    ['confidence', 'VERY_HIGH'],
    ['barrier_state', 'WALLISH'],
    ['fuel_effect', 'BOOST'],
    ['runway_quality', 'FOGGY'],
    ['direction', 'LEFT'],
  ])('levels.signals.v1 rejects %s = %s', (field, value) => {
    const error = issuesOf(() => LEVELS_SIGNALS_V1.parse({ ...SIGNAL, [field]: value }));
    expect(error.issues[0]!.path).toBe(field);
  });

  it('accepts the bounds of the ranged levels.signals columns', () => {
    const row = LEVELS_SIGNALS_V1.parse({ ...SIGNAL, break_score_raw: 0, break_score_smooth: 100, tape_imbalance: -1 });
    expect([row.break_score_raw, row.break_score_smooth, row.tape_imbalance]).toEqual([0, 100, -1]);
  });

  it('never lets a rule widen the storage range', () => {
    const schema = defineSchema({
      name: 'bounds',
      version: 1,
      tier: 'bronze',
      description: 'rule wider than int8',
      columns: [col.int8('x').max(1000), col.int32('y').min(-1e12)],
    });
    expect(issuesOf(() => schema.parse({ x: 200, y: 0 })).issues[0]!.path).toBe('x');
    expect(issuesOf(() => schema.parse({ x: 0, y: -3e9 })).issues[0]!.path).toBe('y');
    expect(schema.parse({ x: 127, y: -2_147_483_648 })).toEqual({ x: 127, y: -2_147_483_648 });
  });

  it('reports every offending column at once', () => {
    const error = issuesOf(() => FUTURES_TRADES_V1.parse({ ...TRADE, price: -1, size: 0, aggressor: 5 }));
    expect(error.issues.map((i) => i.path)).toEqual(['price', 'size', 'aggressor']);
  });

  it('rejects non-objects with a row-level issue', () => {
    for (const input of [null, 42, 'row', [TRADE]]) {
      const error = issuesOf(() => FUTURES_TRADES_V1.parse(input));
      expect(error.issues[0]!.path).toBe('');
    }
  });

  it('rejects NaN and infinities in float columns', () => {
    for (const price of [Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(issuesOf(() => FUTURES_TRADES_V1.parse({ ...TRADE, price })).issues[0]!.path).toBe('price');
    }
  });
});

describe('lenient input, canonical output (DATA.md §2.11)', () => {
  it('coerces numeric strings and decimal int64 strings', () => {
    const row = FUTURES_TRADES_V1.parse({
      ...TRADE,
      ts_event_ns: '1767225600000000001',
      price: '6012.5',
      size: '5',
      aggressor: '-1',
      conditions: ['7', 8],
      seq: '9223372036854775807',
    });
    expect(row).toEqual({
      ...TRADE,
      ts_event_ns: 1_767_225_600_000_000_001n,
      price: 6012.5,
      size: 5,
      aggressor: -1,
      conditions: [7, 8],
      seq: 9_223_372_036_854_775_807n,
    });
  });

  it('takes safe-integer numbers for bigint columns', () => {
    expect(FUTURES_TRADES_V1.parse({ ...TRADE, seq: 42 }).seq).toBe(42n);
  });

  it('does not coerce text that is not a number', () => {
    for (const size of ['', ' 5', '5x', 'five', true]) {
      expect(issuesOf(() => FUTURES_TRADES_V1.parse({ ...TRADE, size })).issues[0]!.path).toBe('size');
    }
  });

  it('fills omitted nullable columns with null and omitted defaulted columns with their default', () => {
    const row = FUTURES_TRADES_V1.parse({
      ts_event_ns: TRADE.ts_event_ns,
      ts_recv_ns: TRADE.ts_recv_ns,
      source: 'sim',
      symbol: 'ES',
      price: 1,
      size: 1,
    });
    expect(row).toMatchObject({ aggressor: 0, exchange: null, conditions: null, seq: null });
    expect(Object.keys(row)).toEqual(FUTURES_TRADES_V1.columns.map((c) => c.name));
    expect(LEVELS_SIGNALS_V1.parse(SIGNAL).tape_sweep_detected).toBe(false);
  });

  it('names a missing required column', () => {
    const { price: _price, ...rest } = TRADE;
    const error = issuesOf(() => FUTURES_TRADES_V1.parse(rest));
    expect(error.issues).toEqual([
      { path: 'price', code: 'missing_column', message: 'required column price is missing' },
    ]);
  });

  it('accepts a Date for a date32 column and returns YYYY-MM-DD', () => {
    expect(OPTIONS_TRADES_V1.parse({ ...OPTION, exp_date: new Date('2026-03-20T00:00:00Z') }).exp_date).toBe(
      '2026-03-20',
    );
  });

  it('puts the index of the failing row into readRows paths', () => {
    const error = issuesOf(() => SchemaRegistry.readRows('futures.trades.v1', [TRADE, { ...TRADE, price: 0 }]));
    expect(error.issues[0]!.path).toBe('[1].price');
  });
});
