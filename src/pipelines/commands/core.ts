/**
 * `levelflow core`: consume `market.*`, run `levelSignals`, publish `levels.signals` (src/pipelines/core.ts).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG, loadConfig } from '../../common/config.js';
import type { Config } from '../../common/config.js';
import { RunMode, RunStatus } from '../../common/run-manifest.js';
import { runCore } from '../core.js';
import { connectServiceBus, runService } from '../services.js';
import { UsageError, examples, nonNegativeInt } from './common.js';

interface CoreCliOptions {
  readonly durable: string;
  readonly idleFlushMs: number;
  readonly dataRoot?: string;
}

const DURABLE = /^[A-Za-z0-9_-]+$/;

export function registerCore(program: Command): void {
  program
    .command('core')
    .description('consume market.* from NATS JetStream, compute level signals, publish them to levels.signals')
    .option('--durable <NAME>', 'durable consumer name; a restarted core resumes where it acknowledged', 'core')
    .option(
      '--idle-flush-ms <N>',
      'wall-clock quiet time after which the pending snap is closed (one event-time heartbeat)',
      nonNegativeInt,
      2000,
    )
    .option('--data-root <DIR>', 'lake root holding the run manifest (default: DATA_ROOT, ./data/lake)')
    .addHelpText(
      'after',
      '\nA market message is acknowledged once the first signal snap at or after its event time is stored in JetStream;\n' +
        'signals carry the id levels.signals:{ts}, so a restarted core cannot publish a snap twice. After\n' +
        '--idle-flush-ms without a message the last pending snap is emitted (the same final snap `levelflow run` emits).\n' +
        'SIGINT/SIGTERM stops consuming, waits for the publishes in flight and marks the run stopped (exit 0);\n' +
        'unacknowledged messages go to the next core.\n' +
        examples(
          'NATS_URL=nats://localhost:4222 levelflow core',
          'levelflow core --durable core-b --idle-flush-ms 500',
        ),
    )
    .action(async (o: CoreCliOptions) => {
      if (!DURABLE.test(o.durable))
        throw new UsageError(`--durable ${JSON.stringify(o.durable)} must match [A-Za-z0-9_-]+`);
      if (o.idleFlushMs === 0) throw new UsageError('--idle-flush-ms must be at least 1');
      const config: Config = o.dataRoot !== undefined ? loadConfig({ overrides: { DATA_ROOT: o.dataRoot } }) : CONFIG;
      const dataRoot = path.resolve(config.DATA_ROOT);
      await runService({ name: 'core', mode: RunMode.LIVE, config, dataRoot, exitWhenDone: true }, async (ctx) => {
        const bus = await connectServiceBus(ctx);
        try {
          await runCore(bus, {
            config,
            logger: ctx.logger,
            durable: o.durable,
            idleFlushMs: o.idleFlushMs,
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
