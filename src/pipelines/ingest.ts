/**
 * `levelflow ingest` — the first service of the NATS deployment: one source (DBN files, the simulator or the Bronze
 * lake) published to `market.futures.trades`, `market.futures.mbp10` and `market.options.trades`, paced at a replay
 * speed, every event with its deterministic `Nats-Msg-Id` so that a re-run within JetStream's duplicate window (or
 * a retry after a reconnect) is dropped by the server instead of doubling the stream.
 *
 * Publishes are pipelined: up to `maxInFlight` are outstanding on the connection, and the source is pulled only when
 * the publisher has room (`fromPulled` awaits its `gate()`), so a day of MBP-10 streams in bounded memory.
 */
import { MsgIdGenerator, SUBJECTS } from '../common/bus.js';
import type { NATSBus } from '../common/bus.js';
import type { Config } from '../common/config.js';
import { eventKind } from '../common/event-types.js';
import type { MarketEvent, MarketEventKind } from '../common/event-types.js';
import type { Logger } from '../common/log.js';
import type { RunManifestManager } from '../common/run-manifest.js';
import { JetStreamPublisher } from '../sinks/nats.js';
import { fromPulled } from '../streams/merge.js';
import { paced } from '../streams/pacing.js';
import { marketBatches, sourceSpan } from './sources.js';
import type { RunSource } from './sources.js';
import type { Progress } from './progress.js';
import { SERVICE_PUBLISH_RETRIES, drainPublisher } from './services.js';

/** The subject of each event kind (DATA.md §3.1). */
export const MARKET_SUBJECT_OF: Readonly<Record<MarketEventKind, string>> = {
  'futures.trades': SUBJECTS.FUTURES_TRADES,
  'futures.mbp10': SUBJECTS.FUTURES_MBP10,
  'options.trades': SUBJECTS.OPTIONS_TRADES,
};

export interface IngestOptions {
  readonly source: RunSource;
  readonly config: Config;
  /** Lake root a `replay` source reads. */
  readonly dataRoot: string;
  /** 1 = real time, 2 = twice as fast, 0 = as fast as possible. */
  readonly speed: number;
  readonly logger: Logger;
  readonly progress: Progress;
  /** Receives the acknowledged publishes per event kind. */
  readonly manifest?: Pick<RunManifestManager, 'updateEventCount'> | null;
  /** Resolving it stops the pull; what is in flight is still awaited. */
  readonly stop?: Promise<unknown>;
  /** Publishes outstanding at once (default 1000). */
  readonly maxInFlight?: number;
}

export interface IngestResult {
  readonly outcome: 'completed' | 'stopped';
  /** Publishes acknowledged by JetStream, per event kind (re-publishes it dropped included). */
  readonly published: Readonly<Record<MarketEventKind, number>>;
  /** Acknowledged as duplicates: the stream already held a message with that id. */
  readonly duplicates: number;
  readonly wallMs: number;
}

/** Publish the source to the market subjects; resolves when everything sent was acknowledged. */
export async function runIngest(bus: NATSBus, options: IngestOptions): Promise<IngestResult> {
  const { logger, progress } = options;
  const started = performance.now();
  const publisher = new JetStreamPublisher(bus, {
    maxRetries: SERVICE_PUBLISH_RETRIES,
    ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
  });
  const msgIds = new MsgIdGenerator();
  const published: Record<MarketEventKind, number> = { 'futures.trades': 0, 'futures.mbp10': 0, 'options.trades': 0 };
  let failure: Error | null = null;
  const batches = paced<MarketEvent>(options.speed)(marketBatches(options.source, options.config, options.dataRoot));

  const onEvent = (e: MarketEvent): void => {
    const kind = eventKind(e);
    progress.tick(e.ts_event_ns);
    publisher.publish(MARKET_SUBJECT_OF[kind], e, { msgId: msgIds.next(kind, e) }).then(
      () => {
        published[kind]++;
        options.manifest?.updateEventCount(kind, 1);
      },
      (err: unknown) => {
        failure ??= err instanceof Error ? err : new Error(String(err));
      },
    );
  };
  const gate = (): void | Promise<void> => {
    if (failure) throw failure;
    return publisher.gate();
  };

  logger.info({ source: options.source.kind, speed: options.speed }, 'ingest: publishing');
  progress.start(sourceSpan(options.source, options.config));
  let outcome: IngestResult['outcome'];
  try {
    outcome = await new Promise<IngestResult['outcome']>((resolve, reject) => {
      const sub = fromPulled(batches, { gate }).subscribe({
        next: onEvent,
        error: reject,
        complete: () => resolve('completed'),
      });
      void options.stop?.then(() => {
        sub.unsubscribe();
        resolve('stopped');
      });
    });
  } finally {
    progress.stop();
    if (publisher.pending > 0) logger.info({ inFlight: publisher.pending }, 'ingest: waiting for in-flight publishes');
    await drainPublisher(publisher);
  }
  if (failure) throw failure;
  const wallMs = performance.now() - started;
  const total = Object.values(published).reduce((a, b) => a + b, 0);
  logger.info(
    {
      outcome,
      published,
      duplicates: publisher.duplicates,
      wallMs: Math.round(wallMs),
      eventsPerSec: Math.round(total / Math.max(wallMs / 1000, 1e-3)),
    },
    `ingest: ${outcome}`,
  );
  return { outcome, published, duplicates: publisher.duplicates, wallMs };
}
