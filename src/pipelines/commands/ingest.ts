/**
 * `levelflow ingest`: publish DBN files, the simulator or the Bronze lake to the market subjects of NATS JetStream
 * (src/pipelines/ingest.ts), paced at REPLAY_SPEED.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG, loadConfig } from '../../common/config.js';
import type { Config } from '../../common/config.js';
import { RunMode, RunStatus } from '../../common/run-manifest.js';
import type { RunSource } from '../all-in-one.js';
import { runIngest } from '../ingest.js';
import { createProgress } from '../progress.js';
import { connectServiceBus, runService } from '../services.js';
import { UsageError, examples, finiteNumber, safeInt } from './common.js';

interface IngestCliOptions {
  readonly dbn?: string[];
  readonly sim?: boolean;
  readonly simSeed?: number;
  readonly simMinutes?: number;
  readonly replay?: boolean;
  readonly from?: string;
  readonly to?: string;
  readonly dataRoot?: string;
  readonly speed?: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function date(flag: string, value: string | undefined): string {
  if (value === undefined) throw new UsageError(`--replay needs ${flag} YYYY-MM-DD`);
  if (!DATE.test(value) || !Number.isFinite(Date.parse(`${value}T00:00:00Z`))) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a date YYYY-MM-DD`);
  }
  return value;
}

/** A service publishes what it is told: unlike `run`, there is no default source. */
function source(o: IngestCliOptions): RunSource {
  const sim = o.sim === true || o.simSeed !== undefined || o.simMinutes !== undefined;
  const chosen = [o.dbn !== undefined, sim, o.replay === true].filter(Boolean).length;
  if (chosen === 0) throw new UsageError('choose a source: --dbn FILE…, --sim or --replay --from DATE');
  if (chosen > 1) throw new UsageError('choose one source: --dbn FILE…, --sim or --replay');
  if ((o.from !== undefined || o.to !== undefined) && !o.replay) throw new UsageError('--from/--to go with --replay');
  if (o.dbn !== undefined) {
    for (const f of o.dbn) if (!existsSync(f)) throw new UsageError(`--dbn ${f}: no such file`);
    return { kind: 'dbn', files: o.dbn };
  }
  if (o.replay) {
    const from = date('--from', o.from);
    const to = date('--to', o.to ?? o.from);
    if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
    return { kind: 'replay', from, to };
  }
  if (o.simMinutes !== undefined && !(o.simMinutes > 0 && o.simMinutes <= 1440)) {
    throw new UsageError('--sim-minutes must be in (0, 1440]');
  }
  return {
    kind: 'sim',
    sim: {
      ...(o.simSeed !== undefined ? { seed: o.simSeed } : {}),
      ...(o.simMinutes !== undefined ? { durationMinutes: o.simMinutes } : {}),
    },
  };
}

function speedOf(o: IngestCliOptions, config: Config): number {
  if (o.speed === undefined) return config.REPLAY_SPEED;
  if (o.speed < 0) throw new UsageError('--speed must be ≥ 0 (0 = as fast as possible)');
  return o.speed;
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('publish market events (DBN files, the simulator or the Bronze lake) to NATS JetStream market.*')
    .option('--dbn <FILE...>', 'Databento DBN files (plain or .zst), merged in event order')
    .option('--sim', "the simulator's session (seeded)")
    .option('--sim-seed <N>', 'simulator seed (default 42; implies --sim)', safeInt)
    .option('--sim-minutes <M>', 'simulated minutes after 09:25 ET (default 30; implies --sim)', finiteNumber)
    .option('--replay', 'replay the Bronze lake (with --from/--to)')
    .option('--from <DATE>', 'first date to replay, YYYY-MM-DD')
    .option('--to <DATE>', 'last date to replay, YYYY-MM-DD (default: --from)')
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
      const src = source(o);
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
