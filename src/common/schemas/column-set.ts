/**
 * Column-set check for whole tables (DATA.md §2.11): Silver and Gold training builders compare what they are about to
 * write, or what they read, with the registered schema before touching the rows.
 */
import type { DataType } from 'apache-arrow';
import { Schema } from 'apache-arrow';
import { arrowTypeName } from './arrow.js';

/** One column as the registry lists it (`levelflow schemas NAME` prints these). */
export interface ColumnInfo {
  readonly name: string;
  /** `Int8` … `Int64`, `Float64`, `Utf8`, `Bool`, `DateDay`, `TimestampNanosecond`, `List<Int16>`. */
  readonly arrowType: string;
  readonly nullable: boolean;
}

/** A column to check: `type` is an Arrow type or its name (registry names, or pyarrow's `double`, `string`, …). */
export interface ActualColumn {
  readonly name: string;
  readonly type: DataType | string;
  /** Omitted = unknown, nullability not checked for this column. */
  readonly nullable?: boolean;
}

export interface ColumnMismatch<T> {
  readonly name: string;
  readonly expected: T;
  readonly actual: T;
}

export interface ColumnSetReport {
  readonly ok: boolean;
  /** Sorted. */
  readonly missing: readonly string[];
  /** Sorted. */
  readonly extra: readonly string[];
  readonly typeMismatches: readonly ColumnMismatch<string>[];
  readonly nullabilityMismatches: readonly ColumnMismatch<boolean>[];
  /** One line per kind of problem, e.g. `Missing columns (3): ['a', 'b', 'c']`. */
  readonly errors: readonly string[];
}

const TYPE_ALIASES: Record<string, string> = {
  int8: 'Int8',
  int16: 'Int16',
  int32: 'Int32',
  int64: 'Int64',
  double: 'Float64',
  float64: 'Float64',
  string: 'Utf8',
  utf8: 'Utf8',
  bool: 'Bool',
  boolean: 'Bool',
  date32: 'DateDay',
  'date32[day]': 'DateDay',
  dateday: 'DateDay',
  'timestamp[ns]': 'TimestampNanosecond',
  timestampnanosecond: 'TimestampNanosecond',
  'list<int16>': 'List<Int16>',
  'list<item: int16>': 'List<Int16>',
};

function typeName(type: DataType | string): string {
  if (typeof type !== 'string') return arrowTypeName(type);
  return TYPE_ALIASES[type.toLowerCase()] ?? type;
}

/** Python-style list, as the reference prints it, limited to the first ten. */
function listing(names: readonly string[]): string {
  return `[${names
    .slice(0, 10)
    .map((n) => `'${n}'`)
    .join(', ')}]`;
}

export function compareColumnSet(
  expected: readonly ColumnInfo[],
  actual: Schema | readonly ActualColumn[],
): ColumnSetReport {
  const given: readonly ActualColumn[] = actual instanceof Schema ? actual.fields : actual;
  const byName = new Map(given.map((c) => [c.name, c]));
  const known = new Set(expected.map((c) => c.name));
  const missing = expected.filter((c) => !byName.has(c.name)).map((c) => c.name);
  const extra = given.filter((c) => !known.has(c.name)).map((c) => c.name);
  missing.sort();
  extra.sort();
  const typeMismatches: ColumnMismatch<string>[] = [];
  const nullabilityMismatches: ColumnMismatch<boolean>[] = [];
  for (const want of expected) {
    const got = byName.get(want.name);
    if (got === undefined) continue;
    const gotType = typeName(got.type);
    if (gotType !== want.arrowType) typeMismatches.push({ name: want.name, expected: want.arrowType, actual: gotType });
    if (got.nullable !== undefined && got.nullable !== want.nullable)
      nullabilityMismatches.push({ name: want.name, expected: want.nullable, actual: got.nullable });
  }
  const errors: string[] = [];
  if (missing.length > 0) errors.push(`Missing columns (${missing.length}): ${listing(missing)}`);
  if (extra.length > 0) errors.push(`Extra columns (${extra.length}): ${listing(extra)}`);
  if (typeMismatches.length > 0)
    errors.push(
      `Type mismatches (${typeMismatches.length}): ${typeMismatches
        .slice(0, 10)
        .map((m) => `${m.name}: expected ${m.expected}, got ${m.actual}`)
        .join('; ')}`,
    );
  if (nullabilityMismatches.length > 0)
    errors.push(
      `Nullability mismatches (${nullabilityMismatches.length}): ${nullabilityMismatches
        .slice(0, 10)
        .map((m) => `${m.name}: expected ${m.expected ? 'nullable' : 'non-null'}`)
        .join('; ')}`,
    );
  return { ok: errors.length === 0, missing, extra, typeMismatches, nullabilityMismatches, errors };
}
