import { describe, expect, expectTypeOf, it } from 'vitest';
import type { FuturesTrade, MBP10, OptionTrade } from '../../../src/common/event-types.js';
import type { unflattenMbp10 } from '../../../src/common/schemas/index.js';
import {
  FEATURE_COLUMNS,
  type FuturesTradeRow,
  IDENTITY_COLUMNS,
  LABEL_COLUMNS,
  type Mbp10Row,
  type OptionTradeRow,
  SILVER_FEATURES_ES_PIPELINE_V1,
  SchemaRegistry,
  TRAINING_ES_PIPELINE_V1,
} from '../../../src/common/schemas/index.js';

function census(name: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of SchemaRegistry.columns(name)) counts[c.arrowType] = (counts[c.arrowType] ?? 0) + 1;
  return counts;
}

const names = (schema: string) => SchemaRegistry.columns(schema).map((c) => c.name);
const nullable = (schema: string) =>
  SchemaRegistry.columns(schema)
    .filter((c) => c.nullable)
    .map((c) => c.name);

describe('column counts (DATA.md §2.1)', () => {
  it.each([
    ['options.trades.v1', 15],
    ['futures.trades.v1', 10],
    ['futures.mbp10.v1', 46],
    ['options.trades_enriched.v1', 21],
    ['silver.features.es_pipeline.v1', 182],
    ['training.es_pipeline.v1', 182],
    ['levels.signals.v1', 38],
  ])('%s has %i columns', (name, n) => {
    expect(SchemaRegistry.columns(name)).toHaveLength(n);
    expect(SchemaRegistry.getArrowSchema(name)!.fields).toHaveLength(n);
  });
});

describe('futures.trades.v1 (§2.2)', () => {
  it('has the exact columns, types and nullability', () => {
    expect(SchemaRegistry.columns('futures.trades.v1')).toEqual([
      { name: 'ts_event_ns', arrowType: 'Int64', nullable: false },
      { name: 'ts_recv_ns', arrowType: 'Int64', nullable: false },
      { name: 'source', arrowType: 'Utf8', nullable: false },
      { name: 'symbol', arrowType: 'Utf8', nullable: false },
      { name: 'price', arrowType: 'Float64', nullable: false },
      { name: 'size', arrowType: 'Int32', nullable: false },
      { name: 'aggressor', arrowType: 'Int8', nullable: false },
      { name: 'exchange', arrowType: 'Utf8', nullable: true },
      { name: 'conditions', arrowType: 'List<Int16>', nullable: true },
      { name: 'seq', arrowType: 'Int64', nullable: true },
    ]);
  });
});

describe('options.trades.v1 (§2.4) and options.trades_enriched.v1 (§2.5)', () => {
  it('stores exp_date as Date32 and keeps the wire order', () => {
    expect(names('options.trades.v1')).toEqual([
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
    expect(SchemaRegistry.columns('options.trades.v1')[5]).toEqual({
      name: 'exp_date',
      arrowType: 'DateDay',
      nullable: false,
    });
    expect(nullable('options.trades.v1')).toEqual(['opt_bid', 'opt_ask', 'conditions', 'seq']);
  });

  it('enriched = the 15 option columns then six nullable join columns', () => {
    expect(names('options.trades_enriched.v1').slice(0, 15)).toEqual(names('options.trades.v1'));
    expect(SchemaRegistry.columns('options.trades_enriched.v1').slice(15)).toEqual([
      { name: 'greeks_snapshot_id', arrowType: 'Utf8', nullable: true },
      { name: 'delta', arrowType: 'Float64', nullable: true },
      { name: 'gamma', arrowType: 'Float64', nullable: true },
      { name: 'delta_notional', arrowType: 'Float64', nullable: true },
      { name: 'gamma_notional', arrowType: 'Float64', nullable: true },
      { name: 'join_tolerance_ms', arrowType: 'Int64', nullable: true },
    ]);
  });
});

describe('futures.mbp10.v1 (§2.3)', () => {
  it('interleaves px/sz per level, bids before asks, seq the only nullable column', () => {
    const cols = names('futures.mbp10.v1');
    expect(cols.slice(0, 4)).toEqual(['ts_event_ns', 'ts_recv_ns', 'source', 'symbol']);
    expect(cols.slice(4, 8)).toEqual(['bid_px_1', 'bid_sz_1', 'bid_px_2', 'bid_sz_2']);
    expect(cols.slice(22, 26)).toEqual(['bid_px_10', 'bid_sz_10', 'ask_px_1', 'ask_sz_1']);
    expect(cols.slice(42)).toEqual(['ask_px_10', 'ask_sz_10', 'is_snapshot', 'seq']);
    expect(nullable('futures.mbp10.v1')).toEqual(['seq']);
    expect(census('futures.mbp10.v1')).toEqual({ Int64: 3, Utf8: 2, Float64: 20, Int32: 20, Bool: 1 });
  });
});

describe('silver.features.es_pipeline.v1 (§2.6)', () => {
  const name = 'silver.features.es_pipeline.v1';

  it('matches the census: 144 float64, 14 int8, 3 int32, 9 int64, 10 utf8, 1 bool, 1 timestamp; 28 nullable', () => {
    expect(census(name)).toEqual({
      Float64: 144,
      Int8: 14,
      Int32: 3,
      Int64: 9,
      Utf8: 10,
      Bool: 1,
      TimestampNanosecond: 1,
    });
    expect(nullable(name)).toHaveLength(28);
  });

  it('exports identity, feature and label lists that tile the schema in order', () => {
    expect(IDENTITY_COLUMNS).toEqual([
      'event_id',
      'ts_ns',
      'timestamp',
      'level_price',
      'level_kind',
      'level_kind_name',
      'direction',
      'entry_price',
      'zone_width',
      'date',
    ]);
    expect(FEATURE_COLUMNS).toHaveLength(108);
    expect(LABEL_COLUMNS).toHaveLength(64);
    expect([...IDENTITY_COLUMNS, ...FEATURE_COLUMNS, ...LABEL_COLUMNS]).toEqual(names(name));
  });

  it('keeps the block order of the spec', () => {
    const cols = names(name);
    const at = (c: string) => cols.indexOf(c);
    expect(cols.slice(at('velocity_1min'), at('velocity_1min') + 7)).toEqual([
      'velocity_1min',
      'acceleration_1min',
      'jerk_1min',
      'velocity_3min',
      'acceleration_3min',
      'jerk_3min',
      'momentum_trend_3min',
    ]);
    expect(cols.slice(at('gex_above_1strike'), at('gex_above_1strike') + 5)).toEqual([
      'gex_above_1strike',
      'gex_below_1strike',
      'call_gex_above_1strike',
      'put_gex_below_1strike',
      'gex_above_2strike',
    ]);
    expect(LABEL_COLUMNS.slice(0, 16)).toEqual([
      'outcome_2min',
      'excursion_max_2min',
      'excursion_min_2min',
      'strength_signed_2min',
      'strength_abs_2min',
      'time_to_threshold_1_2min',
      'time_to_threshold_2_2min',
      'time_to_break_1_2min',
      'time_to_break_2_2min',
      'time_to_bounce_1_2min',
      'time_to_bounce_2_2min',
      'tradeable_1_2min',
      'tradeable_2_2min',
      'confirm_ts_ns_2min',
      'anchor_spot_2min',
      'future_price_2min',
    ]);
    expect(LABEL_COLUMNS.slice(48)).toEqual(LABEL_COLUMNS.slice(0, 16).map((c) => c.replace('_2min', '')));
    expect(FEATURE_COLUMNS.slice(-6)).toEqual([
      'attempt_index',
      'attempt_cluster_id',
      'barrier_replenishment_trend',
      'barrier_delta_liq_trend',
      'tape_velocity_trend',
      'tape_imbalance_trend',
    ]);
  });

  it('stores timestamp as Timestamp(ns) without a time zone', () => {
    const field = SILVER_FEATURES_ES_PIPELINE_V1.arrowSchema.fields[2]!;
    expect(field.name).toBe('timestamp');
    expect(SchemaRegistry.columns(name)[2]!.arrowType).toBe('TimestampNanosecond');
  });

  it('carries the pipeline metadata', () => {
    expect(Object.fromEntries(SchemaRegistry.getArrowSchema(name)!.metadata)).toEqual({
      schema_name: 'silver.features.es_pipeline.v1',
      tier: 'silver',
      description: SILVER_FEATURES_ES_PIPELINE_V1.description,
      pipeline: 'es_pipeline',
      pipeline_version: '2.0.0',
      total_columns: '182',
    });
  });
});

describe('training.es_pipeline.v1 (§2.7)', () => {
  it('has the Silver columns with gold metadata', () => {
    expect(SchemaRegistry.columns('training.es_pipeline.v1')).toEqual(
      SchemaRegistry.columns('silver.features.es_pipeline.v1'),
    );
    expect(Object.fromEntries(TRAINING_ES_PIPELINE_V1.arrowSchema.metadata)).toMatchObject({
      schema_name: 'training.es_pipeline.v1',
      tier: 'gold',
      source: 'silver/features/es_pipeline/',
      quality_gates: 'front_month_purity,causality,rth_only,non_null_coverage',
    });
  });
});

describe('levels.signals.v1 (§2.8)', () => {
  it('has the 38 columns in table order; only six are non-null', () => {
    expect(names('levels.signals.v1')).toEqual([
      'ts_event_ns',
      'underlying',
      'spot',
      'bid',
      'ask',
      'level_id',
      'level_kind',
      'level_price',
      'direction',
      'distance',
      'break_score_raw',
      'break_score_smooth',
      'signal',
      'confidence',
      'barrier_state',
      'barrier_delta_liq',
      'barrier_replenishment_ratio',
      'barrier_added',
      'barrier_canceled',
      'barrier_filled',
      'tape_imbalance',
      'tape_buy_vol',
      'tape_sell_vol',
      'tape_velocity',
      'tape_sweep_detected',
      'tape_sweep_direction',
      'tape_sweep_notional',
      'fuel_effect',
      'fuel_net_dealer_gamma',
      'fuel_call_wall',
      'fuel_put_wall',
      'fuel_hvl',
      'runway_direction',
      'runway_next_level_id',
      'runway_next_level_price',
      'runway_distance',
      'runway_quality',
      'note',
    ]);
    expect(
      SchemaRegistry.columns('levels.signals.v1')
        .filter((c) => !c.nullable)
        .map((c) => c.name),
    ).toEqual(['ts_event_ns', 'underlying', 'level_id', 'level_kind', 'level_price', 'tape_sweep_detected']);
    expect(census('levels.signals.v1')).toEqual({ Int64: 6, Utf8: 13, Float64: 18, Bool: 1 });
  });
});

describe('every schema', () => {
  it.each(SchemaRegistry.listSchemas())('%s carries schema_name, tier and description metadata', (name) => {
    const meta = SchemaRegistry.getArrowSchema(name)!.metadata;
    const version = SchemaRegistry.getVersion(name)!;
    expect(meta.get('schema_name')).toBe(name);
    expect(meta.get('tier')).toBe(version.tier);
    expect(meta.get('description')).toBe(version.description);
  });
});

describe('row types follow the event types', () => {
  it('Bronze rows are the events (MBP-10 after flattening)', () => {
    expectTypeOf<FuturesTradeRow>().toEqualTypeOf<FuturesTrade>();
    expectTypeOf<OptionTradeRow>().toEqualTypeOf<OptionTrade>();
    expectTypeOf<ReturnType<typeof unflattenMbp10>>().toEqualTypeOf<MBP10>();
    expectTypeOf<Mbp10Row['bid_px_10']>().toEqualTypeOf<number>();
    expectTypeOf<Mbp10Row['seq']>().toEqualTypeOf<bigint | null>();
  });
});
