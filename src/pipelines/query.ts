/**
 * SQL over the Parquet lake (DuckDB): one view per streaming dataset, shared by `levelflow query` and the pipelines.
 *
 * | view             | schema              | files                                            |
 * |------------------|---------------------|--------------------------------------------------|
 * | `futures_trades` | `futures.trades.v1` | `{DATA_ROOT}/bronze/futures/trades/**\/*.parquet` |
 * | `futures_mbp10`  | `futures.mbp10.v1`  | `{DATA_ROOT}/bronze/futures/mbp10/**\/*.parquet`  |
 * | `options_trades` | `options.trades.v1` | `{DATA_ROOT}/bronze/options/trades/**\/*.parquet` |
 * | `levels_signals` | `levels.signals.v1` | `{DATA_ROOT}/gold/levels/signals/**\/*.parquet`   |
 *
 * Each view has the registry's columns in schema order and types, then any extra columns the files hold, then `date`
 * (DATE) and `hour` (INTEGER) from the file's Hive directories. Files are read with `hive_partitioning=false`: with
 * Hive partitioning DuckDB would replace the real `symbol` column (`ESZ5`) with the directory value (`symbol=ES`).
 * A column missing from older files reads as NULL, and a dataset without any file yet is an empty view of the same
 * shape, so a query never fails just because nothing has been written.
 */
import path from 'node:path';
import {
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBArrayValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUnionValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { duckTypeSql, quoteIdent, quoteString } from '../common/duckdb.js';
import { LAKE_DATASETS, type LakeSchemaName } from '../common/lake-paths.js';
import { SchemaRegistry } from '../common/schemas/index.js';

export interface LakeView {
  /** SQL name, e.g. `futures_trades`. */
  readonly name: string;
  readonly schema: LakeSchemaName;
  /** The glob the view reads. */
  readonly glob: string;
  /** Parquet files found when the view was (re)created; 0 means the view is the empty typed view. */
  readonly files: number;
}

export interface LakeDb {
  readonly connection: DuckDBConnection;
  readonly dataRoot: string;
  readonly views: readonly LakeView[];
  /** Recreate the views, to see datasets whose first file appeared after opening. */
  refresh(): Promise<void>;
  close(): void;
}

/** `futures.trades.v1` → `futures_trades`. */
export function lakeViewName(schema: LakeSchemaName): string {
  return schema.replace(/\.v\d+$/, '').replaceAll('.', '_');
}

function lakeGlob(dataRoot: string, schema: LakeSchemaName): string {
  return path.join(dataRoot, ...LAKE_DATASETS[schema].dir.split('/'), '**', '*.parquet');
}

/** Partition directories of the file, as columns: TRY_CAST, so a file outside the layout gets NULL, not an error. */
const PARTITION_COLUMNS =
  `TRY_CAST(regexp_extract(filename, '[/\\\\]date=([0-9]{4}-[0-9]{2}-[0-9]{2})[/\\\\]', 1) AS DATE) AS "date", ` +
  `TRY_CAST(regexp_extract(filename, '[/\\\\]hour=([0-9]{1,2})[/\\\\]', 1) AS INTEGER) AS "hour"`;

async function createView(connection: DuckDBConnection, dataRoot: string, schema: LakeSchemaName): Promise<LakeView> {
  const name = lakeViewName(schema);
  const glob = lakeGlob(dataRoot, schema);
  const columns = SchemaRegistry.require(schema).columns;
  const counted = await connection.runAndReadAll(`SELECT count(*) FROM glob(${quoteString(glob)})`);
  const files = Number(counted.getRows()[0]?.[0] ?? 0n);
  let body: string;
  if (files === 0) {
    const typed = columns.map((c) => `CAST(NULL AS ${duckTypeSql(c.kind)}) AS ${quoteIdent(c.name)}`);
    body = `SELECT ${[...typed, 'CAST(NULL AS DATE) AS "date"', 'CAST(NULL AS INTEGER) AS "hour"'].join(', ')} WHERE false`;
  } else {
    const source = `read_parquet(${quoteString(glob)}, hive_partitioning=false, union_by_name=true, filename=true)`;
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const actual = new Map(
      described.getRowObjectsJS().map((r) => [String(r['column_name']), String(r['column_type'])]),
    );
    const known = new Set(columns.map((c) => c.name));
    const select = columns.map((c) => {
      const want = duckTypeSql(c.kind);
      const have = actual.get(c.name);
      if (have === undefined) return `CAST(NULL AS ${want}) AS ${quoteIdent(c.name)}`;
      return have === want ? quoteIdent(c.name) : `CAST(${quoteIdent(c.name)} AS ${want}) AS ${quoteIdent(c.name)}`;
    });
    for (const extra of actual.keys()) {
      if (!known.has(extra) && extra !== 'filename' && extra !== 'date' && extra !== 'hour')
        select.push(quoteIdent(extra));
    }
    body = `SELECT ${select.join(', ')}, ${PARTITION_COLUMNS} FROM ${source}`;
  }
  await connection.run(`CREATE OR REPLACE VIEW ${quoteIdent(name)} AS ${body}`);
  return { name, schema, glob, files };
}

/** An in-memory DuckDB with the lake views over `dataRoot` (which need not exist yet). */
export async function openLakeDb(dataRoot: string): Promise<LakeDb> {
  const root = path.resolve(dataRoot);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let views: LakeView[] = [];
  const refresh = async (): Promise<void> => {
    const created: LakeView[] = [];
    for (const schema of Object.keys(LAKE_DATASETS) as LakeSchemaName[])
      created.push(await createView(connection, root, schema));
    views = created;
  };
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    connection.closeSync();
    instance.closeSync();
  };
  try {
    await refresh();
  } catch (err) {
    close();
    throw err;
  }
  return {
    connection,
    dataRoot: root,
    get views() {
      return views;
    },
    refresh,
    close,
  };
}

/**
 * A query value as plain JS: integers of 64 bits and more stay exact `bigint`s; every timestamp type becomes
 * integer nanoseconds since the epoch (`bigint`), like the lake's `*_ns` columns; DATE is `YYYY-MM-DD`; DECIMAL is a
 * double; lists, arrays and structs are arrays and objects; anything else is its DuckDB text.
 */
export type QueryValue = null | boolean | number | bigint | string | QueryValue[] | { [key: string]: QueryValue };

export function toQueryValue(v: DuckDBValue): QueryValue {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof DuckDBTimestampNanosecondsValue) return v.nanos;
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return v.micros * 1000n;
  if (v instanceof DuckDBTimestampMillisecondsValue) return v.millis * 1_000_000n;
  if (v instanceof DuckDBTimestampSecondsValue) return v.seconds * 1_000_000_000n;
  if (v instanceof DuckDBDateValue) return v.toString();
  if (v instanceof DuckDBDecimalValue) return v.toDouble();
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(toQueryValue);
  if (v instanceof DuckDBStructValue) {
    const out: { [key: string]: QueryValue } = {};
    for (const [k, x] of Object.entries(v.entries)) out[k] = toQueryValue(x);
    return out;
  }
  if (v instanceof DuckDBMapValue)
    return v.entries.map((e) => ({ key: toQueryValue(e.key), value: toQueryValue(e.value) }));
  if (v instanceof DuckDBUnionValue) return toQueryValue(v.value);
  return v.toString();
}

export interface QueryColumn {
  /** Unique within the result (DuckDB suffixes duplicates), so rows can be keyed by it. */
  readonly name: string;
  /** DuckDB type text, e.g. `BIGINT`, `TIMESTAMP_NS`, `VARCHAR[]`. */
  readonly type: string;
}

export interface QueryStream {
  readonly columns: readonly QueryColumn[];
  /** Rows in DuckDB's chunks (≤ 2048 rows each), fetched as consumed. */
  readonly batches: AsyncIterable<QueryValue[][]>;
}

/** Run `sql` (the last statement's result is returned) and read its rows lazily. */
export async function streamQuery(connection: DuckDBConnection, sql: string): Promise<QueryStream> {
  const result = await connection.stream(sql);
  const names = result.deduplicatedColumnNames();
  const columns = result.columnTypes().map((t, i) => ({ name: names[i] ?? `column${i}`, type: t.toString() }));
  async function* batches(): AsyncGenerator<QueryValue[][]> {
    for await (const rows of result.yieldRows()) yield rows.map((r) => r.map(toQueryValue));
  }
  return { columns, batches: batches() };
}

export interface QueryResult {
  readonly columns: readonly QueryColumn[];
  readonly rows: QueryValue[][];
  /** True when `limit` cut the result short. */
  readonly truncated: boolean;
}

/** Rows of a query over the lake at `dataRoot`, at most `limit` of them. */
export async function queryLake(dataRoot: string, sql: string, options: { limit?: number } = {}): Promise<QueryResult> {
  const limit = options.limit ?? Infinity;
  const db = await openLakeDb(dataRoot);
  try {
    return await collect(await streamQuery(db.connection, sql), limit);
  } finally {
    db.close();
  }
}

/** Up to `limit` rows of a stream, and whether more were left. */
export async function collect(stream: QueryStream, limit = Infinity): Promise<QueryResult> {
  const rows: QueryValue[][] = [];
  let truncated = false;
  for await (const batch of stream.batches) {
    for (const row of batch) {
      if (rows.length >= limit) {
        truncated = true;
        break;
      }
      rows.push(row);
    }
    if (truncated) break;
  }
  return { columns: stream.columns, rows, truncated };
}
