/**
 * Gold schemas (DATA.md §2.7–2.8): the training set promoted from Silver, and the streaming level signals, one row per
 * level per `levels.signals` message.
 */
import { col } from './define.js';
import {
  BARRIER_STATES,
  CONFIDENCES,
  DIRECTIONS,
  FUEL_EFFECTS,
  LEVEL_KINDS,
  RUNWAY_QUALITIES,
  SIGNALS,
} from './enums.js';
import { type RowType, defineSchema } from './schema.js';
import { ES_PIPELINE_COLUMNS } from './silver.js';

export const TRAINING_ES_PIPELINE_V1 = defineSchema({
  name: 'training.es_pipeline',
  version: 1,
  tier: 'gold',
  description:
    'ES pipeline training set promoted from Silver features (same columns as silver.features.es_pipeline.v1)',
  columns: ES_PIPELINE_COLUMNS,
  metadata: {
    source: 'silver/features/es_pipeline/',
    quality_gates: 'front_month_purity,causality,rth_only,non_null_coverage',
  },
});
export type TrainingEsPipelineRow = RowType<typeof TRAINING_ES_PIPELINE_V1>;

export const LEVELS_SIGNALS_V1 = defineSchema({
  name: 'levels.signals',
  version: 1,
  tier: 'gold',
  description: 'Streaming level signals: one row per monitored level per levels.signals message',
  columns: [
    col.epochNs('ts_event_ns'),
    col.utf8('underlying'),
    col.float64('spot').nullable(),
    col.float64('bid').nullable(),
    col.float64('ask').nullable(),
    col.utf8('level_id'),
    col.utf8('level_kind').oneOf(LEVEL_KINDS),
    col.float64('level_price'),
    col.utf8('direction').nullable().oneOf(DIRECTIONS),
    col.float64('distance').nullable(),
    col.float64('break_score_raw').nullable().range(0, 100),
    col.float64('break_score_smooth').nullable().range(0, 100),
    col.utf8('signal').nullable().oneOf(SIGNALS),
    col.utf8('confidence').nullable().oneOf(CONFIDENCES),
    col.utf8('barrier_state').nullable().oneOf(BARRIER_STATES),
    col.float64('barrier_delta_liq').nullable(),
    col.float64('barrier_replenishment_ratio').nullable(),
    col.int64('barrier_added').nullable().nonNegative(),
    col.int64('barrier_canceled').nullable().nonNegative(),
    col.int64('barrier_filled').nullable().nonNegative(),
    col.float64('tape_imbalance').nullable().range(-1, 1),
    col.int64('tape_buy_vol').nullable().nonNegative(),
    col.int64('tape_sell_vol').nullable().nonNegative(),
    col.float64('tape_velocity').nullable(),
    col.bool('tape_sweep_detected').default(false),
    col.utf8('tape_sweep_direction').nullable(),
    col.float64('tape_sweep_notional').nullable().nonNegative(),
    col.utf8('fuel_effect').nullable().oneOf(FUEL_EFFECTS),
    col.float64('fuel_net_dealer_gamma').nullable(),
    col.float64('fuel_call_wall').nullable(),
    col.float64('fuel_put_wall').nullable(),
    col.float64('fuel_hvl').nullable(),
    col.utf8('runway_direction').nullable().oneOf(DIRECTIONS),
    col.utf8('runway_next_level_id').nullable(),
    col.float64('runway_next_level_price').nullable(),
    col.float64('runway_distance').nullable().nonNegative(),
    col.utf8('runway_quality').nullable().oneOf(RUNWAY_QUALITIES),
    col.utf8('note').nullable(),
  ],
});
export type LevelSignalRow = RowType<typeof LEVELS_SIGNALS_V1>;
