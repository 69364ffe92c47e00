/**
 * `levelflow run`: the all-in-one job (src/pipelines/all-in-one.ts) — what `npm start` runs with no arguments.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG, loadConfig } from '../../common/config.js';
import type { Config } from '../../common/config.js';
import { createLogger } from '../../common/log.js';
import { LAKE_DATASETS } from '../../common/lake-paths.js';
import { addSourceOptions, parseSource } from './source-options.js';
import type { SourceCliOptions } from './source-options.js';
import { UsageError, examples, finiteNumber, writeOut } from './common.js';

interface RunCliOptions extends SourceCliOptions {
  readonly speed?: number;
  readonly nats?: boolean;
  readonly s3?: boolean;
  readonly out?: string;
  readonly dataRoot?: string;
}

/**
 * The job runs as fast as the machine allows unless `--speed` or `REPLAY_SPEED` asks for pacing: a newcomer's
 * `npm start` must finish in seconds, while a replay feeding a live screen sets a speed explicitly.
 */
function speedOf(o: RunCliOptions): number {
  if (o.speed !== undefined) {
    if (o.speed < 0) throw new UsageError('--speed must be ≥ 0 (0 = as fast as possible)');
    return o.speed;
  }
  return process.env['REPLAY_SPEED'] !== undefined ? CONFIG.REPLAY_SPEED : 0;
}

export function registerRun(program: Command): void {
  addSourceOptions(program.command('run'))
    .description('run the whole pipeline in one process: source → levelSignals → Bronze/Gold Parquet, NDJSON, manifest')
    .option(
      '--speed <X>',
      '1 = real time, 2 = twice as fast, 0 = as fast as possible (default 0, or REPLAY_SPEED)',
      finiteNumber,
    )
    .option('--nats', 'also publish market events and signals to JetStream at NATS_URL')
    .option('--s3', 'mirror the lake to S3_BUCKET at S3_ENDPOINT when done')
    .option('--out <DIR>', 'directory for the signals NDJSON (default: the run directory under DATA_ROOT/_meta/runs)')
    .option('--data-root <DIR>', 'lake root (default: DATA_ROOT, ./data/lake)')
    .addHelpText(
      'after',
      "\nWith no source option it runs the simulator's default session (seeded, ~106k events, scripted episodes).\n" +
        examples(
          'levelflow run',
          'levelflow run --sim-seed 7 --sim-minutes 60',
          'levelflow run --dbn glbx-mdp3-20251216.trades.dbn.zst glbx-mdp3-20251216.mbp-10.dbn.zst',
          'levelflow run --replay --from 2025-12-16 --speed 10 --nats',
        ),
    )
    .action(async (o: RunCliOptions) => {
      const src = parseSource(o, true);
      const speed = speedOf(o);
      const config: Config = o.dataRoot !== undefined ? loadConfig({ overrides: { DATA_ROOT: o.dataRoot } }) : CONFIG;
      const dataRoot = path.resolve(config.DATA_ROOT);
      const logger = createLogger('run');
      // The pipeline (DuckDB, NATS, the engines) loads only when the command runs, so `--help` stays instant.
      const { runAllInOne } = await import('../all-in-one.js');
      const { createProgress } = await import('../progress.js');
      const result = await runAllInOne({
        source: src,
        config,
        dataRoot,
        ...(o.out !== undefined ? { outDir: path.resolve(o.out) } : {}),
        speed,
        nats: o.nats === true,
        s3: o.s3 === true || config.USE_S3,
        logger,
        progress: createProgress(logger),
        lifecycle: true,
      });
      const rel = (p: string) => path.relative(process.cwd(), p) || '.';
      const bronze = [
        LAKE_DATASETS['futures.trades.v1'],
        LAKE_DATASETS['futures.mbp10.v1'],
        LAKE_DATASETS['options.trades.v1'],
      ].map((d) => d.dir);
      await writeOut(
        result.summary.render({
          runId: result.runId,
          status: result.status.toUpperCase(),
          wallMs: result.wallMs,
          files: [
            [
              'Bronze',
              `${rel(path.join(dataRoot, 'bronze'))}/ (${result.bronzeFiles} new files: ${bronze.join(', ')})`,
            ],
            [
              'Gold',
              `${rel(path.join(dataRoot, LAKE_DATASETS['levels.signals.v1'].dir))}/ (${result.goldFiles} new files)`,
            ],
            ['Signals', rel(result.ndjsonPath)],
            ['Manifest', rel(result.manifestPath)],
            [
              'Query',
              `npx levelflow query "SELECT level_id, signal, count(*) AS snaps FROM levels_signals GROUP BY ALL ORDER BY 3 DESC"`,
            ],
          ],
        }),
      );
    });
}
