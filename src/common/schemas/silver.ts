/**
 * Silver schemas (DATA.md §2.5–2.6): option trades joined with greeks, and the 182-column feature/label table of the
 * ES pipeline (one row per level-touch event).
 */
import { CONFIG } from '../config.js';
import { col } from './define.js';
import { BARRIER_STATES, FUEL_EFFECTS, LEVEL_KIND_CODES, OUTCOME_LABELS } from './enums.js';
import { OPTION_TRADE_COLUMNS } from './bronze.js';
import { type RowType, defineSchema } from './schema.js';

export const OPTIONS_TRADES_ENRICHED_V1 = defineSchema({
  name: 'options.trades_enriched',
  version: 1,
  tier: 'silver',
  description: 'ES option trades joined with the nearest greeks snapshot, with delta/gamma notionals',
  columns: [
    ...OPTION_TRADE_COLUMNS,
    col.utf8('greeks_snapshot_id').nullable(),
    col.float64('delta').nullable().range(-1, 1),
    col.float64('gamma').nullable().nonNegative(),
    col.float64('delta_notional').nullable(),
    col.float64('gamma_notional').nullable(),
    col.int64('join_tolerance_ms').nullable().nonNegative(),
  ],
});
export type OptionTradeEnrichedRow = RowType<typeof OPTIONS_TRADES_ENRICHED_V1>;

/** `x_notional = x × size × multiplier` for the greeks present (DATA.md §2.5; ES options: 50 per point). */
export function computeNotionals<R extends Pick<OptionTradeEnrichedRow, 'delta' | 'gamma' | 'size'>>(
  row: R,
  multiplier: number = CONFIG.OPTION_CONTRACT_MULTIPLIER,
): R & Pick<OptionTradeEnrichedRow, 'delta_notional' | 'gamma_notional'> {
  return {
    ...row,
    delta_notional: row.delta === null ? null : row.delta * row.size * multiplier,
    gamma_notional: row.gamma === null ? null : row.gamma * row.size * multiplier,
  };
}

const IDENTITY = [
  col.utf8('event_id').length(1),
  col.epochNs('ts_ns'),
  col.timestampNs('timestamp'),
  col.float64('level_price'),
  col.int8('level_kind').oneOf(Object.values(LEVEL_KIND_CODES)),
  col.utf8('level_kind_name').oneOf(Object.keys(LEVEL_KIND_CODES) as (keyof typeof LEVEL_KIND_CODES)[]),
  col.utf8('direction').oneOf(['UP', 'DOWN']),
  col.float64('entry_price'),
  col.float64('zone_width').nonNegative(),
  col.utf8('date').pattern(/^\d{4}-\d{2}-\d{2}$/),
] as const;

const KINEMATIC_WINDOWS = ['3min', '5min', '10min', '20min'] as const;
const OFI_WINDOWS = ['30s', '60s', '120s', '300s'] as const;
const BARRIER_WINDOWS = ['1min', '3min', '5min'] as const;
const REFERENCE_LEVELS = ['pm_high', 'pm_low', 'or_high', 'or_low', 'sma_200', 'sma_400'] as const;
const GEX_STRIKES = [1, 2, 3] as const;
/** Label horizons; the unsuffixed block is the primary copy of the 4-minute horizon. */
const LABEL_HORIZONS = ['_2min', '_4min', '_8min', ''] as const;

const FEATURES = [
  // barrier
  col.utf8('barrier_state').oneOf(BARRIER_STATES),
  col.float64('barrier_delta_liq'),
  col.float64('barrier_replenishment_ratio'),
  col.float64('wall_ratio'),
  // tape
  col.float64('tape_imbalance').range(-1, 1),
  col.int64('tape_buy_vol').nonNegative(),
  col.int64('tape_sell_vol').nonNegative(),
  col.float64('tape_velocity'),
  col.bool('sweep_detected'),
  // fuel
  col.utf8('fuel_effect').oneOf(FUEL_EFFECTS),
  col.float64('gamma_exposure'),
  // kinematics
  col.float64('velocity_1min'),
  col.float64('acceleration_1min'),
  col.float64('jerk_1min'),
  ...KINEMATIC_WINDOWS.flatMap((w) => [
    col.float64(`velocity_${w}`),
    col.float64(`acceleration_${w}`),
    col.float64(`jerk_${w}`),
    col.float64(`momentum_trend_${w}`),
  ]),
  // order-flow imbalance
  ...OFI_WINDOWS.flatMap((w) => [col.float64(`ofi_${w}`), col.float64(`ofi_near_level_${w}`)]),
  col.float64('ofi_acceleration'),
  // barrier evolution
  ...BARRIER_WINDOWS.flatMap((w) => [col.float64(`barrier_delta_${w}`), col.float64(`barrier_pct_change_${w}`)]),
  col.float64('barrier_depth_current'),
  // level distances
  ...REFERENCE_LEVELS.flatMap((l) => [col.float64(`dist_to_${l}`), col.float64(`dist_to_${l}_atr`)]),
  col.float64('dist_to_tested_level'),
  col.int8('level_stacking_2pt').nonNegative(),
  col.int8('level_stacking_5pt').nonNegative(),
  col.int8('level_stacking_10pt').nonNegative(),
  // dealer gamma
  ...GEX_STRIKES.flatMap((k) => [
    col.float64(`gex_above_${k}strike`),
    col.float64(`gex_below_${k}strike`),
    col.float64(`call_gex_above_${k}strike`),
    col.float64(`put_gex_below_${k}strike`),
  ]),
  col.float64('gex_asymmetry'),
  col.float64('gex_ratio'),
  col.float64('net_gex_2strike'),
  // force / mass
  col.float64('predicted_accel'),
  col.float64('accel_residual'),
  col.float64('force_mass_ratio'),
  // approach
  col.float64('atr').nonNegative(),
  col.float64('approach_velocity'),
  col.int32('approach_bars').nonNegative(),
  col.float64('approach_distance'),
  col.int32('prior_touches').nonNegative(),
  // session
  col.float64('minutes_since_open'),
  col.int32('bars_since_open'),
  // sparse-feature indicators
  col.int8('wall_ratio_nonzero').oneOf([0, 1]),
  col.float64('wall_ratio_log'),
  col.int8('barrier_delta_liq_nonzero').oneOf([0, 1]),
  col.float64('barrier_delta_liq_log'),
  // normalised
  col.float64('spot'),
  col.float64('distance_signed'),
  col.float64('distance_signed_atr'),
  col.float64('distance_signed_pct'),
  col.float64('dist_to_pm_high_pct'),
  col.float64('dist_to_pm_low_pct'),
  col.float64('dist_to_sma_200_pct'),
  col.float64('dist_to_sma_400_pct'),
  col.float64('approach_distance_atr'),
  col.float64('approach_distance_pct'),
  col.float64('level_price_pct'),
  // attempts
  col.int64('attempt_index').nonNegative(),
  col.int64('attempt_cluster_id'),
  col.float64('barrier_replenishment_trend'),
  col.float64('barrier_delta_liq_trend'),
  col.float64('tape_velocity_trend'),
  col.float64('tape_imbalance_trend'),
] as const;

const LABELS = LABEL_HORIZONS.flatMap((h) => [
  col.utf8(`outcome${h}`).oneOf(OUTCOME_LABELS),
  col.float64(`excursion_max${h}`),
  col.float64(`excursion_min${h}`),
  col.float64(`strength_signed${h}`),
  col.float64(`strength_abs${h}`),
  col.float64(`time_to_threshold_1${h}`).nullable().nonNegative(),
  col.float64(`time_to_threshold_2${h}`).nullable().nonNegative(),
  col.float64(`time_to_break_1${h}`).nullable().nonNegative(),
  col.float64(`time_to_break_2${h}`).nullable().nonNegative(),
  col.float64(`time_to_bounce_1${h}`).nullable().nonNegative(),
  col.float64(`time_to_bounce_2${h}`).nullable().nonNegative(),
  col.int8(`tradeable_1${h}`).oneOf([0, 1]),
  col.int8(`tradeable_2${h}`).oneOf([0, 1]),
  col.epochNs(`confirm_ts_ns${h}`).nullable(),
  col.float64(`anchor_spot${h}`),
  col.float64(`future_price${h}`),
]);

/** The 182 columns of the ES pipeline in schema order: identity, features, labels. */
export const ES_PIPELINE_COLUMNS = [...IDENTITY, ...FEATURES, ...LABELS];

export const IDENTITY_COLUMNS: readonly string[] = IDENTITY.map((c) => c.name);
export const FEATURE_COLUMNS: readonly string[] = FEATURES.map((c) => c.name);
export const LABEL_COLUMNS: readonly string[] = LABELS.map((c) => c.name);

export const SILVER_FEATURES_ES_PIPELINE_V1 = defineSchema({
  name: 'silver.features.es_pipeline',
  version: 1,
  tier: 'silver',
  description:
    'ES pipeline features and labels, one row per level-touch event (10 identity + 108 features + 64 labels)',
  columns: ES_PIPELINE_COLUMNS,
  metadata: { pipeline: 'es_pipeline', pipeline_version: '2.0.0', total_columns: String(ES_PIPELINE_COLUMNS.length) },
  aliases: ['features.es_pipeline.v1'],
});
export type EsPipelineRow = RowType<typeof SILVER_FEATURES_ES_PIPELINE_V1>;
