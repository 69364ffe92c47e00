/**
 * The schema registry (SEED.md §3, DATA.md §2.10): every schema by full name and alias, with the seed's static-style
 * API on a default instance holding the seven v1 schemas. Separate instances (`SchemaRegistry.withDefaults()`,
 * `new SchemaRegistry()`) serve tests and version migrations without touching the default.
 */
import type { Schema, Table } from 'apache-arrow';
import {
  FUTURES_MBP10_V1,
  FUTURES_TRADES_V1,
  type FuturesTradeRow,
  type Mbp10Row,
  OPTIONS_TRADES_V1,
  type OptionTradeRow,
} from './bronze.js';
import type { ActualColumn, ColumnInfo, ColumnSetReport } from './column-set.js';
import { LEVELS_SIGNALS_V1, type LevelSignalRow, TRAINING_ES_PIPELINE_V1 } from './gold.js';
import type { RowSchema, SchemaVersionInfo } from './schema.js';
import {
  type EsPipelineRow,
  OPTIONS_TRADES_ENRICHED_V1,
  type OptionTradeEnrichedRow,
  SILVER_FEATURES_ES_PIPELINE_V1,
} from './silver.js';

/** Row types of the registered names, so that `validate('futures.trades.v1', x)` is typed. */
export interface KnownSchemas {
  'options.trades.v1': OptionTradeRow;
  'futures.trades.v1': FuturesTradeRow;
  'futures.mbp10.v1': Mbp10Row;
  'options.trades_enriched.v1': OptionTradeEnrichedRow;
  'silver.features.es_pipeline.v1': EsPipelineRow;
  'features.es_pipeline.v1': EsPipelineRow;
  'training.es_pipeline.v1': EsPipelineRow;
  'levels.signals.v1': LevelSignalRow;
}
export type RowFor<N extends string> = N extends keyof KnownSchemas ? KnownSchemas[N] : Record<string, unknown>;

/** The schemas registered at load, in DATA.md §2.1 order. */
export const DEFAULT_SCHEMAS: readonly RowSchema[] = [
  OPTIONS_TRADES_V1,
  FUTURES_TRADES_V1,
  FUTURES_MBP10_V1,
  OPTIONS_TRADES_ENRICHED_V1,
  SILVER_FEATURES_ES_PIPELINE_V1,
  TRAINING_ES_PIPELINE_V1,
  LEVELS_SIGNALS_V1,
] as readonly RowSchema[];

export class SchemaRegistry {
  /** The process-wide registry behind the static methods. */
  static readonly default: SchemaRegistry = SchemaRegistry.withDefaults();

  private readonly byFullName = new Map<string, RowSchema>();
  private readonly byAlias = new Map<string, RowSchema>();

  /** A fresh registry holding the seven v1 schemas. */
  static withDefaults(): SchemaRegistry {
    const registry = new SchemaRegistry();
    for (const schema of DEFAULT_SCHEMAS) registry.register(schema);
    return registry;
  }

  /**
   * Add a schema under its full name and aliases. Registering the same definition again is a no-op; a different
   * definition under a taken name throws, because readers of that name would silently change.
   */
  register<R extends Record<string, unknown>>(schema: RowSchema<R>): RowSchema<R> {
    const existing = this.lookup(schema.fullName);
    if (existing !== undefined) {
      if (existing.fingerprint !== schema.fingerprint)
        throw new Error(`schema ${schema.fullName} is already registered with a different definition`);
      return schema;
    }
    for (const alias of schema.aliases)
      if (this.lookup(alias) !== undefined) throw new Error(`schema alias ${alias} is already taken`);
    const s = schema as unknown as RowSchema;
    this.byFullName.set(s.fullName, s);
    for (const alias of s.aliases) this.byAlias.set(alias, s);
    return schema;
  }

  /** Canonical full names in registration order (aliases excluded). */
  listSchemas(): string[] {
    return [...this.byFullName.keys()];
  }

  /** The schema (zod model, Arrow schema, validators) for a full name or alias; `undefined` if unknown. */
  get<N extends string>(name: N): RowSchema<RowFor<N>> | undefined {
    return this.lookup(name) as RowSchema<RowFor<N>> | undefined;
  }

  /** Like `get`, but an unknown name throws, listing the known ones. */
  require<N extends string>(name: N): RowSchema<RowFor<N>> {
    const schema = this.get(name);
    if (schema === undefined) throw new Error(`unknown schema ${name}; known: ${this.listSchemas().join(', ')}`);
    return schema;
  }

  getArrowSchema(name: string): Schema | undefined {
    return this.lookup(name)?.arrowSchema;
  }

  getVersion(name: string): SchemaVersionInfo | undefined {
    return this.lookup(name)?.versionInfo;
  }

  /** Column names, Arrow type names and nullability, in schema order. */
  columns(name: string): readonly ColumnInfo[] {
    return this.require(name).columnInfo;
  }

  /** The canonical row, or throws `SchemaValidationError`. */
  validate<N extends string>(name: N, row: unknown): RowFor<N> {
    return this.require(name).parse(row);
  }

  /** The Int64 columns of a schema, for `decodeJson(text, { int64Keys })`. */
  int64Columns(name: string): ReadonlySet<string> {
    return this.require(name).int64Columns;
  }

  /** Validate rows, filling missing nullable columns with null (older producers of the same schema). */
  readRows<N extends string>(name: N, rows: Iterable<unknown>): RowFor<N>[] {
    return this.require(name).readRows(rows);
  }

  toArrowTable(name: string, rows: readonly unknown[], options: { readonly validated?: boolean } = {}): Table {
    return this.require(name).toArrowTable(rows, options);
  }

  fromArrowTable<N extends string>(name: N, table: Table): RowFor<N>[] {
    return this.require(name).fromArrowTable(table);
  }

  compareColumns(name: string, actual: Schema | readonly ActualColumn[]): ColumnSetReport {
    return this.require(name).compareColumns(actual);
  }

  assertColumns(name: string, actual: Schema | readonly ActualColumn[]): void {
    this.require(name).assertColumns(actual);
  }

  private lookup(name: string): RowSchema | undefined {
    return this.byFullName.get(name) ?? this.byAlias.get(name);
  }

  // The seed calls the registry statically (`SchemaRegistry.get(name)`); these delegate to the default instance.

  static register<R extends Record<string, unknown>>(schema: RowSchema<R>): RowSchema<R> {
    return SchemaRegistry.default.register(schema);
  }
  static listSchemas(): string[] {
    return SchemaRegistry.default.listSchemas();
  }
  static get<N extends string>(name: N): RowSchema<RowFor<N>> | undefined {
    return SchemaRegistry.default.get(name);
  }
  static require<N extends string>(name: N): RowSchema<RowFor<N>> {
    return SchemaRegistry.default.require(name);
  }
  static getArrowSchema(name: string): Schema | undefined {
    return SchemaRegistry.default.getArrowSchema(name);
  }
  static getVersion(name: string): SchemaVersionInfo | undefined {
    return SchemaRegistry.default.getVersion(name);
  }
  static columns(name: string): readonly ColumnInfo[] {
    return SchemaRegistry.default.columns(name);
  }
  static validate<N extends string>(name: N, row: unknown): RowFor<N> {
    return SchemaRegistry.default.validate(name, row);
  }
  static int64Columns(name: string): ReadonlySet<string> {
    return SchemaRegistry.default.int64Columns(name);
  }
  static readRows<N extends string>(name: N, rows: Iterable<unknown>): RowFor<N>[] {
    return SchemaRegistry.default.readRows(name, rows);
  }
  static toArrowTable(name: string, rows: readonly unknown[], options: { readonly validated?: boolean } = {}): Table {
    return SchemaRegistry.default.toArrowTable(name, rows, options);
  }
  static fromArrowTable<N extends string>(name: N, table: Table): RowFor<N>[] {
    return SchemaRegistry.default.fromArrowTable(name, table);
  }
  static compareColumns(name: string, actual: Schema | readonly ActualColumn[]): ColumnSetReport {
    return SchemaRegistry.default.compareColumns(name, actual);
  }
  static assertColumns(name: string, actual: Schema | readonly ActualColumn[]): void {
    SchemaRegistry.default.assertColumns(name, actual);
  }
}
