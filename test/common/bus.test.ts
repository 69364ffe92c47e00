import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsgIdGenerator, NATSBus, STREAMS, SUBJECTS } from '../../src/common/bus.js';
import type { MessageMeta } from '../../src/common/bus.js';
import { futuresTrade, mbp10 } from '../../src/common/event-types.js';
import type { FuturesTrade } from '../../src/common/event-types.js';
import { decodeJson } from '../../src/common/json.js';
import { NatsTestServer, natsServerAvailable } from '../support/servers.js';

const hasNats = natsServerAvailable();

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const trade = (i: number, overrides: Partial<FuturesTrade> = {}): FuturesTrade =>
  futuresTrade({
    ts_event_ns: 1765886400000000001n + BigInt(i),
    ts_recv_ns: 1765886400000151003n + BigInt(i),
    source: 'replay',
    symbol: 'ESZ5',
    price: 6875.25,
    size: 5,
    aggressor: 1,
    exchange: 'CME',
    seq: 88122n + BigInt(i),
    ...overrides,
  });

describe.skipIf(!hasNats)('NATSBus against a real nats-server', () => {
  let server: NatsTestServer;
  let bus: NATSBus;

  beforeAll(async () => {
    server = await NatsTestServer.start();
    bus = new NATSBus([server.url]);
    await bus.connect();
  });
  afterAll(async () => {
    await bus?.close();
    await server?.dispose();
  });

  it('creates the three streams with the required settings, idempotently', async () => {
    await bus.connect();
    await bus.ensureStreams();
    const { jsm } = bus.connection();
    for (const spec of STREAMS) {
      const info = await jsm.streams.info(spec.name);
      expect(info.config.subjects.sort()).toEqual([...spec.subjects].sort());
      expect(info.config.max_age).toBe(spec.maxAgeNs);
      expect(info.config.storage).toBe(StorageType.File);
      expect(info.config.duplicate_window).toBe(120_000_000_000);
    }
  });

  it('updates a stream whose settings drifted, and refuses one it cannot fix', async () => {
    const { jsm } = bus.connection();
    await jsm.streams.update('LEVEL_SIGNALS', { max_age: 3_600_000_000_000 });
    await bus.ensureStreams();
    expect((await jsm.streams.info('LEVEL_SIGNALS')).config.max_age).toBe(STREAMS[1]!.maxAgeNs);

    const other = new NATSBus([server.url], {
      streams: [{ name: 'MEMSTREAM', subjects: ['mem.*'], maxAgeNs: 60_000_000_000, maxBytes: 1 << 20 }],
    });
    await jsm.streams.add({ name: 'MEMSTREAM', subjects: ['mem.*'], storage: StorageType.Memory });
    await expect(other.connect()).rejects.toThrow(/MEMSTREAM.*storage cannot be changed/);
    await other.close();
  });

  it('publishes and delivers events losslessly, acking after the callback', async () => {
    const received: { data: unknown; meta: MessageMeta }[] = [];
    const sub = await bus.subscribe(
      SUBJECTS.FUTURES_TRADES,
      (data, meta) => {
        received.push({ data, meta });
      },
      'test_roundtrip',
    );
    const ids = new MsgIdGenerator();
    const sent = [trade(0), trade(1), trade(1)];
    for (const t of sent) await bus.publish(SUBJECTS.FUTURES_TRADES, t, { msgId: ids.next('futures.trades', t) });
    await until(() => received.length === 3, 'three deliveries');
    expect(received.map((r) => r.data)).toEqual(sent);
    expect((received[0]!.data as FuturesTrade).ts_event_ns).toBe(1765886400000000001n);
    expect(received[0]!.meta.headers['Schema']).toBe('futures.trades.v1');
    await until(() => sub.stats.acked === 3, 'acks');
    await sub.stop();
  });

  it('de-duplicates a re-publish with the same message id', async () => {
    const t = trade(50);
    const a = await bus.publish(SUBJECTS.FUTURES_TRADES, t, { msgId: 'fixed-id-1' });
    const b = await bus.publish(SUBJECTS.FUTURES_TRADES, t, { msgId: 'fixed-id-1' });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(b.seq).toBe(a.seq);
  });

  it('dead-letters a message that fails validation and keeps consuming', async () => {
    const got: unknown[] = [];
    const sub = await bus.subscribe(
      SUBJECTS.FUTURES_MBP10,
      (d) => {
        got.push(d);
      },
      'test_dlq_invalid',
      { deliverPolicy: 'new' },
    );
    const nc = await connect({ servers: server.url });
    const dlq: { reason: string; body: string }[] = [];
    const dsub = nc.subscribe('dlq.market.futures.mbp10');
    void (async () => {
      for await (const m of dsub) dlq.push({ reason: m.headers?.get('Dlq-Reason') ?? '', body: m.string() });
    })();
    const { js } = bus.connection();
    await js.publish(SUBJECTS.FUTURES_MBP10, '{"ts_event_ns": 1, "symbol": "ESZ5", "levels": []}');
    await js.publish(SUBJECTS.FUTURES_MBP10, 'not json at all');
    const good = mbp10({
      ts_event_ns: 1765886400000000000n,
      source: 'replay',
      symbol: 'ESZ5',
      levels: [{ bid_px: 6875, bid_sz: 41, ask_px: 6875.25, ask_sz: 37 }],
    });
    await bus.publish(SUBJECTS.FUTURES_MBP10, good);
    await until(() => got.length === 1 && dlq.length === 2, 'one delivery and two dead letters');
    expect(got[0]).toEqual(good);
    expect(dlq[0]!.reason).toMatch(/ts_event_ns.*outside valid range|source/);
    expect(dlq[0]!.body).toContain('"levels"');
    expect(dlq[1]!.reason).toMatch(/undecodable JSON/);
    expect(sub.stats.deadLettered).toBe(2);
    await sub.stop();
    await nc.close();
  });

  it('naks a failing callback with backoff, redelivers, then dead-letters after max deliveries', async () => {
    const attempts: number[] = [];
    const sub = await bus.subscribe(
      SUBJECTS.OPTIONS_TRADES,
      (_d, meta) => {
        attempts.push(meta.deliveryCount);
        throw new Error('sink unavailable');
      },
      'test_nak',
      { maxDeliver: 3, backoffMs: [50, 50], deliverPolicy: 'new' },
    );
    const nc = await connect({ servers: server.url });
    const dlq: string[] = [];
    const dsub = nc.subscribe('dlq.market.options.trades');
    void (async () => {
      for await (const m of dsub) dlq.push(m.headers?.get('Dlq-Delivery-Count') ?? '');
    })();
    await bus.publish(SUBJECTS.OPTIONS_TRADES, {
      ts_event_ns: 1765886400000000000n,
      ts_recv_ns: 1765886400000000000n,
      source: 'sim',
      underlying: 'ES',
      option_symbol: 'ESZ5 C6870',
      exp_date: '2025-12-16',
      strike: 6870,
      right: 'C',
      price: 12.5,
      size: 3,
      opt_bid: null,
      opt_ask: null,
      aggressor: 1,
      conditions: null,
      seq: null,
    });
    await until(() => dlq.length === 1, 'dead letter after retries');
    expect(attempts).toEqual([1, 2, 3]);
    expect(dlq).toEqual(['3']);
    expect(sub.stats.naked).toBe(2);
    await sub.stop();
    await nc.close();
  });

  it('survives a server restart: publishing resumes after reconnect', async () => {
    await server.restart();
    let ack: Awaited<ReturnType<NATSBus['publish']>> | undefined;
    const end = Date.now() + 20_000;
    while (!ack) {
      try {
        ack = await bus.publish(SUBJECTS.FUTURES_TRADES, trade(99), { msgId: 'after-restart' });
      } catch (err) {
        if (Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(ack.stream).toBe('MARKET_DATA');
    const { jsm } = bus.connection();
    const msg = await jsm.streams.getMessage('MARKET_DATA', { seq: ack.seq });
    expect((decodeJson(msg!.data) as FuturesTrade).ts_event_ns).toBe(1765886400000000100n);
  });

  it('refuses to publish before connect', async () => {
    const b = new NATSBus([server.url]);
    await expect(b.publish('market.futures.trades', {})).rejects.toThrow(/not connected/);
    await jetstreamManager(bus.connection().nc);
  });
});
