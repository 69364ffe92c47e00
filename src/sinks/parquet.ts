/**
 * Parquet lake writer (DATA.md §5.1–5.2, §5.5): buffers validated rows of the three Bronze schemas and the Gold
 * `levels.signals.v1` rows, and commits them as Hive-partitioned Parquet files through DuckDB.
 *
 * Guarantees
 * - Exact schema: each file has the registry's columns, types and order; non-null columns are REQUIRED (DuckDB writes
 *   everything OPTIONAL, so the file is post-processed, see parquet/required.ts); key/value metadata `schema_name`,
 *   `tier`, `description`.
 * - Atomic: a file is written under a dot-prefixed `.tmp` name, fsynced, renamed, and its directory fsynced; a crash
 *   leaves at worst a temp file that no `*.parquet` glob matches.
 * - Idempotent names: `part-{firstTsNs}-{lastTsNs}-{sha256(rows)[:12]}.parquet` (see `partFileName`), so writing the
 *   same rows again (a retry, a repeated replay) produces the same name with byte-identical content and replaces the
 *   earlier file instead of adding a duplicate.
 * - Nothing lost: rows whose commit failed go back to the buffer and are retried by the next flush; a token (a NATS
 *   sequence, say) is reported durable only once every row appended with it is in a renamed, fsynced file.
 * - Bad rows: each record is validated before buffering; an invalid one goes to `onInvalid` (the NATS layer
 *   dead-letters it) and never affects the other records of its batch.
 * - Bounded memory: a buffer is flushed when it reaches `maxRows`; `ready()` lets a producer wait for that flush.
 */
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import { CONFIG } from '../common/config.js';
import type { MBP10 } from '../common/event-types.js';
import type { RunManifestManager } from '../common/run-manifest.js';
import { type LevelSignalRow, type RowSchema, SchemaRegistry, flattenMbp10 } from '../common/schemas/index.js';
import {
  LAKE_DATASETS,
  type LakeDataset,
  type LakeSchemaName,
  type Partition,
  RowDigest,
  isLakeSchema,
  partFileName,
  partitionPath,
  partitionValueOf,
  tempFileName,
  utcDateHour,
} from '../common/lake-paths.js';
import { commitRename, removeQuietly, writeFileSynced } from './parquet/fs.js';
import { makeColumnsRequired } from './parquet/required.js';
import { copyToParquet, stageRows } from './parquet/stage.js';

export type { LakeSchemaName } from '../common/lake-paths.js';

/** What the writer needs of a run manifest. */
export type LakeManifest = Pick<RunManifestManager, 'trackBronzeFile' | 'trackGoldFile' | 'updateEventCount'>;

/** One committed Parquet file and the input it covers. */
export interface CommittedFile<Token = unknown> {
  readonly schema: LakeSchemaName;
  /** Absolute path of the final file. */
  readonly path: string;
  /** Path relative to DATA_ROOT, `/`-separated. */
  readonly relativePath: string;
  readonly partition: Partition;
  readonly rows: number;
  /** Smallest and largest `ts_event_ns` of the rows (inclusive): the event-time range the file covers. */
  readonly firstTsNs: bigint;
  readonly lastTsNs: bigint;
  /** The 12 hex digits of the row digest in the file name. */
  readonly digest: string;
  readonly bytes: number;
  /** Tokens of the rows in this file, in file order, one per row (undefined for rows appended without one). */
  readonly tokens: readonly (Token | undefined)[];
}

export interface FlushResult<Token = unknown> {
  readonly files: readonly CommittedFile<Token>[];
  /** Tokens whose every row became durable during this flush, in commit order. */
  readonly durableTokens: readonly Token[];
}

export interface InvalidInfo<Token> {
  readonly schema: string;
  readonly token: Token | undefined;
}

export interface ParquetLakeWriterOptions<Token = unknown> {
  /** Default `CONFIG.DATA_ROOT`. */
  readonly dataRoot?: string;
  /** Rows per schema buffer that trigger a flush; default `CONFIG.MICRO_BATCH_MAX_ROWS`. */
  readonly maxRows?: number;
  /** Wall-clock seconds a row may wait in a buffer; default `CONFIG.MICRO_BATCH_INTERVAL_S`; 0 disables the timer. */
  readonly intervalS?: number;
  /** Run manifest to record committed files and event counts in. */
  readonly manifest?: LakeManifest | null;
  /** A record that failed validation (or could not be partitioned); it is not buffered. */
  readonly onInvalid?: (record: unknown, error: Error, info: InvalidInfo<Token>) => void;
  /** Tokens whose rows are all committed, after rename and directory fsync; ack them now. */
  readonly onDurable?: (tokens: Token[], file: CommittedFile<Token>) => void;
  /** Failures of background flushes (timer, full buffer) and of manifest updates; the rows stay buffered. */
  readonly onError?: (error: Error) => void;
  /** Wall clock in ms, for the micro-batch interval (tests inject one). */
  readonly now?: () => number;
  /**
   * Run after the temp file is fsynced and before the rename, with the file about to be committed: a consumer records
   * which tokens the file will hold (a write-ahead record that survives a crash between the rename and its acks).
   * Throwing aborts this commit; the rows stay buffered.
   */
  readonly beforeCommit?: (file: CommittedFile<Token>) => void | Promise<void>;
  /** Test hook run between the fsync of the temp file and the rename: throwing simulates a crash there. */
  readonly beforeRename?: (tempPath: string, finalPath: string) => void | Promise<void>;
}

interface Entry<Token> {
  readonly row: Record<string, unknown>;
  readonly token: Token | undefined;
  readonly partition: Partition;
  readonly key: string;
}

interface Buffer<Token> {
  entries: Entry<Token>[];
  /** Wall time of the oldest buffered row, or null when empty. */
  since: number | null;
}

const LAKE_SCHEMAS = Object.keys(LAKE_DATASETS) as LakeSchemaName[];

/** `futures.trades` → `futures.trades.v1`; full names pass through. */
function lakeSchemaName(name: string): LakeSchemaName {
  const full = /\.v\d+$/.test(name) ? name : `${name}.v1`;
  if (!isLakeSchema(full)) throw new Error(`no lake dataset for schema ${name}; known: ${LAKE_SCHEMAS.join(', ')}`);
  return full;
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** File order: `ts_event_ns`, then `seq` (null last) for Bronze or `level_id` for Gold; ties keep arrival order. */
function rowOrder(schema: LakeSchemaName): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  if (schema === 'levels.signals.v1')
    return (a, b) =>
      compareBigint(a.ts_event_ns as bigint, b.ts_event_ns as bigint) ||
      ((a.level_id as string) < (b.level_id as string) ? -1 : (a.level_id as string) > (b.level_id as string) ? 1 : 0);
  return (a, b) => {
    const c = compareBigint(a.ts_event_ns as bigint, b.ts_event_ns as bigint);
    if (c !== 0) return c;
    const sa = a.seq as bigint | null;
    const sb = b.seq as bigint | null;
    if (sa === sb) return 0;
    if (sa === null) return 1;
    if (sb === null) return -1;
    return compareBigint(sa, sb);
  };
}

let writerSerial = 0;

export class ParquetLakeWriter<Token = unknown> {
  readonly dataRoot: string;
  readonly maxRows: number;
  readonly intervalMs: number;

  private readonly options: ParquetLakeWriterOptions<Token>;
  private readonly now: () => number;
  private readonly buffers = new Map<LakeSchemaName, Buffer<Token>>();
  private readonly pendingTokens = new Map<Token, number>();
  private readonly writerId = `${process.pid}-${++writerSerial}`;
  private tempCounter = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private db: { instance: DuckDBInstance; connection: DuckDBConnection } | null = null;

  constructor(options: ParquetLakeWriterOptions<Token> = {}) {
    this.options = options;
    this.dataRoot = path.resolve(options.dataRoot ?? CONFIG.DATA_ROOT);
    this.maxRows = options.maxRows ?? CONFIG.MICRO_BATCH_MAX_ROWS;
    if (!Number.isSafeInteger(this.maxRows) || this.maxRows < 1) throw new RangeError(`maxRows must be ≥ 1`);
    const intervalS = options.intervalS ?? CONFIG.MICRO_BATCH_INTERVAL_S;
    if (!(intervalS >= 0)) throw new RangeError(`intervalS must be ≥ 0`);
    this.intervalMs = intervalS * 1000;
    this.now = options.now ?? Date.now;
    for (const s of LAKE_SCHEMAS) this.buffers.set(s, { entries: [], since: null });
    if (this.intervalMs > 0) {
      // An I/O policy on wall time (how long a row may wait before it is made durable), not event-time logic.
      this.timer = setInterval(() => this.tick(), Math.max(1, this.intervalMs / 2));
      this.timer.unref();
    }
  }

  /** Rows buffered and not yet committed, per schema. */
  get buffered(): Readonly<Record<LakeSchemaName, number>> {
    const out = {} as Record<LakeSchemaName, number>;
    for (const [s, b] of this.buffers) out[s] = b.entries.length;
    return out;
  }

  /**
   * Validate and buffer one row (or event: an MBP10 is flattened). Returns false when the record is invalid; it was
   * then reported to `onInvalid` and nothing was buffered.
   */
  append(schemaName: string, rowOrEvent: unknown): boolean {
    return this.appendWithToken(schemaName, rowOrEvent, undefined);
  }

  /**
   * `append` with a durability token (a JetStream sequence, a message): once every row appended with the token is
   * committed, the token is passed to `onDurable` and returned in `FlushResult.durableTokens`.
   */
  appendWithToken(schemaName: string, rowOrEvent: unknown, token: Token | undefined): boolean {
    if (this.closed) throw new Error('ParquetLakeWriter is closed');
    const schema = lakeSchemaName(schemaName);
    const rowSchema = SchemaRegistry.require(schema) as RowSchema;
    const dataset = LAKE_DATASETS[schema];
    let entry: Entry<Token>;
    try {
      const input =
        schema === 'futures.mbp10.v1' && typeof rowOrEvent === 'object' && rowOrEvent !== null && 'levels' in rowOrEvent
          ? flattenMbp10(rowOrEvent as MBP10)
          : rowOrEvent;
      const parsed = rowSchema.safeParse(input);
      if (!parsed.success) throw parsed.error;
      const row = parsed.data;
      const { date, hour } = utcDateHour(row.ts_event_ns as bigint);
      const partition: Partition = { key: dataset.key, value: partitionValueOf(dataset, row), date, hour };
      entry = { row, token, partition, key: `${partition.value}/${date}/${hour}` };
    } catch (err) {
      this.options.onInvalid?.(rowOrEvent, err as Error, { schema, token });
      return false;
    }
    const buffer = this.buffers.get(schema)!;
    buffer.entries.push(entry);
    buffer.since ??= this.now();
    if (token !== undefined) this.pendingTokens.set(token, (this.pendingTokens.get(token) ?? 0) + 1);
    if (buffer.entries.length >= this.maxRows || this.due(buffer)) this.background([schema]);
    return true;
  }

  /**
   * Flatten a `levels.signals` payload (§2.8) and buffer its rows with one token. A payload that cannot be flattened
   * (no `ts`) is reported to `onInvalid` whole; an invalid level row is reported alone. Returns the rows buffered.
   */
  appendLevelSignals(payload: LevelSignalsPayload, token?: Token): number {
    let rows: LevelSignalRow[];
    try {
      rows = toLevelSignalRows(payload);
    } catch (err) {
      this.options.onInvalid?.(payload, err as Error, { schema: 'levels.signals.v1', token });
      return 0;
    }
    let n = 0;
    for (const row of rows) if (this.appendWithToken('levels.signals.v1', row, token)) n++;
    return n;
  }

  /** Resolves once every buffer holds fewer than `maxRows` rows, flushing full ones: the producer's backpressure. */
  async ready(): Promise<void> {
    for (;;) {
      const full = LAKE_SCHEMAS.filter((s) => this.buffers.get(s)!.entries.length >= this.maxRows);
      if (full.length === 0) return;
      await this.flushSchemas(full);
    }
  }

  /** Commit every buffered row; resolves after the files are renamed and their directories fsynced. */
  flush(): Promise<FlushResult<Token>> {
    return this.flushSchemas(LAKE_SCHEMAS);
  }

  /** Stop the timer, flush everything, release DuckDB. A failed final flush rejects and keeps the writer open. */
  async close(): Promise<FlushResult<Token>> {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    const result = await this.flush();
    this.closed = true;
    await this.chain.catch(() => undefined);
    if (this.db !== null) {
      this.db.connection.closeSync();
      this.db.instance.closeSync();
      this.db = null;
    }
    return result;
  }

  private due(buffer: Buffer<Token>): boolean {
    return this.intervalMs > 0 && buffer.since !== null && this.now() - buffer.since >= this.intervalMs;
  }

  private tick(): void {
    const due = LAKE_SCHEMAS.filter((s) => this.due(this.buffers.get(s)!));
    if (due.length > 0) this.background(due);
  }

  private background(schemas: LakeSchemaName[]): void {
    this.flushSchemas(schemas).catch((err: unknown) => this.reportError(err));
  }

  private reportError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.options.onError) this.options.onError(error);
    else console.error(`levelflow parquet writer: ${error.message}`);
  }

  /** Flushes run one at a time, in call order, on the writer's single DuckDB connection. */
  private flushSchemas(schemas: readonly LakeSchemaName[]): Promise<FlushResult<Token>> {
    const run = this.chain.then(async () => {
      const files: CommittedFile<Token>[] = [];
      const durableTokens: Token[] = [];
      for (const schema of schemas) await this.flushBuffer(schema, files, durableTokens);
      return { files, durableTokens };
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async flushBuffer(schema: LakeSchemaName, files: CommittedFile<Token>[], durable: Token[]): Promise<void> {
    const buffer = this.buffers.get(schema)!;
    if (buffer.entries.length === 0) return;
    const taken = buffer.entries;
    const since = buffer.since;
    buffer.entries = [];
    buffer.since = null;
    const groups = new Map<string, Entry<Token>[]>();
    for (const e of taken) {
      const g = groups.get(e.key);
      if (g) g.push(e);
      else groups.set(e.key, [e]);
    }
    const keys = [...groups.keys()].sort();
    for (let k = 0; k < keys.length; k++) {
      const group = groups.get(keys[k]!)!;
      let file: CommittedFile<Token>;
      try {
        file = await this.writeGroup(schema, group);
      } catch (err) {
        // The failed group and those after it go back in front of rows appended since, in their arrival order.
        const unwritten = new Set(keys.slice(k));
        buffer.entries = [...taken.filter((e) => unwritten.has(e.key)), ...buffer.entries];
        buffer.since = since ?? buffer.since;
        throw err;
      }
      files.push(file);
      const ready = this.release(file.tokens);
      durable.push(...ready);
      if (ready.length > 0) this.options.onDurable?.(ready, file);
    }
  }

  private release(tokens: readonly (Token | undefined)[]): Token[] {
    const ready: Token[] = [];
    for (const t of tokens) {
      if (t === undefined) continue;
      const left = (this.pendingTokens.get(t) ?? 1) - 1;
      if (left > 0) this.pendingTokens.set(t, left);
      else {
        this.pendingTokens.delete(t);
        ready.push(t);
      }
    }
    return ready;
  }

  private async connection(): Promise<DuckDBConnection> {
    if (this.db === null) {
      const instance = await DuckDBInstance.create(':memory:');
      this.db = { instance, connection: await instance.connect() };
    }
    return this.db.connection;
  }

  private async writeGroup(schema: LakeSchemaName, group: Entry<Token>[]): Promise<CommittedFile<Token>> {
    const dataset: LakeDataset = LAKE_DATASETS[schema];
    const rowSchema = SchemaRegistry.require(schema) as RowSchema;
    const order = rowOrder(schema);
    const sorted = [...group].sort((a, b) => order(a.row, b.row));
    const rows = sorted.map((e) => e.row);
    const columns = rowSchema.columns;
    const digest = new RowDigest();
    const names = columns.map((c) => c.name);
    for (const row of rows) digest.addRow(row, names);
    const hex = digest.hex().slice(0, 12);
    const first = rows[0]!.ts_event_ns as bigint;
    const last = rows[rows.length - 1]!.ts_event_ns as bigint;
    const partition = sorted[0]!.partition;
    const relativeDir = partitionPath(dataset, partition);
    const dir = path.join(this.dataRoot, ...relativeDir.split('/'));
    const name = partFileName(first, last, hex);
    const finalPath = path.join(dir, name);
    const tempPath = path.join(dir, tempFileName(name, `${this.writerId}-${++this.tempCounter}`));
    await mkdir(dir, { recursive: true });

    const connection = await this.connection();
    const table = `lf_stage_${schema.replaceAll('.', '_')}`;
    let file: CommittedFile<Token>;
    try {
      await stageRows(connection, table, columns, rows, [{ name: '__lf_order', kind: 'int32', value: (i) => i }]);
      await copyToParquet(connection, table, columns, '"__lf_order"', tempPath, rowSchema.metadata);
      await connection.run(`DROP TABLE IF EXISTS "${table}"`);
      const required = new Set(columns.filter((c) => !c.nullable).map((c) => c.name));
      const fixed = makeColumnsRequired(await readFile(tempPath), required);
      await writeFileSynced(tempPath, fixed);
      file = {
        schema,
        path: finalPath,
        relativePath: `${relativeDir}/${name}`,
        partition,
        rows: rows.length,
        firstTsNs: first,
        lastTsNs: last,
        digest: hex,
        bytes: fixed.length,
        tokens: sorted.map((e) => e.token),
      };
      await this.options.beforeCommit?.(file);
      await this.options.beforeRename?.(tempPath, finalPath);
      await commitRename(tempPath, finalPath);
    } catch (err) {
      await removeQuietly(tempPath);
      throw err;
    }

    this.track(dataset, rowSchema.name, file);
    return file;
  }

  private track(dataset: LakeDataset, schemaBase: string, file: CommittedFile<Token>): void {
    const manifest = this.options.manifest;
    if (!manifest) return;
    try {
      if (dataset.tier === 'gold') manifest.trackGoldFile(file.path);
      else manifest.trackBronzeFile(file.path);
      manifest.updateEventCount(schemaBase, file.rows);
    } catch (err) {
      // The file is committed either way; a manifest problem must not make the caller retry (and duplicate) it.
      this.reportError(err);
    }
  }
}

/** Committed part files under a directory (recursive), for tests and tools: never temp files. */
export async function listPartFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet') && !e.name.startsWith('.'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

// ---------------------------------------------------------------------------------------------------------------------
// levels.signals payload → Gold rows (DATA.md §2.8, ENGINES.md §14)

export interface SignalQuote {
  readonly spot?: number | null;
  readonly bid?: number | null;
  readonly ask?: number | null;
}

/** The parts of one `levels[]` entry that the Gold row keeps; everything is optional on input. */
export interface LevelSignalEntry {
  readonly id?: string;
  readonly kind?: string;
  readonly price?: number;
  readonly direction?: string | null;
  readonly distance?: number | null;
  readonly break_score_raw?: number | null;
  readonly break_score_smooth?: number | null;
  readonly signal?: string | null;
  readonly confidence?: string | null;
  readonly barrier?: {
    readonly state?: string | null;
    readonly delta_liq?: number | null;
    readonly replenishment_ratio?: number | null;
    readonly added?: number | bigint | null;
    readonly canceled?: number | bigint | null;
    readonly filled?: number | bigint | null;
  } | null;
  readonly tape?: {
    readonly imbalance?: number | null;
    readonly buy_vol?: number | bigint | null;
    readonly sell_vol?: number | bigint | null;
    readonly velocity?: number | null;
    readonly sweep?: {
      readonly detected?: boolean | null;
      readonly direction?: string | null;
      readonly notional?: number | null;
    } | null;
  } | null;
  readonly fuel?: {
    readonly effect?: string | null;
    readonly net_dealer_gamma?: number | null;
    readonly call_wall?: number | null;
    readonly put_wall?: number | null;
    readonly hvl?: number | null;
  } | null;
  readonly runway?: {
    readonly direction?: string | null;
    readonly distance?: number | null;
    readonly next_obstacle?: { readonly id?: string | null; readonly price?: number | null } | null;
    readonly quality?: string | null;
  } | null;
  readonly note?: string | null;
}

export interface LevelSignalsPayload {
  /** Unix milliseconds of the snap. */
  readonly ts?: number | bigint | null;
  readonly underlying?: string | null;
  readonly es?: SignalQuote | null;
  /** Legacy name of `es` (ENGINES.md W-28). */
  readonly spy?: SignalQuote | null;
  readonly levels?: readonly LevelSignalEntry[] | null;
}

/** A finite number, else null: the reference can emit `Infinity` for an unobstructed runway, which is no value. */
function num(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function count(v: number | bigint | null | undefined): number | bigint | null {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isFinite(v)) ? v : null;
}

function str(v: string | null | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * One `levels.signals.v1` row per level of a payload. `ts` (ms) becomes `ts_event_ns` = ts × 1 000 000; a payload
 * without `ts` throws (the reference substituted wall-clock now, which breaks determinism and partitioning).
 * Rows are not validated here; `ParquetLakeWriter.append` validates each.
 */
export function toLevelSignalRows(payload: LevelSignalsPayload): LevelSignalRow[] {
  const ts = payload.ts;
  if (ts === null || ts === undefined) throw new Error('levels.signals payload has no ts');
  if (typeof ts === 'number' && !Number.isSafeInteger(ts))
    throw new Error(`levels.signals payload ts must be integer milliseconds, got ${ts}`);
  const tsEventNs = BigInt(ts) * 1_000_000n;
  const quote = payload.spy ?? payload.es ?? null;
  const underlying = payload.underlying ?? 'ES';
  return (payload.levels ?? []).map((l) => {
    const barrier = l.barrier ?? {};
    const tape = l.tape ?? {};
    const sweep = tape.sweep ?? {};
    const fuel = l.fuel ?? {};
    const runway = l.runway ?? {};
    const obstacle = runway.next_obstacle ?? null;
    return {
      ts_event_ns: tsEventNs,
      underlying,
      spot: num(quote?.spot),
      bid: num(quote?.bid),
      ask: num(quote?.ask),
      level_id: l.id,
      level_kind: l.kind,
      level_price: l.price,
      direction: str(l.direction),
      distance: num(l.distance),
      break_score_raw: num(l.break_score_raw),
      break_score_smooth: num(l.break_score_smooth),
      signal: str(l.signal),
      confidence: str(l.confidence),
      barrier_state: str(barrier.state),
      barrier_delta_liq: num(barrier.delta_liq),
      barrier_replenishment_ratio: num(barrier.replenishment_ratio),
      barrier_added: count(barrier.added),
      barrier_canceled: count(barrier.canceled),
      barrier_filled: count(barrier.filled),
      tape_imbalance: num(tape.imbalance),
      tape_buy_vol: count(tape.buy_vol),
      tape_sell_vol: count(tape.sell_vol),
      tape_velocity: num(tape.velocity),
      tape_sweep_detected: sweep.detected ?? false,
      tape_sweep_direction: str(sweep.direction),
      tape_sweep_notional: num(sweep.notional),
      fuel_effect: str(fuel.effect),
      fuel_net_dealer_gamma: num(fuel.net_dealer_gamma),
      fuel_call_wall: num(fuel.call_wall),
      fuel_put_wall: num(fuel.put_wall),
      fuel_hvl: num(fuel.hvl),
      runway_direction: str(runway.direction),
      runway_next_level_id: str(obstacle?.id),
      runway_next_level_price: num(obstacle?.price),
      runway_distance: num(runway.distance),
      runway_quality: str(runway.quality),
      note: str(l.note),
    } as LevelSignalRow;
  });
}
