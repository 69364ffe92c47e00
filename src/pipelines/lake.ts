/**
 * `levelflow lake` — the persistence service of the NATS deployment: `market.*` into Bronze and `levels.signals`
 * into Gold through the durable lake consumer (acknowledged only after the Parquet commit), every committed file
 * tracked in the run manifest and, with S3 on, mirrored to the bucket in the background.
 */
import type { NATSBus } from '../common/bus.js';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import type { RunManifestManager } from '../common/run-manifest.js';
import { runLakeConsumer } from '../sinks/lake-consumer.js';
import type { LakeConsumerStats } from '../sinks/lake-consumer.js';
import { S3Mirror } from '../sinks/s3.js';
import { STATUS_EVERY_MS, every } from './services.js';

/** How long a stopping service waits for queued S3 uploads; what is left stays queued on disk for the next start. */
const S3_DRAIN_ON_STOP_MS = 30_000;

export interface LakeServiceOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly dataRoot: string;
  /** Mirror committed files to S3 (`S3_ENDPOINT`, `S3_BUCKET`, keys from the environment). */
  readonly s3: boolean;
  /** Durable names are `{durablePrefix}_{stream}` (default `lake`). */
  readonly durablePrefix?: string;
  readonly manifest?: RunManifestManager | null;
  /** Resolving it stops the service: flush, acknowledge, close. */
  readonly stop: Promise<unknown>;
}

export async function runLake(bus: NATSBus, options: LakeServiceOptions): Promise<LakeConsumerStats> {
  const { config, logger } = options;
  let mirror: S3Mirror | null = null;
  if (options.s3) {
    mirror = new S3Mirror(
      {
        dataRoot: options.dataRoot,
        endpoint: config.S3_ENDPOINT,
        bucket: config.S3_BUCKET,
        accessKeyId: config.S3_ACCESS_KEY,
        secretAccessKey: config.S3_SECRET_KEY,
        logger,
      },
      config,
    );
    await mirror.start();
  }
  const consumer = await runLakeConsumer({
    bus,
    logger,
    durablePrefix: options.durablePrefix ?? 'lake',
    writer: { dataRoot: options.dataRoot, manifest: options.manifest ?? null },
    onCommitted: (file) => {
      logger.info({ file: file.relativePath, rows: file.rows }, 'lake: committed');
      mirror
        ?.enqueue(file.relativePath)
        .catch((err: unknown) =>
          logger.error({ file: file.relativePath, err: (err as Error).message }, 'lake: cannot queue S3 upload'),
        );
    },
  });
  const stopStatus = every(STATUS_EVERY_MS, () =>
    logger.info({ ...consumer.stats, s3Pending: mirror?.pending ?? null }, 'lake: status'),
  );
  try {
    await Promise.race([options.stop, consumer.failed]);
  } finally {
    stopStatus();
    await consumer.stop();
    if (mirror) {
      const waited = await Promise.race([
        mirror.drain().then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), S3_DRAIN_ON_STOP_MS).unref()),
      ]);
      if (!waited) logger.warn({ pending: mirror.pending }, 'lake: S3 uploads left queued for the next start');
      await mirror.stop();
    }
  }
  return consumer.stats;
}
