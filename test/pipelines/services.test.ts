/**
 * The end-to-end proof of the NATS services (issue 7 §2, §4): a simulated session exported to DBN goes through
 * `ingest` → NATS → `core` → NATS → `lake` as three separate processes, and the Gold rows the lake holds are
 * byte-identical to those the same input gives in one process. Also: a second `ingest` of the same input adds nothing
 * (msg-id de-duplication), and SIGTERM stops each service with exit 0 and its run STOPPED.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteString } from '../../src/common/duckdb.js';
import type { MarketEvent } from '../../src/common/event-types.js';
import type { RunManifest } from '../../src/common/run-manifest.js';
import { dbnEvents } from '../../src/streams/dbn-events.js';
import { writeEventsAsDbn } from '../../src/streams/market-to-dbn.js';
import { simulateMarket } from '../../src/streams/sim.js';
import { NatsTestServer, natsServerAvailable } from '../support/servers.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const ENTRY = path.join(REPO, 'src/cli.ts');
const GOLD = 'gold/levels/signals';
const BRONZE = ['bronze/futures/trades', 'bronze/futures/mbp10', 'bronze/options/trades'];

interface Service {
  readonly proc: ChildProcess;
  /** Parsed pino lines of stderr so far. */
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

function startService(args: string[], env: Record<string, string>): Service {
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let rest = '';
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, logs, exited };
}

/** Polls `probe` until it returns a value; a probe that throws (a consumer not created yet) is polled again. */
async function until<T>(what: string, probe: () => Promise<T | null> | T | null, deadlineMs = 90_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`, { cause: lastError });
    await new Promise((r) => setTimeout(r, 250));
  }
}

function logLine(s: Service, msg: string): Record<string, unknown> | null {
  return s.logs.find((l) => l['msg'] === msg) ?? null;
}

function manifestOf(dataRoot: string, s: Service, name: string): RunManifest {
  const runId = logLine(s, `${name} started`)?.['runId'];
  expect(typeof runId).toBe('string');
  const file = path.join(dataRoot, '_meta/runs', runId as string, 'manifest.json');
  return JSON.parse(readFileSync(file, 'utf8')) as RunManifest;
}

/** Rows of every Parquet file under `dir`, in a total order, as JSON lines (0 rows when there is no file yet). */
async function lakeRows(dir: string, orderBy: string, count = false): Promise<string[] | number> {
  const glob = quoteString(`${dir}/**/*.parquet`);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const files = await c.runAndReadAll(`SELECT count(*) FROM glob(${glob})`);
    if (Number(files.getRows()[0]![0]) === 0) return count ? 0 : [];
    const source = `read_parquet(${glob}, hive_partitioning = false)`;
    if (count) return Number((await c.runAndReadAll(`SELECT count(*) FROM ${source}`)).getRows()[0]![0]);
    const r = await c.runAndReadAll(`SELECT * FROM ${source} ORDER BY ${orderBy}`);
    return r.getRowObjectsJson().map((row) => JSON.stringify(row));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const rowCount = async (dir: string): Promise<number> => (await lakeRows(dir, '', true)) as number;

/** Messages in `stream` and, with `durable`, what that consumer has not yet delivered or not yet had acknowledged. */
async function jetStreamState(url: string, stream: string, durable?: string) {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const messages = (await jsm.streams.info(stream)).state.messages;
    if (durable === undefined) return { messages, pending: 0, ackPending: 0 };
    const c = await jsm.consumers.info(stream, durable);
    return { messages, pending: c.num_pending, ackPending: c.num_ack_pending };
  } finally {
    await nc.close();
  }
}

const available = natsServerAvailable();

describe.skipIf(!available)('NATS services: ingest → core → lake as separate processes', () => {
  let nats: NatsTestServer;
  let tmp: string;
  let dbn: string;
  let events: MarketEvent[];
  const running: Service[] = [];

  beforeAll(async () => {
    nats = await NatsTestServer.start();
    tmp = mkdtempSync(path.join(tmpdir(), 'levelflow-services-'));
    dbn = path.join(tmp, 'session.dbn');
    await writeEventsAsDbn(dbn, () => simulateMarket({ durationMinutes: 3, premarket: false, seed: 5 }));
    events = [];
    for await (const batch of dbnEvents([dbn])) events.push(...batch);
  });

  afterAll(async () => {
    for (const s of running) if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
    await nats?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const start = (args: string[], dataRoot: string): Service => {
    const s = startService(args, { NATS_URL: nats.url, DATA_ROOT: dataRoot });
    running.push(s);
    return s;
  };

  it('produces Gold rows byte-identical to `levelflow run` on the same DBN file, once however often ingest runs, across a NATS restart', async () => {
    const lakeRoot = path.join(tmp, 'lake');

    // The same DBN input through `levelflow run` in one process.
    const expectedRoot = path.join(tmp, 'expected');
    const oneProcess = startService(['run', '--dbn', dbn, '--data-root', expectedRoot], {});
    expect(await oneProcess.exited).toBe(0);
    const expected = (await lakeRows(path.join(expectedRoot, GOLD), 'ts_event_ns, level_id')) as string[];
    expect(expected.length).toBeGreaterThan(1000);

    const first = start(['ingest', '--dbn', dbn, '--speed', '0'], lakeRoot);
    expect(await first.exited).toBe(0);
    const again = start(['ingest', '--dbn', dbn, '--speed', '0'], lakeRoot);
    expect(await again.exited).toBe(0);
    expect(logLine(again, 'ingest: completed')?.['duplicates']).toBe(events.length);
    expect((await jetStreamState(nats.url, 'MARKET_DATA')).messages).toBe(events.length);
    for (const s of [first, again]) {
      const m = manifestOf(lakeRoot, s, 'ingest');
      expect(m.status).toBe('completed');
      expect(m.mode).toBe('replay');
      expect(Object.values(m.event_counts).reduce((a, b) => a + b, 0)).toBe(events.length);
    }

    const core = start(['core'], lakeRoot);
    const lake = start(['lake'], lakeRoot);
    const bronzeRows = async (): Promise<number> => {
      let n = 0;
      for (const d of BRONZE) n += await rowCount(path.join(lakeRoot, d));
      return n;
    };
    /** Until core acknowledged every market message and the lake holds every message of both streams. */
    const settled = async (marketMessages: number): Promise<void> => {
      await until('core to acknowledge every market message', async () => {
        const s = await jetStreamState(nats.url, 'MARKET_DATA', 'core');
        return s.messages === marketMessages && s.pending === 0 && s.ackPending === 0 ? s : null;
      });
      await until('the lake to hold every message', async () => {
        const signals = await jetStreamState(nats.url, 'LEVEL_SIGNALS', 'lake_level_signals');
        if (signals.pending > 0 || signals.ackPending > 0) return null;
        const snaps = (await lakeRows(path.join(lakeRoot, GOLD), 'ts_event_ns')) as string[];
        const distinct = new Set(snaps.map((r) => (JSON.parse(r) as { ts_event_ns: string }).ts_event_ns)).size;
        return distinct === signals.messages && (await bronzeRows()) === marketMessages ? true : null;
      });
    };
    await settled(events.length);
    // The idle flush closed the last snap (as `run` does at the end of its input) and released the last deliveries.
    expect(logLine(core, 'core: idle flush')).not.toBeNull();
    const actual = (await lakeRows(path.join(lakeRoot, GOLD), 'ts_event_ns, level_id')) as string[];
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);

    // NATS restarts under the running services; a later session published afterwards still goes all the way through.
    await nats.restart();
    const later = path.join(tmp, 'later.dbn');
    const laterSession = () =>
      simulateMarket({ start: '2025-12-16T14:40:00Z', durationMinutes: 1, premarket: false, seed: 6 });
    await writeEventsAsDbn(later, laterSession);
    const laterIngest = start(['ingest', '--dbn', later, '--speed', '0'], lakeRoot);
    expect(await laterIngest.exited).toBe(0);
    const laterEvents = Object.values(manifestOf(lakeRoot, laterIngest, 'ingest').event_counts);
    await settled(events.length + laterEvents.reduce((a, b) => a + b, 0));
    expect(logLine(core, 'nats reconnect')).not.toBeNull();
    expect(logLine(lake, 'nats reconnect')).not.toBeNull();

    core.proc.kill('SIGTERM');
    lake.proc.kill('SIGTERM');
    expect(await core.exited).toBe(0);
    expect(await lake.exited).toBe(0);
    const coreRun = manifestOf(lakeRoot, core, 'core');
    const lakeRun = manifestOf(lakeRoot, lake, 'lake');
    expect(coreRun.status).toBe('stopped');
    expect(coreRun.mode).toBe('live');
    expect(coreRun.event_counts['levels.signals']).toBe((await jetStreamState(nats.url, 'LEVEL_SIGNALS')).messages);
    expect(lakeRun.status).toBe('stopped');
    expect(lakeRun.mode).toBe('live');
    expect(lakeRun.gold_files.length).toBeGreaterThan(0);
  }, 170_000);

  it('stops ingest on SIGTERM: in-flight publishes drained, exit 0, run STOPPED', async () => {
    const root = path.join(tmp, 'stopped');
    const ingest = start(['ingest', '--sim', '--sim-minutes', '30', '--speed', '1'], root);
    await until('ingest to publish', () => logLine(ingest, 'ingest: publishing'));
    await new Promise((r) => setTimeout(r, 1_000));
    ingest.proc.kill('SIGTERM');
    expect(await ingest.exited).toBe(0);
    const m = manifestOf(root, ingest, 'ingest');
    expect(m.status).toBe('stopped');
    expect(m.mode).toBe('sim');
    expect(logLine(ingest, 'ingest: stopped')).not.toBeNull();
  });

  it('rejects bad usage with exit code 2', async () => {
    const root = path.join(tmp, 'usage');
    for (const args of [
      ['ingest'],
      ['ingest', '--sim', '--dbn', dbn],
      ['core', '--idle-flush-ms', 'soon'],
      ['lake', '--durable', 'a.b'],
    ]) {
      expect(await start(args, root).exited).toBe(2);
    }
  });
});
