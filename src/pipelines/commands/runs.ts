/** `levelflow runs list|show|crashed`: the run manifests under `{DATA_ROOT}/_meta/runs`. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { CONFIG } from '../../common/config.js';
import { encodeJson } from '../../common/json.js';
import type { ManifestLogger, RunManifest, RunManifestManager, RunMode, RunStatus } from '../../common/run-manifest.js';
import { CommandError, UsageError, examples, existingDirectory, formatTable, writeOut } from './common.js';

interface RootOptions {
  readonly dataRoot?: string;
  readonly json?: boolean;
}

interface ListOptions extends RootOptions {
  readonly mode?: RunMode;
  readonly status?: RunStatus;
}

/** The manager's warnings (an unreadable manifest, a stale run marked crashed) as one stderr line each. */
const stderrLogger: ManifestLogger = {
  warn(obj, msg) {
    const detail = [obj['run_id'], obj['err'] ?? obj['last_beat']].filter((x) => x != null).map(String);
    process.stderr.write(`levelflow runs: ${msg}${detail.length > 0 ? ` (${detail.join(': ')})` : ''}\n`);
  },
};

function dataRootOf(opts: RootOptions): string {
  return path.resolve(opts.dataRoot ?? CONFIG.DATA_ROOT);
}

/**
 * The manager, or null when no run was ever recorded: constructing one creates `_meta/runs`, and reading must not
 * write into a data root (or a typo of one).
 */
async function manager(dataRoot: string): Promise<RunManifestManager | null> {
  if (!existsSync(path.join(dataRoot, '_meta', 'runs'))) return null;
  const { RunManifestManager, RunMode } = await manifestModule();
  return new RunManifestManager(dataRoot, RunMode.LIVE, { logger: stderrLogger });
}

// Loaded on use: the manager pulls in the schema registry, which would slow every other command's start.
const manifestModule = () => import('../../common/run-manifest.js');

/** Choices checked here rather than by commander, so that the lists come from the manifest module itself. */
async function checkFilters(opts: ListOptions): Promise<void> {
  const { RunMode, RunStatus } = await manifestModule();
  const check = (flag: string, value: string | undefined, allowed: readonly string[]): void => {
    if (value !== undefined && !allowed.includes(value))
      throw new UsageError(`${flag} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  };
  check('--mode', opts.mode, Object.values(RunMode));
  check('--status', opts.status, Object.values(RunStatus));
}

function totalEvents(m: RunManifest): number {
  return Object.values(m.event_counts).reduce((a, b) => a + b, 0);
}

async function printRuns(runs: readonly RunManifest[], opts: RootOptions, dataRoot: string): Promise<void> {
  if (opts.json) {
    await writeOut(runs.map((m) => encodeJson(m) + '\n').join(''));
    return;
  }
  if (runs.length === 0) {
    await writeOut(`no runs under ${path.join(dataRoot, '_meta', 'runs')}\n`);
    return;
  }
  const rows = runs.map((m) => [
    m.run_id,
    m.mode,
    m.status,
    m.start_time,
    m.end_time ?? '-',
    String(totalEvents(m)),
    String(m.bronze_files.length),
    String(m.gold_files.length),
  ]);
  await writeOut(
    formatTable(['RUN_ID', 'MODE', 'STATUS', 'START', 'END', 'EVENTS', 'BRONZE', 'GOLD'], rows, [
      'left',
      'left',
      'left',
      'left',
      'left',
      'right',
      'right',
      'right',
    ]),
  );
}

async function listCommand(opts: ListOptions): Promise<void> {
  await checkFilters(opts);
  const root = dataRootOf(opts);
  const runs = (await manager(root))?.listRuns(opts.mode ?? null, opts.status ?? null) ?? [];
  await printRuns(runs, opts, root);
}

async function crashedCommand(opts: RootOptions): Promise<void> {
  const root = dataRootOf(opts);
  await printRuns((await manager(root))?.getCrashedRuns() ?? [], opts, root);
}

async function showCommand(runId: string, opts: RootOptions): Promise<void> {
  const { isValidRunId } = await manifestModule();
  if (!isValidRunId(runId)) {
    throw new UsageError(
      `invalid run id ${JSON.stringify(runId)}: only letters, digits, '_', '-' and '.' (not first, no '..')`,
    );
  }
  const root = dataRootOf(opts);
  const runs = await manager(root);
  const dir = path.join(root, '_meta', 'runs', runId);
  if (runs === null || !existsSync(dir)) throw new CommandError(`no run ${runId} under ${path.dirname(dir)}`);
  const m = runs.loadManifest(runId);
  if (m === null) throw new CommandError(`run ${runId}: manifest.json is missing or unreadable in ${dir}`);
  if (opts.json) {
    await writeOut(encodeJson({ ...m, run_directory: dir }) + '\n');
    return;
  }
  const field = (k: string, v: string): string => `${`${k}:`.padEnd(15)} ${v}\n`;
  let text =
    field('run_id', m.run_id) +
    field('status', m.status) +
    field('mode', m.mode) +
    field('start', m.start_time) +
    field('end', m.end_time ?? '-') +
    field(
      'code',
      `${m.code_commit ?? 'unknown'}${m.code_branch ? ` (${m.code_branch})` : ''}${m.code_dirty ? ' dirty' : ''}`,
    ) +
    field('config_hash', m.config_hash) +
    field('directory', dir);
  if (m.error_message !== null) text += field('error', m.error_message.split('\n')[0] ?? '');
  const counts = Object.entries(m.event_counts);
  text += `\nevent counts (${totalEvents(m)}):\n`;
  text +=
    counts.length === 0 ? '  none\n' : counts.map(([k, n]) => `  ${k.padEnd(24)} ${String(n).padStart(12)}\n`).join('');
  for (const [label, files] of [
    ['bronze files', m.bronze_files],
    ['gold files', m.gold_files],
  ] as const) {
    text += `\n${label} (${files.length}):\n`;
    text += files.length === 0 ? '  none\n' : files.map((f) => `  ${f}\n`).join('');
  }
  if (m.error_message !== null && m.error_message.includes('\n')) text += `\nerror:\n${m.error_message}\n`;
  await writeOut(text);
}

export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description('inspect run manifests: list, show one, or find crashed runs')
    .addHelpText('after', examples('levelflow runs list --status completed', 'levelflow runs crashed'));

  const dataRoot = (): Option =>
    new Option('--data-root <DIR>', 'lake root holding _meta/runs (default: DATA_ROOT)').argParser(existingDirectory);
  const json = (): Option => new Option('--json', 'machine output: one JSON manifest per line');

  runs
    .command('list', { isDefault: true })
    .description('list runs (the default), newest first (run id, mode, status, start, end, events, files)')
    .option('--mode <M>', 'only runs of this mode: live, replay or sim')
    .option('--status <S>', 'only runs with this status: started, completed, crashed or stopped')
    .addOption(json())
    .addOption(dataRoot())
    .addHelpText('after', examples('levelflow runs list', 'levelflow runs list --mode sim --status crashed --json'))
    .action(async (opts: ListOptions) => {
      await listCommand(opts);
    });

  runs
    .command('show')
    .description("print one run's manifest and its directory")
    .argument('RUN_ID', 'e.g. 2025-12-16_142500_123456_sim_a1b2c3 (see `levelflow runs list`)')
    .addOption(new Option('--json', 'machine output: the manifest plus run_directory, one line'))
    .addOption(dataRoot())
    .addHelpText('after', examples('levelflow runs show 2025-12-16_142500_123456_sim_a1b2c3'))
    .action(async (runId: string, opts: RootOptions) => {
      await showCommand(runId, opts);
    });

  runs
    .command('crashed')
    .description('list crashed runs, first marking as crashed every started run whose process died (stale heartbeat)')
    .addOption(json())
    .addOption(dataRoot())
    .addHelpText('after', examples('levelflow runs crashed', 'levelflow runs crashed --json | jq -r .error_message'))
    .action(async (opts: RootOptions) => {
      await crashedCommand(opts);
    });
}
