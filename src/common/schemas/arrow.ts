/**
 * Arrow side of a schema: the exact Arrow types of the columns, and the conversion of canonical rows to and from
 * Arrow tables. Columns are assembled from typed arrays with `makeData` rather than Arrow's builders, because the
 * builders go through milliseconds for Timestamp(ns) and lose the low digits of a nanosecond timestamp.
 */
import {
  Bool,
  type Data,
  DataType,
  DateDay,
  DateUnit,
  Field,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeUnit,
  TimestampNanosecond,
  Utf8,
  makeData,
  makeVector,
} from 'apache-arrow';
import type { ColumnKind, ColumnSpec } from './define.js';

export function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case 'int8':
      return new Int8();
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
    case 'int64big':
    case 'epoch_ns':
      return new Int64();
    case 'timestamp_ns':
      return new TimestampNanosecond();
    case 'float64':
      return new Float64();
    case 'utf8':
      return new Utf8();
    case 'bool':
      return new Bool();
    case 'date32':
      return new DateDay();
    case 'int16_list':
      return new List(new Field('item', new Int16(), true));
  }
}

const UNIT_NAMES: Record<number, string> = {
  [TimeUnit.SECOND]: 'Second',
  [TimeUnit.MILLISECOND]: 'Millisecond',
  [TimeUnit.MICROSECOND]: 'Microsecond',
  [TimeUnit.NANOSECOND]: 'Nanosecond',
};

/**
 * A short, stable name of an Arrow type, as the class names read: `Int64`, `Utf8`, `DateDay`, `TimestampNanosecond`
 * (with `[tz]` when zoned), `List<Int16>`. Arrow's own `toString()` prints `Date32<DAY>` and `Timestamp<NANOSECOND>`.
 */
export function arrowTypeName(type: DataType): string {
  if (DataType.isInt(type)) return `${type.isSigned ? 'Int' : 'Uint'}${type.bitWidth}`;
  if (DataType.isFloat(type))
    return type.precision === Precision.DOUBLE
      ? 'Float64'
      : type.precision === Precision.SINGLE
        ? 'Float32'
        : 'Float16';
  if (DataType.isUtf8(type)) return 'Utf8';
  if (DataType.isBool(type)) return 'Bool';
  if (DataType.isDate(type)) return type.unit === DateUnit.DAY ? 'DateDay' : 'DateMillisecond';
  if (DataType.isTimestamp(type))
    return `Timestamp${UNIT_NAMES[type.unit] ?? ''}${type.timezone ? `[${type.timezone}]` : ''}`;
  if (DataType.isList(type)) return `List<${arrowTypeName(type.children[0]!.type)}>`;
  return String(type);
}

export function arrowSchema(columns: readonly ColumnSpec[], metadata: ReadonlyMap<string, string>): Schema {
  return new Schema(
    columns.map((c) => new Field(c.name, arrowType(c.kind), c.nullable)),
    new Map(metadata),
  );
}

const DAY_MS = 86_400_000;

function dateToDays(s: string): number {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  d.setUTCFullYear(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
  return Math.round(d.getTime() / DAY_MS);
}

function daysToDate(days: number): string {
  const iso = new Date(days * DAY_MS).toISOString();
  // Years beyond 9999 print as +YYYYYY; dates at rest never get there, but keep the day part intact regardless.
  return iso.slice(0, iso.indexOf('T'));
}

/** Validity bitmap, or undefined when every value is present (Arrow's convention for "no nulls"). */
function validity(values: readonly unknown[]): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  for (const v of values) if (v === null || v === undefined) nullCount++;
  if (nullCount === 0) return { nullBitmap: undefined, nullCount };
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { nullBitmap: bitmap, nullCount };
}

type Numeric = Int8Array | Int16Array | Int32Array | Float64Array;

function fillNumbers<A extends Numeric>(out: A, values: readonly unknown[]): A {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) out[i] = v as number;
  }
  return out;
}

function fillBigInts(values: readonly unknown[]): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) out[i] = typeof v === 'bigint' ? v : BigInt(v as number);
  }
  return out;
}

function utf8Buffers(values: readonly unknown[]): { valueOffsets: Int32Array; data: Uint8Array } {
  const valueOffsets = new Int32Array(values.length + 1);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'string') total += Buffer.byteLength(v, 'utf8');
    valueOffsets[i + 1] = total;
  }
  const data = Buffer.allocUnsafe(total);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'string') data.write(v, valueOffsets[i]!, 'utf8');
  }
  return { valueOffsets, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function columnData(spec: ColumnSpec, type: DataType, values: readonly unknown[]): Data {
  const length = values.length;
  const { nullBitmap, nullCount } = validity(values);
  const base = { length, nullCount, nullBitmap };
  switch (spec.kind) {
    case 'int8':
      return makeData({ ...base, type: type as Int8, data: fillNumbers(new Int8Array(length), values) });
    case 'int16':
      return makeData({ ...base, type: type as Int16, data: fillNumbers(new Int16Array(length), values) });
    case 'int32':
      return makeData({ ...base, type: type as Int32, data: fillNumbers(new Int32Array(length), values) });
    case 'float64':
      return makeData({ ...base, type: type as Float64, data: fillNumbers(new Float64Array(length), values) });
    case 'int64':
    case 'int64big':
    case 'epoch_ns':
      return makeData({ ...base, type: type as Int64, data: fillBigInts(values) });
    case 'timestamp_ns':
      return makeData({ ...base, type: type as TimestampNanosecond, data: fillBigInts(values) });
    case 'date32': {
      const days = new Int32Array(length);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (typeof v === 'string') days[i] = dateToDays(v);
      }
      return makeData({ ...base, type: type as DateDay, data: days });
    }
    case 'bool': {
      const bits = new Uint8Array(Math.ceil(length / 8));
      for (let i = 0; i < length; i++) if (values[i] === true) bits[i >> 3]! |= 1 << (i & 7);
      return makeData({ ...base, type: type as Bool, data: bits });
    }
    case 'utf8':
      return makeData({ ...base, type: type as Utf8, ...utf8Buffers(values) });
    case 'int16_list': {
      const valueOffsets = new Int32Array(length + 1);
      const items: number[] = [];
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (Array.isArray(v)) for (const x of v as number[]) items.push(x);
        valueOffsets[i + 1] = items.length;
      }
      const listType = type as List<Int16>;
      const child = makeData({ type: listType.children[0]!.type, length: items.length, data: Int16Array.from(items) });
      return makeData({ ...base, type: listType, valueOffsets, child });
    }
  }
}

/** Build a one-batch table with exactly `schema` from canonical rows (already validated). */
export function rowsToTable(
  schema: Schema,
  columns: readonly ColumnSpec[],
  rows: readonly Record<string, unknown>[],
): Table {
  const children = columns.map((c, j) =>
    columnData(
      c,
      schema.fields[j]!.type as DataType,
      rows.map((r) => r[c.name]),
    ),
  );
  const struct = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

const NS_PER_UNIT: Record<number, bigint> = {
  [TimeUnit.SECOND]: 1_000_000_000n,
  [TimeUnit.MILLISECOND]: 1_000_000n,
  [TimeUnit.MICROSECOND]: 1_000n,
  [TimeUnit.NANOSECOND]: 1n,
};

/**
 * Read one chunk of a column as plain JS values, keyed on the type actually stored (a legacy file may hold an Int64
 * where the schema says Int8; the row model casts it). Fixed-width numbers come straight from the typed array (Arrow
 * has already applied the slice offset to it); timestamps and dates too, because Arrow's getters return lossy epoch
 * milliseconds for them.
 */
function readChunk(data: Data, out: unknown[]): void {
  const type = data.type as DataType;
  const hasNulls = data.nullCount > 0;
  const raw = (convert: (v: never) => unknown) => {
    const values = data.values as ArrayLike<never>;
    for (let i = 0; i < data.length; i++) out.push(hasNulls && !data.getValid(i) ? null : convert(values[i]!));
  };
  if (DataType.isTimestamp(type)) {
    const scale = NS_PER_UNIT[type.unit] ?? 1n;
    return raw((v: bigint) => BigInt(v) * scale);
  }
  if (DataType.isDate(type))
    return raw(
      type.unit === DateUnit.DAY
        ? (v: number) => daysToDate(v)
        : (v: bigint) => daysToDate(Number(BigInt(v) / BigInt(DAY_MS))),
    );
  if (DataType.isInt(type) || (DataType.isFloat(type) && type.precision !== Precision.HALF)) return raw((v) => v);
  const vector = makeVector(data);
  if (DataType.isList(type)) {
    for (let i = 0; i < data.length; i++) {
      const item = vector.get(i) as Iterable<unknown> | null;
      out.push(item === null ? null : Array.from(item));
    }
    return;
  }
  for (let i = 0; i < data.length; i++) out.push(vector.get(i));
}

/** Builds one row from column arrays as a single object literal (see `fastPath` on why wide rows need one). */
function rowBuilder(columns: readonly ColumnSpec[]): (values: readonly (readonly unknown[])[], i: number) => object {
  const fields = columns.map((c, j) => `${JSON.stringify(c.name)}: values[${j}][i]`).join(', ');
  return new Function('values', 'i', `return { ${fields} };`) as (
    values: readonly (readonly unknown[])[],
    i: number,
  ) => object;
}

const builders = new WeakMap<readonly ColumnSpec[], ReturnType<typeof rowBuilder>>();

/**
 * Plain JS rows of the named columns, addressed by name (DATA.md §2.3: other writers used other orders). A column the
 * table lacks reads as undefined, so the row model fills it (nullable) or names it (required); columns the schema
 * does not know are ignored.
 */
export function tableToPlainRows(table: Table, columns: readonly ColumnSpec[]): Record<string, unknown>[] {
  let build = builders.get(columns);
  if (build === undefined) builders.set(columns, (build = rowBuilder(columns)));
  const values = columns.map((c) => {
    const out: unknown[] = [];
    for (const data of table.getChild(c.name)?.data ?? []) readChunk(data as Data, out);
    return out;
  });
  const rows: Record<string, unknown>[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) rows[i] = build(values, i) as Record<string, unknown>;
  return rows;
}
