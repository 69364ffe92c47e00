/**
 * Validated rows held column by column. A buffered row is written into typed arrays at once, so the writer keeps no
 * row objects alive (they die young, which the garbage collector handles cheaply; 100k retained 46-column objects
 * made every collection slow) and a flush hands DuckDB and the digest whole buffers instead of visiting every value.
 *
 * Storage per column kind: numbers, bigints, booleans and dates (days) in one typed array; strings as codes into a
 * dictionary of the buffer (market data repeats a handful of symbols and enum values); int16 lists as offsets into
 * one Int16Array. Nullable columns have a byte per row, 1 = present; a null leaves the value slot zero.
 *
 * A `FileColumns` is one output file's rows gathered in file order, and `digestColumns` hashes it.
 */
import { createHash } from 'node:crypto';
import type { ColumnKind, ColumnSpec } from '../../common/schemas/index.js';

export type FixedArray = Int8Array | Int16Array | Int32Array | BigInt64Array | Float64Array | Uint8Array;

interface Presence {
  /** 1 = value present, per row; null for a non-null column. */
  readonly valid: Uint8Array | null;
  /** Null rows in the file. */
  readonly nulls: number;
}

/** One column of an output file, rows in file order. */
export type FileColumn =
  | (Presence & { readonly storage: 'fixed'; readonly values: FixedArray })
  | (Presence & {
      readonly storage: 'string';
      /** Index into `dict`; dictionary entries in order of first use in the file. */
      readonly codes: Int32Array;
      readonly dict: readonly string[];
    })
  | (Presence & {
      readonly storage: 'list';
      /** Row i's items are `items[offsets[i] .. offsets[i + 1])`. */
      readonly offsets: Int32Array;
      readonly items: Int16Array;
    });

export interface FileColumns {
  readonly rows: number;
  readonly columns: readonly FileColumn[];
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date (validated rows only). */
function dateDays(s: string): number {
  const d = new Date(0);
  d.setUTCFullYear(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
  return Math.round(d.getTime() / DAY_MS);
}

function fixedArray(kind: ColumnKind, length: number): FixedArray {
  switch (kind) {
    case 'int8':
      return new Int8Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'int32':
    case 'date32':
      return new Int32Array(length);
    case 'int64':
    case 'int64big':
    case 'epoch_ns':
    case 'timestamp_ns':
      return new BigInt64Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'bool':
      return new Uint8Array(length);
    case 'utf8':
    case 'int16_list':
      throw new Error(`${kind} is not a fixed-width column`);
  }
}

function grown<A extends FixedArray | Int32Array | Int16Array>(a: A, length: number): A {
  const b = new (a.constructor as new (n: number) => A)(length);
  b.set(a as never);
  return b;
}

/** Rows of a buffer: `rows` rows at `index`, or when index is null the run `start .. start + rows`. */
interface Selection {
  readonly index: Int32Array | null;
  readonly start: number;
  readonly rows: number;
}

/**
 * The selected values of `a`. A run is a view, not a copy: a buffer is not written again until the flush that took
 * it is over, and partitions of time-ordered input are runs.
 */
function gathered<A extends FixedArray>(a: A, { index, start, rows }: Selection): A {
  if (index === null) return a.subarray(start, start + rows) as A;
  const out = new (a.constructor as new (n: number) => A)(rows);
  // Copied as raw 8/16/32-bit words: one loop per word size keeps each loop monomorphic (a loop over all the typed
  // array types was the slowest part of a flush), and no value goes through a double or a bigint.
  const width = a.BYTES_PER_ELEMENT;
  if (width === 1) {
    const from = new Uint8Array(a.buffer, a.byteOffset, a.length);
    const to = new Uint8Array(out.buffer);
    for (let i = 0; i < rows; i++) to[i] = from[index[i]!]!;
  } else if (width === 2) {
    const from = new Int16Array(a.buffer, a.byteOffset, a.length);
    const to = new Int16Array(out.buffer);
    for (let i = 0; i < rows; i++) to[i] = from[index[i]!]!;
  } else {
    const words = width / 4;
    const from = new Int32Array(a.buffer, a.byteOffset, a.length * words);
    const to = new Int32Array(out.buffer);
    if (words === 1) for (let i = 0; i < rows; i++) to[i] = from[index[i]!]!;
    else
      for (let i = 0; i < rows; i++) {
        const r = index[i]! * 2;
        to[2 * i] = from[r]!;
        to[2 * i + 1] = from[r + 1]!;
      }
  }
  return out;
}

abstract class ColumnStore {
  valid: Uint8Array | null;
  constructor(
    readonly spec: ColumnSpec,
    capacity: number,
  ) {
    this.valid = spec.nullable ? new Uint8Array(capacity) : null;
  }
  /** Store row `i`'s canonical value (null only in nullable columns). */
  abstract push(v: unknown, i: number): void;
  abstract grow(capacity: number): void;
  /** The selected rows; `whole` when they are every row stored, in arrival order. */
  abstract file(sel: Selection, whole: boolean): FileColumn;
  /** Append row `i` of `from` (a store of the same column) as row `at`. */
  abstract copyRow(from: this, i: number, at: number): void;
  /**
   * Forget the first `rows` rows. Their slots are zeroed: a null leaves its slot untouched, and the digest and the
   * Parquet writer must see zero there, not a value from an earlier batch.
   */
  reset(rows: number): void {
    this.valid?.fill(0, 0, rows);
  }
  protected presence(sel: Selection): Presence {
    if (this.valid === null) return { valid: null, nulls: 0 };
    const valid = gathered(this.valid, sel);
    let present = 0;
    for (let i = 0; i < sel.rows; i++) present += valid[i]!;
    return { valid, nulls: sel.rows - present };
  }
}

/**
 * A fixed-width column. Each storage type has its own subclass with its own `push`: one shared `push` storing into
 * Int8Array, Float64Array, BigInt64Array… alike would make that store megamorphic, several times slower.
 */
abstract class FixedStore extends ColumnStore {
  values: FixedArray;
  constructor(spec: ColumnSpec, capacity: number) {
    super(spec, capacity);
    this.values = fixedArray(spec.kind, capacity);
  }
  grow(capacity: number): void {
    this.values = grown(this.values, capacity);
    if (this.valid !== null) this.valid = grown(this.valid, capacity);
  }
  file(sel: Selection, _whole: boolean): FileColumn {
    return { storage: 'fixed', ...this.presence(sel), values: gathered(this.values, sel) };
  }
  copyRow(from: FixedStore, i: number, at: number): void {
    this.values[at] = from.values[i]!;
    if (this.valid !== null) this.valid[at] = from.valid![i]!;
  }
  override reset(rows: number): void {
    super.reset(rows);
    const v = this.values;
    new Uint8Array(v.buffer, v.byteOffset, v.byteLength).fill(0, 0, rows * v.BYTES_PER_ELEMENT);
  }
}

class Float64Store extends FixedStore {
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    (this.values as Float64Array)[i] = v as number;
  }
}

class Int32Store extends FixedStore {
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    (this.values as Int32Array)[i] = v as number;
  }
}

class Int16Store extends FixedStore {
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    (this.values as Int16Array)[i] = v as number;
  }
}

class Int8Store extends FixedStore {
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    (this.values as Int8Array)[i] = v as number;
  }
}

/** int64big, epoch_ns, timestamp_ns: always a bigint. */
class BigIntStore extends FixedStore {
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    (this.values as BigInt64Array)[i] = v as bigint;
  }
}

/**
 * int64 counts: a number while safe, else a bigint. A number is written as its two 32-bit halves, which is exact for
 * safe integers and allocates no bigint.
 */
class CountStore extends FixedStore {
  private lo: Uint32Array;
  private hi: Int32Array;
  constructor(spec: ColumnSpec, capacity: number) {
    super(spec, capacity);
    this.lo = new Uint32Array(this.values.buffer);
    this.hi = new Int32Array(this.values.buffer);
  }
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    if (typeof v === 'bigint') (this.values as BigInt64Array)[i] = v;
    else {
      const hi = Math.floor((v as number) / 4294967296);
      this.hi[2 * i + 1] = hi;
      this.lo[2 * i] = (v as number) - hi * 4294967296;
    }
  }
  override grow(capacity: number): void {
    super.grow(capacity);
    this.lo = new Uint32Array(this.values.buffer);
    this.hi = new Int32Array(this.values.buffer);
  }
}

class BoolStore extends FixedStore {
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    (this.values as Uint8Array)[i] = v === true ? 1 : 0;
  }
}

/** `YYYY-MM-DD` → days; rows of a batch mostly share a date, so the last conversion is remembered. */
class DateStore extends FixedStore {
  private lastDate = '';
  private lastDays = 0;
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    if (v !== this.lastDate) {
      this.lastDate = v as string;
      this.lastDays = dateDays(this.lastDate);
    }
    (this.values as Int32Array)[i] = this.lastDays;
  }
}

class StringStore extends ColumnStore {
  codes: Int32Array;
  readonly dict: string[] = [];
  private readonly lookup = new Map<string, number>();
  private last: string | null = null;
  private lastCode = -1;
  constructor(spec: ColumnSpec, capacity: number) {
    super(spec, capacity);
    this.codes = new Int32Array(capacity);
  }
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    if (v !== this.last) {
      const s = v as string;
      let code = this.lookup.get(s);
      if (code === undefined) {
        code = this.dict.length;
        this.dict.push(s);
        this.lookup.set(s, code);
      }
      this.last = s;
      this.lastCode = code;
    }
    this.codes[i] = this.lastCode;
  }
  grow(capacity: number): void {
    this.codes = grown(this.codes, capacity);
    if (this.valid !== null) this.valid = grown(this.valid, capacity);
  }
  file(sel: Selection, whole: boolean): FileColumn {
    const { index, start, rows } = sel;
    const presence = this.presence(sel);
    const valid = presence.valid;
    // Codes were handed out in arrival order, so for the whole buffer in arrival order they are already in order of
    // first use; otherwise renumber them, so that a file's dictionary depends on its rows alone.
    if (whole) return { storage: 'string', ...presence, codes: this.codes.subarray(0, rows), dict: this.dict };
    const remap = new Int32Array(this.dict.length).fill(-1);
    const dict: string[] = [];
    const codes = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      const r = index === null ? start + i : index[i]!;
      if (valid !== null && valid[i] === 0) continue;
      const c = this.codes[r]!;
      let m = remap[c]!;
      if (m < 0) {
        m = dict.length;
        remap[c] = m;
        dict.push(this.dict[c]!);
      }
      codes[i] = m;
    }
    return { storage: 'string', ...presence, codes, dict };
  }
  override reset(rows: number): void {
    super.reset(rows);
    this.codes.fill(0, 0, rows);
    this.dict.length = 0;
    this.lookup.clear();
    this.last = null;
    this.lastCode = -1;
  }
  copyRow(from: StringStore, i: number, at: number): void {
    if (from.valid !== null && from.valid[i] === 0) return;
    this.push(from.dict[from.codes[i]!]!, at);
  }
}

class ListStore extends ColumnStore {
  /** Row i spans `items[starts[i] .. starts[i] + lengths[i])`. */
  starts: Int32Array;
  lengths: Int32Array;
  items = new Int16Array(1024);
  private used = 0;
  constructor(spec: ColumnSpec, capacity: number) {
    super(spec, capacity);
    this.starts = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
  }
  push(v: unknown, i: number): void {
    if (v === null) return;
    if (this.valid !== null) this.valid[i] = 1;
    const list = v as readonly number[];
    if (this.used + list.length > this.items.length)
      this.items = grown(this.items, Math.max(this.items.length * 2, this.used + list.length));
    this.starts[i] = this.used;
    this.lengths[i] = list.length;
    for (let k = 0; k < list.length; k++) this.items[this.used++] = list[k]!;
  }
  grow(capacity: number): void {
    this.starts = grown(this.starts, capacity);
    this.lengths = grown(this.lengths, capacity);
    if (this.valid !== null) this.valid = grown(this.valid, capacity);
  }
  file(sel: Selection, _whole: boolean): FileColumn {
    const { index, start, rows } = sel;
    const presence = this.presence(sel);
    const offsets = new Int32Array(rows + 1);
    for (let i = 0; i < rows; i++) offsets[i + 1] = offsets[i]! + this.lengths[index === null ? start + i : index[i]!]!;
    const items = new Int16Array(offsets[rows]!);
    for (let i = 0; i < rows; i++) {
      const r = index === null ? start + i : index[i]!;
      const from = this.starts[r]!;
      items.set(this.items.subarray(from, from + this.lengths[r]!), offsets[i]!);
    }
    return { storage: 'list', ...presence, offsets, items };
  }
  override reset(rows: number): void {
    super.reset(rows);
    this.starts.fill(0, 0, rows);
    this.lengths.fill(0, 0, rows);
    this.used = 0;
  }
  copyRow(from: ListStore, i: number, at: number): void {
    if (from.valid !== null && from.valid[i] === 0) return;
    const start = from.starts[i]!;
    this.push(Array.from(from.items.subarray(start, start + from.lengths[i]!)), at);
  }
}

function columnStore(spec: ColumnSpec, capacity: number): ColumnStore {
  switch (spec.kind) {
    case 'int8':
      return new Int8Store(spec, capacity);
    case 'int16':
      return new Int16Store(spec, capacity);
    case 'int32':
      return new Int32Store(spec, capacity);
    case 'int64':
      return new CountStore(spec, capacity);
    case 'int64big':
    case 'epoch_ns':
    case 'timestamp_ns':
      return new BigIntStore(spec, capacity);
    case 'float64':
      return new Float64Store(spec, capacity);
    case 'bool':
      return new BoolStore(spec, capacity);
    case 'date32':
      return new DateStore(spec, capacity);
    case 'utf8':
      return new StringStore(spec, capacity);
    case 'int16_list':
      return new ListStore(spec, capacity);
  }
}

/**
 * Stores one row's values: generated with the column names as literal property keys, so that reading a row is a
 * monomorphic named load per column (rows come out of the validator with one shape), not a keyed lookup. Names come
 * from the registry's definitions and are embedded as JSON string literals.
 */
function rowWriter(
  columns: readonly ColumnSpec[],
): (row: Readonly<Record<string, unknown>>, i: number, stores: readonly ColumnStore[]) => void {
  const lines = columns.map((c, k) => `s${k}.push(row[${JSON.stringify(c.name)}], i);`);
  const locals = columns.map((_, k) => `const s${k} = stores[${k}];`);
  return new Function('row', 'i', 'stores', `${locals.join('\n')}\n${lines.join('\n')}`) as (
    row: Readonly<Record<string, unknown>>,
    i: number,
    stores: readonly ColumnStore[],
  ) => void;
}

const writers = new WeakMap<readonly ColumnSpec[], ReturnType<typeof rowWriter>>();

/**
 * Buffered rows of one schema, with a token and a partition per row. Rows keep their arrival index; `file` gathers
 * any subset in any order.
 */
export class RowColumns<Token, P> {
  private capacity: number;
  private stores: ColumnStore[];
  private readonly write: ReturnType<typeof rowWriter>;
  /** Token of each row; null while no row has one (plain `append`). */
  private tokens: (Token | undefined)[] | null = null;
  /** Partition number of each row, an index into `partitions` and `partitionKeys`. */
  partitionOf: Int32Array;
  readonly partitions: P[] = [];
  readonly partitionKeys: string[] = [];
  private readonly partitionIds = new Map<string, number>();
  private lastPartition: P | null = null;
  private lastPartitionId = -1;
  length = 0;

  /**
   * `rows`: the size the buffer is expected to reach (the flush threshold). It starts small and grows by doubling,
   * but to exactly `rows` when doubling would overshoot it.
   */
  constructor(
    readonly columns: readonly ColumnSpec[],
    private readonly rows = 1 << 16,
  ) {
    this.capacity = Math.max(1, Math.min(rows, 4096));
    this.stores = columns.map((c) => columnStore(c, this.capacity));
    this.partitionOf = new Int32Array(this.capacity);
    let write = writers.get(columns);
    if (write === undefined) writers.set(columns, (write = rowWriter(columns)));
    this.write = write;
  }

  /**
   * Append a validated, canonical row of `partition`, whose grouping key is `key(partition)` (asked only for a
   * partition object not seen just before).
   */
  push(row: Readonly<Record<string, unknown>>, partition: P, key: (p: P) => string, token: Token | undefined): void {
    const i = this.length;
    if (i === this.capacity) this.grow();
    this.write(row, i, this.stores);
    this.partitionOf[i] =
      partition === this.lastPartition ? this.lastPartitionId : this.partitionNumber(partition, key);
    if (token !== undefined || this.tokens !== null) this.setToken(i, token);
    this.length = i + 1;
  }

  /** Append row `i` of `from` (the same schema). */
  copyRow(from: RowColumns<Token, P>, i: number): void {
    const at = this.length;
    if (at === this.capacity) this.grow();
    for (let k = 0; k < this.stores.length; k++) this.stores[k]!.copyRow(from.stores[k]!, i, at);
    const p = from.partitionOf[i]!;
    this.partitionOf[at] = this.partitionNumber(from.partitions[p]!, () => from.partitionKeys[p]!);
    this.setToken(at, from.tokenAt(i));
    this.length = at + 1;
  }

  tokenAt(i: number): Token | undefined {
    return this.tokens === null ? undefined : this.tokens[i];
  }

  private setToken(i: number, token: Token | undefined): void {
    this.tokens ??= new Array<Token | undefined>(i).fill(undefined);
    this.tokens.push(token);
  }

  /** Column `k`'s values (fixed-width columns only), for sorting. */
  fixedValues(k: number): FixedArray {
    return (this.stores[k] as FixedStore).values;
  }

  /** Presence bytes of nullable column `k`. */
  validity(k: number): Uint8Array | null {
    return this.stores[k]!.valid;
  }

  /** String of row `i` in utf8 column `k` (non-null). */
  stringAt(k: number, i: number): string {
    const store = this.stores[k] as StringStore;
    return store.dict[store.codes[i]!]!;
  }

  /** The rows at `index` (all rows in arrival order when null), in that order. */
  file(index: Int32Array | null): FileColumns {
    let sel: Selection = { index: null, start: 0, rows: this.length };
    if (index !== null) {
      const start = index[0] ?? 0;
      let run = true;
      for (let i = 1; i < index.length && run; i++) run = index[i] === start + i;
      sel = { index: run ? null : index, start, rows: index.length };
    }
    const whole = sel.index === null && sel.start === 0 && sel.rows === this.length;
    return { rows: sel.rows, columns: this.stores.map((s) => s.file(sel, whole)) };
  }

  private partitionNumber(partition: P, key: (p: P) => string): number {
    const k = key(partition);
    let id = this.partitionIds.get(k);
    if (id === undefined) {
      id = this.partitions.length;
      this.partitions.push(partition);
      this.partitionKeys.push(k);
      this.partitionIds.set(k, id);
    }
    this.lastPartition = partition;
    this.lastPartitionId = id;
    return id;
  }

  /** Empty the buffer for reuse, keeping its arrays (allocating them again for every batch fed the GC). */
  clear(): void {
    for (const s of this.stores) s.reset(this.length);
    this.partitionOf.fill(0, 0, this.length);
    this.tokens = null;
    this.partitions.length = 0;
    this.partitionKeys.length = 0;
    this.partitionIds.clear();
    this.lastPartition = null;
    this.lastPartitionId = -1;
    this.length = 0;
  }

  private grow(): void {
    const capacity = this.capacity < this.rows && this.capacity * 2 > this.rows ? this.rows : this.capacity * 2;
    for (const s of this.stores) s.grow(capacity);
    const p = new Int32Array(capacity);
    p.set(this.partitionOf);
    this.partitionOf = p;
    this.capacity = capacity;
  }
}

/**
 * SHA-256 of a file's rows, from the column buffers: per column in schema order, the presence bytes (nullable
 * columns), then the values — fixed-width values as little-endian bytes, strings as their dictionary (count, then
 * length and UTF-8 bytes of each entry, in order of first use) and a code per row, lists as lengths and items. The
 * same rows in the same order always give the same bytes, and different rows different bytes.
 */
export function digestColumns(file: FileColumns): string {
  const hash = createHash('sha256');
  const u32 = (n: number) => {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(n, 0);
    return b;
  };
  hash.update(u32(file.rows));
  for (const col of file.columns) {
    if (col.valid !== null) hash.update(col.valid);
    if (col.storage === 'fixed')
      hash.update(new Uint8Array(col.values.buffer, col.values.byteOffset, col.values.byteLength));
    else if (col.storage === 'string') {
      let bytes = 4;
      for (const s of col.dict) bytes += 4 + Buffer.byteLength(s, 'utf8');
      const dict = Buffer.allocUnsafe(bytes);
      let pos = dict.writeUInt32LE(col.dict.length, 0);
      for (const s of col.dict) {
        const n = dict.write(s, pos + 4, 'utf8');
        dict.writeUInt32LE(n, pos);
        pos += 4 + n;
      }
      hash.update(dict);
      hash.update(new Uint8Array(col.codes.buffer, col.codes.byteOffset, col.codes.byteLength));
    } else {
      hash.update(new Uint8Array(col.offsets.buffer, col.offsets.byteOffset, col.offsets.byteLength));
      hash.update(new Uint8Array(col.items.buffer, col.items.byteOffset, col.items.byteLength));
    }
  }
  return hash.digest('hex');
}
