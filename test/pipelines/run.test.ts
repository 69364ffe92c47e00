import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/common/config.js';
import { decodeJson, encodeJson } from '../../src/common/json.js';
import type { LevelSignalsPayload } from '../../src/common/payloads.js';
import { RunManifestManager } from '../../src/common/run-manifest.js';
import { createLogger } from '../../src/common/log.js';
import { runAllInOne } from '../../src/pipelines/all-in-one.js';
import type { Progress } from '../../src/pipelines/progress.js';
import { toLevelSignalRows } from '../../src/sinks/parquet.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const quiet: Progress = { start() {}, tick() {}, stop() {} };

function tempRoot(): string {
  return mkdtempSync(path.join(tmpdir(), 'levelflow-run-'));
}

function parquetFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => path.join(dir, f));
}

async function goldRows(dataRoot: string): Promise<string[]> {
  const db = await DuckDBInstance.create();
  const conn = await db.connect();
  const glob = path.join(dataRoot, 'gold/levels/signals/**/*.parquet');
  const r = await conn.runAndReadAll(
    `SELECT * FROM read_parquet('${glob}', hive_partitioning=false) ORDER BY ts_event_ns, level_id`,
  );
  const rows = r.getRowObjectsJS().map((row) => encodeJson(row));
  conn.closeSync();
  db.closeSync();
  return rows;
}

async function runSim(dataRoot: string, minutes = 4) {
  const config = loadConfig({ env: {}, overrides: { DATA_ROOT: dataRoot } });
  return runAllInOne({
    source: { kind: 'sim', sim: { durationMinutes: minutes, premarket: false, seed: 3 } },
    config,
    dataRoot,
    speed: 0,
    nats: false,
    s3: false,
    logger: createLogger('test', 'silent'),
    progress: quiet,
  });
}

function cli(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function waitFor(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('levelflow run (in process)', () => {
  it('writes Bronze, Gold, NDJSON and a COMPLETED manifest that agree with each other', async () => {
    const root = tempRoot();
    const result = await runSim(root);
    expect(result.status).toBe('completed');
    const manifest = new RunManifestManager(root).loadManifest(result.runId)!;
    expect(manifest.status).toBe('completed');
    expect(manifest.bronze_files.length).toBeGreaterThan(0);
    expect(manifest.gold_files.length).toBeGreaterThan(0);
    expect(manifest.event_counts['futures.trades']).toBe(result.summary.eventCounts['futures.trades']);
    expect(manifest.event_counts['futures.mbp10']).toBe(result.summary.eventCounts['futures.mbp10']);
    for (const f of [...manifest.bronze_files, ...manifest.gold_files])
      expect(existsSync(path.join(root, f))).toBe(true);

    const payloads = readFileSync(result.ndjsonPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => decodeJson(l) as LevelSignalsPayload);
    expect(payloads.length).toBe(result.summary.payloads);
    const fromNdjson = payloads
      .flatMap((p) => toLevelSignalRows(p))
      .sort((a, b) =>
        a.ts_event_ns === b.ts_event_ns ? (a.level_id < b.level_id ? -1 : 1) : a.ts_event_ns < b.ts_event_ns ? -1 : 1,
      );
    const gold = await goldRows(root);
    expect(gold.length).toBe(fromNdjson.length);
    expect(manifest.event_counts['levels.signals']).toBe(gold.length);
  });

  it('twice on the same input gives identical Gold content', async () => {
    const a = tempRoot();
    const b = tempRoot();
    await runSim(a, 2);
    await runSim(b, 2);
    const ga = await goldRows(a);
    expect(ga.length).toBeGreaterThan(0);
    expect(await goldRows(b)).toEqual(ga);
    const names = (root: string) =>
      parquetFiles(path.join(root, 'gold'))
        .map((f) => path.relative(root, f))
        .sort();
    expect(names(b)).toEqual(names(a));
  });
});

describe('levelflow run (CLI)', () => {
  it('npm start: the default session completes with at least one BREAK and one REJECT', () => {
    const root = tempRoot();
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--data-root', root], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: COMPLETED in /);
    const m = /(\d+) BREAK and (\d+) REJECT triggers/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/Signals\s+\S+signals\.ndjson/);
  });

  it('SIGTERM mid-run: STOPPED, every file complete and readable', async () => {
    const root = tempRoot();
    const child = cli(['run', '--sim-minutes', '600', '--data-root', root]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => parquetFiles(path.join(root, 'bronze')).length > 0, 'a first Bronze file');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code, stderr).toBe(143);
    const runs = new RunManifestManager(root).listRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe('stopped');
    const files = parquetFiles(root);
    expect(files.length).toBeGreaterThan(0);
    const db = await DuckDBInstance.create();
    const conn = await db.connect();
    for (const f of files) await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${f}')`);
    conn.closeSync();
    db.closeSync();
  });

  it('SIGKILL mid-run: no partial file under a final name, and the run is reported crashed', async () => {
    const root = tempRoot();
    const child = cli(['run', '--sim-minutes', '600', '--data-root', root]);
    await waitFor(() => parquetFiles(path.join(root, 'bronze')).length > 1, 'Bronze files');
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const db = await DuckDBInstance.create();
    const conn = await db.connect();
    for (const f of parquetFiles(root)) await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${f}')`);
    conn.closeSync();
    db.closeSync();
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'runs', 'crashed', '--data-root', root, '--json'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    const crashed = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; mode: string });
    expect(crashed).toHaveLength(1);
    expect(crashed[0]).toMatchObject({ status: 'crashed', mode: 'sim' });
  });
});
