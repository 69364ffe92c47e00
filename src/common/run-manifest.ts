/**
 * RunManifestManager — what ran, from which code and config, what it wrote, and how it ended (SEED.md §5, DATA.md §4).
 *
 * Layout under `{dataRoot}/_meta/runs/{run_id}/`: `manifest.json`, `config_snapshot.json` (secrets redacted),
 * `schemas/versions.json` (from the schema registry) and `heartbeat.json` ({pid, host, last_beat}). Every file is
 * replaced atomically (tmp in the same directory, fsync, rename, fsync directory), so a reader or a crash never sees a
 * torn file. A run whose owner died without a word (SIGKILL, power loss) stays `started` on disk; `detectStaleRuns`
 * finds it by its silent heartbeat or its dead pid and marks it `crashed`.
 *
 * All I/O is synchronous on purpose: `markCrashed` must finish inside an `uncaughtException` monitor, where no awaited
 * write would ever complete, and the files are a few kilobytes.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { constants as osConstants, hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { CONFIG, configHash, redactConfig, type Config } from './config.js';
import { SchemaRegistry, type SchemaVersionInfo } from './schemas/index.js';

export const RunStatus = {
  STARTED: 'started',
  COMPLETED: 'completed',
  CRASHED: 'crashed',
  STOPPED: 'stopped',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

export const RunMode = {
  LIVE: 'live',
  REPLAY: 'replay',
  SIM: 'sim',
} as const;
export type RunMode = (typeof RunMode)[keyof typeof RunMode];

const RUN_STATUSES = Object.values(RunStatus) as [RunStatus, ...RunStatus[]];
const RUN_MODES = Object.values(RunMode) as [RunMode, ...RunMode[]];

/** `manifest.json`, fields in the on-disk order of DATA.md §4.1. */
export interface RunManifest {
  run_id: string;
  start_time: string;
  end_time: string | null;
  status: RunStatus;
  mode: RunMode;
  code_commit: string | null;
  code_branch: string | null;
  code_dirty: boolean;
  config_hash: string;
  bronze_files: string[];
  gold_files: string[];
  event_counts: Record<string, number>;
  error_message: string | null;
}

/** `heartbeat.json`: lets another process tell a live run from one whose owner died without a word. */
export interface Heartbeat {
  pid: number;
  host: string;
  last_beat: string;
}

/** What the manager needs of the schema registry; `SchemaRegistry` itself by default. */
export interface SchemaVersionSource {
  listSchemas(): readonly string[];
  getVersion(fullName: string): Readonly<SchemaVersionInfo> | undefined;
}

/** Pino-compatible: a pino `Logger` can be passed as is. */
export interface ManifestLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface RunManifestOptions {
  /** Snapshotted and hashed at `startRun`; its `DATA_ROOT` is the default data root. Default `CONFIG`. */
  readonly config?: Config;
  /** Default: `console.warn`. */
  readonly logger?: ManifestLogger;
  /** Default 10 000 ms. */
  readonly heartbeatIntervalMs?: number;
  /** Longest delay before tracked files and counts reach disk. Default 5 000 ms. */
  readonly persistDebounceMs?: number;
  /** Directory whose git state is recorded. Default `process.cwd()`. */
  readonly codeDir?: string;
  /** Source of `GIT_COMMIT` / `GIT_BRANCH` / `GIT_DIRTY` overrides. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default `SchemaRegistry`. */
  readonly schemas?: SchemaVersionSource;
  /** Wall clock in epoch microseconds. Default: `Date.now()` with micro digits from `process.hrtime`. */
  readonly clock?: () => number;
}

export class InvalidRunIdError extends Error {
  override readonly name = 'InvalidRunIdError';
  constructor(readonly runId: unknown) {
    super(
      `invalid run id ${typeof runId === 'string' ? JSON.stringify(runId) : String(runId)}: ` +
        `only letters, digits, '_', '-' and '.' are allowed, not starting with '.' and without '..'`,
    );
  }
}

export class RunAlreadyActiveError extends Error {
  override readonly name = 'RunAlreadyActiveError';
  constructor(readonly runId: string) {
    super(`run ${runId} is still started: complete it or mark it crashed before starting another`);
  }
}

export class PathOutsideDataRootError extends Error {
  override readonly name = 'PathOutsideDataRootError';
  constructor(
    readonly filePath: string,
    readonly dataRoot: string,
  ) {
    super(`file ${JSON.stringify(filePath)} is not inside the data root ${JSON.stringify(dataRoot)}`);
  }
}

const RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/** Run ids become directory names: anything that could climb out of `_meta/runs` or hide a file is refused. */
export function isValidRunId(runId: unknown): runId is string {
  return typeof runId === 'string' && runId.length <= 255 && RUN_ID.test(runId) && !runId.includes('..');
}

function assertRunId(runId: unknown): asserts runId is string {
  if (!isValidRunId(runId)) throw new InvalidRunIdError(runId);
}

/** Epoch microseconds → `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (the reference's Python `isoformat()`). */
export function isoMicros(epochMicros: number): string {
  const ms = Math.floor(epochMicros / 1000);
  const micros = epochMicros - Math.floor(epochMicros / 1_000_000) * 1_000_000;
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}+00:00`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** ISO-8601 with `Z` or a `±HH:MM` offset, with or without a fraction → epoch microseconds, or NaN. */
export function parseIsoTimestamp(text: string): number {
  const m = ISO.exec(text);
  if (m === null) return Number.NaN;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  let offsetMin = 0;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  }
  return (ms - offsetMin * 60_000) * 1000 + Number(frac.padEnd(6, '0').slice(0, 6));
}

/** JS clocks stop at milliseconds; `hrtime` supplies the micro digits that keep run ids of one millisecond apart. */
function wallClockMicros(): number {
  return Date.now() * 1000 + Number((process.hrtime.bigint() / 1000n) % 1000n);
}

/** `{YYYY-MM-DD}_{HHMMSS}_{ffffff}_{mode}_{h6}` (DATA.md §4.2). */
function makeRunId(epochMicros: number, mode: RunMode, pid: number): string {
  const iso = isoMicros(epochMicros);
  const date = iso.slice(0, 10);
  const time = iso.slice(11, 19).replaceAll(':', '');
  const micros = iso.slice(20, 26);
  const h6 = createHash('md5').update(`${date}_${time}${micros}${pid}`).digest('hex').slice(0, 6);
  return `${date}_${time}_${micros}_${mode}_${h6}`;
}

/** Replace `file` so that readers and crashes see the old content or the new one, never a mix. */
function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // the tmp file may never have been created; the original error is the one to report
    }
    throw err;
  }
  // The rename itself is only durable once the directory entry is flushed.
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

function orderedManifest(m: RunManifest): RunManifest {
  return {
    run_id: m.run_id,
    start_time: m.start_time,
    end_time: m.end_time,
    status: m.status,
    mode: m.mode,
    code_commit: m.code_commit,
    code_branch: m.code_branch,
    code_dirty: m.code_dirty,
    config_hash: m.config_hash,
    bronze_files: [...m.bronze_files],
    gold_files: [...m.gold_files],
    event_counts: { ...m.event_counts },
    error_message: m.error_message,
  };
}

/** Reader side: manifests from older or foreign writers may lack optional keys or carry extra ones. */
const ManifestFile = z.object({
  run_id: z.string(),
  start_time: z.string(),
  end_time: z.string().nullable().default(null),
  status: z.enum(RUN_STATUSES).default(RunStatus.STARTED),
  mode: z.enum(RUN_MODES).default(RunMode.LIVE),
  code_commit: z.string().nullable().default(null),
  code_branch: z.string().nullable().default(null),
  code_dirty: z.boolean().default(false),
  config_hash: z.string().default(''),
  bronze_files: z.array(z.string()).default(() => []),
  gold_files: z.array(z.string()).default(() => []),
  event_counts: z.record(z.string(), z.number().int().nonnegative()).default(() => ({})),
  error_message: z.string().nullable().default(null),
});

const HeartbeatFile = z.object({ pid: z.number().int(), host: z.string(), last_beat: z.string() });

interface GitInfo {
  code_commit: string | null;
  code_branch: string | null;
  code_dirty: boolean;
}

/** Git state of `cwd` (DATA.md §4.4). Never throws: a missing git or repository only loses the provenance. */
function captureGit(cwd: string, env: Readonly<Record<string, string | undefined>>): GitInfo {
  let gitUsable = true;
  const git = (args: readonly string[]): string | null => {
    if (!gitUsable) return null;
    try {
      return execFileSync('git', args, {
        cwd,
        timeout: 2000,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        windowsHide: true,
      }).trim();
    } catch (err) {
      // Without a git binary, or with one that hangs, the next command would only waste another 2 s.
      const e = err as NodeJS.ErrnoException & { signal?: string | null };
      if (e.code === 'ENOENT' || e.code === 'ETIMEDOUT' || (e.signal ?? null) !== null) gitUsable = false;
      return null;
    }
  };
  const nonEmpty = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v : undefined);
  const commitEnv = nonEmpty(env['GIT_COMMIT']);
  const branchEnv = nonEmpty(env['GIT_BRANCH']);
  const dirtyEnv = nonEmpty(env['GIT_DIRTY']);
  const commit = commitEnv?.trim() ?? git(['rev-parse', 'HEAD']);
  const branch = branchEnv?.trim() ?? git(['rev-parse', '--abbrev-ref', 'HEAD']);
  const dirty =
    dirtyEnv !== undefined
      ? ['1', 'true', 'yes', 'on'].includes(dirtyEnv.trim().toLowerCase())
      : (git(['status', '--porcelain']) ?? '') !== '';
  return { code_commit: commit || null, code_branch: branch || null, code_dirty: dirty };
}

function isPidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const consoleLogger: ManifestLogger = {
  warn: (obj, msg) => console.warn(`levelflow run-manifest: ${msg}`, obj),
};

function checkMs(name: string, value: number, allowZero: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of ms, got ${value}`);
  }
  return value;
}

/** Tracks one run at a time per instance; any instance can read, list and repair all runs under the data root. */
export class RunManifestManager {
  readonly dataRoot: string;
  readonly mode: RunMode;
  readonly runsDir: string;

  private readonly config: Config;
  private readonly logger: ManifestLogger;
  private readonly heartbeatIntervalMs: number;
  private readonly persistDebounceMs: number;
  private readonly codeDir: string;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly schemas: SchemaVersionSource;
  private readonly clock: () => number;

  private current: RunManifest | null = null;
  private dirty = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private persistTimer: NodeJS.Timeout | null = null;

  constructor(dataRoot?: string, mode: RunMode = RunMode.LIVE, options: RunManifestOptions = {}) {
    if (!RUN_MODES.includes(mode)) throw new RangeError(`unknown run mode ${JSON.stringify(mode)}`);
    this.config = options.config ?? CONFIG;
    this.dataRoot = path.resolve(dataRoot ?? this.config.DATA_ROOT);
    this.mode = mode;
    this.runsDir = path.join(this.dataRoot, '_meta', 'runs');
    this.logger = options.logger ?? consoleLogger;
    this.heartbeatIntervalMs = checkMs('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 10_000, false);
    this.persistDebounceMs = checkMs('persistDebounceMs', options.persistDebounceMs ?? 5_000, true);
    this.codeDir = options.codeDir ?? process.cwd();
    this.env = options.env ?? process.env;
    this.schemas = options.schemas ?? SchemaRegistry;
    this.clock = options.clock ?? wallClockMicros;
    mkdirSync(this.runsDir, { recursive: true });
  }

  /** Create a run directory with its manifest, config snapshot, schema versions and first heartbeat. */
  startRun(): string {
    if (this.current !== null && this.current.status === RunStatus.STARTED) {
      throw new RunAlreadyActiveError(this.current.run_id);
    }
    const { runId, startMicros } = this.createRunDirectory();
    const dir = path.join(this.runsDir, runId);
    const manifest: RunManifest = {
      run_id: runId,
      start_time: isoMicros(startMicros),
      end_time: null,
      status: RunStatus.STARTED,
      mode: this.mode,
      ...captureGit(this.codeDir, this.env),
      config_hash: configHash(this.config),
      bronze_files: [],
      gold_files: [],
      event_counts: {},
      error_message: null,
    };
    writeJsonAtomic(path.join(dir, 'config_snapshot.json'), redactConfig(this.config));
    mkdirSync(path.join(dir, 'schemas'), { recursive: true });
    writeJsonAtomic(path.join(dir, 'schemas', 'versions.json'), this.schemaVersions());
    this.writeHeartbeat(runId, startMicros);
    // Written last: a directory without a manifest is skipped by readers, so a half-created run is never listed.
    writeJsonAtomic(path.join(dir, 'manifest.json'), orderedManifest(manifest));
    this.current = manifest;
    this.dirty = false;
    this.heartbeatTimer = setInterval(() => this.beat(), this.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
    return runId;
  }

  /** Record a Bronze file written by this run (absolute, or relative to the working directory). */
  trackBronzeFile(filePath: string): void {
    this.trackFile('bronze_files', filePath);
  }

  /** Record a Gold file written by this run (absolute, or relative to the working directory). */
  trackGoldFile(filePath: string): void {
    this.trackFile('gold_files', filePath);
  }

  /** Add `count` events of `schemaName` (e.g. `futures.trades`) to the run's cumulative counts. */
  updateEventCount(schemaName: string, count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`event count must be a non-negative integer, got ${count}`);
    }
    if (typeof schemaName !== 'string' || schemaName === '') {
      throw new TypeError('schema name must be a non-empty string');
    }
    const run = this.activeRun('updateEventCount', { schema: schemaName, count });
    if (run === null) return;
    run.event_counts[schemaName] = (run.event_counts[schemaName] ?? 0) + count;
    this.markDirty();
  }

  /** End the current run as `completed` or `stopped`; it stays current so it can still be read. */
  completeRun(status: RunStatus = RunStatus.COMPLETED): void {
    if (status !== RunStatus.COMPLETED && status !== RunStatus.STOPPED) {
      throw new RangeError(`completeRun accepts only "completed" or "stopped", got ${JSON.stringify(status)}`);
    }
    const run = this.activeRun('completeRun', { status });
    if (run === null) return;
    this.stopTimers();
    run.end_time = isoMicros(this.clock());
    run.status = status;
    this.writeCurrent();
  }

  /** End the current run as `crashed` with the reason (a stack trace, typically). */
  markCrashed(errorMessage: string): void {
    const run = this.activeRun('markCrashed', { error_message: errorMessage });
    if (run === null) return;
    this.stopTimers();
    run.end_time = isoMicros(this.clock());
    run.status = RunStatus.CRASHED;
    run.error_message = String(errorMessage);
    this.writeCurrent();
  }

  /** Write pending file lists and counts now instead of at the end of the debounce. */
  flush(): void {
    if (this.persistTimer !== null) {
      clearTimeout(this.persistTimer);
      this.persistTimer = null;
    }
    if (this.dirty && this.current !== null) this.writeCurrent();
  }

  getCurrentRunId(): string | null {
    return this.current?.run_id ?? null;
  }

  /** The run's manifest, or null when it is missing or unreadable. Throws `InvalidRunIdError` for unsafe ids. */
  loadManifest(runId: string): RunManifest | null {
    assertRunId(runId);
    const file = path.join(this.runsDir, runId, 'manifest.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      this.logger.warn({ run_id: runId, file, err: (err as Error).message }, 'run manifest cannot be read');
      return null;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      this.logger.warn({ run_id: runId, file, err: (err as Error).message }, 'run manifest is not valid JSON');
      return null;
    }
    const parsed = ManifestFile.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.logger.warn(
        { run_id: runId, file, err: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` },
        'run manifest is malformed',
      );
      return null;
    }
    return orderedManifest(parsed.data);
  }

  /** Every readable run, newest first (by parsed `start_time`, then `run_id`), optionally filtered. */
  listRuns(mode?: RunMode | null, status?: RunStatus | null): RunManifest[] {
    const runs: RunManifest[] = [];
    for (const runId of this.runIds()) {
      const m = this.loadManifest(runId);
      if (m === null) continue;
      if (mode != null && m.mode !== mode) continue;
      if (status != null && m.status !== status) continue;
      runs.push(m);
    }
    const key = (m: RunManifest): number => {
      const t = parseIsoTimestamp(m.start_time);
      return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
    };
    return runs.sort((a, b) => {
      const d = key(b) - key(a);
      if (d !== 0 && !Number.isNaN(d)) return d;
      return a.run_id < b.run_id ? 1 : a.run_id > b.run_id ? -1 : 0;
    });
  }

  /** Crashed runs, including those found dead by `detectStaleRuns` just now. */
  getCrashedRuns(): RunManifest[] {
    this.detectStaleRuns();
    return this.listRuns(null, RunStatus.CRASHED);
  }

  /** `{dataRoot}/_meta/runs/{runId}`, whether or not it exists. Throws `InvalidRunIdError` for unsafe ids. */
  getRunDirectory(runId: string): string {
    assertRunId(runId);
    return path.join(this.runsDir, runId);
  }

  /**
   * Mark as `crashed` every `started` run whose heartbeat is older than `maxSilenceS`, or whose pid is gone on this
   * host. Without a heartbeat file the manifest's mtime stands in for the last beat. Returns the runs it marked.
   */
  detectStaleRuns(maxSilenceS = 60): RunManifest[] {
    if (!Number.isFinite(maxSilenceS) || maxSilenceS < 0) {
      throw new RangeError(`maxSilenceS must be a non-negative number, got ${maxSilenceS}`);
    }
    const now = this.clock();
    const host = hostname();
    const marked: RunManifest[] = [];
    for (const runId of this.runIds()) {
      if (runId === this.current?.run_id && this.current.status === RunStatus.STARTED) continue;
      const m = this.loadManifest(runId);
      if (m === null || m.status !== RunStatus.STARTED) continue;
      const dir = path.join(this.runsDir, runId);
      const beat = this.readHeartbeat(dir);
      let lastBeat = beat === null ? Number.NaN : parseIsoTimestamp(beat.last_beat);
      if (Number.isNaN(lastBeat)) {
        try {
          lastBeat = statSync(path.join(dir, 'manifest.json')).mtimeMs * 1000;
        } catch {
          continue;
        }
      }
      const silent = now - lastBeat > maxSilenceS * 1_000_000;
      const dead = beat !== null && beat.host === host && !isPidAlive(beat.pid);
      if (!silent && !dead) continue;
      const since = isoMicros(Math.floor(lastBeat));
      m.status = RunStatus.CRASHED;
      m.end_time = since;
      m.error_message = `stale run: no heartbeat since ${since}`;
      writeJsonAtomic(path.join(dir, 'manifest.json'), orderedManifest(m));
      this.logger.warn({ run_id: runId, last_beat: since, pid: beat?.pid ?? null }, 'stale run marked crashed');
      marked.push(m);
    }
    return marked;
  }

  private createRunDirectory(): { runId: string; startMicros: number } {
    // The meta directory may have been pruned since construction.
    mkdirSync(this.runsDir, { recursive: true });
    let micros = this.clock();
    for (;;) {
      const runId = makeRunId(micros, this.mode, process.pid);
      try {
        // Non-recursive mkdir fails on an existing directory, which makes the id claim atomic across processes.
        mkdirSync(path.join(this.runsDir, runId));
        return { runId, startMicros: micros };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const next = this.clock();
        // A clock that has not moved on would produce the same id forever.
        micros = next > micros ? next : micros + 1;
      }
    }
  }

  private schemaVersions(): Record<string, SchemaVersionInfo> {
    const out: Record<string, SchemaVersionInfo> = {};
    for (const fullName of this.schemas.listSchemas()) {
      const v = this.schemas.getVersion(fullName);
      if (v === undefined) throw new Error(`schema registry lists ${fullName} but has no version for it`);
      out[fullName] = {
        name: v.name,
        version: v.version,
        full_name: v.full_name,
        tier: v.tier,
        description: v.description,
      };
    }
    return out;
  }

  private runIds(): string[] {
    let entries;
    try {
      entries = readdirSync(this.runsDir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return entries.filter((e) => e.isDirectory() && isValidRunId(e.name)).map((e) => e.name);
  }

  private readHeartbeat(dir: string): Heartbeat | null {
    try {
      const parsed = HeartbeatFile.safeParse(JSON.parse(readFileSync(path.join(dir, 'heartbeat.json'), 'utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private writeHeartbeat(runId: string, micros: number): void {
    const beat: Heartbeat = { pid: process.pid, host: hostname(), last_beat: isoMicros(micros) };
    writeJsonAtomic(path.join(this.runsDir, runId, 'heartbeat.json'), beat);
  }

  private beat(): void {
    const run = this.current;
    if (run === null || run.status !== RunStatus.STARTED) return;
    try {
      this.writeHeartbeat(run.run_id, this.clock());
    } catch (err) {
      // A timer callback that throws would crash the process the heartbeat is meant to vouch for.
      this.logger.warn({ run_id: run.run_id, err: (err as Error).message }, 'heartbeat write failed');
    }
  }

  private activeRun(method: string, detail: Record<string, unknown>): RunManifest | null {
    const run = this.current;
    if (run === null) {
      this.logger.warn({ ...detail }, `${method}: no run started, ignored`);
      return null;
    }
    if (run.status !== RunStatus.STARTED) {
      // A finished manifest is a record of what happened; late calls must not rewrite its outcome.
      this.logger.warn({ ...detail, run_id: run.run_id, status: run.status }, `${method}: run already ended, ignored`);
      return null;
    }
    return run;
  }

  private trackFile(field: 'bronze_files' | 'gold_files', filePath: string): void {
    const absolute = path.resolve(filePath);
    const relative = path.relative(this.dataRoot, absolute);
    if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
      throw new PathOutsideDataRootError(filePath, this.dataRoot);
    }
    const run = this.activeRun(field === 'bronze_files' ? 'trackBronzeFile' : 'trackGoldFile', { file: filePath });
    if (run === null) return;
    const stored = relative.split(path.sep).join('/');
    const files = run[field];
    if (files.includes(stored)) return;
    files.push(stored);
    this.markDirty();
  }

  private markDirty(): void {
    this.dirty = true;
    // Scheduled once per batch of changes, not pushed back by each one, so a busy writer still saves every few seconds.
    if (this.persistTimer !== null) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      try {
        this.flush();
      } catch (err) {
        this.logger.warn({ run_id: this.current?.run_id, err: (err as Error).message }, 'manifest save failed');
      }
    }, this.persistDebounceMs);
    this.persistTimer.unref();
  }

  private writeCurrent(): void {
    const run = this.current;
    if (run === null) return;
    writeJsonAtomic(path.join(this.runsDir, run.run_id, 'manifest.json'), orderedManifest(run));
    this.dirty = false;
  }

  private stopTimers(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    if (this.persistTimer !== null) clearTimeout(this.persistTimer);
    this.heartbeatTimer = null;
    this.persistTimer = null;
  }
}

export interface LifecycleHookOptions {
  /** Runs on SIGINT/SIGTERM before the run is marked `stopped`: flush writers here. */
  readonly onSignal?: () => Promise<void> | void;
  /** Default `['SIGINT', 'SIGTERM']`. */
  readonly signals?: readonly NodeJS.Signals[];
  /** Default `process.exit`. */
  readonly exit?: (code: number) => void;
  /** Default: `console.warn`. */
  readonly logger?: ManifestLogger;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return `non-error thrown: ${typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err))}`;
}

/**
 * Tie the current run's outcome to the process's: an uncaught exception or unhandled rejection marks it `crashed`
 * with the stack; SIGINT/SIGTERM run `onSignal`, mark it `stopped` and exit with 128 + signal number (a second signal
 * exits at once). Returns a disposer that removes every listener.
 *
 * Crashes are observed through `uncaughtExceptionMonitor`, which Node also fires for unhandled rejections under its
 * default `--unhandled-rejections=throw`: unlike an `uncaughtException`/`unhandledRejection` listener it does not
 * swallow the error, so the process still prints it and exits with code 1 as it would without the hooks.
 */
export function installLifecycleHooks(manager: RunManifestManager, options: LifecycleHookOptions = {}): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const logger = options.logger ?? consoleLogger;
  const signals = options.signals ?? (['SIGINT', 'SIGTERM'] as const);

  const onCrash = (err: unknown, origin: string): void => {
    try {
      manager.markCrashed(describeError(err));
    } catch (writeErr) {
      logger.warn({ origin, err: (writeErr as Error).message }, 'could not mark the run crashed');
    }
  };

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = 128 + (osConstants.signals[signal] ?? 0);
    if (stopping) {
      exit(code);
      return;
    }
    stopping = true;
    void (async () => {
      try {
        await options.onSignal?.();
        manager.completeRun(RunStatus.STOPPED);
        exit(code);
      } catch (err) {
        // Writers that could not flush may have lost data: the run did not stop cleanly.
        onCrash(new Error(`shutdown on ${signal} failed: ${describeError(err)}`), signal);
        exit(1);
      }
    })();
  };

  process.on('uncaughtExceptionMonitor', onCrash);
  for (const s of signals) process.on(s, onSignal);
  return () => {
    process.off('uncaughtExceptionMonitor', onCrash);
    for (const s of signals) process.off(s, onSignal);
  };
}
