import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsgIdGenerator, NATSBus, PermanentMessageError, SUBJECTS } from '../../src/common/bus.js';
import { RecentIds, decodeLevelSignals, runLakeConsumer } from '../../src/sinks/lake-consumer.js';
import { consumerIdle, futuresTradesSummary, syntheticTrades, until } from '../support/fixtures/lake-check.js';
import { NatsTestServer, natsServerAvailable } from '../support/servers.js';

const hasNats = natsServerAvailable();
const enc = (s: string) => new TextEncoder().encode(s);

describe('RecentIds', () => {
  it('forgets the oldest ids beyond its capacity', () => {
    const ids = new RecentIds(3, 60_000, () => 0);
    for (const id of ['a', 'b', 'c', 'd']) ids.add(id);
    expect(['a', 'b', 'c', 'd'].map((id) => ids.has(id))).toEqual([false, true, true, true]);
    expect(ids.size).toBe(3);
  });

  it('forgets ids older than the TTL', () => {
    let now = 0;
    const ids = new RecentIds(100, 1000, () => now);
    ids.add('old');
    now = 900;
    ids.add('new');
    now = 1500;
    expect(ids.has('old')).toBe(false);
    expect(ids.has('new')).toBe(true);
  });
});

describe('decodeLevelSignals', () => {
  it('turns a payload into validated Gold rows, one per level', () => {
    const { schema, rows } = decodeLevelSignals(
      SUBJECTS.LEVEL_SIGNALS,
      enc('{"ts":1765895100000,"spy":{"spot":6870.25},"levels":[{"id":"PM_HIGH","kind":"PM_HIGH","price":6880}]}'),
    );
    expect(schema).toBe('levels.signals.v1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ts_event_ns: 1_765_895_100_000_000_000n, level_id: 'PM_HIGH', spot: 6870.25 });
  });

  it.each([
    ['no ts', '{"levels":[]}'],
    ['bad JSON', '{"ts": '],
    ['an unknown level kind', '{"ts":1765895100000,"levels":[{"id":"X","kind":"NOPE","price":1}]}'],
    ['not an object', '[1,2]'],
  ])('rejects %s as permanent', (_why, body) => {
    expect(() => decodeLevelSignals(SUBJECTS.LEVEL_SIGNALS, enc(body))).toThrow(PermanentMessageError);
  });
});

describe.skipIf(!hasNats)('runLakeConsumer against a real nats-server', () => {
  let server: NatsTestServer;
  let bus: NATSBus;
  const roots: string[] = [];
  const newRoot = () => {
    const r = mkdtempSync(path.join(tmpdir(), 'levelflow-lakec-'));
    roots.push(r);
    return r;
  };

  beforeAll(async () => {
    server = await NatsTestServer.start();
    bus = new NATSBus([server.url]);
    await bus.connect();
  });
  afterAll(async () => {
    await bus?.close();
    await server?.dispose();
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('holds a redelivery of a buffered message and acks both once the row is committed, writing it once', async () => {
    const root = newRoot();
    const events = syntheticTrades(5, 1_000_000n, 1000);
    const ids = new MsgIdGenerator('held');
    for (const e of events) await bus.publish(SUBJECTS.FUTURES_TRADES, e, { msgId: ids.next('futures.trades', e) });
    const consumer = await runLakeConsumer({
      bus,
      subjects: [SUBJECTS.FUTURES_TRADES],
      durablePrefix: 'held',
      ackWaitS: 1,
      writer: { dataRoot: root, maxRows: 1000, intervalS: 0 },
    });
    await until(() => consumer.stats.duplicates >= 5, 'the server to redeliver the unacked messages');
    expect(consumer.stats.acked).toBe(0);
    await consumer.writer.flush();
    const { jsm } = bus.connection();
    await until(() => consumerIdle(jsm, 'MARKET_DATA', 'held_market_data'), 'every delivery to be acked');
    await consumer.stop();
    expect((await futuresTradesSummary(root)).rows).toBe(5);
  });

  it('after a restart, skips ids the journal records for files that exist and rewrites ids of commits that never happened', async () => {
    const root = newRoot();
    const events = syntheticTrades(4, 1_000_000n, 2000);
    const gen = new MsgIdGenerator('journal');
    const ids = events.map((e) => gen.next('futures.trades', e));
    const { jsm } = bus.connection();
    const earlier = (await jsm.streams.info('MARKET_DATA')).state.messages;
    for (const [i, e] of events.entries()) await bus.publish(SUBJECTS.FUTURES_TRADES, e, { msgId: ids[i]! });

    // A previous run committed `done.parquet` (ids 0-1) and crashed after journaling `never.parquet` (ids 2-3)
    // but before renaming it into place.
    const journalDir = path.join(root, '_meta', 'lake_consumer', 'journal');
    mkdirSync(journalDir, { recursive: true });
    const done = '_meta/elsewhere/done.parquet';
    mkdirSync(path.join(root, path.dirname(done)), { recursive: true });
    writeFileSync(path.join(root, done), '');
    const record = (f: string, r: string[]) => JSON.stringify({ t: Date.now(), f, ids: r });
    writeFileSync(
      path.join(journalDir, 'commits-000000001.log'),
      `${record(done, ids.slice(0, 2))}\n${record('bronze/never.parquet', ids.slice(2))}\n{"t":1,"f":"torn`,
    );

    const consumer = await runLakeConsumer({
      bus,
      subjects: [SUBJECTS.FUTURES_TRADES],
      durablePrefix: 'journal',
      writer: { dataRoot: root, maxRows: 1000, intervalS: 0.1 },
    });
    await until(() => consumerIdle(jsm, 'MARKET_DATA', 'journal_market_data'), 'every delivery to be acked');
    await consumer.stop();
    // The new durable also reads the earlier tests' (distinct) messages; of this test's four, two are skipped.
    expect(consumer.stats.duplicates).toBe(2);
    expect(await futuresTradesSummary(root)).toMatchObject({ rows: earlier + 2, distinctSeq: earlier + 2 });
  });
});
