import { fc, test } from '@fast-check/vitest';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson } from '../../../src/common/json.js';
import { FUTURES_TRADES_V1, INT64_MAX, SchemaRegistry } from '../../../src/common/schemas/index.js';
import { rowArbitrary } from './arbitraries.js';

const SCHEMAS = SchemaRegistry.listSchemas().map((name) => SchemaRegistry.require(name));
const rowsOf = (name: string, maxLength = 8) =>
  fc.array(rowArbitrary(SchemaRegistry.require(name)), { minLength: 0, maxLength });

describe.each(SCHEMAS.map((s) => [s.fullName, s] as const))('%s', (name) => {
  test.prop([rowArbitrary(SchemaRegistry.require(name))], { numRuns: 60 })(
    'random valid rows validate as is',
    (row) => {
      expect(SchemaRegistry.validate(name, row)).toEqual(row);
    },
  );

  test.prop([rowsOf(name)], { numRuns: 40 })('rows → Arrow → IPC bytes → Arrow → rows is the identity', (rows) => {
    const table = SchemaRegistry.toArrowTable(name, rows);
    expect(table.numRows).toBe(rows.length);
    const back = tableFromIPC(tableToIPC(table));
    expect(back.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual(
      table.schema.fields.map((f) => [f.name, String(f.type), f.nullable]),
    );
    expect(back.schema.metadata).toEqual(SchemaRegistry.getArrowSchema(name)!.metadata);
    expect(SchemaRegistry.fromArrowTable(name, back)).toEqual(rows);
  });

  test.prop([rowArbitrary(SchemaRegistry.require(name))], { numRuns: 60 })(
    'encodeJson → decodeJson(int64Keys) → validate is the identity',
    (row) => {
      const text = encodeJson(row);
      const decoded = decodeJson(text, { int64Keys: SchemaRegistry.int64Columns(name) });
      expect(SchemaRegistry.validate(name, decoded)).toEqual(row);
    },
  );
});

describe('int64 exactness', () => {
  test.prop([
    fc.bigInt({ min: 0n, max: INT64_MAX }),
    fc.bigInt({ min: 946_684_800_000_000_000n, max: 4_102_444_800_000_000_000n }),
  ])('seq over the full non-negative int64 range and ns timestamps survive Arrow and JSON exactly', (seq, ts) => {
    const row = FUTURES_TRADES_V1.parse({
      ts_event_ns: ts,
      ts_recv_ns: ts,
      source: 'replay',
      symbol: 'ESZ5',
      price: 6000.25,
      size: 1,
      seq,
    });
    const [viaArrow] = FUTURES_TRADES_V1.fromArrowTable(
      tableFromIPC(tableToIPC(FUTURES_TRADES_V1.toArrowTable([row]))),
    );
    expect(viaArrow!.seq).toBe(seq);
    expect(viaArrow!.ts_event_ns).toBe(ts);
    const viaJson = FUTURES_TRADES_V1.parse(decodeJson(encodeJson(row)));
    expect(viaJson.seq).toBe(seq);
  });

  it('int64 counts are numbers while safe and bigints beyond 2^53, Int64 in Arrow either way', () => {
    const base = SchemaRegistry.validate('levels.signals.v1', {
      ts_event_ns: 1_767_225_600_000_000_000n,
      underlying: 'ES',
      level_id: 'PM_HIGH_6000',
      level_kind: 'PM_HIGH',
      level_price: 6000,
    });
    const rows = [
      { ...base, tape_buy_vol: 12 },
      { ...base, tape_buy_vol: 2n ** 60n },
      { ...base, tape_buy_vol: '42' },
    ];
    const table = SchemaRegistry.toArrowTable('levels.signals.v1', rows);
    expect([...table.getChild('tape_buy_vol')!]).toEqual([12n, 2n ** 60n, 42n]);
    expect(SchemaRegistry.fromArrowTable('levels.signals.v1', table).map((r) => r.tape_buy_vol)).toEqual([
      12,
      2n ** 60n,
      42,
    ]);
  });

  it('keeps the last nanosecond of a Timestamp(ns) column (Arrow getters would round to ms)', () => {
    const silver = SchemaRegistry.require('silver.features.es_pipeline.v1');
    const [sample] = fc.sample(rowArbitrary(silver), { numRuns: 1, seed: 7 });
    const ns = 1_767_225_600_123_456_789n;
    const table = silver.toArrowTable([{ ...sample, timestamp: ns }]);
    expect(table.schema.fields[2]!.type.toString()).toBe('Timestamp<NANOSECOND>');
    expect(silver.fromArrowTable(tableFromIPC(tableToIPC(table)))[0]!.timestamp).toBe(ns);
  });
});
