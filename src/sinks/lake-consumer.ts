/**
 * The lake side of the bus (DATA.md §5.2, §5.5, §3.6): durable JetStream consumers for the market subjects (one
 * consumer on MARKET_DATA) and `levels.signals` (one on LEVEL_SIGNALS) feed a `ParquetLakeWriter`; a message is
 * acknowledged only once every row it produced is in a committed Parquet file.
 *
 * Exactly once in the lake, across crashes
 * - At-least-once comes from acking after the commit: a crash before the commit loses nothing, the server redelivers.
 * - The hard case is a crash after a file was renamed into place but before its messages were acked. The redelivered
 *   messages would land in a new batch, and content-derived file names only protect an identical batch, so the rows
 *   would be written twice. Therefore, after the temp file is fsynced and before the rename, the consumer appends a
 *   write-ahead record `{file, msg ids}` to a commit journal (`_meta/lake_consumer/{durablePrefix}/*.log`, fsynced).
 *   On start it reloads the journal and takes the ids of every record whose file exists as committed (a record whose
 *   file does not exist was a commit that never happened). A redelivery of a committed id is acked and skipped.
 * - The same set, kept bounded (capacity and TTL, §3.6), drops re-publishes that JetStream's 2-minute duplicate
 *   window let through, and a redelivery that arrives while the first copy is still buffered is held and acked with
 *   it instead of being appended again.
 * - Ids are the producer's `Nats-Msg-Id`, or `{stream}:{sequence}` for messages without one.
 *
 * Invalid messages (bad JSON, schema violations, out-of-range timestamps, a signals payload without `ts`) go to
 * `dlq.<subject>` with the reason and are terminated; the stream continues.
 */
import { mkdir, open, readFile, readdir, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Subscription } from 'rxjs';
import { PermanentMessageError, SUBJECTS, SUBJECT_SCHEMAS, decodeMarketMessage } from '../common/bus.js';
import type { BusLogger, NATSBus } from '../common/bus.js';
import { decodeJson } from '../common/json.js';
import { LAKE_DATASETS, partitionValueOf } from '../common/lake-paths.js';
import { SchemaRegistry } from '../common/schemas/index.js';
import type { LevelSignalRow } from '../common/schemas/index.js';
import { jetStreamSource } from '../streams/nats.js';
import type { Delivery } from '../streams/nats.js';
import { ParquetLakeWriter, toLevelSignalRows } from './parquet.js';
import type { CommittedFile, LevelSignalsPayload, ParquetLakeWriterOptions } from './parquet.js';

/** Writer settings; the consumer owns the writer's durability hooks. */
export type LakeWriterSettings = Omit<
  ParquetLakeWriterOptions<string>,
  'onDurable' | 'onInvalid' | 'beforeCommit' | 'onError'
>;

export interface MsgIdDedupeOptions {
  /** Ids remembered at most (default 1 000 000, DATA.md §3.6). */
  readonly capacity?: number;
  /** How long an id is remembered, ms (default 24 h, the streams' max age: nothing older can be redelivered). */
  readonly ttlMs?: number;
}

export interface LakeConsumerOptions {
  readonly bus: NATSBus;
  readonly writer?: LakeWriterSettings;
  /** Default the three market subjects and `levels.signals`; grouped into one durable consumer per stream. */
  readonly subjects?: readonly string[];
  /** Durable names are `{durablePrefix}_{stream}`; the journal lives under `_meta/lake_consumer/{durablePrefix}`. */
  readonly durablePrefix?: string;
  readonly msgIdDedupe?: MsgIdDedupeOptions;
  /** Seconds before the server redelivers an unacked message (default 60; must exceed a flush). */
  readonly ackWaitS?: number;
  /** Unacked messages per consumer (default 10 000; ≥ 2 × the writer's buffer, DATA.md §3.6). */
  readonly maxAckPending?: number;
  /** Called for each committed file after its journal record and rename, before its messages are acked. */
  readonly onCommitted?: (file: CommittedFile<string>) => void;
  readonly logger?: BusLogger;
}

export interface LakeConsumerStats {
  delivered: number;
  rows: number;
  files: number;
  acked: number;
  /** Deliveries of an id already committed or already buffered: acked without writing. */
  duplicates: number;
  /** Messages sent to `dlq.<subject>`: undecodable or invalid payloads, rows the writer rejected. */
  deadLettered: number;
}

export interface LakeConsumer {
  readonly stats: LakeConsumerStats;
  readonly writer: ParquetLakeWriter<string>;
  /** Durable consumer names, by stream. */
  readonly durables: Readonly<Record<string, string>>;
  /** Rejects if a consumer fails for good (cannot be created, the connection is closed under it). */
  readonly failed: Promise<never>;
  /** Stop pulling, commit everything buffered, ack it, close the writer and the journal. */
  stop(): Promise<void>;
}

const DEFAULT_SUBJECTS = [
  SUBJECTS.FUTURES_TRADES,
  SUBJECTS.FUTURES_MBP10,
  SUBJECTS.OPTIONS_TRADES,
  SUBJECTS.LEVEL_SIGNALS,
] as const;
const SIGNALS_SCHEMA = 'levels.signals.v1';

type Rows = { readonly schema: string; readonly rows: readonly unknown[] };

/** Decode a `levels.signals` payload into validated Gold rows; anything wrong is permanent. */
export function decodeLevelSignals(_subject: string, data: Uint8Array): Rows {
  let raw: unknown;
  try {
    raw = decodeJson(data);
  } catch (err) {
    throw new PermanentMessageError(`undecodable JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new PermanentMessageError('levels.signals payload is not a JSON object');
  try {
    const rows = SchemaRegistry.readRows(SIGNALS_SCHEMA, toLevelSignalRows(raw as LevelSignalsPayload));
    for (const row of rows) partitionValueOf(LAKE_DATASETS[SIGNALS_SCHEMA], row);
    return { schema: SIGNALS_SCHEMA, rows: rows as LevelSignalRow[] };
  } catch (err) {
    throw new PermanentMessageError((err as Error).message);
  }
}

function decodeMarket(subject: string, data: Uint8Array): Rows {
  return { schema: SUBJECT_SCHEMAS[subject]!, rows: [decodeMarketMessage(subject, data)] };
}

/** Insertion-ordered id set bounded by count and age. */
export class RecentIds {
  private readonly seen = new Map<string, number>();

  constructor(
    readonly capacity: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  has(id: string): boolean {
    const at = this.seen.get(id);
    if (at === undefined) return false;
    if (this.now() - at > this.ttlMs) {
      this.seen.delete(id);
      return false;
    }
    return true;
  }

  add(id: string, at: number = this.now()): void {
    this.seen.delete(id);
    this.seen.set(id, at);
    const limit = this.now() - this.ttlMs;
    for (const [k, t] of this.seen) {
      if (this.seen.size <= this.capacity && t >= limit) break;
      this.seen.delete(k);
    }
  }
}

interface JournalRecord {
  readonly t: number;
  readonly f: string;
  readonly ids: readonly string[];
}

/**
 * Append-only commit journal: one fsynced JSON line per file, written before the file's rename. A new segment per
 * process (never reopened, so a torn tail line is only ever the last line of an old segment); old segments are
 * deleted once newer ones hold `capacity` ids or they are older than the TTL.
 */
class CommitJournal {
  private handle: FileHandle | null = null;
  private segment = 0;
  private idsInSegment = 0;
  private readonly segmentIds: number;

  private constructor(
    private readonly dir: string,
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {
    this.segmentIds = Math.max(1000, Math.ceil(capacity / 4));
  }

  /** Open the journal and return the ids of every recorded commit whose file exists, oldest first. */
  static async open(
    dataRoot: string,
    dir: string,
    dedupe: RecentIds,
  ): Promise<{ journal: CommitJournal; loaded: number }> {
    const journal = new CommitJournal(dir, dedupe.capacity, dedupe.ttlMs);
    await mkdir(dir, { recursive: true });
    const segments = await journal.segments();
    const exists = new Map<string, boolean>();
    let loaded = 0;
    for (const seg of segments) {
      for (const rec of parseRecords(await readFile(path.join(dir, seg.name), 'utf8'))) {
        let there = exists.get(rec.f);
        if (there === undefined) {
          there = await stat(path.join(dataRoot, ...rec.f.split('/'))).then(
            () => true,
            () => false,
          );
          exists.set(rec.f, there);
        }
        if (!there) continue;
        for (const id of rec.ids) dedupe.add(id, rec.t);
        loaded += rec.ids.length;
      }
    }
    journal.segment = (segments.at(-1)?.n ?? 0) + 1;
    await journal.prune();
    return { journal, loaded };
  }

  async record(file: string, ids: readonly string[]): Promise<void> {
    if (this.handle === null || this.idsInSegment >= this.segmentIds) await this.rotate();
    const rec: JournalRecord = { t: Date.now(), f: file, ids };
    await this.handle!.appendFile(`${JSON.stringify(rec)}\n`);
    await this.handle!.datasync();
    this.idsInSegment += ids.length;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }

  private async rotate(): Promise<void> {
    if (this.handle !== null) {
      await this.handle.close();
      this.segment++;
    }
    this.handle = await open(path.join(this.dir, segmentName(this.segment)), 'a');
    this.idsInSegment = 0;
    await this.prune();
  }

  private async segments(): Promise<{ name: string; n: number }[]> {
    const names = await readdir(this.dir);
    return names
      .map((name) => ({ name, m: /^commits-(\d{9})\.log$/.exec(name) }))
      .filter((x) => x.m !== null)
      .map((x) => ({ name: x.name, n: Number(x.m![1]) }))
      .sort((a, b) => a.n - b.n);
  }

  private async prune(): Promise<void> {
    const segs = (await this.segments()).filter((s) => s.n < this.segment);
    const limit = Date.now() - this.ttlMs;
    let newer = this.idsInSegment;
    for (const seg of segs.reverse()) {
      const file = path.join(this.dir, seg.name);
      const records = parseRecords(await readFile(file, 'utf8'));
      const last = records.at(-1)?.t ?? 0;
      if (newer >= this.capacity || last < limit) await unlink(file);
      for (const r of records) newer += r.ids.length;
    }
  }
}

function segmentName(n: number): string {
  return `commits-${String(n).padStart(9, '0')}.log`;
}

/** Complete records of a segment; a torn or corrupt line ends it (it was written last, before a crash). */
function parseRecords(text: string): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const r = JSON.parse(line) as JournalRecord;
      if (typeof r.f !== 'string' || !Array.isArray(r.ids) || typeof r.t !== 'number') break;
      out.push(r);
    } catch {
      break;
    }
  }
  return out;
}

const silentLogger: BusLogger = { info() {}, warn() {}, error() {} };

/** Start the lake consumers; resolves once they are subscribed. */
export async function runLakeConsumer(options: LakeConsumerOptions): Promise<LakeConsumer> {
  const { bus } = options;
  const log = options.logger ?? silentLogger;
  const prefix = options.durablePrefix ?? 'lake';
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new Error(`durablePrefix ${prefix} must match [A-Za-z0-9_-]+`);
  const stats: LakeConsumerStats = { delivered: 0, rows: 0, files: 0, acked: 0, duplicates: 0, deadLettered: 0 };
  const committed = new RecentIds(
    options.msgIdDedupe?.capacity ?? 1_000_000,
    options.msgIdDedupe?.ttlMs ?? 24 * 3600 * 1000,
  );
  /** Buffered ids → every delivery of that id still waiting for the commit. */
  const pending = new Map<string, Delivery<Rows>[]>();

  await bus.connect();
  const { jsm } = bus.connection();
  const byStream = new Map<string, string[]>();
  for (const subject of options.subjects ?? DEFAULT_SUBJECTS) {
    const stream = await jsm.streams.find(subject);
    byStream.set(stream, [...(byStream.get(stream) ?? []), subject]);
  }

  let invalidReason: string | null = null;
  let journal: CommitJournal | null = null;
  const writer = new ParquetLakeWriter<string>({
    ...options.writer,
    beforeCommit: async (file) => {
      const ids = [...new Set(file.tokens.filter((t): t is string => t !== undefined))];
      await journal!.record(file.relativePath, ids);
    },
    onDurable: (ids, file) => {
      stats.files++;
      try {
        options.onCommitted?.(file);
      } catch (err) {
        log.error({ file: file.relativePath, err: (err as Error).message }, 'lake: onCommitted failed');
      }
      for (const id of ids) {
        committed.add(id);
        for (const d of pending.get(id) ?? []) {
          d.ack();
          stats.acked++;
        }
        pending.delete(id);
      }
    },
    onInvalid: (_record, error) => {
      invalidReason = error.message;
    },
    onError: (error) => log.error({ err: error.message }, 'lake: flush failed, rows stay buffered and are retried'),
  });
  const opened = await CommitJournal.open(
    writer.dataRoot,
    path.join(writer.dataRoot, '_meta', 'lake_consumer', prefix),
    committed,
  );
  journal = opened.journal;
  log.info({ durablePrefix: prefix, committedIds: opened.loaded }, 'lake: commit journal loaded');

  const deadLetter = (d: Delivery<Rows>, reason: string): void => {
    stats.deadLettered++;
    d.deadLetter(reason).catch((err: unknown) =>
      log.error({ subject: d.subject, seq: d.streamSeq, err: (err as Error).message }, 'lake: dead-letter failed'),
    );
  };

  const handle = (stream: string, d: Delivery<Rows>): void => {
    stats.delivered++;
    const id = d.msgId ?? `${stream}:${d.streamSeq}`;
    if (committed.has(id)) {
      stats.duplicates++;
      d.ack();
      return;
    }
    const waiting = pending.get(id);
    if (waiting) {
      stats.duplicates++;
      waiting.push(d);
      return;
    }
    const { schema, rows } = d.value;
    if (rows.length === 0) {
      committed.add(id);
      d.ack();
      return;
    }
    pending.set(id, [d]);
    invalidReason = null;
    let appended = 0;
    for (const row of rows) if (writer.appendWithToken(schema, row, id)) appended++;
    stats.rows += appended;
    if (invalidReason !== null && appended === 0) {
      pending.delete(id);
      deadLetter(d, invalidReason);
    }
  };

  const durables: Record<string, string> = {};
  const subscriptions: Subscription[] = [];
  let fail: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  for (const [stream, subjects] of byStream) {
    const durable = `${prefix}_${stream.toLowerCase()}`;
    durables[stream] = durable;
    const signals = subjects.every((s) => s.startsWith('levels.'));
    const source = jetStreamSource<Rows>(bus, {
      subjects,
      durable,
      decode: (subject, data) => {
        try {
          return (signals ? decodeLevelSignals : decodeMarket)(subject, data);
        } catch (err) {
          // The source dead-letters what does not decode; counted here so the stats tell the whole story.
          stats.deadLettered++;
          throw err;
        }
      },
      ...(options.ackWaitS !== undefined ? { ackWaitS: options.ackWaitS } : {}),
      ...(options.maxAckPending !== undefined ? { maxAckPending: options.maxAckPending } : {}),
    });
    subscriptions.push(
      source.subscribe({
        next: (d) => handle(stream, d),
        error: (err: unknown) => {
          log.error({ stream, durable, err: (err as Error).message }, 'lake: consumer failed');
          fail(err);
        },
      }),
    );
    log.info({ stream, durable, subjects }, 'lake: consuming');
  }

  return {
    stats,
    writer,
    durables,
    failed,
    stop: async () => {
      for (const s of subscriptions) s.unsubscribe();
      try {
        await writer.close();
      } finally {
        await journal.close();
      }
      // Acks are fire-and-forget publishes: make sure they left before the caller closes the connection.
      if (bus.connected) await bus.connection().nc.flush();
      log.info({ ...stats, unacked: pending.size }, 'lake: stopped');
    },
  };
}
