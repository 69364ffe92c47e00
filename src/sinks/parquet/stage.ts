/**
 * Column buffers → DuckDB → Parquet. DuckDB reads the rows straight from the writer's column buffers through a table
 * function, `COPY (SELECT … FROM lf_rows()) TO …` (ZSTD level 3, key/value metadata), so there is no staging table:
 * loading a temp table through the appender and scanning it again cost more than the COPY itself.
 *
 * Each call of the table function fills one data chunk (2048 rows) from the buffers with a few bulk copies per
 * column: fixed-width values and the presence bitmap are copied as they are; strings of at most 12 UTF-8 bytes are
 * written as DuckDB's inlined `duckdb_string_t` (4-byte length, then the bytes, zero padded — the C API's documented
 * layout), longer ones through `vector_assign_string_element`; int16 lists as `list_entry_t` (offset, length) plus
 * the child values. The scan runs on one thread, so rows reach the Parquet writer in file order, and the file is the
 * byte-for-byte same one a table scan of the same rows produces.
 *
 * The per-vector calls use `@duckdb/node-bindings`, the low-level package `@duckdb/node-api` is built on (same
 * version, installed with it): node-api only offers value-by-value `setItem`.
 */
import duckdb from '@duckdb/node-bindings';
import { type DuckDBConnection, DuckDBTableFunction } from '@duckdb/node-api';
import { duckType, quoteIdent, quoteString } from '../../common/duckdb.js';
import type { ColumnSpec } from '../../common/schemas/index.js';
import type { FileColumn, FileColumns, FixedArray } from './columns.js';

const CHUNK_ROWS = 2048;
const INLINE_BYTES = 12;

/** A string column's dictionary as DuckDB string records: 4 words per entry, or null for entries too long to inline. */
interface Strings {
  readonly records: Uint32Array;
  readonly inline: Uint8Array;
}

function stringRecords(dict: readonly string[]): Strings {
  const records = new Uint32Array(dict.length * 4);
  const bytes = new Uint8Array(records.buffer);
  const inline = new Uint8Array(dict.length);
  const scratch = Buffer.allocUnsafe(INLINE_BYTES * 3);
  for (let c = 0; c < dict.length; c++) {
    const s = dict[c]!;
    // At most 3 UTF-8 bytes per UTF-16 unit: anything longer than 12 units cannot fit, so skip the encoding.
    if (s.length > INLINE_BYTES) continue;
    const n = scratch.write(s, 0, 'utf8');
    if (n > INLINE_BYTES) continue;
    inline[c] = 1;
    records[c * 4] = n;
    bytes.set(scratch.subarray(0, n), c * 16 + 4);
  }
  return { records, inline };
}

/** The rows being copied and how far the scan got. */
interface Feed {
  readonly columns: readonly ColumnSpec[];
  readonly file: FileColumns;
  readonly strings: readonly (Strings | null)[];
  next: number;
}

/**
 * Scratch space for one chunk, reused for every chunk and column (DuckDB copies out of it at once): allocating it per
 * column and chunk put enough ArrayBuffers through the collector to trigger collections.
 */
const scratch = {
  mask: new Uint8Array(CHUNK_ROWS / 8),
  words: new Uint32Array(CHUNK_ROWS * 4),
};

/** Copies presence bytes into the vector's validity bitmap (uint64 words, least significant bit first). */
function fillValidity(vector: duckdb.Vector, valid: Uint8Array, from: number, rows: number): void {
  const bytes = Math.ceil(rows / 64) * 8;
  const mask = scratch.mask.fill(0, 0, bytes);
  for (let byte = 0, i = 0; i < rows; byte++) {
    const end = Math.min(i + 8, rows);
    let bits = 0;
    for (let bit = 0; i < end; i++, bit++) bits |= valid[from + i]! << bit;
    mask[byte] = bits;
  }
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, bytes);
}

function fillFixed(vector: duckdb.Vector, values: FixedArray, from: number, rows: number): void {
  const width = values.BYTES_PER_ELEMENT;
  duckdb.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset + from * width, rows * width);
}

function fillStrings(
  vector: duckdb.Vector,
  valid: Uint8Array | null,
  codes: Int32Array,
  dict: readonly string[],
  { records, inline }: Strings,
  from: number,
  rows: number,
): void {
  const out = scratch.words;
  let long = false;
  for (let i = 0; i < rows; i++) {
    const c = codes[from + i]!;
    if ((valid !== null && valid[from + i] === 0) || inline[c] === 0) {
      // A null or a long string: its record is written below (or not read at all), but must not be stale.
      out.fill(0, i * 4, i * 4 + 4);
      long ||= valid === null || valid[from + i] !== 0;
      continue;
    }
    const r = c * 4;
    const o = i * 4;
    out[o] = records[r]!;
    out[o + 1] = records[r + 1]!;
    out[o + 2] = records[r + 2]!;
    out[o + 3] = records[r + 3]!;
  }
  duckdb.copy_data_to_vector(vector, 0, out.buffer, 0, rows * 16);
  if (!long) return;
  for (let i = 0; i < rows; i++) {
    if (valid !== null && valid[from + i] === 0) continue;
    const c = codes[from + i]!;
    if (inline[c] === 0) duckdb.vector_assign_string_element(vector, i, dict[c]!);
  }
}

function fillList(vector: duckdb.Vector, offsets: Int32Array, items: Int16Array, from: number, rows: number): void {
  const first = offsets[from]!;
  const total = offsets[from + rows]! - first;
  // list_entry_t is two uint64 (offset, length) into the child vector; both fit in the low words.
  const entries = scratch.words;
  for (let i = 0; i < rows; i++) {
    entries[i * 4] = offsets[from + i]! - first;
    entries[i * 4 + 1] = 0;
    entries[i * 4 + 2] = offsets[from + i + 1]! - offsets[from + i]!;
    entries[i * 4 + 3] = 0;
  }
  duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, rows * 16);
  duckdb.list_vector_reserve(vector, total);
  if (total > 0) {
    const child = duckdb.list_vector_get_child(vector);
    duckdb.copy_data_to_vector(child, 0, items.buffer as ArrayBuffer, items.byteOffset + first * 2, total * 2);
  }
  duckdb.list_vector_set_size(vector, total);
}

function fillVector(vector: duckdb.Vector, col: FileColumn, strings: Strings | null, from: number, rows: number): void {
  // A fresh chunk is all valid: the bitmap is only needed when the file has a null in this column.
  const valid = col.nulls > 0 ? col.valid : null;
  if (valid !== null) fillValidity(vector, valid, from, rows);
  if (col.storage === 'fixed') fillFixed(vector, col.values, from, rows);
  else if (col.storage === 'string') fillStrings(vector, valid, col.codes, col.dict, strings!, from, rows);
  else fillList(vector, col.offsets, col.items, from, rows);
}

/**
 * Writes column buffers to Parquet through one connection. Copies through the same copier run one at a time (the
 * table function reads the copier's current feed).
 */
export class ParquetCopier {
  private feed: Feed | null = null;

  private constructor(private readonly connection: DuckDBConnection) {}

  /** Registers the `lf_rows` table function on `connection`. */
  static create(connection: DuckDBConnection): ParquetCopier {
    const copier = new ParquetCopier(connection);
    const fn = DuckDBTableFunction.create({
      name: 'lf_rows',
      bindFunction: (info) => {
        for (const c of copier.current().columns) info.addResultColumn(c.name, duckType(c.kind));
      },
      initFunction: (info) => {
        info.setMaxThreads(1);
        copier.current().next = 0;
      },
      mainFunction: (_info, output) => {
        const feed = copier.current();
        const from = feed.next;
        const rows = Math.min(CHUNK_ROWS, feed.file.rows - from);
        output.rowCount = rows;
        if (rows === 0) return;
        for (let k = 0; k < feed.file.columns.length; k++)
          fillVector(
            duckdb.data_chunk_get_vector(output.chunk, k),
            feed.file.columns[k]!,
            feed.strings[k]!,
            from,
            rows,
          );
        feed.next = from + rows;
      },
    });
    connection.registerTableFunction(fn);
    return copier;
  }

  /** `COPY` the rows of `file` (columns as `columns`) to `path` as ZSTD-3 Parquet with key/value metadata. */
  async copy(
    columns: readonly ColumnSpec[],
    file: FileColumns,
    path: string,
    metadata: ReadonlyMap<string, string>,
  ): Promise<void> {
    if (this.feed !== null) throw new Error('ParquetCopier: a copy is already running');
    const strings = file.columns.map((c) => (c.storage === 'string' ? stringRecords(c.dict) : null));
    this.feed = { columns, file, strings, next: 0 };
    const select = columns.map((c) => quoteIdent(c.name)).join(', ');
    const kv = [...metadata].map(([k, v]) => `${quoteIdent(k)}: ${quoteString(v)}`).join(', ');
    try {
      await this.connection.run(
        `COPY (SELECT ${select} FROM lf_rows()) TO ${quoteString(path)} ` +
          `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3, KV_METADATA {${kv}})`,
      );
    } finally {
      this.feed = null;
    }
  }

  private current(): Feed {
    if (this.feed === null) throw new Error('lf_rows() is only readable during ParquetCopier.copy');
    return this.feed;
  }
}
