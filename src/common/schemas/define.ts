/**
 * The column-definition DSL. A schema is written once as a list of columns (`col.int64('tape_buy_vol').nonNegative()`);
 * the zod row model (model.ts), the Arrow schema (arrow.ts), the column listing and the test arbitraries are all
 * derived from that list, so they cannot drift apart. Rules are plain data (no callbacks) so that a definition can be
 * fingerprinted (a conflicting re-registration is detected) and turned into random valid rows in tests.
 */

/**
 * How a column is stored and what a row holds for it. The four int64 flavours differ only in the row value:
 * `int64` counts/volumes are a safe-integer `number` (a `bigint` only beyond 2^53), `int64big` is always `bigint`
 * (vendor sequences), `epoch_ns` is a `bigint` Unix-ns timestamp stored as Int64, and `timestamp_ns` is the same value
 * stored as an Arrow Timestamp(ns) column.
 */
export type ColumnKind =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'int64big'
  | 'epoch_ns'
  | 'timestamp_ns'
  | 'float64'
  | 'utf8'
  | 'bool'
  | 'date32'
  | 'int16_list';

/** Bounds are inclusive unless `minExclusive`; date32 bounds are `YYYY-MM-DD` strings. */
export interface ColumnRules {
  readonly min?: number | bigint | string;
  readonly minExclusive?: boolean;
  readonly max?: number | bigint | string;
  readonly values?: readonly (string | number)[];
  readonly pattern?: RegExp;
  readonly minLength?: number;
  readonly maxLength?: number;
}

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  readonly rules: ColumnRules;
  /** Value taken when a row omits a non-null column (nullable columns always default to null). */
  readonly default?: string | number | boolean;
}

/** 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z in ns: the valid range of every event timestamp (DATA.md §2.2). */
export const TIMESTAMP_MIN_NS = 946_684_800_000_000_000n;
export const TIMESTAMP_MAX_NS = 4_102_444_800_000_000_000n;

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** Storage range of each integer kind; rules narrow it further. */
export const KIND_RANGE: Partial<Record<ColumnKind, readonly [number | bigint, number | bigint]>> = {
  int8: [-128, 127],
  int16: [-32_768, 32_767],
  int32: [-2_147_483_648, 2_147_483_647],
  int16_list: [-32_768, 32_767],
  int64: [INT64_MIN, INT64_MAX],
  int64big: [INT64_MIN, INT64_MAX],
  epoch_ns: [TIMESTAMP_MIN_NS, TIMESTAMP_MAX_NS],
  timestamp_ns: [TIMESTAMP_MIN_NS, TIMESTAMP_MAX_NS],
};

export interface NumericBounds {
  readonly min: number | bigint | undefined;
  readonly minExclusive: boolean;
  readonly max: number | bigint | undefined;
}

/** The bounds a numeric column enforces: its rules intersected with the range of its storage type. */
export function numericBounds(spec: ColumnSpec): NumericBounds {
  const [kindMin, kindMax] = KIND_RANGE[spec.kind] ?? [undefined, undefined];
  const { min: ruleMin, max: ruleMax, minExclusive = false } = spec.rules;
  const useRuleMin =
    typeof ruleMin !== 'string' && ruleMin !== undefined && (kindMin === undefined || ruleMin >= kindMin);
  const useRuleMax =
    typeof ruleMax !== 'string' && ruleMax !== undefined && (kindMax === undefined || ruleMax <= kindMax);
  return {
    min: useRuleMin ? ruleMin : kindMin,
    minExclusive: useRuleMin && minExclusive,
    max: useRuleMax ? ruleMax : kindMax,
  };
}

/**
 * One column of a schema. `N` is the column name and `T` the row value when non-null; both are tracked in the type so
 * that a schema's row type (`RowOf`) is derived from the same list that builds the model and the Arrow schema.
 */
export class Column<N extends string = string, T = unknown, Nu extends boolean = boolean> {
  /** Phantom: the value a validated row holds for this column. */
  declare readonly __value: Nu extends true ? T | null : T;

  constructor(readonly spec: ColumnSpec & { readonly name: N }) {}

  get name(): N {
    return this.spec.name;
  }

  nullable(): Column<N, T, true> {
    return new Column({ ...this.spec, nullable: true });
  }

  /** Value filled in when a row omits this (non-null) column. */
  default(value: T & (string | number | boolean)): Column<N, T, Nu> {
    return new Column({ ...this.spec, default: value });
  }

  min(min: number | bigint | string): Column<N, T, Nu> {
    return this.rule({ min, minExclusive: false });
  }

  /** Strictly greater than `bound` (prices). */
  gt(bound: number): Column<N, T, Nu> {
    return this.rule({ min: bound, minExclusive: true });
  }

  max(max: number | bigint | string): Column<N, T, Nu> {
    return this.rule({ max });
  }

  range(min: number | bigint, max: number | bigint): Column<N, T, Nu> {
    return this.rule({ min, minExclusive: false, max });
  }

  nonNegative(): Column<N, T, Nu> {
    return this.min(0);
  }

  /** Restrict to listed values; the row type narrows to them. */
  oneOf<const V extends readonly (T & (string | number))[]>(values: V): Column<N, V[number], Nu> {
    return new Column({ ...this.spec, rules: { ...this.spec.rules, values } });
  }

  pattern(pattern: RegExp): Column<N, T, Nu> {
    return this.rule({ pattern });
  }

  length(minLength: number, maxLength?: number): Column<N, T, Nu> {
    return this.rule(maxLength === undefined ? { minLength } : { minLength, maxLength });
  }

  private rule(rules: ColumnRules): Column<N, T, Nu> {
    return new Column({ ...this.spec, rules: { ...this.spec.rules, ...rules } });
  }
}

export type AnyColumn = Column<string, unknown, boolean>;

function factory<T>(kind: ColumnKind) {
  return <N extends string>(name: N): Column<N, T, false> => new Column({ name, kind, nullable: false, rules: {} });
}

/** Column factories, one per storage type. */
export const col = {
  int8: factory<number>('int8'),
  int16: factory<number>('int16'),
  int32: factory<number>('int32'),
  /** Counts and volumes: `number` while safe, `bigint` beyond 2^53; always Int64 in Arrow. */
  int64: factory<number | bigint>('int64'),
  /** Always `bigint` (vendor sequences, ids that use the full int64 range). */
  int64big: factory<bigint>('int64big'),
  /** Unix-ns timestamp stored as Int64, restricted to 2000–2100. */
  epochNs: factory<bigint>('epoch_ns'),
  /** Unix-ns timestamp stored as Arrow Timestamp(ns) without a time zone, restricted to 2000–2100. */
  timestampNs: factory<bigint>('timestamp_ns'),
  float64: factory<number>('float64'),
  utf8: factory<string>('utf8'),
  bool: factory<boolean>('bool'),
  /** `YYYY-MM-DD` in rows, Arrow Date32 (days) at rest. */
  date32: factory<string>('date32'),
  int16List: factory<number[]>('int16_list'),
};

/** The row type of a column list: one key per column, in the column's value type. */
export type RowOf<C extends readonly AnyColumn[]> = {
  -readonly [K in C[number] as K['spec']['name']]: K['__value'];
};

export type Tier = 'bronze' | 'silver' | 'gold';

/** A stable text form of a column list, used to tell an identical re-registration from a conflicting one. */
export function fingerprintColumns(columns: readonly ColumnSpec[]): string {
  return JSON.stringify(columns, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`;
    if (value instanceof RegExp) return `/${value.source}/${value.flags}`;
    return value;
  });
}
