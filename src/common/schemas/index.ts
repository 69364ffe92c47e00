/** Public API of the schema registry (SEED.md §3, DATA.md §2). */
export {
  FUTURES_MBP10_V1,
  FUTURES_TRADES_V1,
  FUTURES_TRADES_V2,
  MBP10_DEPTH,
  OPTIONS_TRADES_V1,
  askLevels,
  bidLevels,
  flattenMbp10,
  fromLevels,
  unflattenMbp10,
  type FuturesTradeRow,
  type FuturesTradeV2Row,
  type Mbp10LevelColumns,
  type Mbp10Row,
  type OptionTradeRow,
} from './bronze.js';
export {
  type ActualColumn,
  type ColumnInfo,
  type ColumnMismatch,
  type ColumnSetReport,
  compareColumnSet,
} from './column-set.js';
export {
  Column,
  INT64_MAX,
  INT64_MIN,
  KIND_RANGE,
  numericBounds,
  TIMESTAMP_MAX_NS,
  TIMESTAMP_MIN_NS,
  col,
  type AnyColumn,
  type ColumnKind,
  type ColumnRules,
  type ColumnSpec,
  type NumericBounds,
  type RowOf,
  type Tier,
} from './define.js';
export { arrowTypeName } from './arrow.js';
export * from './enums.js';
export { LEVELS_SIGNALS_V1, TRAINING_ES_PIPELINE_V1, type LevelSignalRow, type TrainingEsPipelineRow } from './gold.js';
export { SchemaValidationError, type ValidationIssue } from './model.js';
export { DEFAULT_SCHEMAS, SchemaRegistry, type KnownSchemas, type RowFor } from './registry.js';
export {
  RowSchema,
  defineSchema,
  type RowType,
  type SafeParseResult,
  type SchemaOptions,
  type SchemaVersionInfo,
} from './schema.js';
export {
  ES_PIPELINE_COLUMNS,
  FEATURE_COLUMNS,
  IDENTITY_COLUMNS,
  LABEL_COLUMNS,
  OPTIONS_TRADES_ENRICHED_V1,
  SILVER_FEATURES_ES_PIPELINE_V1,
  computeNotionals,
  type EsPipelineRow,
  type OptionTradeEnrichedRow,
} from './silver.js';
