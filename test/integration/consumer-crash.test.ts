import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsgIdGenerator, NATSBus, SUBJECTS } from '../../src/common/bus.js';
import { JetStreamPublisher } from '../../src/sinks/nats.js';
import { listPartFiles } from '../../src/sinks/parquet.js';
import {
  consumerIdle,
  expectedSummary,
  futuresTradesSummary,
  syntheticTrades,
  until,
} from '../support/fixtures/lake-check.js';
import { NatsTestServer, natsServerAvailable } from '../support/servers.js';

const hasNats = natsServerAvailable();
const FIXTURE = path.resolve(import.meta.dirname, '../support/fixtures/lake-consumer.ts');
const N = 20_000;
const MAX_ROWS = 500;
const ACK_WAIT_S = 2;

interface Child {
  readonly proc: ChildProcess;
  /** Every JSON line the child printed so far. */
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Child[] = [];

function startConsumer(url: string, root: string, crashAfterCommits?: number): Child {
  const args = ['--import', 'tsx', FIXTURE, url, root, 'crash', String(MAX_ROWS), String(ACK_WAIT_S)];
  if (crashAfterCommits !== undefined) args.push(String(crashAfterCommits));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const child = { proc, lines, exited };
  children.push(child);
  return child;
}

const commits = (c: Child) => c.lines.filter((l) => 'commit' in l).length;
const lastStats = (c: Child) =>
  [...c.lines].reverse().find((l) => 'stats' in l)?.['stats'] as { duplicates: number } | undefined;

describe.skipIf(!hasNats)('a lake consumer process killed with SIGKILL mid-batch and restarted', () => {
  let server: NatsTestServer;
  let bus: NATSBus;
  let root: string;

  beforeAll(async () => {
    server = await NatsTestServer.start();
    bus = new NATSBus([server.url]);
    await bus.connect();
    root = mkdtempSync(path.join(tmpdir(), 'levelflow-crash-'));
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await bus?.close();
    await server?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('redelivery fills the gap and no row is duplicated', async () => {
    const events = syntheticTrades(N, 250_000_000n);
    const publisher = new JetStreamPublisher(bus);
    const ids = new MsgIdGenerator();
    for (const e of events) {
      await publisher.gate();
      void publisher.publish(SUBJECTS.FUTURES_TRADES, e, { msgId: ids.next('futures.trades', e) });
    }
    await publisher.drain();

    // 1. Dies right after its 3rd commit, before acking it: those rows are in the lake, their messages unacked.
    const first = startConsumer(server.url, root, 3);
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(commits(first)).toBe(3);
    expect((await listPartFiles(root)).length).toBeGreaterThanOrEqual(3);
    const unackedRows = first.lines.filter((l) => 'commit' in l)[2]!['rows'] as number;

    // 2. Killed from outside at an arbitrary point while it is busy writing.
    const second = startConsumer(server.url, root);
    // Run 1's last commit comes back after the ack wait; this process only knows it from the commit journal.
    await until(
      () => commits(second) >= 8 && (lastStats(second)?.duplicates ?? 0) >= unackedRows,
      'the second consumer to commit files and skip the redelivered, already committed messages',
    );
    second.proc.kill('SIGKILL');
    expect((await second.exited).signal).toBe('SIGKILL');

    // 3. Runs to the end and stops cleanly.
    const third = startConsumer(server.url, root);
    const { jsm } = bus.connection();
    await until(() => third.lines.some((l) => l['ready'] === true), 'the third consumer to subscribe');
    await until(() => consumerIdle(jsm, 'MARKET_DATA', 'crash_market_data'), 'everything to be committed and acked');
    third.proc.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);

    const lake = await futuresTradesSummary(root);
    expect(lake).toEqual(await expectedSummary(events));
    expect(readdirSync(path.join(root, '_meta', 'lake_consumer', 'crash')).length).toBeGreaterThanOrEqual(3);
  }, 180_000);
});
