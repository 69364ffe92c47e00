/**
 * `levelflow ingest`: publish DBN files, the simulator or the Bronze lake to the market subjects of NATS JetStream
 * (src/pipelines/ingest.ts), paced at REPLAY_SPEED.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG, loadConfig } from '../../common/config.js';
import type { Config } from '../../common/config.js';
import { RunMode, RunStatus } from '../../common/run-manifest.js';
import { runIngest } from '../ingest.js';
import { createProgress } from '../progress.js';
import { connectServiceBus, runService } from '../services.js';
import { addSourceOptions, parseSource } from './source-options.js';
import type { SourceCliOptions } from './source-options.js';
import { UsageError, examples, finiteNumber } from './common.js';

interface IngestCliOptions extends SourceCliOptions {
  readonly dataRoot?: string;
  readonly speed?: number;
}

function speedOf(o: IngestCliOptions, config: Config): number {
  if (o.speed === undefined) return config.REPLAY_SPEED;
  if (o.speed < 0) throw new UsageError('--speed must be ≥ 0 (0 = as fast as possible)');
  return o.speed;
}

export function registerIngest(program: Command): void {
  addSourceOptions(program.command('ingest'))
    .description('publish market events (DBN files, the simulator or the Bronze lake) to NATS JetStream market.*')
    .option('--data-root <DIR>', 'lake root for --replay and the run manifest (default: DATA_ROOT, ./data/lake)')
    .option(
      '--speed <X>',
      '1 = real time, 2 = twice as fast, 0 = as fast as possible (default: REPLAY_SPEED)',
      finiteNumber,
    )
    .addHelpText(
      'after',
      '\nEvents go to market.futures.trades, market.futures.mbp10 and market.options.trades at NATS_URL, each with a\n' +
        'deterministic Nats-Msg-Id: publishing the same input again within two minutes adds nothing to the stream.\n' +
        'SIGINT/SIGTERM stops reading, waits for the publishes in flight and marks the run stopped (exit 0).\n' +
        examples(
          'NATS_URL=nats://localhost:4222 levelflow ingest --dbn glbx-mdp3-20251216.trades.dbn.zst glbx-mdp3-20251216.mbp-10.dbn.zst --speed 0',
          'levelflow ingest --sim --sim-minutes 60 --speed 10',
          'levelflow ingest --replay --from 2025-12-16 --to 2025-12-17',
        ),
    )
    .action(async (o: IngestCliOptions) => {
      const src = parseSource(o, false);
      const config: Config = o.dataRoot !== undefined ? loadConfig({ overrides: { DATA_ROOT: o.dataRoot } }) : CONFIG;
      const speed = speedOf(o, config);
      const dataRoot = path.resolve(config.DATA_ROOT);
      const mode = src.kind === 'sim' ? RunMode.SIM : RunMode.REPLAY;
      await runService({ name: 'ingest', mode, config, dataRoot, exitWhenDone: true }, async (ctx) => {
        const bus = await connectServiceBus(ctx);
        try {
          const result = await runIngest(bus, {
            source: src,
            config,
            dataRoot,
            speed,
            logger: ctx.logger,
            progress: createProgress(ctx.logger),
            manifest: ctx.manifest,
            stop: ctx.stopRequested,
          });
          return result.outcome === 'completed' ? RunStatus.COMPLETED : RunStatus.STOPPED;
        } finally {
          await bus.close();
        }
      });
    });
}
