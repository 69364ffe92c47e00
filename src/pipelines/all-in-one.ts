/**
 * `levelflow run` — the all-in-one job: one source (the simulator, DBN files or the Bronze lake) through
 * `levelSignals` in one process, writing Bronze and Gold Parquet, the signals as NDJSON and a run manifest, and
 * optionally publishing to NATS and mirroring the lake to S3.
 *
 * The source is pulled, not drained: before each batch the pipeline waits until the lake writer's buffers, the NDJSON
 * stream and (with `--nats`) the JetStream publisher have room, so memory stays bounded by those high-water marks
 * whatever the length of the session.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { tap } from 'rxjs';
import type { Subscription } from 'rxjs';
import { MsgIdGenerator, NATSBus, SUBJECTS, connectionSettings } from '../common/bus.js';
import type { Config } from '../common/config.js';
import { eventKind } from '../common/event-types.js';
import type { MarketEvent, MarketEventKind } from '../common/event-types.js';
import { encodeJson } from '../common/json.js';
import type { Logger } from '../common/log.js';
import type { LevelSignalsPayload } from '../common/payloads.js';
import { RunManifestManager, RunMode, RunStatus, installLifecycleHooks } from '../common/run-manifest.js';
import { levelSignals } from '../operators/physics/level-signals.js';
import type { LevelSignalsStats } from '../operators/physics/level-signals.js';
import { JetStreamPublisher } from '../sinks/nats.js';
import { ParquetLakeWriter } from '../sinks/parquet.js';
import { S3Mirror } from '../sinks/s3.js';
import { fromPulled } from '../streams/merge.js';
import { paced } from '../streams/pacing.js';
import { marketBatches, sourceSpan } from './sources.js';
import type { RunSource } from './sources.js';
import { RunSummary } from './summary.js';
import type { Progress } from './progress.js';

export interface RunOptions {
  readonly source: RunSource;
  readonly config: Config;
  /** Lake root (Bronze, Gold, manifests). */
  readonly dataRoot: string;
  /** Directory for the signals NDJSON (default: the run's manifest directory). */
  readonly outDir?: string;
  /** 0 = as fast as possible; 1 = real time. */
  readonly speed: number;
  readonly nats: boolean;
  readonly s3: boolean;
  readonly logger: Logger;
  readonly progress: Progress;
  /** Install SIGINT/SIGTERM/crash hooks that finish the manifest (the CLI does; tests may not). */
  readonly lifecycle?: boolean;
}

export interface RunResult {
  readonly runId: string;
  readonly status: RunStatus;
  readonly summary: RunSummary;
  readonly ndjsonPath: string;
  readonly manifestPath: string;
  readonly bronzeFiles: number;
  readonly goldFiles: number;
  readonly wallMs: number;
}

const SUBJECT_OF: Readonly<Record<MarketEventKind, string>> = {
  'futures.trades': SUBJECTS.FUTURES_TRADES,
  'futures.mbp10': SUBJECTS.FUTURES_MBP10,
  'options.trades': SUBJECTS.OPTIONS_TRADES,
};
const SCHEMA_OF: Readonly<Record<MarketEventKind, string>> = {
  'futures.trades': 'futures.trades.v1',
  'futures.mbp10': 'futures.mbp10.v1',
  'options.trades': 'options.trades.v1',
};

const MODE_OF: Readonly<Record<RunSource['kind'], RunMode>> = {
  sim: RunMode.SIM,
  dbn: RunMode.REPLAY,
  replay: RunMode.REPLAY,
};

export async function runAllInOne(options: RunOptions): Promise<RunResult> {
  const { config, logger, progress } = options;
  const started = performance.now();
  const manager = new RunManifestManager(options.dataRoot, MODE_OF[options.source.kind], { config, logger });
  const runId = manager.startRun();
  const runDir = manager.getRunDirectory(runId);
  mkdirSync(options.outDir ?? runDir, { recursive: true });
  const ndjsonPath =
    options.outDir === undefined
      ? path.join(runDir, 'signals.ndjson')
      : path.join(options.outDir, `signals-${runId}.ndjson`);
  logger.info({ runId, source: options.source.kind, dataRoot: options.dataRoot }, 'run started');

  let invalid = 0;
  let writerError: Error | null = null;
  const writer = new ParquetLakeWriter({
    dataRoot: options.dataRoot,
    manifest: manager,
    onInvalid: (_record, err, info) => {
      invalid++;
      logger.warn({ schema: info.schema, err: err.message }, 'invalid record not written');
    },
    onError: (err) => {
      writerError ??= err;
    },
  });
  const ndjson = createWriteStream(ndjsonPath);

  let bus: NATSBus | null = null;
  let publisher: JetStreamPublisher | null = null;
  const msgIds = new MsgIdGenerator();
  if (options.nats) {
    bus = new NATSBus(connectionSettings(config), { logger, runId });
    await bus.connect();
    publisher = new JetStreamPublisher(bus);
  }

  const summary = new RunSummary();
  const stats: LevelSignalsStats = { events: 0, snaps: 0, late: 0 };
  const span = sourceSpan(options.source, config);
  progress.start(span);

  let sub: Subscription | null = null;
  const finishOutputs = async (): Promise<void> => {
    await writer.close();
    ndjson.end();
    await once(ndjson, 'finish');
    await publisher?.drain();
    await bus?.close();
  };
  const disposeHooks = options.lifecycle
    ? installLifecycleHooks(manager, {
        logger,
        onSignal: async () => {
          sub?.unsubscribe();
          progress.stop();
          logger.warn({ runId }, 'stopping: flushing what is buffered');
          await finishOutputs();
        },
      })
    : null;

  const gate = async (): Promise<void> => {
    if (writerError) throw writerError;
    await writer.ready();
    if (publisher) await publisher.gate();
    if (ndjson.writableNeedDrain) await once(ndjson, 'drain');
  };

  const unpaced = marketBatches(options.source, config, options.dataRoot);
  const batches = options.speed > 0 ? paced<MarketEvent>(options.speed)(unpaced) : unpaced;
  const onEvent = (e: MarketEvent): void => {
    const kind = eventKind(e);
    writer.append(SCHEMA_OF[kind], e);
    summary.observeEvent(kind, e.ts_event_ns);
    progress.tick(e.ts_event_ns);
    if (publisher) {
      void publisher.publish(SUBJECT_OF[kind], e, { msgId: msgIds.next(kind, e) }).catch((err: unknown) => {
        writerError ??= err as Error;
      });
    }
  };
  const onPayload = (p: LevelSignalsPayload): void => {
    writer.appendLevelSignals(p);
    ndjson.write(encodeJson(p) + '\n');
    summary.observePayload(p);
    if (publisher) {
      void publisher.publish(SUBJECTS.LEVEL_SIGNALS, p, { msgId: `levels.signals:${p.ts}` }).catch((err: unknown) => {
        writerError ??= err as Error;
      });
    }
  };

  try {
    await new Promise<void>((resolve, reject) => {
      sub = fromPulled(batches, { gate })
        .pipe(tap(onEvent), levelSignals({ config, stats }), tap(onPayload))
        .subscribe({ error: reject, complete: resolve });
    });
    progress.stop();
    await finishOutputs();
    if (writerError) throw writerError;
    if (options.s3) {
      const mirror = new S3Mirror({
        dataRoot: options.dataRoot,
        endpoint: config.S3_ENDPOINT,
        bucket: config.S3_BUCKET,
        accessKeyId: config.S3_ACCESS_KEY,
        secretAccessKey: config.S3_SECRET_KEY,
        logger,
      });
      await mirror.start();
      await mirror.syncAll();
      await mirror.drain();
      await mirror.stop();
    }
    manager.completeRun(RunStatus.COMPLETED);
  } catch (err) {
    progress.stop();
    manager.markCrashed(err instanceof Error ? (err.stack ?? err.message) : String(err));
    disposeHooks?.();
    throw err;
  }
  disposeHooks?.();
  summary.finish(stats, invalid);
  const wallMs = performance.now() - started;
  const manifest = manager.loadManifest(runId);
  logger.info({ runId, events: stats.events, snaps: stats.snaps, wallMs: Math.round(wallMs) }, 'run completed');
  return {
    runId,
    status: RunStatus.COMPLETED,
    summary,
    ndjsonPath,
    manifestPath: path.join(runDir, 'manifest.json'),
    bronzeFiles: manifest?.bronze_files.length ?? 0,
    goldFiles: manifest?.gold_files.length ?? 0,
    wallMs,
  };
}
