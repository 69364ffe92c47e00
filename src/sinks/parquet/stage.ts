/**
 * Rows → DuckDB → Parquet. Rows go into a temp table with the exact column types through the appender, one data chunk
 * (2048 rows) at a time: fixed-width columns are filled in typed arrays and copied in one call, which measured ~1.5×
 * faster than appending value by value. The table is then written with `COPY … TO` (ZSTD level 3, key/value metadata).
 */
import {
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBValue,
  dateValue,
  listValue,
  timestampNanosValue,
} from '@duckdb/node-api';
import { duckType, duckTypeSql, quoteIdent, quoteString } from '../../common/duckdb.js';
import type { ColumnKind, ColumnSpec } from '../../common/schemas/index.js';

const CHUNK_ROWS = 2048;

const DAY_MS = 86_400_000;

function dateDays(s: string): number {
  const d = new Date(0);
  d.setUTCFullYear(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
  return Math.round(d.getTime() / DAY_MS);
}

/** Converts a canonical row value to the DuckDB value of its column kind. */
function converter(kind: ColumnKind): (v: unknown) => DuckDBValue {
  switch (kind) {
    case 'int64':
    case 'int64big':
    case 'epoch_ns':
      return (v) => (v === null ? null : typeof v === 'bigint' ? v : BigInt(v as number));
    case 'timestamp_ns':
      return (v) => (v === null ? null : timestampNanosValue(v as bigint));
    case 'date32':
      return (v) => (v === null ? null : dateValue(dateDays(v as string)));
    case 'int16_list':
      return (v) => (v === null ? null : listValue(v as number[]));
    default:
      return (v) => v as DuckDBValue;
  }
}

/**
 * Create (or replace) temp table `table` with the schema's columns plus `extra` columns, and append `rows` through the
 * appender, in order, with `extraValues(i)` giving the extra columns of row i.
 */
export async function stageRows(
  connection: DuckDBConnection,
  table: string,
  columns: readonly ColumnSpec[],
  rows: readonly Readonly<Record<string, unknown>>[],
  extra: readonly { name: string; kind: ColumnKind; value: (i: number) => unknown }[] = [],
): Promise<void> {
  const all = [
    ...columns.map((c) => ({ name: c.name, kind: c.kind, nullable: c.nullable })),
    ...extra.map((e) => ({ ...e, nullable: false })),
  ];
  const ddl = all.map((c) => `${quoteIdent(c.name)} ${duckTypeSql(c.kind)}${c.nullable ? '' : ' NOT NULL'}`).join(', ');
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(table)} (${ddl})`);
  const types = all.map((c) => duckType(c.kind));
  const convert = all.map((c) => converter(c.kind));
  const appender = await connection.createAppender(table);
  try {
    for (let offset = 0; offset < rows.length; offset += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows.length - offset);
      const chunk = DuckDBDataChunk.create(types, n);
      for (let j = 0; j < all.length; j++) {
        const vector = chunk.getColumnVector(j) as { setItem(i: number, v: DuckDBValue): void; flush(): void };
        const conv = convert[j]!;
        if (j < columns.length) {
          const name = all[j]!.name;
          for (let i = 0; i < n; i++) vector.setItem(i, conv(rows[offset + i]![name] ?? null));
        } else {
          const value = extra[j - columns.length]!.value;
          for (let i = 0; i < n; i++) vector.setItem(i, conv(value(offset + i)));
        }
        vector.flush();
      }
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** `COPY (SELECT columns FROM table ORDER BY orderBy) TO file` as ZSTD-3 Parquet with key/value metadata. */
export async function copyToParquet(
  connection: DuckDBConnection,
  table: string,
  columns: readonly ColumnSpec[],
  orderBy: string,
  file: string,
  metadata: ReadonlyMap<string, string>,
): Promise<void> {
  const select = columns.map((c) => quoteIdent(c.name)).join(', ');
  const kv = [...metadata].map(([k, v]) => `${quoteIdent(k)}: ${quoteString(v)}`).join(', ');
  await connection.run(
    `COPY (SELECT ${select} FROM ${quoteIdent(table)} ORDER BY ${orderBy}) TO ${quoteString(file)} ` +
      `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3, KV_METADATA {${kv}})`,
  );
}
