import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  FUTURES_TRADES_V1,
  FUTURES_TRADES_V2,
  SchemaRegistry,
  Column,
  SchemaValidationError,
  col,
  defineSchema,
} from '../../../src/common/schemas/index.js';

const V1_ROWS = [
  {
    ts_event_ns: 1_767_225_600_000_000_001n,
    ts_recv_ns: 1_767_225_600_000_000_002n,
    source: 'replay',
    symbol: 'ESH6',
    price: 6000.25,
    size: 3,
    aggressor: 1,
    exchange: 'CME',
    conditions: [1, 2],
    seq: 9_007_199_254_740_993n,
  },
  {
    ts_event_ns: 1_767_225_600_000_000_003n,
    ts_recv_ns: 1_767_225_600_000_000_003n,
    source: 'replay',
    symbol: 'ESH6',
    price: 6000.5,
    size: 1,
    aggressor: -1,
    exchange: null,
    conditions: null,
    seq: null,
  },
];

describe('schema versioning (SEED.md "Schema Versioning Contract")', () => {
  const registry = SchemaRegistry.withDefaults();
  registry.register(FUTURES_TRADES_V2);

  it('registers v2 beside v1; both stay readable', () => {
    expect(registry.listSchemas()).toContain('futures.trades.v1');
    expect(registry.listSchemas().at(-1)).toBe('futures.trades.v2');
    expect(registry.getVersion('futures.trades.v2')).toEqual({
      name: 'futures.trades',
      version: 2,
      tier: 'bronze',
      full_name: 'futures.trades.v2',
      description: FUTURES_TRADES_V2.description,
    });
    expect(registry.columns('futures.trades.v2').at(-1)).toEqual({
      name: 'venue_timestamp_ns',
      arrowType: 'Int64',
      nullable: true,
    });
    expect(registry.validate('futures.trades.v1', V1_ROWS[0])).toEqual(V1_ROWS[0]);
  });

  it('leaves the default registry with the seven v1 schemas', () => {
    expect(SchemaRegistry.get('futures.trades.v2')).toBeUndefined();
  });

  it('a v2 reader fills the optional column with null when reading v1 rows', () => {
    expect(registry.readRows('futures.trades.v2', V1_ROWS)).toEqual(
      V1_ROWS.map((r) => ({ ...r, venue_timestamp_ns: null })),
    );
  });

  it('a v2 reader fills the optional column with null when reading a v1 Arrow table', () => {
    const v1Table = tableFromIPC(tableToIPC(registry.toArrowTable('futures.trades.v1', V1_ROWS)));
    expect(v1Table.schema.fields.map((f) => f.name)).not.toContain('venue_timestamp_ns');
    expect(registry.fromArrowTable('futures.trades.v2', v1Table)).toEqual(
      V1_ROWS.map((r) => ({ ...r, venue_timestamp_ns: null })),
    );
  });

  it('a v1 reader of a v2 table addresses columns by name and ignores the new one', () => {
    const v2Rows = V1_ROWS.map((r) => ({ ...r, venue_timestamp_ns: 1_767_225_600_000_000_000n }));
    const v2Table = registry.toArrowTable('futures.trades.v2', v2Rows);
    expect(registry.fromArrowTable('futures.trades.v1', v2Table)).toEqual(V1_ROWS);
  });

  it('a table missing a required column is rejected, naming it', () => {
    const table = registry.toArrowTable('futures.trades.v1', V1_ROWS);
    const withoutPrice = table.select(table.schema.fields.map((f) => f.name).filter((n) => n !== 'price'));
    expect(() => registry.fromArrowTable('futures.trades.v1', withoutPrice)).toThrow(SchemaValidationError);
    expect(() => registry.fromArrowTable('futures.trades.v1', withoutPrice)).toThrow(/price/);
  });

  it('registering the same definition again is a no-op', () => {
    expect(() => registry.register(FUTURES_TRADES_V2)).not.toThrow();
    expect(registry.listSchemas().filter((n) => n === 'futures.trades.v2')).toHaveLength(1);
  });

  it('registering a different definition under a taken full name throws', () => {
    const impostor = defineSchema({
      name: 'futures.trades',
      version: 1,
      tier: 'bronze',
      description: FUTURES_TRADES_V1.description,
      columns: [col.epochNs('ts_event_ns'), col.float64('price').gt(0)],
    });
    expect(() => registry.register(impostor)).toThrow(/futures\.trades\.v1.*different definition/);
    // Only one rule differs (price > 0 dropped): still a different schema.
    const looser = defineSchema({
      name: 'futures.trades',
      version: 2,
      tier: 'bronze',
      description: FUTURES_TRADES_V2.description,
      columns: FUTURES_TRADES_V2.columns.map(
        (spec) => new Column(spec.name === 'price' ? { ...spec, rules: {} } : spec),
      ),
    });
    expect(() => registry.register(looser)).toThrow(/futures\.trades\.v2.*different definition/);
  });
});
