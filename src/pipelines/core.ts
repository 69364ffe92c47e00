/**
 * `levelflow core` — the compute service of the NATS deployment: `market.*` through `levelSignals` into
 * `levels.signals`.
 *
 * Nothing lost, nothing doubled
 * - One durable consumer reads the three market subjects in stream order (ingest's canonical order).
 * - Each snap's payload is published with the id `levels.signals:{ts}`, so a second core re-publishing a snap after
 *   a crash is dropped by JetStream.
 * - A market delivery is acknowledged only once the payload of the first snap at or after its event time has been
 *   acknowledged by JetStream: that snap is the first output its event influenced, and every later snap follows
 *   it in publish order. Deliveries wait in a FIFO (arrival order = event order) released from the front by each
 *   acknowledged snap. A stopped or crashed core leaves the rest unacknowledged; the next core gets them again.
 * - A delivery seen twice in one process (the server redelivers after `ackWaitS`, e.g. across a NATS restart) is
 *   not fed to the engines again; it is acknowledged with the snap that covers it.
 *
 * The idle rule — the only wall-clock input of the service
 *   After `idleFlushMs` of wall time without a message, ONE event-time heartbeat
 *   `h = lastEventTs + LATENESS_BUFFER_MS + SNAP_INTERVAL_MS` enters `levelSignals`. It moves the reorder watermark
 *   to `lastEventTs + SNAP_INTERVAL_MS`, which releases every buffered event, and lets the grid close snaps up to
 *   `lastEventTs + SNAP_INTERVAL_MS − 1 ns`: exactly the pending snap `ceil(lastEventTs)`, the final snap `run`
 *   emits when its input completes. So a replay through NATS ends with the same last snap as `run`, and the
 *   deliveries it covers are acknowledged. No further heartbeat is sent until a new message arrives: a quiet feed
 *   does not tick the grid on (that would invent snaps `run` never emits), and a market that resumes continues the
 *   grid from its next event. The price: an event arriving more than `idleFlushMs` late in wall time with an event
 *   time before that snap is counted late and not applied — the same contract the reorder buffer already sets.
 */
import { Subject, map } from 'rxjs';
import type { Subscription } from 'rxjs';
import { SUBJECTS } from '../common/bus.js';
import type { NATSBus } from '../common/bus.js';
import type { Config } from '../common/config.js';
import { eventKind } from '../common/event-types.js';
import type { MarketEvent, MarketEventKind } from '../common/event-types.js';
import type { Logger } from '../common/log.js';
import type { LevelSignalsPayload } from '../common/payloads.js';
import type { RunManifestManager } from '../common/run-manifest.js';
import { levelSignals } from '../operators/physics/level-signals.js';
import type { LevelSignalsStats } from '../operators/physics/level-signals.js';
import { JetStreamPublisher, jetStreamSink } from '../sinks/nats.js';
import { jetStreamSource } from '../streams/nats.js';
import type { Delivery } from '../streams/nats.js';
import { SERVICE_PUBLISH_RETRIES, STATUS_EVERY_MS, drainPublisher, every } from './services.js';

const NS_PER_MS = 1_000_000n;

export const MARKET_SUBJECTS: readonly string[] = [
  SUBJECTS.FUTURES_TRADES,
  SUBJECTS.FUTURES_MBP10,
  SUBJECTS.OPTIONS_TRADES,
];

export interface CoreOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Durable consumer name (default `core`): cores sharing it resume where the last one acknowledged. */
  readonly durable?: string;
  /** Wall-clock quiet time before the one idle heartbeat (default 2000 ms); see the idle rule above. */
  readonly idleFlushMs?: number;
  readonly ackWaitS?: number;
  readonly maxAckPending?: number;
  /** Receives consumed events per kind and published payloads (`levels.signals`). */
  readonly manifest?: Pick<RunManifestManager, 'updateEventCount'> | null;
  /** Resolving it stops the service: no more pulls, in-flight publishes drained, their deliveries acknowledged. */
  readonly stop: Promise<unknown>;
}

export interface CoreStats {
  delivered: number;
  /** Deliveries of a message this process had already seen (server redeliveries). */
  redelivered: number;
  acked: number;
  payloads: number;
  idleFlushes: number;
  signals: LevelSignalsStats;
}

interface Pending {
  readonly delivery: Delivery<MarketEvent>;
  readonly ts: bigint;
}

/** Consume, compute, publish until `stop` resolves; rejects if the consumer or a publish fails for good. */
export async function runCore(bus: NATSBus, options: CoreOptions): Promise<CoreStats> {
  const { config, logger } = options;
  const durable = options.durable ?? 'core';
  const idleFlushMs = options.idleFlushMs ?? 2_000;
  const stats: CoreStats = {
    delivered: 0,
    redelivered: 0,
    acked: 0,
    payloads: 0,
    idleFlushes: 0,
    signals: { events: 0, snaps: 0, late: 0 },
  };
  const publisher = new JetStreamPublisher(bus, { maxRetries: SERVICE_PUBLISH_RETRIES });
  const events = new Subject<MarketEvent>();
  const heartbeats = new Subject<bigint>();
  const fifo: Pending[] = [];
  /** Newest snap whose payload JetStream acknowledged: every delivery at or before it may be acked at once. */
  let ackedThroughNs: bigint | null = null;
  let lastEventTs: bigint | null = null;
  let highestSeq = 0;
  let idleTimer: NodeJS.Timeout | null = null;
  const consumed: Record<MarketEventKind, number> = { 'futures.trades': 0, 'futures.mbp10': 0, 'options.trades': 0 };

  let fail: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // A failure after the stop began has nobody left to tell; the race below reports the first one.
  failed.catch(() => undefined);

  const ack = (p: Pending): void => {
    p.delivery.ack();
    stats.acked++;
  };
  const release = (snapNs: bigint): void => {
    ackedThroughNs = snapNs;
    while (fifo.length > 0 && fifo[0]!.ts <= snapNs) ack(fifo.shift()!);
  };

  const idleFlush = (): void => {
    idleTimer = null;
    if (lastEventTs === null) return;
    const h = lastEventTs + BigInt(config.LATENESS_BUFFER_MS + config.SNAP_INTERVAL_MS) * NS_PER_MS;
    stats.idleFlushes++;
    logger.info({ lastEventTs: String(lastEventTs), heartbeatNs: String(h), pending: fifo.length }, 'core: idle flush');
    heartbeats.next(h);
  };

  const onDelivery = (d: Delivery<MarketEvent>): void => {
    stats.delivered++;
    if (idleTimer !== null) clearTimeout(idleTimer);
    idleTimer = setTimeout(idleFlush, idleFlushMs);
    const p: Pending = { delivery: d, ts: d.value.ts_event_ns };
    const repeat = d.streamSeq <= highestSeq;
    if (repeat) stats.redelivered++;
    else highestSeq = d.streamSeq;
    if (ackedThroughNs !== null && p.ts <= ackedThroughNs) ack(p);
    else fifo.push(p);
    if (repeat) return;
    if (lastEventTs === null || p.ts > lastEventTs) lastEventTs = p.ts;
    const kind = eventKind(d.value);
    consumed[kind]++;
    options.manifest?.updateEventCount(kind, 1);
    events.next(d.value);
  };

  const output: Subscription = events
    .pipe(
      levelSignals({ config, reorder: true, heartbeats, stats: stats.signals }),
      map((payload: LevelSignalsPayload) => ({
        subject: SUBJECTS.LEVEL_SIGNALS,
        payload,
        msgId: `levels.signals:${payload.ts}`,
      })),
      jetStreamSink(publisher),
    )
    .subscribe({
      next: ([item]) => {
        stats.payloads++;
        options.manifest?.updateEventCount('levels.signals', 1);
        release(BigInt(item.payload.ts) * NS_PER_MS);
      },
      error: (err: unknown) => fail(err),
    });

  const input: Subscription = jetStreamSource<MarketEvent>(bus, {
    subjects: MARKET_SUBJECTS,
    durable,
    ...(options.ackWaitS !== undefined ? { ackWaitS: options.ackWaitS } : {}),
    ...(options.maxAckPending !== undefined ? { maxAckPending: options.maxAckPending } : {}),
  }).subscribe({
    next: onDelivery,
    error: (err: unknown) => fail(err),
    // The consumer only ends when it is closed under us; completing `levelSignals` would emit a final snap that a
    // live feed never promised, so it is a failure and the next core takes over.
    complete: () => fail(new Error(`consumer ${durable} ended`)),
  });
  logger.info({ durable, subjects: MARKET_SUBJECTS, idleFlushMs }, 'core: consuming');

  const stopStatus = every(STATUS_EVERY_MS, () =>
    logger.info(
      {
        ...stats,
        signals: { ...stats.signals },
        consumed,
        pendingDeliveries: fifo.length,
        inFlight: publisher.pending,
        lastEventTs: lastEventTs === null ? null : String(lastEventTs),
      },
      'core: status',
    ),
  );

  try {
    await Promise.race([options.stop, failed]);
  } finally {
    input.unsubscribe();
    stopStatus();
    if (idleTimer !== null) clearTimeout(idleTimer);
    // Acks of the snaps still in flight release their deliveries; the rest are redelivered to the next core.
    await drainPublisher(publisher);
    output.unsubscribe();
    if (bus.connected) await bus.connection().nc.flush();
    logger.info({ ...stats, signals: { ...stats.signals }, unacked: fifo.length }, 'core: stopped');
  }
  return stats;
}
