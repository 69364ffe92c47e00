/**
 * Bronze replay (DATA.md §5.3, §6.3–6.5): reads the lake's Bronze Parquet with DuckDB and yields market events in
 * canonical order, in batches, as a pulled source.
 *
 * - One streaming DuckDB query per schema and date, read a chunk at a time (`fetchChunk`), never a whole day in JS
 *   memory; the three are merged with `mergeByEventTime` (canonical order, trade < option < mbp10 on ties).
 * - Files are read by name with `union_by_name` and `hive_partitioning=false`: with Hive partitioning DuckDB would
 *   replace the `symbol` column (`ESZ5`) with the directory value (`symbol=ES`).
 * - Legacy Bronze (§2.9) is normalised here and only here: missing nullable columns become null, types are cast to the
 *   registry's, a string `exp_date` becomes a date, null-typed lists become null, and options written with
 *   `source='DATABENTO_CME'` have SELL stored as aggressor 2, mapped to −1. Every event gets source `replay`.
 * - `frontMonthOnly` keeps one futures contract per date, the one with the most trades during RTH 09:30–13:30
 *   America/New_York (§6.3), and reports the selection.
 * - Paced by `speed` (`REPLAY_SPEED`) with the anchored schedule of pacing.ts.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance, DuckDBListValue, type DuckDBValue } from '@duckdb/node-api';
import type { Observable } from 'rxjs';
import { CONFIG } from '../common/config.js';
import { EventSource, type MarketEvent } from '../common/event-types.js';
import { nyWallTimeToNs } from '../common/time.js';
import { type ColumnSpec, type Mbp10Row, SchemaRegistry, unflattenMbp10 } from '../common/schemas/index.js';
import { LAKE_DATASETS, type LakeSchemaName, datasetRoot } from '../common/lake-paths.js';
import { duckTypeSql, quoteIdent, quoteString } from '../common/duckdb.js';
import { fromPulled, mergeByEventTime } from './merge.js';
import { type PacingClock, paced } from './pacing.js';

export type ReplaySchema = 'futures.trades' | 'futures.mbp10' | 'options.trades';
const ALL_SCHEMAS: readonly ReplaySchema[] = ['futures.trades', 'options.trades', 'futures.mbp10'];

export interface ContractSelection {
  readonly date: string;
  /** The selected contract. */
  readonly front: string;
  /** front / total of the counted trades. */
  readonly dominance: number;
  readonly rollContaminated: boolean;
  readonly runnerUp: string | null;
  /** runner-up / front, 0 without a runner-up. */
  readonly runnerUpRatio: number;
  readonly contractCount: number;
  /** Trades per contract in the counting window, most first. */
  readonly counts: readonly { readonly symbol: string; readonly trades: number }[];
  /** `rth`: 09:30–13:30 New York; `day`: the whole UTC day (weekends, or no trade during RTH). */
  readonly window: 'rth' | 'day';
}

export interface ReplayOptions {
  /** Default `CONFIG.DATA_ROOT`. */
  readonly dataRoot?: string;
  /** First date, `YYYY-MM-DD`. */
  readonly from: string;
  /** Last date (inclusive), default `from`. */
  readonly to?: string;
  /** Inclusive event-time bounds in ns; `0n` is a real bound. */
  readonly startNs?: bigint;
  readonly endNs?: bigint;
  /** Futures product root (the `symbol=` partition), default `ES`. */
  readonly symbolRoot?: string;
  /** Options underlying (the `underlying=` partition), default `ES`. */
  readonly underlying?: string;
  /** Which Bronze schemas to read; default all three. */
  readonly schemas?: readonly ReplaySchema[];
  /** Replay speed; default `CONFIG.REPLAY_SPEED`; ≤ 0 is as fast as possible. */
  readonly speed?: number;
  /** One futures contract per date by volume dominance (default true). */
  readonly frontMonthOnly?: boolean;
  /** Largest batch read from a schema's query (default 2048, DuckDB's vector size). */
  readonly chunkRows?: number;
  /** Largest merged output batch (default 4096). */
  readonly batchSize?: number;
  readonly onSelection?: (selection: ContractSelection) => void;
  /** Non-fatal conditions (a date without options, a roll-contaminated selection). */
  readonly onWarning?: (message: string) => void;
  /** Clock for pacing (tests). */
  readonly clock?: PacingClock;
}

const FULL_NAME: Record<ReplaySchema, LakeSchemaName> = {
  'futures.trades': 'futures.trades.v1',
  'futures.mbp10': 'futures.mbp10.v1',
  'options.trades': 'options.trades.v1',
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

/** Sorted `date=` values under a dataset partition directory; `[]` when the directory does not exist. */
export async function availableDates(partitionDir: string): Promise<string[]> {
  const entries = await readdir(partitionDir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && e.name.startsWith('date=') && DATE.test(e.name.slice(5)))
    .map((e) => e.name.slice(5))
    .sort();
}

/** Committed Parquet files of one date (any depth: `hour=HH/part-*.parquet` and legacy `trades_{date}_h{HH}.parquet`). */
export async function dateFiles(partitionDir: string, date: string): Promise<string[]> {
  const dir = path.join(partitionDir, `date=${date}`);
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet') && !e.name.startsWith('.'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

function fileList(files: readonly string[]): string {
  return `[${files.map(quoteString).join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Time zone arithmetic for the RTH window (DST-aware, no library)

/** [start, end] ns of RTH 09:30–13:30 New York on `date`, or null on a weekend. */
export function rthWindowNs(date: string): [bigint, bigint] | null {
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
  if (weekday === 0 || weekday === 6) return null;
  return [nyWallTimeToNs(date, 9 * 60 + 30), nyWallTimeToNs(date, 13 * 60 + 30)];
}

/**
 * Volume dominance (§6.3): the contract with the most trades in RTH of `date` (the whole day when RTH has none),
 * ties to the alphabetically first symbol. Throws when the files hold no trade at all.
 */
export async function selectFrontMonth(
  connection: DuckDBConnection,
  files: readonly string[],
  date: string,
): Promise<ContractSelection> {
  const count = async (where: string) =>
    (
      await connection.runAndReadAll(
        `SELECT CAST(symbol AS VARCHAR) AS symbol, count(*)::BIGINT AS n ` +
          `FROM read_parquet(${fileList(files)}, hive_partitioning=false, union_by_name=true) ${where} ` +
          `GROUP BY 1 ORDER BY n DESC, symbol ASC`,
      )
    )
      .getRowObjectsJS()
      .map((r) => ({ symbol: r.symbol as string, trades: Number(r.n as bigint) }));
  const rth = rthWindowNs(date);
  let window: 'rth' | 'day' = 'rth';
  let counts = rth ? await count(`WHERE ts_event_ns BETWEEN ${rth[0]} AND ${rth[1]}`) : [];
  if (counts.length === 0) {
    window = 'day';
    counts = await count('');
  }
  if (counts.length === 0) throw new Error(`front-month selection for ${date}: no futures trades (empty data)`);
  const total = counts.reduce((n, c) => n + c.trades, 0);
  const front = counts[0]!;
  const runner = counts[1] ?? null;
  const dominance = front.trades / total;
  return {
    date,
    front: front.symbol,
    dominance,
    rollContaminated: dominance < 0.6,
    runnerUp: runner?.symbol ?? null,
    runnerUpRatio: runner ? runner.trades / front.trades : 0,
    contractCount: counts.length,
    counts,
    window,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading one schema

/** The SELECT list that turns whatever a (possibly legacy) file holds into the registry's columns, by name. */
function normalisedSelect(columns: readonly ColumnSpec[], actual: ReadonlyMap<string, string>, schema: string): string {
  // `source` is always `replay`, and an absent receive time is the event time (DATA.md §1.2).
  const derived = new Set(['source', 'ts_recv_ns']);
  const missing = columns.filter(
    (c) => !c.nullable && c.default === undefined && !derived.has(c.name) && !actual.has(c.name),
  );
  if (missing.length > 0)
    throw new Error(`Bronze ${schema} lacks required columns: ${missing.map((c) => c.name).join(', ')}`);
  const out: string[] = [];
  for (const c of columns) {
    const id = quoteIdent(c.name);
    const type = duckTypeSql(c.kind);
    const present = actual.get(c.name);
    let expr: string;
    if (c.name === 'source') continue;
    if (c.name === 'ts_recv_ns' && present === undefined) expr = 'CAST("ts_event_ns" AS BIGINT)';
    else if (present === undefined)
      expr =
        c.default !== undefined
          ? `CAST(${JSON.stringify(c.default).replaceAll('"', "'")} AS ${type})`
          : `CAST(NULL AS ${type})`;
    else if (c.name === 'ts_recv_ns') expr = `CAST(COALESCE(${id}, "ts_event_ns") AS BIGINT)`;
    else if (c.name === 'aggressor' && actual.has('source'))
      expr = `CAST(CASE WHEN "source" = 'DATABENTO_CME' AND ${id} = 2 THEN -1 ELSE ${id} END AS TINYINT)`;
    else if (c.kind === 'int16_list' && !present.endsWith('[]')) expr = `CAST(NULL AS ${type})`;
    else if (c.kind === 'date32') expr = `strftime(CAST(${id} AS DATE), '%Y-%m-%d')`;
    else expr = `CAST(${id} AS ${type})`;
    out.push(`${expr} AS ${id}`);
  }
  return out.join(', ');
}

interface SchemaQuery {
  readonly schema: ReplaySchema;
  readonly files: readonly string[];
  readonly symbol: string | null;
}

/** Stream one schema's events of a date in canonical order, `chunkRows` at a time. */
async function* readSchema(
  instance: DuckDBInstance,
  q: SchemaQuery,
  startNs: bigint | undefined,
  endNs: bigint | undefined,
  chunkRows: number,
): AsyncGenerator<MarketEvent[], void, undefined> {
  const rowSchema = SchemaRegistry.require(FULL_NAME[q.schema]);
  const connection = await instance.connect();
  try {
    const source = `read_parquet(${fileList(q.files)}, hive_partitioning=false, union_by_name=true, filename=true, file_row_number=true)`;
    const described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJS();
    const actual = new Map(described.map((d) => [d.column_name as string, d.column_type as string]));
    const where: string[] = [];
    if (startNs !== undefined) where.push(`"ts_event_ns" >= ${startNs}`);
    if (endNs !== undefined) where.push(`"ts_event_ns" <= ${endNs}`);
    if (q.symbol !== null) where.push(`"symbol" = ${quoteString(q.symbol)}`);
    const sql =
      `SELECT ${normalisedSelect(rowSchema.columns, actual, q.schema)} FROM ${source} ` +
      (where.length > 0 ? `WHERE ${where.join(' AND ')} ` : '') +
      // filename + file_row_number make ties between identical keys deterministic (file order, §5.3).
      `ORDER BY "ts_event_ns", "ts_recv_ns", "seq" NULLS LAST, filename, file_row_number`;
    const result = await connection.stream(sql);
    const names = result.columnNames();
    const build = eventBuilder(q.schema, names);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) return;
      const cols = chunk.getColumns();
      const n = chunk.rowCount;
      for (let off = 0; off < n; off += chunkRows) {
        const end = Math.min(n, off + chunkRows);
        const batch: MarketEvent[] = [];
        for (let i = off; i < end; i++) batch.push(build(cols, i));
        yield batch;
      }
    }
  } finally {
    connection.closeSync();
  }
}

function plain(v: DuckDBValue): unknown {
  return v instanceof DuckDBListValue ? v.items.map((x) => Number(x)) : v;
}

function eventBuilder(
  schema: ReplaySchema,
  names: readonly string[],
): (cols: DuckDBValue[][], i: number) => MarketEvent {
  const rowOf = (cols: DuckDBValue[][], i: number): Record<string, unknown> => {
    const row: Record<string, unknown> = {};
    for (let j = 0; j < names.length; j++) {
      const name = names[j]!;
      row[name] = plain(cols[j]![i]!);
      if (name === 'ts_recv_ns') row.source = EventSource.REPLAY;
    }
    return row;
  };
  if (schema === 'futures.mbp10') return (cols, i) => unflattenMbp10(rowOf(cols, i) as Mbp10Row);
  return (cols, i) => rowOf(cols, i) as unknown as MarketEvent;
}

// ---------------------------------------------------------------------------------------------------------------------
// The replay

/**
 * Bronze events of `from…to` in canonical order, as batches. Missing Bronze directories give an empty replay; a date
 * range with no data where data exists is an error naming the available dates.
 */
export async function* replayBronze(options: ReplayOptions): AsyncGenerator<MarketEvent[], void, undefined> {
  const speed = options.speed ?? CONFIG.REPLAY_SPEED;
  const source = unpacedReplay(options);
  if (speed > 0) yield* paced<MarketEvent>(speed, options.clock ? { clock: options.clock } : {})(source);
  else yield* source;
}

async function* unpacedReplay(options: ReplayOptions): AsyncGenerator<MarketEvent[], void, undefined> {
  const from = options.from;
  const to = options.to ?? from;
  for (const d of [from, to])
    if (!DATE.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`))) throw new Error(`invalid replay date ${d}`);
  if (to < from) throw new Error(`replay range ${from}..${to} is empty (to < from)`);
  const dataRoot = path.resolve(options.dataRoot ?? CONFIG.DATA_ROOT);
  const schemas = ALL_SCHEMAS.filter((s) => (options.schemas ?? ALL_SCHEMAS).includes(s));
  const chunkRows = options.chunkRows ?? 2048;
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) throw new RangeError('chunkRows must be ≥ 1');
  const frontMonthOnly = options.frontMonthOnly ?? true;
  const warn = options.onWarning ?? ((m: string) => console.warn(`levelflow replay: ${m}`));

  const dirs = new Map<ReplaySchema, string>();
  for (const s of schemas) {
    const dataset = LAKE_DATASETS[FULL_NAME[s]];
    const value = dataset.key === 'symbol' ? (options.symbolRoot ?? 'ES') : (options.underlying ?? 'ES');
    dirs.set(s, datasetRoot(dataRoot, dataset, value));
  }
  const existing = [...dirs.values()];
  if (!(await Promise.all(existing.map(isDir))).some(Boolean)) return;
  const available = new Set<string>();
  for (const dir of existing) for (const d of await availableDates(dir)) available.add(d);
  const dates = [...available].filter((d) => d >= from && d <= to).sort();
  if (dates.length === 0)
    throw new Error(
      `no Bronze data for ${from === to ? from : `${from}..${to}`} under ${existing.join(', ')}; ` +
        `available dates: ${[...available].sort().join(', ') || 'none'}`,
    );

  const instance = await DuckDBInstance.create(':memory:');
  try {
    for (const date of dates) {
      const files = new Map<ReplaySchema, string[]>();
      for (const s of schemas) files.set(s, await dateFiles(dirs.get(s)!, date));
      let front: string | null = null;
      const futuresFiles = files.get('futures.trades')?.length
        ? files.get('futures.trades')!
        : (files.get('futures.mbp10') ?? []);
      if (frontMonthOnly && futuresFiles.length > 0) {
        const connection = await instance.connect();
        try {
          const selection = await selectFrontMonth(connection, futuresFiles, date);
          front = selection.front;
          options.onSelection?.(selection);
          if (selection.rollContaminated)
            warn(`${date}: front month ${front} has only ${(selection.dominance * 100).toFixed(1)}% of trades`);
        } finally {
          connection.closeSync();
        }
      }
      if (schemas.includes('options.trades') && (files.get('options.trades') ?? []).length === 0)
        warn(`${date}: no Bronze options, continuing without them`);
      const sources = schemas
        .filter((s) => (files.get(s) ?? []).length > 0)
        .map((s) =>
          readSchema(
            instance,
            { schema: s, files: files.get(s)!, symbol: s === 'options.trades' ? null : front },
            options.startNs,
            options.endNs,
            chunkRows,
          ),
        );
      yield* mergeByEventTime<MarketEvent>(sources, { batchSize: options.batchSize ?? 4096 });
    }
  } finally {
    instance.closeSync();
  }
}

/** `replayBronze` as an Observable; `gate` is the pipeline's high-water mark, awaited before each pull. */
export function replay$(
  options: ReplayOptions,
  pull: { gate?: () => void | Promise<void> } = {},
): Observable<MarketEvent> {
  return fromPulled(() => replayBronze(options), pull);
}
