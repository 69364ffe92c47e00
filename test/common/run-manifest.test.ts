import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configHash, loadConfig, REDACTED } from '../../src/common/config.js';
import {
  installLifecycleHooks,
  InvalidRunIdError,
  isoMicros,
  isValidRunId,
  parseIsoTimestamp,
  PathOutsideDataRootError,
  RunAlreadyActiveError,
  RunManifestManager,
  RunMode,
  RunStatus,
  type ManifestLogger,
  type RunManifest,
  type RunManifestOptions,
  type SchemaVersionSource,
} from '../../src/common/run-manifest.js';
import { SchemaRegistry } from '../../src/common/schemas/index.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD = path.join(REPO_ROOT, 'test', 'common', 'fixtures', 'run-manifest-child.ts');

const RUN_ID_RE = /^\d{4}-\d{2}-\d{2}_\d{6}_\d{6}_(live|replay|sim)_[0-9a-f]{6}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
const FIELD_ORDER = [
  'run_id',
  'start_time',
  'end_time',
  'status',
  'mode',
  'code_commit',
  'code_branch',
  'code_dirty',
  'config_hash',
  'bronze_files',
  'gold_files',
  'event_counts',
  'error_message',
];

const config = loadConfig({ env: { S3_SECRET_KEY: 'abc', S3_ACCESS_KEY: 'AKIA-test-key' } });
const GIT_ENV = { GIT_COMMIT: 'deadbeef', GIT_BRANCH: 'feature/x', GIT_DIRTY: 'true' };

let root: string;
let warnings: string[];
const logger: ManifestLogger = { warn: (_obj, msg) => void warnings.push(msg) };
const managers: RunManifestManager[] = [];

function manager(mode: RunMode = RunMode.LIVE, options: RunManifestOptions = {}): RunManifestManager {
  const m = new RunManifestManager(root, mode, { config, logger, env: GIT_ENV, ...options });
  managers.push(m);
  return m;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function manifestOnDisk(m: RunManifestManager, runId: string): RunManifest {
  return readJson(path.join(m.getRunDirectory(runId), 'manifest.json')) as RunManifest;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

async function waitFor(what: string, check: () => boolean, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A run directory as another (possibly dead) process would have left it. */
function fakeRun(runId: string, manifest: Partial<RunManifest>, heartbeat?: object): string {
  const dir = path.join(root, '_meta', 'runs', runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({ run_id: runId, start_time: '2025-01-02T03:04:05.000000+00:00', status: 'started', ...manifest }),
  );
  if (heartbeat !== undefined) writeFileSync(path.join(dir, 'heartbeat.json'), JSON.stringify(heartbeat));
  return dir;
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  if (r.pid === undefined) throw new Error('could not spawn a short-lived process');
  return r.pid;
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'levelflow-manifest-'));
  warnings = [];
});

afterEach(() => {
  for (const m of managers.splice(0)) {
    if (m.getCurrentRunId() !== null) m.completeRun();
  }
  rmSync(root, { recursive: true, force: true });
});

describe('enums and helpers', () => {
  it('uses the wire values of DATA.md §4.1', () => {
    expect(Object.values(RunStatus)).toEqual(['started', 'completed', 'crashed', 'stopped']);
    expect(Object.values(RunMode)).toEqual(['live', 'replay', 'sim']);
  });

  it('formats microsecond UTC timestamps and parses every accepted spelling', () => {
    const us = Date.UTC(2025, 11, 22, 14, 30, 15, 123) * 1000 + 456;
    expect(isoMicros(us)).toBe('2025-12-22T14:30:15.123456+00:00');
    expect(parseIsoTimestamp('2025-12-22T14:30:15.123456+00:00')).toBe(us);
    expect(parseIsoTimestamp('2025-12-22T14:30:15.123456Z')).toBe(us);
    expect(parseIsoTimestamp('2025-12-22T14:30:15Z')).toBe(us - 123_456);
    expect(parseIsoTimestamp('2025-12-22T09:30:15.123456-05:00')).toBe(us);
    expect(parseIsoTimestamp('yesterday')).toBeNaN();
  });

  it('a pino logger is a ManifestLogger', () => {
    const accepts = (_l: ManifestLogger): true => true;
    expect(accepts(null as unknown as Logger)).toBe(true);
  });
});

describe('constructor', () => {
  it('creates {dataRoot}/_meta/runs and has no current run', () => {
    const m = manager();
    expect(existsSync(path.join(root, '_meta', 'runs'))).toBe(true);
    expect(m.dataRoot).toBe(path.resolve(root));
    expect(m.getCurrentRunId()).toBeNull();
  });

  it('defaults the data root to the config DATA_ROOT', () => {
    const own = loadConfig({ env: { DATA_ROOT: path.join(root, 'lake') } });
    const m = new RunManifestManager(undefined, RunMode.SIM, { config: own, logger });
    expect(m.dataRoot).toBe(path.join(root, 'lake'));
    expect(m.mode).toBe('sim');
    expect(existsSync(path.join(root, 'lake', '_meta', 'runs'))).toBe(true);
  });

  it('rejects an unknown mode and bad timer settings', () => {
    expect(() => manager('paper' as RunMode)).toThrow(RangeError);
    expect(() => manager(RunMode.LIVE, { heartbeatIntervalMs: 0 })).toThrow(RangeError);
    expect(() => manager(RunMode.LIVE, { persistDebounceMs: -1 })).toThrow(RangeError);
  });
});

describe('startRun', () => {
  it('writes manifest, redacted config snapshot, schema versions and heartbeat', () => {
    const m = manager(RunMode.REPLAY);
    const runId = m.startRun();
    expect(runId).toMatch(RUN_ID_RE);
    expect(runId).toContain('_replay_');
    expect(m.getCurrentRunId()).toBe(runId);

    const dir = m.getRunDirectory(runId);
    expect(dir).toBe(path.join(root, '_meta', 'runs', runId));
    const raw = readFileSync(path.join(dir, 'manifest.json'), 'utf8');
    expect(raw).toBe(`${JSON.stringify(JSON.parse(raw), null, 2)}\n`);
    const manifest = JSON.parse(raw) as RunManifest;
    expect(Object.keys(manifest)).toEqual(FIELD_ORDER);
    expect(manifest).toMatchObject({
      run_id: runId,
      end_time: null,
      status: 'started',
      mode: 'replay',
      code_commit: 'deadbeef',
      code_branch: 'feature/x',
      code_dirty: true,
      config_hash: configHash(config),
      bronze_files: [],
      gold_files: [],
      event_counts: {},
      error_message: null,
    });
    expect(manifest.start_time).toMatch(ISO_RE);
    expect(manifest.config_hash).toMatch(/^[0-9a-f]{64}$/);
    // The id is the start time: date, HHMMSS and micros must agree.
    const [date, time, micros] = runId.split('_');
    expect(manifest.start_time).toBe(
      `${date}T${time!.slice(0, 2)}:${time!.slice(2, 4)}:${time!.slice(4, 6)}.${micros}+00:00`,
    );

    const heartbeat = readJson(path.join(dir, 'heartbeat.json'));
    expect(heartbeat).toEqual({ pid: process.pid, host: hostname(), last_beat: manifest.start_time });
  });

  it('snapshots the config with secrets redacted', () => {
    const m = manager();
    const dir = m.getRunDirectory(m.startRun());
    const text = readFileSync(path.join(dir, 'config_snapshot.json'), 'utf8');
    const snapshot = JSON.parse(text) as Record<string, unknown>;
    expect(snapshot['S3_SECRET_KEY']).toBe(REDACTED);
    expect(snapshot['S3_ACCESS_KEY']).toBe(REDACTED);
    expect(text).not.toContain('abc');
    expect(text).not.toContain('AKIA-test-key');
    expect(Object.keys(snapshot).sort()).toEqual(Object.keys(config).sort());
    expect(snapshot['W_b']).toBe(config.W_b);
  });

  it('writes versions.json with every registered schema', () => {
    const m = manager();
    const dir = m.getRunDirectory(m.startRun());
    const versions = readJson(path.join(dir, 'schemas', 'versions.json')) as Record<string, Record<string, unknown>>;
    const names = SchemaRegistry.listSchemas();
    expect(names.length).toBeGreaterThan(0);
    expect(Object.keys(versions).sort()).toEqual([...names].sort());
    for (const name of names) {
      const v = SchemaRegistry.getVersion(name)!;
      expect(versions[name]).toEqual({
        name: v.name,
        version: v.version,
        full_name: v.full_name,
        tier: v.tier,
        description: v.description,
      });
      expect(versions[name]!['full_name']).toBe(name);
    }
  });

  it('takes schema versions from an injected source', () => {
    const source: SchemaVersionSource = {
      listSchemas: () => ['a.b.v2'],
      getVersion: (n) =>
        n === 'a.b.v2' ? { name: 'a.b', version: 2, tier: 'gold', full_name: 'a.b.v2', description: 'd' } : undefined,
    };
    const m = manager(RunMode.LIVE, { schemas: source });
    const versions = readJson(path.join(m.getRunDirectory(m.startRun()), 'schemas', 'versions.json'));
    expect(versions).toEqual({
      'a.b.v2': { name: 'a.b', version: 2, full_name: 'a.b.v2', tier: 'gold', description: 'd' },
    });
  });

  it('gives unique, well-formed ids to many runs', () => {
    const m = manager(RunMode.SIM);
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const id = m.startRun();
      expect(id).toMatch(RUN_ID_RE);
      ids.add(id);
      m.completeRun();
    }
    expect(ids.size).toBe(40);
  });

  it('regenerates the id when the directory exists, even if the clock stands still', () => {
    const frozen = Date.UTC(2025, 11, 22, 14, 30, 15) * 1000 + 123_456;
    const a = manager(RunMode.LIVE, { clock: () => frozen });
    const b = manager(RunMode.LIVE, { clock: () => frozen });
    const first = a.startRun();
    const second = b.startRun();
    expect(first).toMatch(/^2025-12-22_143015_123456_live_[0-9a-f]{6}$/);
    expect(second).toMatch(/^2025-12-22_143015_123457_live_[0-9a-f]{6}$/);
    expect(a.loadManifest(second)?.start_time).toBe('2025-12-22T14:30:15.123457+00:00');
  });

  it('refuses a second run while the current one is started', () => {
    const m = manager();
    const runId = m.startRun();
    expect(() => m.startRun()).toThrow(RunAlreadyActiveError);
    expect(() => m.startRun()).toThrow(runId);
    m.completeRun();
    expect(m.startRun()).not.toBe(runId);
  });
});

describe('git capture', () => {
  it('records null, null, false outside a repository without throwing', () => {
    const m = manager(RunMode.LIVE, { env: {}, codeDir: root });
    const manifest = manifestOnDisk(m, m.startRun());
    expect([manifest.code_commit, manifest.code_branch, manifest.code_dirty]).toEqual([null, null, false]);
  });

  it.skipIf(!existsSync(path.join(REPO_ROOT, '.git')))('records the commit and branch of a repository', () => {
    const m = manager(RunMode.LIVE, { env: {}, codeDir: REPO_ROOT });
    const manifest = manifestOnDisk(m, m.startRun());
    expect(manifest.code_commit).toMatch(/^[0-9a-f]{40}$/);
    expect(typeof manifest.code_branch).toBe('string');
    expect(typeof manifest.code_dirty).toBe('boolean');
  });

  it('lets GIT_COMMIT / GIT_BRANCH / GIT_DIRTY override git', () => {
    const m = manager(RunMode.LIVE, {
      env: { GIT_COMMIT: 'c0ffee', GIT_BRANCH: 'HEAD', GIT_DIRTY: '0' },
      codeDir: root,
    });
    const manifest = manifestOnDisk(m, m.startRun());
    expect([manifest.code_commit, manifest.code_branch, manifest.code_dirty]).toEqual(['c0ffee', 'HEAD', false]);
  });
});

describe('trackBronzeFile / trackGoldFile', () => {
  it('stores paths relative to the data root with / separators, once each, in order', () => {
    const m = manager(RunMode.LIVE, { persistDebounceMs: 60_000 });
    const runId = m.startRun();
    m.trackBronzeFile(path.join(root, 'bronze', 'futures', 'trades', 'date=2025-12-22', 'part-0001.parquet'));
    m.trackBronzeFile(path.join(root, 'bronze', 'a.parquet'));
    m.trackBronzeFile(path.join(root, 'bronze', '..', 'bronze', 'a.parquet'));
    m.trackGoldFile(path.join(root, 'gold', 'levels', 'signals', 'x.parquet'));
    expect(manifestOnDisk(m, runId).bronze_files).toEqual([]);
    m.flush();
    const manifest = manifestOnDisk(m, runId);
    expect(manifest.bronze_files).toEqual([
      'bronze/futures/trades/date=2025-12-22/part-0001.parquet',
      'bronze/a.parquet',
    ]);
    expect(manifest.gold_files).toEqual(['gold/levels/signals/x.parquet']);
  });

  it('resolves relative paths against the working directory', () => {
    const m = manager();
    const runId = m.startRun();
    m.trackGoldFile(path.relative(process.cwd(), path.join(root, 'gold', 'rel.parquet')));
    m.flush();
    expect(manifestOnDisk(m, runId).gold_files).toEqual(['gold/rel.parquet']);
  });

  it('rejects paths outside the data root', () => {
    const m = manager();
    m.startRun();
    expect(() => m.trackBronzeFile(path.join(root, '..', 'elsewhere.parquet'))).toThrow(PathOutsideDataRootError);
    expect(() => m.trackGoldFile('/etc/passwd')).toThrow(PathOutsideDataRootError);
    expect(() => m.trackGoldFile(root)).toThrow(PathOutsideDataRootError);
    expect(() => m.trackGoldFile(`${root}-sibling/x.parquet`)).toThrow(PathOutsideDataRootError);
  });

  it('persists on its own within the debounce', async () => {
    const m = manager(RunMode.LIVE, { persistDebounceMs: 20 });
    const runId = m.startRun();
    m.trackBronzeFile(path.join(root, 'bronze', 'b.parquet'));
    m.updateEventCount('futures.trades', 7);
    await waitFor('debounced save', () => manifestOnDisk(m, runId).bronze_files.length === 1);
    expect(manifestOnDisk(m, runId).event_counts).toEqual({ 'futures.trades': 7 });
  });

  it('is a no-op with a warning when no run is active', () => {
    const m = manager();
    m.trackBronzeFile(path.join(root, 'bronze', 'b.parquet'));
    expect(m.getCurrentRunId()).toBeNull();
    expect(warnings.some((w) => w.includes('no run started'))).toBe(true);
    const runId = m.startRun();
    m.completeRun();
    m.trackGoldFile(path.join(root, 'gold', 'late.parquet'));
    expect(manifestOnDisk(m, runId).gold_files).toEqual([]);
  });
});

describe('updateEventCount', () => {
  it('accumulates per schema and creates new keys', () => {
    const m = manager();
    const runId = m.startRun();
    m.updateEventCount('futures.trades', 10);
    m.updateEventCount('futures.mbp10', 3);
    m.updateEventCount('futures.trades', 5);
    m.updateEventCount('options.trades', 0);
    m.flush();
    expect(manifestOnDisk(m, runId).event_counts).toEqual({
      'futures.trades': 15,
      'futures.mbp10': 3,
      'options.trades': 0,
    });
  });

  it('rejects negative and non-integer counts', () => {
    const m = manager();
    m.startRun();
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(() => m.updateEventCount('futures.trades', bad)).toThrow(RangeError);
    }
  });

  it('is a no-op without a run', () => {
    const m = manager();
    expect(() => m.updateEventCount('futures.trades', 1)).not.toThrow();
  });
});

describe('completeRun / markCrashed', () => {
  it('completes with an end time and keeps the run current', () => {
    const m = manager();
    const runId = m.startRun();
    m.updateEventCount('futures.trades', 2);
    m.completeRun();
    expect(m.getCurrentRunId()).toBe(runId);
    const manifest = manifestOnDisk(m, runId);
    expect(manifest.status).toBe('completed');
    expect(manifest.end_time).toMatch(ISO_RE);
    expect(parseIsoTimestamp(manifest.end_time!)).toBeGreaterThanOrEqual(parseIsoTimestamp(manifest.start_time));
    expect(manifest.event_counts).toEqual({ 'futures.trades': 2 });
  });

  it('accepts stopped and refuses any other status', () => {
    const m = manager();
    const runId = m.startRun();
    expect(() => m.completeRun(RunStatus.CRASHED)).toThrow(RangeError);
    expect(() => m.completeRun(RunStatus.STARTED)).toThrow(RangeError);
    m.completeRun(RunStatus.STOPPED);
    expect(m.loadManifest(runId)?.status).toBe('stopped');
  });

  it('marks a run crashed with the message', () => {
    const m = manager();
    const runId = m.startRun();
    m.trackBronzeFile(path.join(root, 'bronze', 'half.parquet'));
    m.markCrashed('Error: disk full\n    at write');
    const manifest = m.loadManifest(runId)!;
    expect(manifest).toMatchObject({
      status: 'crashed',
      error_message: 'Error: disk full\n    at write',
      bronze_files: ['bronze/half.parquet'],
    });
    expect(manifest.end_time).toMatch(ISO_RE);
    expect(m.getCrashedRuns().map((r) => r.run_id)).toEqual([runId]);
  });

  it('does not rewrite the outcome of an ended run', () => {
    const m = manager();
    const runId = m.startRun();
    m.markCrashed('first');
    m.completeRun(RunStatus.STOPPED);
    m.markCrashed('second');
    expect(m.loadManifest(runId)).toMatchObject({ status: 'crashed', error_message: 'first' });
  });

  it('is a no-op without a run', () => {
    const m = manager();
    m.completeRun();
    m.markCrashed('nothing');
    expect(m.listRuns()).toEqual([]);
  });
});

describe('heartbeat', () => {
  it('beats while started and stops when the run ends', async () => {
    const m = manager(RunMode.LIVE, { heartbeatIntervalMs: 10 });
    const runId = m.startRun();
    const file = path.join(m.getRunDirectory(runId), 'heartbeat.json');
    const first = (readJson(file) as { last_beat: string }).last_beat;
    await waitFor('a heartbeat', () => (readJson(file) as { last_beat: string }).last_beat !== first);
    m.completeRun();
    const last = readFileSync(file, 'utf8');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readFileSync(file, 'utf8')).toBe(last);
  });
});

describe('atomic writes', () => {
  it('leaves no temporary files and every file parses', () => {
    const m = manager(RunMode.LIVE, { persistDebounceMs: 0 });
    for (let i = 0; i < 5; i++) {
      m.startRun();
      for (let j = 0; j < 20; j++) {
        m.trackBronzeFile(path.join(root, 'bronze', `${i}-${j}.parquet`));
        m.updateEventCount('futures.trades', j);
        m.flush();
      }
      if (i % 2 === 0) m.completeRun();
      else m.markCrashed('test');
    }
    const files = walk(path.join(root, '_meta'));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files).toHaveLength(5 * 4);
    for (const f of files) expect(() => readJson(f)).not.toThrow();
  });
});

describe('loadManifest / getRunDirectory', () => {
  it('returns null for a missing or corrupt manifest and logs it', () => {
    const m = manager();
    expect(m.loadManifest('2025-01-01_000000_000000_live_abcdef')).toBeNull();
    const dir = fakeRun('corrupt', {});
    writeFileSync(path.join(dir, 'manifest.json'), '{"run_id": "corrupt", "start_');
    expect(m.loadManifest('corrupt')).toBeNull();
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ run_id: 'corrupt', status: 'bogus' }));
    expect(m.loadManifest('corrupt')).toBeNull();
    expect(warnings).toHaveLength(3);
  });

  it('ignores unknown keys and defaults missing optional ones', () => {
    const m = manager();
    fakeRun('old-writer', { start_time: '2025-01-02T03:04:05Z', extra: 1 } as Partial<RunManifest>);
    const manifest = m.loadManifest('old-writer');
    expect(manifest).toEqual({
      run_id: 'old-writer',
      start_time: '2025-01-02T03:04:05Z',
      end_time: null,
      status: 'started',
      mode: 'live',
      code_commit: null,
      code_branch: null,
      code_dirty: false,
      config_hash: '',
      bronze_files: [],
      gold_files: [],
      event_counts: {},
      error_message: null,
    });
    expect(Object.keys(manifest!)).toEqual(FIELD_ORDER);
  });

  it.each(['../x', '..', 'a/b', 'a\\b', '.hidden', 'a\0b', '', 'a b', 'a..b', '/abs', 'x:y', 'é'])(
    'rejects the run id %j',
    (bad) => {
      const m = manager();
      expect(isValidRunId(bad)).toBe(false);
      expect(() => m.loadManifest(bad)).toThrow(InvalidRunIdError);
      expect(() => m.getRunDirectory(bad)).toThrow(InvalidRunIdError);
    },
  );

  it('accepts generated ids and plain names', () => {
    const m = manager();
    for (const ok of ['2025-12-22_143015_123456_live_a1b2c3', 'run.1', 'a-b_c']) {
      expect(m.getRunDirectory(ok)).toBe(path.join(root, '_meta', 'runs', ok));
    }
  });
});

describe('listRuns', () => {
  it('sorts by parsed start time desc, then run id desc, and filters by mode and status', () => {
    const m = manager();
    fakeRun('r-a', { start_time: '2025-01-01T10:00:00Z', mode: 'replay', status: 'completed' });
    fakeRun('r-b', { start_time: '2025-01-01T09:00:00.500000+00:00', mode: 'live', status: 'crashed' });
    fakeRun('r-c', { start_time: '2025-01-01T05:00:00.000001-05:00', mode: 'live', status: 'completed' });
    fakeRun('r-d', { start_time: '2025-01-01T10:00:00.000000+00:00', mode: 'sim', status: 'stopped' });
    const ids = (runs: RunManifest[]) => runs.map((r) => r.run_id);
    expect(ids(m.listRuns())).toEqual(['r-c', 'r-d', 'r-a', 'r-b']);
    expect(ids(m.listRuns(RunMode.LIVE))).toEqual(['r-c', 'r-b']);
    expect(ids(m.listRuns(null, RunStatus.COMPLETED))).toEqual(['r-c', 'r-a']);
    expect(ids(m.listRuns(RunMode.LIVE, RunStatus.CRASHED))).toEqual(['r-b']);
    expect(m.listRuns(RunMode.SIM, RunStatus.STARTED)).toEqual([]);
  });

  it('includes runs it started and skips unreadable entries', () => {
    const m = manager();
    const runId = m.startRun();
    mkdirSync(path.join(root, '_meta', 'runs', 'no-manifest'));
    writeFileSync(path.join(fakeRun('broken', {}), 'manifest.json'), 'not json');
    writeFileSync(path.join(root, '_meta', 'runs', 'stray-file'), '{}');
    mkdirSync(path.join(root, '_meta', 'runs', '.hidden-dir'));
    expect(m.listRuns().map((r) => r.run_id)).toEqual([runId]);
  });

  it('returns [] when the meta directory is gone', () => {
    const m = manager();
    rmSync(path.join(root, '_meta'), { recursive: true });
    expect(m.listRuns()).toEqual([]);
    expect(m.getCrashedRuns()).toEqual([]);
    expect(m.startRun()).toMatch(RUN_ID_RE);
  });
});

describe('detectStaleRuns', () => {
  const old = '2020-01-01T00:00:00.000000+00:00';

  it('marks a started run with an old heartbeat as crashed', () => {
    const m = manager();
    fakeRun('silent', {}, { pid: 1, host: 'another-host', last_beat: old });
    const marked = m.detectStaleRuns();
    expect(marked.map((r) => r.run_id)).toEqual(['silent']);
    expect(m.loadManifest('silent')).toMatchObject({
      status: 'crashed',
      end_time: old,
      error_message: `stale run: no heartbeat since ${old}`,
    });
  });

  it('marks a run whose pid is dead on this host even with a fresh heartbeat', () => {
    const m = manager();
    fakeRun('dead-pid', {}, { pid: deadPid(), host: hostname(), last_beat: isoMicros(Date.now() * 1000) });
    expect(m.detectStaleRuns().map((r) => r.run_id)).toEqual(['dead-pid']);
    expect(m.loadManifest('dead-pid')?.error_message).toMatch(/^stale run: no heartbeat since /);
  });

  it('leaves live, fresh, finished and its own runs alone', () => {
    const m = manager(RunMode.LIVE, { heartbeatIntervalMs: 60_000 });
    const own = m.startRun();
    const fresh = isoMicros(Date.now() * 1000);
    fakeRun('alive-here', {}, { pid: process.pid, host: hostname(), last_beat: fresh });
    fakeRun('alive-elsewhere', {}, { pid: 999_999_999, host: 'another-host', last_beat: fresh });
    fakeRun('done', { status: 'completed' }, { pid: 1, host: 'another-host', last_beat: old });
    expect(m.detectStaleRuns()).toEqual([]);
    expect(
      m
        .listRuns(null, RunStatus.STARTED)
        .map((r) => r.run_id)
        .sort(),
    ).toEqual(['alive-elsewhere', 'alive-here', own].sort());
  });

  it('honours maxSilenceS', () => {
    const m = manager();
    const tenSecondsAgo = isoMicros((Date.now() - 10_000) * 1000);
    fakeRun('quiet', {}, { pid: process.pid, host: hostname(), last_beat: tenSecondsAgo });
    expect(m.detectStaleRuns(3600)).toEqual([]);
    expect(m.detectStaleRuns(1).map((r) => r.run_id)).toEqual(['quiet']);
    expect(() => m.detectStaleRuns(-1)).toThrow(RangeError);
  });

  it('falls back to the manifest mtime without a heartbeat file', () => {
    const m = manager();
    const dir = fakeRun('no-beat', {});
    utimesSync(path.join(dir, 'manifest.json'), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    fakeRun('no-beat-recent', {});
    expect(m.detectStaleRuns().map((r) => r.run_id)).toEqual(['no-beat']);
    expect(m.loadManifest('no-beat')?.error_message).toBe(`stale run: no heartbeat since ${old}`);
  });

  it('is what getCrashedRuns runs first', () => {
    const m = manager();
    fakeRun('silent', {}, { pid: 1, host: 'another-host', last_beat: old });
    fakeRun('known-crash', { status: 'crashed', error_message: 'x' });
    expect(
      m
        .getCrashedRuns()
        .map((r) => r.run_id)
        .sort(),
    ).toEqual(['known-crash', 'silent']);
  });
});

describe('installLifecycleHooks', () => {
  it('adds and removes its listeners', () => {
    const m = manager();
    const before = ['SIGINT', 'SIGTERM', 'uncaughtExceptionMonitor'].map((e) => process.listenerCount(e));
    const dispose = installLifecycleHooks(m, { logger });
    expect(['SIGINT', 'SIGTERM', 'uncaughtExceptionMonitor'].map((e) => process.listenerCount(e))).toEqual(
      before.map((n) => n + 1),
    );
    dispose();
    expect(['SIGINT', 'SIGTERM', 'uncaughtExceptionMonitor'].map((e) => process.listenerCount(e))).toEqual(before);
  });

  it('on a signal flushes, marks the run stopped and exits (in process)', async () => {
    const m = manager();
    const runId = m.startRun();
    const order: string[] = [];
    const exited = new Promise<number>((resolve) => {
      const dispose = installLifecycleHooks(m, {
        signals: ['SIGUSR2'],
        logger,
        onSignal: async () => {
          await Promise.resolve();
          order.push(`flush while ${m.loadManifest(runId)?.status}`);
        },
        exit: (code) => {
          dispose();
          resolve(code);
        },
      });
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await exited).toBe(128 + 12);
    expect(order).toEqual(['flush while started']);
    expect(m.loadManifest(runId)?.status).toBe('stopped');
  });

  it('marks the run crashed when flushing on a signal fails', async () => {
    const m = manager();
    const runId = m.startRun();
    const exited = new Promise<number>((resolve) => {
      const dispose = installLifecycleHooks(m, {
        signals: ['SIGUSR2'],
        logger,
        onSignal: () => Promise.reject(new Error('upload failed')),
        exit: (code) => {
          dispose();
          resolve(code);
        },
      });
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await exited).toBe(1);
    const manifest = m.loadManifest(runId)!;
    expect(manifest.status).toBe('crashed');
    expect(manifest.error_message).toContain('upload failed');
  });
});

describe('with a real child process', () => {
  const children: ChildProcess[] = [];

  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  function startChild(behaviour: string): { child: ChildProcess; runId: Promise<string>; exit: Promise<unknown> } {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, behaviour], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal, stderr: err })),
    );
    const runId = new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n');
        if (line.length > 1) resolve(line[0]!);
      });
      void exit.then(() => reject(new Error(`child exited before starting a run: ${err}`)));
    });
    return { child, runId, exit };
  }

  function readRun(runId: string): RunManifest | null {
    return new RunManifestManager(root, RunMode.LIVE, { config, logger }).loadManifest(runId);
  }

  it('a SIGKILLed run is reported crashed by getCrashedRuns (dead pid)', async () => {
    const { child, runId: idPromise, exit } = startChild('sleep');
    const runId = await idPromise;
    await waitFor('the child manifest', () => readRun(runId)?.status === 'started');
    expect(readRun(runId)?.mode).toBe('replay');
    child.kill('SIGKILL');
    expect(await exit).toMatchObject({ signal: 'SIGKILL' });

    const crashed = new RunManifestManager(root, RunMode.LIVE, { config, logger }).getCrashedRuns();
    expect(crashed.map((r) => r.run_id)).toEqual([runId]);
    expect(crashed[0]!.error_message).toMatch(/^stale run: no heartbeat since \d{4}-\d{2}-\d{2}T/);
    expect(crashed[0]!.end_time).toMatch(ISO_RE);
  });

  it('SIGTERM with lifecycle hooks ends the run stopped after the flush callback', async () => {
    const { child, runId: idPromise, exit } = startChild('hooks');
    const runId = await idPromise;
    await waitFor('the child manifest', () => readRun(runId) !== null);
    child.kill('SIGTERM');
    expect(await exit).toMatchObject({ code: 128 + 15 });
    const manifest = readRun(runId)!;
    expect(manifest.status).toBe('stopped');
    expect(manifest.end_time).toMatch(ISO_RE);
    expect(manifest.bronze_files).toEqual(['bronze/first.parquet']);
    expect(manifest.gold_files).toEqual(['gold/final.parquet']);
  });

  it.each([
    ['throw', 'boom from child'],
    ['reject', 'rejected in child'],
  ])('an uncaught failure (%s) marks the run crashed with the stack and still exits 1', async (behaviour, message) => {
    const { runId: idPromise, exit } = startChild(behaviour);
    const runId = await idPromise;
    const result = (await exit) as { code: number; stderr: string };
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    const manifest = readRun(runId)!;
    expect(manifest.status).toBe('crashed');
    expect(manifest.error_message).toContain(message);
    expect(manifest.error_message).toContain('run-manifest-child.ts');
  });

  it('the manager timers never keep a process alive', async () => {
    const { runId: idPromise, exit } = startChild('exit');
    const runId = await idPromise;
    expect(await exit).toMatchObject({ code: 0 });
    expect(readRun(runId)?.status).toBe('started');
    const crashed = new RunManifestManager(root, RunMode.LIVE, { config, logger }).getCrashedRuns();
    expect(crashed.map((r) => r.run_id)).toEqual([runId]);
  });
});
