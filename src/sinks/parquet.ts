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
 * - Idempotent names: `part-{firstTsNs}-{lastTsNs}-{sha256(rows)[:12]}.parquet` (see `partFileName`; the rows are
 *   hashed from their column buffers, parquet/columns.ts), so writing the same rows again (a retry, a repeated replay)
 *   produces the same name with byte-identical content and replaces the earlier file instead of adding a duplicate.
 * - Nothing lost: rows whose commit failed go back to the buffer and are retried by the next flush; a token (a NATS
 *   sequence, say) is reported durable only once every row appended with it is in a renamed, fsynced file.
 * - Bad rows: each record is validated before buffering; an invalid one goes to `onInvalid` (the NATS layer
 *   dead-letters it) and never affects the other records of its batch.
 * - Bounded memory: a buffer is flushed when it reaches `maxRows`; `ready()` lets a producer wait for that flush.
 *
 * Throughput: a validated row goes straight into typed column buffers (parquet/columns.ts), and a flush hands those
 * buffers to DuckDB's Parquet writer through a table function (parquet/stage.ts), with no staging table and no
 * per-value conversion.
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
  isLakeSchema,
  partFileName,
  partitionPath,
  partitionValueOf,
  tempFileName,
  utcDateHour,
} from '../common/lake-paths.js';
import { type FileColumns, RowColumns, digestColumns } from './parquet/columns.js';
import { commitRename, removeQuietly, writeFileSynced } from './parquet/fs.js';
import { makeColumnsRequired } from './parquet/required.js';
import { ParquetCopier } from './parquet/stage.js';

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

interface Buffer<Token> {
  rows: RowColumns<Token, Partition>;
  /** The buffer of the last successful flush, emptied, to swap in at the next one. */
  spare: RowColumns<Token, Partition> | null;
  /** Wall time of the oldest buffered row, or null when empty. */
  since: number | null;
}

/** A schema name as callers spell it, resolved once. */
interface Target<Token> {
  readonly schema: LakeSchemaName;
  readonly rowSchema: RowSchema;
  readonly dataset: LakeDataset;
  readonly buffer: Buffer<Token>;
}

const NS_PER_HOUR = 3_600_000_000_000n;

/**
 * The partition of consecutive rows, remembered: rows arrive in runs of one symbol and one hour, and the date
 * arithmetic and product-root pattern are then done once per run instead of once per row.
 */
class PartitionMemo {
  private raw: unknown = undefined;
  private hourStart = 0n;
  private hourEnd = 0n;
  private partition: Partition | null = null;

  constructor(private readonly dataset: LakeDataset) {}

  of(row: Readonly<Record<string, unknown>>): Partition {
    const ts = row.ts_event_ns as bigint;
    const raw = row[this.dataset.column];
    if (this.partition !== null && raw === this.raw && ts >= this.hourStart && ts < this.hourEnd) return this.partition;
    const { date, hour } = utcDateHour(ts);
    const value = partitionValueOf(this.dataset, row);
    // Validated event times are after 2000, so the remainder is the offset into the hour.
    this.hourStart = ts - (ts % NS_PER_HOUR);
    this.hourEnd = this.hourStart + NS_PER_HOUR;
    this.raw = raw;
    this.partition = { key: this.dataset.key, value, date, hour };
    return this.partition;
  }
}

function groupKey(p: Partition): string {
  return `${p.value}/${p.date}/${p.hour}`;
}

const LAKE_SCHEMAS = Object.keys(LAKE_DATASETS) as LakeSchemaName[];

/** `futures.trades` → `futures.trades.v1`; full names pass through. */
function lakeSchemaName(name: string): LakeSchemaName {
  const full = /\.v\d+$/.test(name) ? name : `${name}.v1`;
  if (!isLakeSchema(full)) throw new Error(`no lake dataset for schema ${name}; known: ${LAKE_SCHEMAS.join(', ')}`);
  return full;
}

/** Compares int64 column values by their 32-bit halves: reading a BigInt64Array would allocate a bigint per read. */
function int64Compare(values: BigInt64Array): (a: number, b: number) => number {
  const hi = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  const lo = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  return (a, b) => hi[2 * a + 1]! - hi[2 * b + 1]! || (lo[2 * a]! < lo[2 * b]! ? -1 : lo[2 * a]! > lo[2 * b]! ? 1 : 0);
}

/**
 * File order of buffered rows (by arrival index): `ts_event_ns`, then `seq` (null last) for Bronze or `level_id` for
 * Gold. Ties are left to the (stable) sort, so they keep arrival order.
 */
function rowOrder<Token>(schema: LakeSchemaName, rows: RowColumns<Token, Partition>): (a: number, b: number) => number {
  const k = (name: string) => rows.columns.findIndex((c) => c.name === name);
  const ts = int64Compare(rows.fixedValues(k('ts_event_ns')) as BigInt64Array);
  if (schema === 'levels.signals.v1') {
    const id = k('level_id');
    return (a, b) => {
      const c = ts(a, b);
      if (c !== 0) return c;
      const ia = rows.stringAt(id, a);
      const ib = rows.stringAt(id, b);
      return ia < ib ? -1 : ia > ib ? 1 : 0;
    };
  }
  const seqIndex = k('seq');
  const seq = int64Compare(rows.fixedValues(seqIndex) as BigInt64Array);
  const present = rows.validity(seqIndex);
  return (a, b) => {
    const c = ts(a, b);
    if (c !== 0) return c;
    const pa = present === null || present[a] === 1;
    const pb = present === null || present[b] === 1;
    if (pa && pb) return seq(a, b);
    return pa === pb ? 0 : pa ? -1 : 1;
  };
}

/** One output file of a flush: rows of one partition, in file order. */
interface FileGroup {
  readonly partition: number;
  /** Arrival indexes of the rows in file order; null for every buffered row in arrival order. */
  readonly index: Int32Array | null;
}

/** Splits buffered rows into files by partition (sorted by partition key) and puts each file's rows in order. */
function fileGroups<Token>(schema: LakeSchemaName, rows: RowColumns<Token, Partition>): FileGroup[] {
  const order = rowOrder(schema, rows);
  const n = rows.length;
  const members: number[][] = rows.partitions.map(() => []);
  if (members.length > 1) for (let i = 0; i < n; i++) members[rows.partitionOf[i]!]!.push(i);
  const ids = members.map((_, p) => p).sort((a, b) => (rows.partitionKeys[a]! < rows.partitionKeys[b]! ? -1 : 1));
  return ids.map((p) => {
    const index = members.length > 1 ? members[p]! : null;
    let sorted = true;
    for (let i = 1; i < (index?.length ?? n) && sorted; i++)
      sorted = order(index ? index[i - 1]! : i - 1, index ? index[i]! : i) <= 0;
    if (sorted) return { partition: p, index: index === null ? null : Int32Array.from(index) };
    const all = index ?? Array.from({ length: n }, (_, i) => i);
    return { partition: p, index: Int32Array.from(all.sort(order)) };
  });
}

const RESOLVED: Promise<void> = Promise.resolve();

let writerSerial = 0;

export class ParquetLakeWriter<Token = unknown> {
  readonly dataRoot: string;
  readonly maxRows: number;
  readonly intervalMs: number;

  private readonly options: ParquetLakeWriterOptions<Token>;
  private readonly now: () => number;
  private readonly buffers = new Map<LakeSchemaName, Buffer<Token>>();
  private readonly targets = new Map<string, Target<Token>>();
  private readonly memos = new Map<LakeSchemaName, PartitionMemo>();
  private readonly pendingTokens = new Map<Token, number>();
  private readonly writerId = `${process.pid}-${++writerSerial}`;
  private tempCounter = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private db: { instance: DuckDBInstance; connection: DuckDBConnection; copier: ParquetCopier } | null = null;

  constructor(options: ParquetLakeWriterOptions<Token> = {}) {
    this.options = options;
    this.dataRoot = path.resolve(options.dataRoot ?? CONFIG.DATA_ROOT);
    this.maxRows = options.maxRows ?? CONFIG.MICRO_BATCH_MAX_ROWS;
    if (!Number.isSafeInteger(this.maxRows) || this.maxRows < 1) throw new RangeError(`maxRows must be ≥ 1`);
    const intervalS = options.intervalS ?? CONFIG.MICRO_BATCH_INTERVAL_S;
    if (!(intervalS >= 0)) throw new RangeError(`intervalS must be ≥ 0`);
    this.intervalMs = intervalS * 1000;
    this.now = options.now ?? Date.now;
    for (const s of LAKE_SCHEMAS) {
      this.buffers.set(s, { rows: this.emptyRows(s), spare: null, since: null });
      this.memos.set(s, new PartitionMemo(LAKE_DATASETS[s]));
    }
    if (this.intervalMs > 0) {
      // An I/O policy on wall time (how long a row may wait before it is made durable), not event-time logic.
      this.timer = setInterval(() => this.tick(), Math.max(1, this.intervalMs / 2));
      this.timer.unref();
    }
  }

  /** Rows buffered and not yet committed, per schema. */
  get buffered(): Readonly<Record<LakeSchemaName, number>> {
    const out = {} as Record<LakeSchemaName, number>;
    for (const [s, b] of this.buffers) out[s] = b.rows.length;
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
    const { schema, rowSchema, buffer } = this.target(schemaName);
    let row: Record<string, unknown>;
    let partition: Partition;
    try {
      const input =
        schema === 'futures.mbp10.v1' && typeof rowOrEvent === 'object' && rowOrEvent !== null && 'levels' in rowOrEvent
          ? flattenMbp10(rowOrEvent as MBP10)
          : rowOrEvent;
      const parsed = rowSchema.safeParse(input);
      if (!parsed.success) throw parsed.error;
      row = parsed.data;
      partition = this.memos.get(schema)!.of(row);
    } catch (err) {
      this.options.onInvalid?.(rowOrEvent, err as Error, { schema, token });
      return false;
    }
    buffer.rows.push(row, partition, groupKey, token);
    buffer.since ??= this.now();
    if (token !== undefined) this.pendingTokens.set(token, (this.pendingTokens.get(token) ?? 0) + 1);
    if (buffer.rows.length >= this.maxRows || this.due(buffer)) this.background([schema]);
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
  ready(): Promise<void> {
    // Called after every append by a pulled source: the common case must cost no more than a resolved promise.
    for (const b of this.buffers.values()) if (b.rows.length >= this.maxRows) return this.readyFlushing();
    return RESOLVED;
  }

  private async readyFlushing(): Promise<void> {
    for (;;) {
      const full = LAKE_SCHEMAS.filter((s) => this.buffers.get(s)!.rows.length >= this.maxRows);
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

  /** Schema, model and buffer of a name as callers spell it (`futures.trades`, `futures.trades.v1`). */
  private target(schemaName: string): Target<Token> {
    let t = this.targets.get(schemaName);
    if (t === undefined) {
      const schema = lakeSchemaName(schemaName);
      t = {
        schema,
        rowSchema: SchemaRegistry.require(schema) as RowSchema,
        dataset: LAKE_DATASETS[schema],
        buffer: this.buffers.get(schema)!,
      };
      this.targets.set(schemaName, t);
    }
    return t;
  }

  private emptyRows(schema: LakeSchemaName): RowColumns<Token, Partition> {
    return new RowColumns((SchemaRegistry.require(schema) as RowSchema).columns, this.maxRows);
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
    if (buffer.rows.length === 0) return;
    const taken = buffer.rows;
    const since = buffer.since;
    buffer.rows = buffer.spare ?? this.emptyRows(schema);
    buffer.spare = null;
    buffer.since = null;
    const groups = fileGroups(schema, taken);
    for (let k = 0; k < groups.length; k++) {
      let file: CommittedFile<Token>;
      try {
        file = await this.writeGroup(schema, taken, groups[k]!);
      } catch (err) {
        // The failed group and those after it go back in front of rows appended since, in their arrival order.
        const unwritten = groups
          .slice(k)
          .flatMap((g) => (g.index === null ? Array.from({ length: taken.length }, (_, i) => i) : [...g.index]));
        unwritten.sort((x, y) => x - y);
        const rows = this.emptyRows(schema);
        for (const i of unwritten) rows.copyRow(taken, i);
        for (let i = 0; i < buffer.rows.length; i++) rows.copyRow(buffer.rows, i);
        buffer.rows = rows;
        buffer.since = since ?? buffer.since;
        throw err;
      }
      files.push(file);
      const ready = this.release(file.tokens);
      durable.push(...ready);
      if (ready.length > 0) this.options.onDurable?.(ready, file);
    }
    taken.clear();
    buffer.spare = taken;
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

  private async copier(): Promise<ParquetCopier> {
    if (this.db === null) {
      // One thread: the scan feeding the COPY is single-threaded anyway, and a second DuckDB thread only competed with
      // the producer for the CPU (measured slower on 2 cores); the files are the same bytes either way.
      const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
      const connection = await instance.connect();
      this.db = { instance, connection, copier: ParquetCopier.create(connection) };
    }
    return this.db.copier;
  }

  private async writeGroup(
    schema: LakeSchemaName,
    taken: RowColumns<Token, Partition>,
    group: FileGroup,
  ): Promise<CommittedFile<Token>> {
    const dataset: LakeDataset = LAKE_DATASETS[schema];
    const rowSchema = SchemaRegistry.require(schema) as RowSchema;
    const columns = rowSchema.columns;
    const data: FileColumns = taken.file(group.index);
    const hex = digestColumns(data).slice(0, 12);
    const tsColumn = data.columns[columns.findIndex((c) => c.name === 'ts_event_ns')]!;
    const ts = (tsColumn as { values: BigInt64Array }).values;
    const first = ts[0]!;
    const last = ts[data.rows - 1]!;
    const partition = taken.partitions[group.partition]!;
    const relativeDir = partitionPath(dataset, partition);
    const dir = path.join(this.dataRoot, ...relativeDir.split('/'));
    const name = partFileName(first, last, hex);
    const finalPath = path.join(dir, name);
    const tempPath = path.join(dir, tempFileName(name, `${this.writerId}-${++this.tempCounter}`));
    await mkdir(dir, { recursive: true });

    const copier = await this.copier();
    let file: CommittedFile<Token>;
    try {
      await copier.copy(columns, data, tempPath, rowSchema.metadata);
      const required = new Set(columns.filter((c) => !c.nullable).map((c) => c.name));
      const fixed = makeColumnsRequired(await readFile(tempPath), required);
      await writeFileSynced(tempPath, fixed);
      file = {
        schema,
        path: finalPath,
        relativePath: `${relativeDir}/${name}`,
        partition,
        rows: data.rows,
        firstTsNs: first,
        lastTsNs: last,
        digest: hex,
        bytes: fixed.length,
        tokens: Array.from({ length: data.rows }, (_, i) => taken.tokenAt(group.index === null ? i : group.index[i]!)),
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
