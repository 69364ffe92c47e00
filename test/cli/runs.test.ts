/**
 * `levelflow runs list|show|crashed` (child processes) against manifests written by RunManifestManager: a completed
 * sim run, a crashed replay run, and a live run whose process died without a word (found stale by `crashed`).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunManifestManager, RunMode, RunStatus } from '../../src/common/run-manifest.js';
import { expectOneLine, runCli } from '../support/cli.js';
import type { CliRun } from '../support/cli.js';

const dataRoot = mkdtempSync(path.join(tmpdir(), 'levelflow-cli-runs-'));
const emptyRoot = mkdtempSync(path.join(tmpdir(), 'levelflow-cli-runs-empty-'));
afterAll(() => {
  rmSync(dataRoot, { recursive: true, force: true });
  rmSync(emptyRoot, { recursive: true, force: true });
});

function cli(...args: string[]): Promise<CliRun> {
  return runCli(['runs', ...args], { dataRoot });
}

const quiet = { warn: () => undefined };
let completed: string;
let crashed: string;
let stale: string;

beforeAll(() => {
  // A heartbeat that never fires in this process, so the stale run stays stale.
  const options = { logger: quiet, heartbeatIntervalMs: 3_600_000 };
  const sim = new RunManifestManager(dataRoot, RunMode.SIM, options);
  completed = sim.startRun();
  sim.updateEventCount('futures.trades', 120);
  sim.updateEventCount('futures.mbp10', 880);
  const file = path.join(dataRoot, 'bronze', 'futures', 'trades', 'symbol=ES', 'part-1.parquet');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '');
  sim.trackBronzeFile(file);
  sim.completeRun();

  const replay = new RunManifestManager(dataRoot, RunMode.REPLAY, options);
  crashed = replay.startRun();
  replay.markCrashed('Error: disk on fire\n    at somewhere (x.ts:1:1)');

  const live = new RunManifestManager(dataRoot, RunMode.LIVE, options);
  stale = live.startRun();
  live.flush();
  // Its owner died: a pid that cannot be alive on this host, silent for years.
  const beat = { pid: 2 ** 22 + 1, host: hostname(), last_beat: '2020-01-01T00:00:00.000000+00:00' };
  writeFileSync(path.join(dataRoot, '_meta', 'runs', stale, 'heartbeat.json'), JSON.stringify(beat));

  // Every child starts here, a few at a time; `crashed` rewrites the stale manifest, so it waits for the readers.
  runs = {
    list: cli('list'),
    filtered: cli('list', '--mode', 'sim', '--status', 'completed'),
    json: cli('list', '--json'),
    badMode: cli('list', '--mode', 'paper'),
    show: cli('show', crashed),
    showJson: cli('show', completed, '--json'),
    invalid: cli('show', '../../etc'),
    unknown: cli('show', '2020-01-01_000000_000000_sim_abcdef'),
    emptyList: cli('list', '--data-root', emptyRoot),
    emptyCrashed: cli('crashed', '--data-root', emptyRoot, '--json'),
  };
  const readers = Promise.all(Object.values(runs));
  runs['crashed'] = readers.then(() => cli('crashed'));
  runs['crashedAgain'] = runs['crashed'].then(() => cli('crashed', '--json'));
});

let runs: Record<string, Promise<CliRun>>;

describe('levelflow runs', () => {
  it('list: a table of every run, newest first; filters; --json', async () => {
    const [all, sims, json, bad] = await Promise.all([
      runs['list']!,
      runs['filtered']!,
      runs['json']!,
      runs['badMode']!,
    ]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN_ID\s+MODE\s+STATUS\s+START\s+END\s+EVENTS\s+BRONZE\s+GOLD$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/)[0])).toEqual([stale, crashed, completed]);
    expect(lines.find((l) => l.startsWith(completed))).toMatch(/\ssim\s+completed\s.*\s1000\s+1\s+0$/);
    expect(lines.find((l) => l.startsWith(stale))).toMatch(/\slive\s+started\s.*\s-\s+0\s+0\s+0$/);

    expect(sims.code).toBe(0);
    expect(
      sims.stdout
        .trimEnd()
        .split('\n')
        .slice(2)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual([completed]);

    const manifests = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(manifests.map((m) => m.run_id)).toEqual([stale, crashed, completed]);
    expect(manifests[2]).toMatchObject({
      status: RunStatus.COMPLETED,
      event_counts: { 'futures.trades': 120, 'futures.mbp10': 880 },
      bronze_files: ['bronze/futures/trades/symbol=ES/part-1.parquet'],
    });

    expect(bad.code).toBe(2);
    expectOneLine(bad.stderr, /^levelflow: --mode "paper" is not one of live, replay, sim$/);
  });

  it('show: the manifest and the run directory; --json; invalid id exits 2, unknown id exits 1', async () => {
    const [text, json, invalid, unknown] = await Promise.all([
      runs['show']!,
      runs['showJson']!,
      runs['invalid']!,
      runs['unknown']!,
    ]);
    expect(text.code).toBe(0);
    const dir = path.join(dataRoot, '_meta', 'runs', crashed);
    expect(text.stdout).toContain(`run_id:         ${crashed}\n`);
    expect(text.stdout).toContain('status:         crashed\n');
    expect(text.stdout).toContain(`directory:      ${dir}\n`);
    expect(text.stdout).toContain('error:          Error: disk on fire\n');
    expect(text.stdout).toContain('\nerror:\nError: disk on fire\n    at somewhere (x.ts:1:1)\n');

    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      run_id: completed,
      mode: 'sim',
      run_directory: path.join(dataRoot, '_meta', 'runs', completed),
    });

    expect(invalid.code).toBe(2);
    expectOneLine(invalid.stderr, /^levelflow: invalid run id "\.\.\/\.\.\/etc"/);
    expect(unknown.code).toBe(1);
    expectOneLine(unknown.stderr, /^levelflow: no run 2020-01-01_000000_000000_sim_abcdef under /);
  });

  it('crashed: marks the dead run crashed and lists both crashed runs', async () => {
    const r = await runs['crashed']!;
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trimEnd()
        .split('\n')
        .slice(2)
        .map((l) => l.split(/\s+/).slice(0, 3)),
    ).toEqual([
      [stale, 'live', 'crashed'],
      [crashed, 'replay', 'crashed'],
    ]);
    expectOneLine(r.stderr, new RegExp(`^levelflow runs: stale run marked crashed \\(${stale}: `));
    const again = await runs['crashedAgain']!;
    const manifests = again.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(manifests.map((m) => m.run_id)).toEqual([stale, crashed]);
    expect(manifests[0].error_message).toMatch(/^stale run: no heartbeat since /);
    expect(again.stderr).toBe('');
  });

  it('a data root without runs lists none and is left untouched', async () => {
    const [list, crashedRuns] = await Promise.all([runs['emptyList']!, runs['emptyCrashed']!]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(`no runs under ${path.join(emptyRoot, '_meta', 'runs')}\n`);
    expect(crashedRuns.code).toBe(0);
    expect(crashedRuns.stdout).toBe('');
    expect(existsSync(path.join(emptyRoot, '_meta'))).toBe(false);
  });
});
