import { Field, Float64, Int64, Schema, TimestampNanosecond, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  FEATURE_COLUMNS,
  SchemaRegistry,
  SchemaValidationError,
  TRAINING_ES_PIPELINE_V1,
} from '../../../src/common/schemas/index.js';

const SILVER = 'silver.features.es_pipeline.v1';

describe('column-set validation (DATA.md §2.11)', () => {
  it('accepts the registered Arrow schema itself, and the training schema against Silver', () => {
    expect(SchemaRegistry.compareColumns(SILVER, SchemaRegistry.getArrowSchema(SILVER)!).ok).toBe(true);
    expect(SchemaRegistry.compareColumns(SILVER, TRAINING_ES_PIPELINE_V1.arrowSchema).ok).toBe(true);
    expect(() =>
      SchemaRegistry.assertColumns('training.es_pipeline.v1', TRAINING_ES_PIPELINE_V1.arrowSchema),
    ).not.toThrow();
  });

  it('reports missing and extra columns: count, then the first ten sorted', () => {
    const registered = SchemaRegistry.columns(SILVER);
    const dropped = new Set(FEATURE_COLUMNS.slice(0, 12));
    const actual = [
      ...registered
        .filter((c) => !dropped.has(c.name))
        .map((c) => ({ name: c.name, type: c.arrowType, nullable: c.nullable })),
      { name: 'zeta_extra', type: 'Float64' },
      { name: 'alpha_extra', type: 'Float64' },
    ];
    const report = SchemaRegistry.compareColumns(SILVER, actual);
    const expectedMissing = [...dropped].sort();
    expect(report.ok).toBe(false);
    expect(report.missing).toEqual(expectedMissing);
    expect(report.extra).toEqual(['alpha_extra', 'zeta_extra']);
    expect(report.errors).toEqual([
      `Missing columns (12): [${expectedMissing
        .slice(0, 10)
        .map((n) => `'${n}'`)
        .join(', ')}]`,
      "Extra columns (2): ['alpha_extra', 'zeta_extra']",
    ]);
  });

  it('reports type and nullability mismatches', () => {
    const fields = SchemaRegistry.getArrowSchema('futures.trades.v1')!.fields.map((f) => {
      if (f.name === 'size') return new Field('size', new Int64(), false);
      if (f.name === 'seq') return new Field('seq', new Int64(), false);
      return f;
    });
    const report = SchemaRegistry.compareColumns('futures.trades.v1', new Schema(fields));
    expect(report.typeMismatches).toEqual([{ name: 'size', expected: 'Int32', actual: 'Int64' }]);
    expect(report.nullabilityMismatches).toEqual([{ name: 'seq', expected: true, actual: false }]);
    expect(report.errors).toEqual([
      'Type mismatches (1): size: expected Int32, got Int64',
      'Nullability mismatches (1): seq: expected nullable',
    ]);
  });

  it('tells a zoned timestamp from the required zone-less one', () => {
    const fields = SchemaRegistry.getArrowSchema(SILVER)!.fields.map((f) =>
      f.name === 'timestamp' ? new Field('timestamp', new TimestampNanosecond('UTC'), false) : f,
    );
    expect(SchemaRegistry.compareColumns(SILVER, new Schema(fields)).typeMismatches).toEqual([
      { name: 'timestamp', expected: 'TimestampNanosecond', actual: 'TimestampNanosecond[UTC]' },
    ]);
  });

  it('understands pyarrow type names and skips nullability it is not told', () => {
    const actual = [
      { name: 'ts_event_ns', type: 'int64', nullable: false },
      { name: 'ts_recv_ns', type: 'int64' },
      { name: 'source', type: 'string' },
      { name: 'symbol', type: new Utf8() },
      { name: 'price', type: 'double' },
      { name: 'size', type: 'int32' },
      { name: 'aggressor', type: 'int8' },
      { name: 'exchange', type: 'string' },
      { name: 'conditions', type: 'list<item: int16>' },
      { name: 'seq', type: 'int64', nullable: true },
    ];
    expect(SchemaRegistry.compareColumns('futures.trades.v1', actual).ok).toBe(true);
  });

  it('assertColumns throws a SchemaValidationError with the report in its message', () => {
    const schema = new Schema([new Field('event_id', new Utf8(), false), new Field('spot', new Float64(), true)]);
    let error: unknown;
    try {
      SchemaRegistry.assertColumns(SILVER, schema);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaValidationError);
    const e = error as SchemaValidationError;
    expect(e.message).toContain('Missing columns (180)');
    expect(e.message).toContain('Nullability mismatches (1): spot: expected non-null');
    expect(e.issues.filter((i) => i.code === 'missing_column')).toHaveLength(180);
  });
});
