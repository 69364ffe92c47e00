/**
 * A registered schema: one column list and everything derived from it, built once at definition time so that the
 * hot path (streaming writers validate every record) only runs the precompiled zod model.
 */
import type { Schema, Table } from 'apache-arrow';
import type { z } from 'zod';
import { arrowSchema, arrowTypeName, rowsToTable, tableToPlainRows } from './arrow.js';
import { type ActualColumn, type ColumnInfo, type ColumnSetReport, compareColumnSet } from './column-set.js';
import { type AnyColumn, type ColumnSpec, type RowOf, type Tier, fingerprintColumns } from './define.js';
import { SchemaValidationError, type ValidationIssue, fastPath, rowModel, toIssues } from './model.js';

/** `SchemaVersion` of the seed, as written to `versions.json`. */
export interface SchemaVersionInfo {
  readonly name: string;
  readonly version: number;
  readonly tier: Tier;
  readonly full_name: string;
  readonly description: string;
}

export interface SchemaOptions<C extends readonly AnyColumn[]> {
  /** Without the version: `futures.trades`. */
  readonly name: string;
  readonly version: number;
  readonly tier: Tier;
  readonly description: string;
  readonly columns: C;
  /** Arrow/Parquet key-value metadata beyond `schema_name`, `tier` and `description`. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Other full names this schema answers to (`features.es_pipeline.v1`). */
  readonly aliases?: readonly string[];
}

export type SafeParseResult<R> =
  { readonly success: true; readonly data: R } | { readonly success: false; readonly error: SchemaValidationError };

export class RowSchema<R extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  readonly version: number;
  readonly tier: Tier;
  readonly description: string;
  /** `${name}.v${version}`. */
  readonly fullName: string;
  readonly aliases: readonly string[];
  readonly columns: readonly ColumnSpec[];
  readonly metadata: ReadonlyMap<string, string>;
  /** The zod row model (strict, lenient numeric input, canonical output). */
  readonly model: z.ZodType<R>;
  readonly arrowSchema: Schema;
  /** Every Int64-stored column, for `decodeJson(text, {int64Keys})`. */
  readonly int64Columns: ReadonlySet<string>;
  readonly columnInfo: readonly ColumnInfo[];
  /** Text form of the definition: equal fingerprints mean the same schema. */
  readonly fingerprint: string;
  private readonly acceptCanonical: (row: unknown) => Record<string, unknown> | undefined;

  constructor(options: SchemaOptions<readonly AnyColumn[]>) {
    this.name = options.name;
    this.version = options.version;
    this.tier = options.tier;
    this.description = options.description;
    this.fullName = `${options.name}.v${options.version}`;
    this.aliases = options.aliases ?? [];
    this.columns = options.columns.map((c) => c.spec);
    const names = new Set<string>();
    for (const c of this.columns) {
      if (names.has(c.name)) throw new Error(`${this.fullName}: duplicate column ${c.name}`);
      names.add(c.name);
    }
    this.metadata = new Map([
      ['schema_name', this.fullName],
      ['tier', this.tier],
      ['description', this.description],
      ...Object.entries(options.metadata ?? {}),
    ]);
    this.model = rowModel(this.columns) as z.ZodType<R>;
    this.acceptCanonical = fastPath(this.columns);
    this.arrowSchema = arrowSchema(this.columns, this.metadata);
    this.int64Columns = new Set(
      this.columns
        .filter((c) => c.kind === 'int64' || c.kind === 'int64big' || c.kind === 'epoch_ns')
        .map((c) => c.name),
    );
    this.columnInfo = this.arrowSchema.fields.map((f) => ({
      name: f.name,
      arrowType: arrowTypeName(f.type),
      nullable: f.nullable,
    }));
    this.fingerprint =
      fingerprintColumns(this.columns) + JSON.stringify([this.tier, this.description, [...this.metadata]]);
  }

  get versionInfo(): SchemaVersionInfo {
    return {
      name: this.name,
      version: this.version,
      tier: this.tier,
      full_name: this.fullName,
      description: this.description,
    };
  }

  safeParse(row: unknown): SafeParseResult<R> {
    const canonical = this.acceptCanonical(row);
    if (canonical !== undefined) return { success: true, data: canonical as R };
    const result = this.model.safeParse(row);
    if (result.success) return { success: true, data: result.data };
    return { success: false, error: new SchemaValidationError(this.fullName, toIssues(result.error, row)) };
  }

  /** The canonical row, or throws `SchemaValidationError` naming the schema and every offending column. */
  parse(row: unknown): R {
    const result = this.safeParse(row);
    if (!result.success) throw result.error;
    return result.data;
  }

  /** Validate rows written by this or an older compatible producer: missing nullable columns are filled with null. */
  readRows(rows: Iterable<unknown>): R[] {
    const out: R[] = [];
    let index = 0;
    for (const row of rows) {
      const result = this.safeParse(row);
      if (!result.success) throw withRowIndex(result.error, index);
      out.push(result.data);
      index++;
    }
    return out;
  }

  /**
   * A one-batch Arrow table with exactly this schema. Rows are validated first (that is where numbers become int64
   * and date strings become days); pass `{ validated: true }` for rows that already came out of `parse`.
   */
  toArrowTable(rows: readonly unknown[], options: { readonly validated?: boolean } = {}): Table {
    const canonical = options.validated ? (rows as readonly R[]) : this.readRows(rows);
    return rowsToTable(this.arrowSchema, this.columns, canonical);
  }

  /**
   * Canonical rows of a table, columns addressed by name: a nullable column the table lacks (an older writer) reads
   * as null, a missing required column is an error, columns this schema does not know are ignored.
   */
  fromArrowTable(table: Table): R[] {
    const present = new Set(table.schema.fields.map((f) => f.name));
    const missing = this.columns.filter((c) => !c.nullable && c.default === undefined && !present.has(c.name));
    if (missing.length > 0)
      throw new SchemaValidationError(
        this.fullName,
        missing.map((c) => ({ path: c.name, code: 'missing_column', message: `required column ${c.name} is missing` })),
        `table lacks required columns: ${missing.map((c) => c.name).join(', ')}`,
      );
    return this.readRows(tableToPlainRows(table, this.columns));
  }

  /** Compare a table's columns with this schema's: names, Arrow types and nullability. */
  compareColumns(actual: Schema | readonly ActualColumn[]): ColumnSetReport {
    return compareColumnSet(this.columnInfo, actual);
  }

  /** Throws `SchemaValidationError` when `compareColumns` finds any difference. */
  assertColumns(actual: Schema | readonly ActualColumn[]): void {
    const report = this.compareColumns(actual);
    if (report.ok) return;
    const issues: ValidationIssue[] = [
      ...report.missing.map((name) => ({ path: name, code: 'missing_column', message: 'missing' })),
      ...report.extra.map((name) => ({ path: name, code: 'extra_column', message: 'not in schema' })),
      ...report.typeMismatches.map((m) => ({
        path: m.name,
        code: 'type_mismatch',
        message: `expected ${m.expected}, got ${m.actual}`,
      })),
      ...report.nullabilityMismatches.map((m) => ({
        path: m.name,
        code: 'nullability_mismatch',
        message: `expected ${m.expected ? 'nullable' : 'non-null'}`,
      })),
    ];
    throw new SchemaValidationError(this.fullName, issues, report.errors.join('; '));
  }
}

function withRowIndex(error: SchemaValidationError, index: number): SchemaValidationError {
  return new SchemaValidationError(
    error.schema,
    error.issues.map((i) => ({ ...i, path: i.path === '' ? `[${index}]` : `[${index}].${i.path}` })),
  );
}

/** Define a schema from its column list; the row type is derived from the columns. */
export function defineSchema<const C extends readonly AnyColumn[]>(options: SchemaOptions<C>): RowSchema<RowOf<C>> {
  return new RowSchema<RowOf<C>>(options);
}

/** The validated row type of a schema. */
export type RowType<S> = S extends RowSchema<infer R> ? R : never;
