import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Aggressor, EventSource, futuresTrade, mbp10, optionTrade } from '../../src/common/event-types.js';
import type { FuturesTrade, MBP10, OptionTrade } from '../../src/common/event-types.js';
import { decodeJson, encodeJson, JsonDecodeError, JsonEncodeError } from '../../src/common/json.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const int64 = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
const source = fc.constantFrom(...Object.values(EventSource));
const aggressor = fc.constantFrom(Aggressor.BUY, Aggressor.SELL, Aggressor.MID);
const price = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 });
const conditions = fc.option(fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 4 }), { nil: null });

const futuresTradeArb: fc.Arbitrary<FuturesTrade> = fc.record({
  ts_event_ns: int64,
  ts_recv_ns: int64,
  source,
  symbol: fc.string({ maxLength: 20 }),
  price,
  size: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  aggressor,
  exchange: fc.option(fc.string(), { nil: null }),
  conditions,
  seq: fc.option(int64, { nil: null }),
});

const levelArb = fc.record({
  bid_px: price,
  bid_sz: fc.nat(),
  ask_px: price,
  ask_sz: fc.nat(),
});

const mbp10Arb: fc.Arbitrary<MBP10> = fc.record({
  ts_event_ns: int64,
  ts_recv_ns: int64,
  source,
  symbol: fc.string({ maxLength: 20 }),
  levels: fc.array(levelArb, { maxLength: 10 }),
  is_snapshot: fc.boolean(),
  seq: fc.option(int64, { nil: null }),
});

const optionTradeArb: fc.Arbitrary<OptionTrade> = fc.record({
  ts_event_ns: int64,
  ts_recv_ns: int64,
  source,
  underlying: fc.string({ maxLength: 10 }),
  option_symbol: fc.string(),
  exp_date: fc
    .date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  strike: price,
  right: fc.constantFrom('C' as const, 'P' as const),
  price,
  size: fc.nat(),
  opt_bid: fc.option(price, { nil: null }),
  opt_ask: fc.option(price, { nil: null }),
  aggressor,
  conditions,
  seq: fc.option(int64, { nil: null }),
});

/** JSON cannot tell -0 from 0; the wire carries 0. Walks the value (strings such as "0n" stay strings). */
function normaliseZero<T>(v: T): T {
  const walk = (x: unknown): unknown => {
    if (typeof x === 'number') return Object.is(x, -0) ? 0 : x;
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === 'object') {
      return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]));
    }
    return x;
  };
  return walk(v) as T;
}

describe('lossless JSON round trip', () => {
  test.prop([futuresTradeArb])('FuturesTrade over the full int64 range', (e) => {
    expect(decodeJson(encodeJson(e))).toEqual(normaliseZero(e));
  });
  test.prop([mbp10Arb])('MBP10 with nested levels', (e) => {
    expect(decodeJson(encodeJson(e))).toEqual(normaliseZero(e));
  });
  test.prop([optionTradeArb])('OptionTrade', (e) => {
    expect(decodeJson(encodeJson(e))).toEqual(normaliseZero(e));
  });
  it('keeps a string that looks like a tagged bigint a string (seed 1070920501 counterexample)', () => {
    const e = { option_symbol: '0n', underlying: '-12n', ts_event_ns: 0n };
    expect(decodeJson(encodeJson(e))).toEqual(e);
  });
  test.prop([fc.jsonValue()])('any JSON value decodes like JSON.parse when it has no big integers', (v) => {
    const text = JSON.stringify(v);
    fc.pre(!/(^|[^.\d])-?\d{16,}(?![.\deE])/.test(text));
    expect(decodeJson(text)).toEqual(JSON.parse(text));
  });
});

describe('reading what the Python reference writes', () => {
  it('keeps nanosecond integers exact', () => {
    const text =
      '{"ts_event_ns": 1765886400000000001, "ts_recv_ns": 1765886400000151003, "source": "replay", "symbol": "ESZ5", ' +
      '"price": 6875.25, "size": 5, "aggressor": 1, "exchange": "CME", "conditions": null, "seq": 88122}';
    const e = decodeJson(text) as FuturesTrade;
    expect(e.ts_event_ns).toBe(1765886400000000001n);
    expect(e.ts_recv_ns).toBe(1765886400000151003n);
    expect(e.seq).toBe(88122n);
    expect(e.size).toBe(5);
    expect(e.price).toBe(6875.25);
    // plain JSON.parse would have rounded it
    expect(BigInt((JSON.parse(text) as { ts_event_ns: number }).ts_event_ns)).not.toBe(1765886400000000001n);
  });
  test.prop([fc.bigInt({ min: 946684800000000000n, max: 4102444800000000000n })])(
    'any epoch-ns integer written by Python decodes exactly',
    (ns) => {
      const text = `{"ts_event_ns": ${ns}, "nested": {"when_ns": ${ns}}, "list": [${ns}]}`;
      expect(decodeJson(text)).toEqual({ ts_event_ns: ns, nested: { when_ns: ns }, list: [ns] });
    },
  );
  it('maps NaN and Infinity tokens to null', () => {
    expect(decodeJson('{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1.5}')).toEqual({
      a: null,
      b: null,
      c: null,
      d: 1.5,
    });
  });
  it('accepts decimal strings for int64 fields, and named extra int64 keys', () => {
    expect(decodeJson('{"ts_event_ns":"1765886400000000001","volume":7}', { int64Keys: new Set(['volume']) })).toEqual({
      ts_event_ns: 1765886400000000001n,
      volume: 7n,
    });
  });
  it('rejects malformed text with a position', () => {
    for (const bad of ['{"a":1,}', '{"a" 1}', '[1 2]', '{"a":01}', '"open', '{"a":1} x', '']) {
      expect(() => decodeJson(bad)).toThrow(JsonDecodeError);
    }
  });
  it('decodes UTF-8 bytes and escapes', () => {
    const bytes = Buffer.from('{"s":"caf\\u00e9 \\"q\\" ✓"}', 'utf8');
    expect(decodeJson(bytes)).toEqual({ s: 'café "q" ✓' });
  });
});

describe('encoding rules', () => {
  it('writes bigint as bare digits, non-finite as null, omits undefined', () => {
    expect(encodeJson({ a: 1765886400000000001n, b: Number.NaN, c: Infinity, d: undefined, e: [undefined, 1] })).toBe(
      '{"a":1765886400000000001,"b":null,"c":null,"e":[null,1]}',
    );
  });
  it('writes enums as their values', () => {
    const t = futuresTrade({
      ts_event_ns: 1n,
      source: EventSource.REPLAY,
      symbol: 'ESZ5',
      price: 1,
      size: 1,
      aggressor: Aggressor.SELL,
    });
    expect(encodeJson(t)).toBe(
      '{"ts_event_ns":1,"ts_recv_ns":1,"source":"replay","symbol":"ESZ5","price":1,"size":1,"aggressor":-1,"exchange":null,"conditions":null,"seq":null}',
    );
  });
  it('writes class instances by their fields, Maps as objects, Dates as YYYY-MM-DD', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly t_ns: bigint,
      ) {}
    }
    expect(encodeJson(new Point(1, 2n))).toBe('{"x":1,"t_ns":2}');
    expect(encodeJson(new Map<string, unknown>([['k', 1n]]))).toBe('{"k":1}');
    expect(encodeJson({ d: new Date('2025-12-16T15:00:00Z') })).toBe('{"d":"2025-12-16"}');
  });
  it('throws on values it cannot represent instead of stringifying them', () => {
    expect(() => encodeJson({ f: () => 1 })).toThrow(JsonEncodeError);
    expect(() => encodeJson({ s: Symbol('x') })).toThrow(/\$\.s/);
  });
  it('event builders produce exactly the schema fields', () => {
    const m = mbp10({ ts_event_ns: 5n, source: 'sim', symbol: 'ESZ5', levels: [] });
    expect(Object.keys(m)).toEqual(['ts_event_ns', 'ts_recv_ns', 'source', 'symbol', 'levels', 'is_snapshot', 'seq']);
    const o = optionTrade({
      ts_event_ns: 5n,
      source: 'sim',
      underlying: 'ES',
      option_symbol: 'ESZ5 C6900',
      exp_date: '2025-12-16',
      strike: 6900,
      right: 'C',
      price: 1,
      size: 1,
    });
    expect(Object.keys(o)).toEqual([
      'ts_event_ns',
      'ts_recv_ns',
      'source',
      'underlying',
      'option_symbol',
      'exp_date',
      'strike',
      'right',
      'price',
      'size',
      'opt_bid',
      'opt_ask',
      'aggressor',
      'conditions',
      'seq',
    ]);
  });
});
