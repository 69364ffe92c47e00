/**
 * NATSBus — the JetStream wrapper of SEED.md §4 with the required behaviour of DATA.md §3.
 *
 * - `connect()` is idempotent: it connects (servers from `NATS_URL`; user/password in the URL, `NATS_TOKEN`,
 *   `NATS_CREDS_FILE`, `NATS_TLS_CA` from the environment), reconnects forever with capped backoff while logging each
 *   state change, and creates or updates then verifies the streams MARKET_DATA, LEVEL_SIGNALS and DEAD_LETTER.
 * - `publish()` writes lossless JSON (bigint as bare digits) with `Nats-Msg-Id`, `Schema`, `Run-Id` and
 *   `Content-Type` headers and returns the JetStream ack; JetStream drops a re-publish with the same id.
 * - `subscribe()` runs a durable pull consumer: a message is decoded and validated, handed to the callback, and acked
 *   only after the callback's promise resolves. A callback that throws gets a nak with backoff (1 s, 5 s, 30 s, 60 s);
 *   on the last allowed delivery, or when the message cannot be decoded or validated, it goes to `dlq.<subject>` with
 *   the reason and is terminated. The process keeps running.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type {
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  PubAck,
  StreamConfig,
} from '@nats-io/jetstream';
import { connect, credsAuthenticator, headers as natsHeaders } from '@nats-io/transport-node';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { CONFIG, redactUrl } from './config.js';
import type { Config } from './config.js';
import type { MarketEvent, MBP10 } from './event-types.js';
import { decodeJson, encodeJson } from './json.js';
import { SchemaRegistry, SchemaValidationError, flattenMbp10, unflattenMbp10 } from './schemas/index.js';
import type { Mbp10Row } from './schemas/index.js';

/** Subjects of DATA.md §3.1. */
export const SUBJECTS = {
  FUTURES_TRADES: 'market.futures.trades',
  FUTURES_MBP10: 'market.futures.mbp10',
  OPTIONS_TRADES: 'market.options.trades',
  MARKET_FLOW: 'market.flow',
  LEVEL_SIGNALS: 'levels.signals',
} as const;

/** Subject → Bronze schema (never guessed from the payload's keys, DATA.md §8 #8). */
export const SUBJECT_SCHEMAS: Readonly<Record<string, string>> = {
  [SUBJECTS.FUTURES_TRADES]: 'futures.trades.v1',
  [SUBJECTS.FUTURES_MBP10]: 'futures.mbp10.v1',
  [SUBJECTS.OPTIONS_TRADES]: 'options.trades.v1',
};

const NS_PER_S = 1_000_000_000;
const HOUR_NS = 3600 * NS_PER_S;

export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly maxAgeNs: number;
  readonly maxBytes: number;
}

/** The streams of DATA.md §3.2: limits retention, file storage, discard old, 2-minute de-duplication window. */
export const STREAMS: readonly StreamSpec[] = [
  { name: 'MARKET_DATA', subjects: ['market.*', 'market.*.*'], maxAgeNs: 24 * HOUR_NS, maxBytes: 8 * 2 ** 30 },
  { name: 'LEVEL_SIGNALS', subjects: ['levels.*'], maxAgeNs: 24 * HOUR_NS, maxBytes: 2 * 2 ** 30 },
  { name: 'DEAD_LETTER', subjects: ['dlq.>'], maxAgeNs: 7 * 24 * HOUR_NS, maxBytes: 2 ** 30 },
];
const DUPLICATE_WINDOW_NS = 120 * NS_PER_S;

/** Nak delays by delivery attempt (DATA.md §3.6). */
export const NAK_BACKOFF_MS: readonly number[] = [1_000, 5_000, 30_000, 60_000];

export interface BusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silentLogger: BusLogger = { info() {}, warn() {}, error() {} };

/** A message that can never be processed (bad JSON, schema violation): dead-lettered at once, never retried. */
export class PermanentMessageError extends Error {
  override readonly name = 'PermanentMessageError';
}

export class BusError extends Error {
  override readonly name = 'BusError';
}

export interface PublishOptions {
  /** JetStream de-duplication id; defaults to none (the caller knows what identifies a message). */
  readonly msgId?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface MessageMeta {
  readonly subject: string;
  readonly streamSeq: number;
  readonly deliveryCount: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Tell the server the message is still being worked on (long flushes). */
  working(): void;
}

export type MessageHandler = (data: unknown, meta: MessageMeta) => void | Promise<void>;

export interface SubscribeOptions {
  /** Deliveries before a failing message is dead-lettered (default 5). */
  readonly maxDeliver?: number;
  /** Seconds the server waits for an ack before redelivering (default 60). */
  readonly ackWaitS?: number;
  /** Unacked messages the consumer may hold (default 10 000); this is the backpressure bound. */
  readonly maxAckPending?: number;
  /** Where a new durable starts (default all). */
  readonly deliverPolicy?: 'all' | 'new' | 'last_per_subject';
  /** Nak delays in ms by attempt (default NAK_BACKOFF_MS). */
  readonly backoffMs?: readonly number[];
  /** Decode and validate (default: by the subject's schema). */
  readonly decode?: (subject: string, data: Uint8Array) => unknown;
  /** Consumer name used in dead-letter headers (default the durable name). */
  readonly consumerName?: string;
}

export interface BusSubscription {
  readonly durableName: string;
  readonly stats: { delivered: number; acked: number; naked: number; deadLettered: number };
  /** Stop pulling, let in-flight callbacks finish. */
  stop(): Promise<void>;
}

export interface ConnectionSettings {
  readonly servers: readonly string[];
  readonly token?: string | null;
  readonly credsFile?: string | null;
  readonly tlsCaFile?: string | null;
  readonly name?: string;
}

/** Decode and validate a market-data payload by its subject's schema; anything wrong is a permanent error. */
export function decodeMarketMessage(subject: string, data: Uint8Array): unknown {
  const schema = SUBJECT_SCHEMAS[subject];
  let raw: unknown;
  try {
    raw = decodeJson(data, schema ? { int64Keys: SchemaRegistry.int64Columns(schema) } : {});
  } catch (err) {
    throw new PermanentMessageError(`undecodable JSON: ${(err as Error).message}`);
  }
  if (!schema) return raw;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PermanentMessageError(`payload of ${subject} is not a JSON object`);
  }
  try {
    return validateMarketEvent(subject, raw as Record<string, unknown>);
  } catch (err) {
    if (err instanceof SchemaValidationError) throw new PermanentMessageError(err.message);
    throw err;
  }
}

/** Validate a market event for its subject and return the canonical event (defaults filled, types canonical). */
export function validateMarketEvent(subject: string, raw: Record<string, unknown>): MarketEvent {
  const schema = SUBJECT_SCHEMAS[subject];
  if (!schema) throw new BusError(`no schema for subject ${subject}`);
  const withRecv = raw['ts_recv_ns'] === undefined ? { ...raw, ts_recv_ns: raw['ts_event_ns'] } : raw;
  if (subject === SUBJECTS.FUTURES_MBP10) {
    const levels = withRecv['levels'];
    if (!Array.isArray(levels)) {
      throw new SchemaValidationError(schema, [{ path: 'levels', code: 'invalid_type', message: 'must be an array' }]);
    }
    const row = SchemaRegistry.readRows(schema, [
      flattenMbp10({
        ...withRecv,
        is_snapshot: withRecv['is_snapshot'] ?? false,
        seq: withRecv['seq'] ?? null,
      } as unknown as MBP10),
    ])[0] as Mbp10Row;
    return unflattenMbp10(row);
  }
  return SchemaRegistry.readRows(schema, [withRecv])[0] as unknown as MarketEvent;
}

/**
 * Deterministic JetStream message ids for events (DATA.md §3.6): `{schema}:{symbol}:{ts_event_ns}:{seq|-}:{k}` where
 * `k` counts earlier events of this producer with the same prefix — identical prints in one packet are legitimate.
 * Events come in canonical order, so occurrences of a prefix are only remembered for the current timestamp.
 */
export class MsgIdGenerator {
  private ts: bigint | null = null;
  private readonly seen = new Map<string, number>();

  constructor(private readonly runTag: string | null = null) {}

  next(schema: string, event: MarketEvent): string {
    if (event.ts_event_ns !== this.ts) {
      this.ts = event.ts_event_ns;
      this.seen.clear();
    }
    const symbol = 'option_symbol' in event ? event.option_symbol : event.symbol;
    const prefix = `${schema}:${symbol}:${event.ts_event_ns}:${event.seq ?? '-'}`;
    const k = this.seen.get(prefix) ?? 0;
    this.seen.set(prefix, k + 1);
    return this.runTag === null ? `${prefix}:${k}` : `${this.runTag}:${prefix}:${k}`;
  }
}

/** Connection settings from a configuration (the environment has already been applied to it). */
export function connectionSettings(config: Config = CONFIG): ConnectionSettings {
  return {
    servers: config.NATS_URL.split(',').map((s) => s.trim()),
    token: config.NATS_TOKEN,
    credsFile: config.NATS_CREDS_FILE,
    tlsCaFile: config.NATS_TLS_CA,
  };
}

function headersToRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of h.keys()) out[k] = h.get(k);
  return out;
}

function streamConfig(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: spec.maxAgeNs,
    max_bytes: spec.maxBytes,
    discard: DiscardPolicy.Old,
    duplicate_window: DUPLICATE_WINDOW_NS,
  };
}

/** Differences between the wanted and the actual stream settings, as `key: actual → wanted`. */
function streamDiff(want: Partial<StreamConfig>, have: StreamConfig): string[] {
  const diffs: string[] = [];
  const keys = ['retention', 'storage', 'max_age', 'max_bytes', 'discard', 'duplicate_window'] as const;
  for (const k of keys) if (want[k] !== have[k]) diffs.push(`${k}: ${String(have[k])} → ${String(want[k])}`);
  const ws = [...(want.subjects ?? [])].sort().join(',');
  const hs = [...(have.subjects ?? [])].sort().join(',');
  if (ws !== hs) diffs.push(`subjects: ${hs} → ${ws}`);
  return diffs;
}

export class NATSBus {
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;
  private connecting: Promise<void> | null = null;
  private readonly subscriptions = new Set<BusSubscription>();
  private readonly settings: ConnectionSettings;

  constructor(
    servers: readonly string[] | ConnectionSettings = connectionSettings(),
    private readonly options: { logger?: BusLogger; streams?: readonly StreamSpec[]; runId?: string } = {},
  ) {
    this.settings = Array.isArray(servers) ? { servers } : (servers as ConnectionSettings);
  }

  private get log(): BusLogger {
    return this.options.logger ?? silentLogger;
  }

  get connected(): boolean {
    return this.nc !== null && !this.nc.isClosed();
  }

  /** Connect and ensure the streams; calling it again is a no-op. */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect().catch((err: unknown) => {
      this.connecting = null;
      throw err;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const s = this.settings;
    let attempt = 0;
    const nc = await connect({
      servers: [...s.servers],
      name: s.name ?? `levelflow@${hostname()}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Capped exponential backoff; the client adds jitter.
      reconnectDelayHandler: () => Math.min(250 * 2 ** Math.min(attempt++, 5), 5_000),
      ...(s.token ? { token: s.token } : {}),
      ...(s.credsFile ? { authenticator: credsAuthenticator(readFileSync(s.credsFile)) } : {}),
      ...(s.tlsCaFile ? { tls: { caFile: s.tlsCaFile } } : {}),
    });
    this.nc = nc;
    const where = s.servers.map(redactUrl).join(',');
    this.log.info({ servers: where }, 'nats connected');
    void (async () => {
      for await (const st of nc.status()) {
        if (st.type === 'reconnect') attempt = 0;
        if (st.type === 'ping' || st.type === 'staleConnection') continue;
        const entry = { servers: where, state: st.type };
        if (st.type === 'error' || st.type === 'disconnect') this.log.warn(entry, `nats ${st.type}`);
        else this.log.info(entry, `nats ${st.type}`);
      }
    })();
    this.js = jetstream(nc);
    this.jsm = await jetstreamManager(nc);
    await this.ensureStreams();
  }

  /** Create each stream, or update it when its settings differ; verify the result. Fails loudly if it cannot. */
  async ensureStreams(): Promise<void> {
    const jsm = this.requireJsm();
    for (const spec of this.options.streams ?? STREAMS) {
      const want = streamConfig(spec);
      let have: StreamConfig | null = null;
      try {
        have = (await jsm.streams.info(spec.name)).config;
      } catch (err) {
        if (!/not found/i.test((err as Error).message)) throw err;
      }
      if (have === null) {
        await jsm.streams.add(want);
        this.log.info({ stream: spec.name }, 'stream created');
      } else {
        const diffs = streamDiff(want, have);
        if (diffs.length > 0) {
          if (have.storage !== want.storage) {
            throw new BusError(
              `stream ${spec.name} exists with ${diffs.join('; ')}; storage cannot be changed in place — ` +
                `delete the stream (nats stream rm ${spec.name}) or point NATS_URL at another server`,
            );
          }
          await jsm.streams.update(spec.name, want);
          this.log.warn({ stream: spec.name, changed: diffs }, 'stream settings updated');
        }
      }
      const after = (await jsm.streams.info(spec.name)).config;
      const left = streamDiff(want, after);
      if (left.length > 0)
        throw new BusError(`stream ${spec.name} does not have the required settings: ${left.join('; ')}`);
    }
  }

  /** Publish a payload (event, plain object, class instance) as lossless JSON; resolves with the JetStream ack. */
  async publish(subject: string, payload: unknown, options: PublishOptions = {}): Promise<PubAck> {
    const js = this.requireJs();
    const h = natsHeaders();
    h.set('Content-Type', 'application/json');
    const schema = SUBJECT_SCHEMAS[subject];
    if (schema) h.set('Schema', schema);
    if (this.options.runId) h.set('Run-Id', this.options.runId);
    for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
    return js.publish(subject, encodeJson(payload), {
      headers: h,
      ...(options.msgId ? { msgID: options.msgId } : {}),
    });
  }

  /**
   * Consume `subject` with a durable pull consumer. The callback receives the decoded, validated payload; the
   * message is acked after the callback's promise resolves.
   */
  async subscribe(
    subject: string,
    callback: MessageHandler,
    durableName?: string,
    options: SubscribeOptions = {},
  ): Promise<BusSubscription> {
    const js = this.requireJs();
    const jsm = this.requireJsm();
    const stream = await jsm.streams.find(subject);
    const durable = durableName ?? `levelflow_${subject.replace(/[.*>]/g, '_')}`;
    const maxDeliver = options.maxDeliver ?? 5;
    const backoff = options.backoffMs ?? NAK_BACKOFF_MS;
    const decode = options.decode ?? decodeMarketMessage;
    const consumerName = options.consumerName ?? durable;
    const deliver =
      options.deliverPolicy === 'new'
        ? DeliverPolicy.New
        : options.deliverPolicy === 'last_per_subject'
          ? DeliverPolicy.LastPerSubject
          : DeliverPolicy.All;
    const wanted = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      filter_subject: subject,
      deliver_policy: deliver,
      max_deliver: maxDeliver,
      ack_wait: (options.ackWaitS ?? 60) * NS_PER_S,
      max_ack_pending: options.maxAckPending ?? 10_000,
    };
    try {
      await jsm.consumers.info(stream, durable);
      await jsm.consumers.update(stream, durable, {
        max_deliver: wanted.max_deliver,
        ack_wait: wanted.ack_wait,
        max_ack_pending: wanted.max_ack_pending,
      });
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
      await jsm.consumers.add(stream, wanted);
    }
    const consumer = await js.consumers.get(stream, durable);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.min(1000, wanted.max_ack_pending) });
    const stats = { delivered: 0, acked: 0, naked: 0, deadLettered: 0 };
    const log = this.log;

    const handle = async (m: JsMsg): Promise<void> => {
      stats.delivered++;
      const meta: MessageMeta = {
        subject: m.subject,
        streamSeq: m.info.streamSequence,
        deliveryCount: m.info.deliveryCount,
        headers: headersToRecord(m.headers),
        working: () => m.working(),
      };
      let data: unknown;
      try {
        data = decode(m.subject, m.data);
      } catch (err) {
        await this.deadLetter(m, consumerName, (err as Error).message);
        stats.deadLettered++;
        return;
      }
      try {
        await callback(data, meta);
        m.ack();
        stats.acked++;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        if (err instanceof PermanentMessageError || meta.deliveryCount >= maxDeliver) {
          await this.deadLetter(m, consumerName, reason);
          stats.deadLettered++;
          return;
        }
        const delay = backoff[Math.min(meta.deliveryCount - 1, backoff.length - 1)] ?? 1_000;
        log.warn({ subject: m.subject, seq: meta.streamSeq, attempt: meta.deliveryCount, delay, reason }, 'nak');
        m.nak(delay);
        stats.naked++;
      }
    };

    const loop = (async () => {
      for await (const m of messages) await handle(m);
    })().catch((err: unknown) => log.error({ subject, err: (err as Error).message }, 'consumer stopped'));

    const sub: BusSubscription = {
      durableName: durable,
      stats,
      stop: async () => {
        await messages.close();
        await loop;
        this.subscriptions.delete(sub);
      },
    };
    this.subscriptions.add(sub);
    log.info({ subject, durable, stream }, 'subscribed');
    return sub;
  }

  /** Publish the raw message to `dlq.<subject>` with the reason, then terminate it. */
  async deadLetter(m: JsMsg, consumer: string, reason: string): Promise<void> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headersToRecord(m.headers))) h.set(k, v);
    h.set('Dlq-Reason', reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    h.set('Dlq-Consumer', consumer);
    h.set('Dlq-Stream-Seq', String(m.info.streamSequence));
    h.set('Dlq-Delivery-Count', String(m.info.deliveryCount));
    h.set('Dlq-Subject', m.subject);
    // The dead letter's own id must not collide with the original's in the duplicate window.
    const origId = m.headers?.get('Nats-Msg-Id');
    await this.requireJs().publish(`dlq.${m.subject}`, m.data, {
      headers: h,
      msgID: `dlq:${origId ? origId : `${m.info.stream}:${m.info.streamSequence}`}`,
    });
    // No reason on the term: nats-server 2.9 only recognises a bare `+TERM` and would leave the message pending;
    // the reason travels in the dead letter's headers.
    m.term();
    this.log.warn({ subject: m.subject, seq: m.info.streamSequence, reason }, 'dead-lettered');
  }

  /** Stop every subscription, then drain and close the connection. */
  async close(): Promise<void> {
    for (const sub of [...this.subscriptions]) await sub.stop();
    const nc = this.nc;
    this.nc = null;
    this.js = null;
    this.jsm = null;
    this.connecting = null;
    if (nc && !nc.isClosed()) await nc.drain();
  }

  /** The underlying connection, for sources and sinks built on the bus. */
  connection(): { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager } {
    return { nc: this.requireNc(), js: this.requireJs(), jsm: this.requireJsm() };
  }

  private requireNc(): NatsConnection {
    if (!this.nc) throw new BusError('not connected: call connect() first');
    return this.nc;
  }
  private requireJs(): JetStreamClient {
    if (!this.js) throw new BusError('not connected: call connect() first');
    return this.js;
  }
  private requireJsm(): JetStreamManager {
    if (!this.jsm) throw new BusError('not connected: call connect() first');
    return this.jsm;
  }
}

/** The process-wide bus, on `NATS_URL`. */
export const BUS = new NATSBus();
