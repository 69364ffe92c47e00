import type { Field } from 'apache-arrow';
import { Int64, Schema, Utf8 } from 'apache-arrow';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  FUTURES_TRADES_V1,
  type FuturesTradeRow,
  type LevelSignalRow,
  SILVER_FEATURES_ES_PIPELINE_V1,
  SchemaRegistry,
  SchemaValidationError,
  col,
  defineSchema,
} from '../../../src/common/schemas/index.js';

describe('SchemaRegistry static API (SEED.md §3)', () => {
  it('lists the seven v1 schemas in registration order', () => {
    expect(SchemaRegistry.listSchemas()).toEqual([
      'options.trades.v1',
      'futures.trades.v1',
      'futures.mbp10.v1',
      'options.trades_enriched.v1',
      'silver.features.es_pipeline.v1',
      'training.es_pipeline.v1',
      'levels.signals.v1',
    ]);
  });

  it('get returns the model by full name or alias, undefined if unknown', () => {
    expect(SchemaRegistry.get('futures.trades.v1')).toBe(FUTURES_TRADES_V1);
    expect(SchemaRegistry.get('features.es_pipeline.v1')).toBe(SILVER_FEATURES_ES_PIPELINE_V1);
    expect(SchemaRegistry.get('stocks.trades.v1')).toBeUndefined();
    expect(SchemaRegistry.getArrowSchema('nope.v1')).toBeUndefined();
    expect(SchemaRegistry.getVersion('nope.v1')).toBeUndefined();
  });

  it('get(name).model is a zod model, getArrowSchema an Arrow schema', () => {
    const model = SchemaRegistry.get('futures.trades.v1')!.model;
    expect(model.safeParse({}).success).toBe(false);
    const arrow = SchemaRegistry.getArrowSchema('futures.trades.v1')!;
    expect(arrow).toBeInstanceOf(Schema);
    expect(arrow.fields[0]!.type).toBeInstanceOf(Int64);
    expect(SchemaRegistry.getArrowSchema('features.es_pipeline.v1')).toBe(SILVER_FEATURES_ES_PIPELINE_V1.arrowSchema);
  });

  it('getVersion returns {name, version, tier, full_name, description}, also for an alias', () => {
    expect(SchemaRegistry.getVersion('futures.mbp10.v1')).toEqual({
      name: 'futures.mbp10',
      version: 1,
      tier: 'bronze',
      full_name: 'futures.mbp10.v1',
      description: expect.any(String),
    });
    expect(SchemaRegistry.getVersion('features.es_pipeline.v1')).toMatchObject({
      name: 'silver.features.es_pipeline',
      full_name: 'silver.features.es_pipeline.v1',
      tier: 'silver',
    });
    expect(SchemaRegistry.listSchemas().map((n) => SchemaRegistry.getVersion(n)!.tier)).toEqual([
      'bronze',
      'bronze',
      'bronze',
      'silver',
      'silver',
      'gold',
      'gold',
    ]);
  });

  it('unknown names throw in the operations that need a schema', () => {
    expect(() => SchemaRegistry.columns('stocks.quotes.v1')).toThrow(/unknown schema stocks\.quotes\.v1/);
    expect(() => SchemaRegistry.validate('stocks.quotes.v1', {})).toThrow(/known: options\.trades\.v1/);
  });

  it('int64Columns lists every Int64 column, for the JSON decoder', () => {
    expect([...SchemaRegistry.int64Columns('futures.trades.v1')]).toEqual(['ts_event_ns', 'ts_recv_ns', 'seq']);
    expect([...SchemaRegistry.int64Columns('levels.signals.v1')]).toEqual([
      'ts_event_ns',
      'barrier_added',
      'barrier_canceled',
      'barrier_filled',
      'tape_buy_vol',
      'tape_sell_vol',
    ]);
    expect(SchemaRegistry.int64Columns('silver.features.es_pipeline.v1').size).toBe(9);
  });

  it('validate throws SchemaValidationError carrying schema and issues', () => {
    const error = (() => {
      try {
        SchemaRegistry.validate('futures.trades.v1', { price: 'x' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SchemaValidationError);
    expect((error as SchemaValidationError).schema).toBe('futures.trades.v1');
    expect((error as SchemaValidationError).issues.map((i) => i.path)).toContain('price');
  });

  it('types rows by schema name', () => {
    expectTypeOf<ReturnType<typeof SchemaRegistry.validate<'futures.trades.v1'>>>().toEqualTypeOf<FuturesTradeRow>();
    expectTypeOf<ReturnType<typeof SchemaRegistry.fromArrowTable<'levels.signals.v1'>>>().toEqualTypeOf<
      LevelSignalRow[]
    >();
    expectTypeOf<ReturnType<typeof SchemaRegistry.validate<string>>>().toEqualTypeOf<Record<string, unknown>>();
  });
});

describe('SchemaRegistry instances', () => {
  const example = defineSchema({
    name: 'example.rows',
    version: 1,
    tier: 'bronze',
    description: 'test schema',
    columns: [col.epochNs('ts_event_ns'), col.utf8('note').nullable()],
    aliases: ['example.legacy.v1'],
  });

  it('start empty and keep registration order', () => {
    const registry = new SchemaRegistry();
    expect(registry.listSchemas()).toEqual([]);
    registry.register(example);
    registry.register(FUTURES_TRADES_V1);
    expect(registry.listSchemas()).toEqual(['example.rows.v1', 'futures.trades.v1']);
    expect(registry.get('example.legacy.v1')).toBe(example);
  });

  it('do not share state with the default registry', () => {
    new SchemaRegistry().register(example);
    expect(SchemaRegistry.get('example.rows.v1')).toBeUndefined();
  });

  it('refuse an alias that is already a name or alias', () => {
    const registry = SchemaRegistry.withDefaults();
    const clash = defineSchema({
      name: 'other',
      version: 1,
      tier: 'silver',
      description: 'clash',
      columns: [col.utf8('x')],
      aliases: ['features.es_pipeline.v1'],
    });
    expect(() => registry.register(clash)).toThrow(/alias features\.es_pipeline\.v1/);
  });

  it('refuse a schema with a duplicate column', () => {
    expect(() =>
      defineSchema({
        name: 'dup',
        version: 1,
        tier: 'bronze',
        description: 'dup',
        columns: [col.utf8('x'), col.int8('x')],
      }),
    ).toThrow(/duplicate column x/);
  });

  it('build Arrow schemas whose nullability follows the definition', () => {
    const fields = example.arrowSchema.fields;
    expect(fields.map((f: Field) => [f.name, f.type instanceof Utf8 ? 'utf8' : 'int64', f.nullable])).toEqual([
      ['ts_event_ns', 'int64', false],
      ['note', 'utf8', true],
    ]);
  });
});
