/**
 * `levelflow lake`: consume `market.*` and `levels.signals` into the Bronze and Gold Parquet lake
 * (src/pipelines/lake.ts), optionally mirrored to S3.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG, loadConfig } from '../../common/config.js';
import type { Config } from '../../common/config.js';
import { RunMode, RunStatus } from '../../common/run-manifest.js';
import { runLake } from '../lake.js';
import { connectServiceBus, runService } from '../services.js';
import { UsageError, examples } from './common.js';

interface LakeCliOptions {
  readonly dataRoot?: string;
  readonly s3?: boolean;
  readonly durable: string;
}

const DURABLE = /^[A-Za-z0-9_-]+$/;

export function registerLake(program: Command): void {
  program
    .command('lake')
    .description('consume market.* and levels.signals from NATS JetStream into the Bronze/Gold Parquet lake')
    .option('--data-root <DIR>', 'lake root (default: DATA_ROOT, ./data/lake)')
    .option('--s3', 'mirror committed files to S3_BUCKET at S3_ENDPOINT (also USE_S3=true)')
    .option(
      '--durable <PREFIX>',
      'durable consumer prefix: consumers {PREFIX}_market_data and {PREFIX}_level_signals',
      'lake',
    )
    .addHelpText(
      'after',
      '\nMessages are acknowledged only after their rows are in a committed Parquet file; a commit journal under\n' +
        '_meta/lake_consumer keeps a redelivery after a crash from writing rows twice.\n' +
        'SIGINT/SIGTERM flushes the buffers, acknowledges, closes and marks the run stopped (exit 0).\n' +
        examples(
          'NATS_URL=nats://localhost:4222 DATA_ROOT=./data/lake levelflow lake',
          'USE_S3=true S3_ENDPOINT=http://localhost:9000 S3_BUCKET=levelflow levelflow lake --data-root /srv/lake',
        ),
    )
    .action(async (o: LakeCliOptions) => {
      if (!DURABLE.test(o.durable))
        throw new UsageError(`--durable ${JSON.stringify(o.durable)} must match [A-Za-z0-9_-]+`);
      const config: Config = o.dataRoot !== undefined ? loadConfig({ overrides: { DATA_ROOT: o.dataRoot } }) : CONFIG;
      const s3 = o.s3 === true || config.USE_S3;
      if (s3 && (!config.S3_ACCESS_KEY || !config.S3_SECRET_KEY)) {
        throw new UsageError('S3 mirroring needs S3_ACCESS_KEY and S3_SECRET_KEY in the environment');
      }
      const dataRoot = path.resolve(config.DATA_ROOT);
      await runService({ name: 'lake', mode: RunMode.LIVE, config, dataRoot, exitWhenDone: true }, async (ctx) => {
        const bus = await connectServiceBus(ctx);
        try {
          await runLake(bus, {
            config,
            logger: ctx.logger,
            dataRoot,
            s3,
            durablePrefix: o.durable,
            manifest: ctx.manifest,
            stop: ctx.stopRequested,
          });
          return RunStatus.STOPPED;
        } finally {
          await bus.close();
        }
      });
    });
}
