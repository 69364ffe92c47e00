import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsgIdGenerator, NATSBus, SUBJECTS } from '../../src/common/bus.js';
import type { MarketEvent } from '../../src/common/event-types.js';
import { quoteString } from '../../src/common/duckdb.js';
import { runLakeConsumer } from '../../src/sinks/lake-consumer.js';
import { JetStreamPublisher } from '../../src/sinks/nats.js';
import { replayBronze } from '../../src/streams/replay.js';
import { simulateMarket } from '../../src/streams/sim.js';
import { consumerIdle, futuresTradesSummary, syntheticTrades, until } from '../support/fixtures/lake-check.js';
import { NatsTestServer, natsServerAvailable } from '../support/servers.js';

const hasNats = natsServerAvailable();

function route(e: MarketEvent): { subject: string; schema: string } {
  if ('option_symbol' in e) return { subject: SUBJECTS.OPTIONS_TRADES, schema: 'options.trades' };
  if ('levels' in e) return { subject: SUBJECTS.FUTURES_MBP10, schema: 'futures.mbp10' };
  return { subject: SUBJECTS.FUTURES_TRADES, schema: 'futures.trades' };
}

async function publishAll(bus: NATSBus, events: Iterable<MarketEvent>): Promise<JetStreamPublisher> {
  const publisher = new JetStreamPublisher(bus, { maxInFlight: 1000 });
  const ids = new MsgIdGenerator();
  for (const e of events) {
    await publisher.gate();
    const { subject, schema } = route(e);
    void publisher.publish(subject, e, { msgId: ids.next(schema, e) });
  }
  await publisher.drain();
  return publisher;
}

/** A fresh nats-server and lake directory per describe block, so no test sees another's messages. */
function withServer(): { bus: () => NATSBus; newRoot: () => string } {
  let server: NatsTestServer;
  let bus: NATSBus;
  const roots: string[] = [];
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
  return {
    bus: () => bus,
    newRoot: () => {
      const r = mkdtempSync(path.join(tmpdir(), 'levelflow-lake-'));
      roots.push(r);
      return r;
    },
  };
}

describe.skipIf(!hasNats)('NATS → lake consumer → Bronze/Gold → replay, against a real nats-server', () => {
  const env = withServer();

  it('round trip: simulated events published with msg ids (twice), consumed, written, replayed — identical', async () => {
    const bus = env.bus();
    const root = env.newRoot();
    const sim = { durationMinutes: 2, premarket: false, seed: 7 };
    const events = [...simulateMarket(sim)];
    expect(events.length).toBeGreaterThan(1000);

    const first = await publishAll(bus, events);
    expect(first.duplicates).toBe(0);
    // A producer restarted from the beginning re-publishes with the same ids: JetStream drops every one.
    const again = await publishAll(bus, events);
    expect(again.duplicates).toBe(events.length);

    const signals = Array.from({ length: 12 }, (_, i) => ({
      ts: 1_765_895_100_000 + i * 250,
      spy: { spot: 6870.25, bid: 6870, ask: 6870.5 },
      levels: [
        { id: 'PM_HIGH', kind: 'PM_HIGH', price: 6880, direction: 'RESISTANCE', distance: 9.75, signal: 'NEUTRAL' },
        { id: 'ROUND_6850', kind: 'ROUND', price: 6850, direction: 'SUPPORT', distance: 20.25, signal: 'REJECT' },
      ],
    }));
    for (const [i, p] of signals.entries()) await bus.publish(SUBJECTS.LEVEL_SIGNALS, p, { msgId: `signals:${i}` });

    const consumer = await runLakeConsumer({
      bus,
      durablePrefix: 'roundtrip',
      writer: { dataRoot: root, maxRows: 1000, intervalS: 0.2 },
    });
    const { jsm } = bus.connection();
    await until(
      async () =>
        (await consumerIdle(jsm, 'MARKET_DATA', consumer.durables['MARKET_DATA']!)) &&
        (await consumerIdle(jsm, 'LEVEL_SIGNALS', consumer.durables['LEVEL_SIGNALS']!)),
      'the lake consumers to commit and ack everything',
    );
    await consumer.stop();
    expect(consumer.stats).toMatchObject({ delivered: events.length + signals.length, duplicates: 0, deadLettered: 0 });

    const replayed: MarketEvent[] = [];
    const date = new Date(Number(events[0]!.ts_event_ns / 1_000_000n)).toISOString().slice(0, 10);
    for await (const batch of replayBronze({ dataRoot: root, from: date, speed: 0 })) replayed.push(...batch);
    expect(replayed).toEqual(events.map((e) => ({ ...e, source: 'replay' })));

    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const gold = await c.runAndReadAll(
      `SELECT count(*), count(DISTINCT ts_event_ns), min(ts_event_ns), string_agg(DISTINCT level_id, ',' ORDER BY level_id)
       FROM read_parquet(${quoteString(`${root}/gold/levels/signals/**/*.parquet`)}, hive_partitioning = false)`,
    );
    c.closeSync();
    db.closeSync();
    expect(gold.getRows()[0]).toEqual([24n, 12n, 1_765_895_100_000_000_000n, 'PM_HIGH,ROUND_6850']);
  });
});

describe.skipIf(!hasNats)('poisoned messages on the bus', () => {
  const env = withServer();

  it('poisoned messages (bad JSON, wrong type, out-of-range timestamp, signals without ts) go to dlq.* with the reason; the stream continues', async () => {
    const bus = env.bus();
    const root = env.newRoot();
    const { js, jsm } = bus.connection();
    const good = syntheticTrades(300, 1_000_000n, 50_000);
    const ids = new MsgIdGenerator('poison');
    const dlqBefore = (await jsm.streams.info('DEAD_LETTER')).state.messages;
    const bad = [
      { subject: SUBJECTS.FUTURES_TRADES, body: '{"ts_event_ns": 1765893600000000000, "price": ', why: /JSON/i },
      {
        subject: SUBJECTS.FUTURES_TRADES,
        body: '{"ts_event_ns":1765893600000000000,"source":"sim","symbol":"ESZ5","price":6870.25,"size":"lots","aggressor":1}',
        why: /size/,
      },
      {
        subject: SUBJECTS.FUTURES_TRADES,
        body: '{"ts_event_ns":5,"source":"sim","symbol":"ESZ5","price":6870.25,"size":1,"aggressor":1}',
        why: /ts_event_ns|range/,
      },
      { subject: SUBJECTS.LEVEL_SIGNALS, body: '{"spy":{"spot":6870},"levels":[]}', why: /ts/ },
    ];
    for (const [i, e] of good.entries()) {
      if (i % 75 === 10) {
        const b = bad[Math.floor(i / 75)]!;
        await js.publish(b.subject, b.body, { msgID: `poison-bad-${i}` });
      }
      await bus.publish(SUBJECTS.FUTURES_TRADES, e, { msgId: ids.next('futures.trades', e) });
    }

    const consumer = await runLakeConsumer({
      bus,
      durablePrefix: 'poison',
      writer: { dataRoot: root, maxRows: 100, intervalS: 0.2 },
    });
    await until(
      async () =>
        (await consumerIdle(jsm, 'MARKET_DATA', consumer.durables['MARKET_DATA']!)) &&
        (await consumerIdle(jsm, 'LEVEL_SIGNALS', consumer.durables['LEVEL_SIGNALS']!)),
      'the consumers to get past the poison',
    );
    await consumer.stop();

    // The poison is dead-lettered once per consumer that reads it: this one, and none other in this test.
    const dlq = await jsm.streams.info('DEAD_LETTER');
    expect(dlq.state.messages - dlqBefore).toBe(bad.length);
    const letters = [];
    for (let seq = dlq.state.last_seq - bad.length + 1; seq <= dlq.state.last_seq; seq++)
      letters.push(await jsm.streams.getMessage('DEAD_LETTER', { seq }));
    for (const [i, b] of bad.entries()) {
      const letter = letters.find((l) => new TextDecoder().decode(l!.data) === b.body)!;
      expect(letter, `dead letter ${i}`).toBeDefined();
      expect(letter.subject).toBe(`dlq.${b.subject}`);
      expect(letter.header.get('Dlq-Reason')).toMatch(b.why);
      expect(letter.header.get('Dlq-Consumer')).toMatch(/^poison_/);
      expect(Number(letter.header.get('Dlq-Stream-Seq'))).toBeGreaterThan(0);
    }

    expect(consumer.stats.deadLettered).toBe(bad.length);
    const summary = await futuresTradesSummary(root);
    expect(summary.rows).toBe(good.length);
    expect(summary.distinctSeq).toBe(good.length);
  });
});
