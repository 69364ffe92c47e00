import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsgIdGenerator, NATSBus, SUBJECTS } from '../../src/common/bus.js';
import { runLakeConsumer } from '../../src/sinks/lake-consumer.js';
import { JetStreamPublisher } from '../../src/sinks/nats.js';
import {
  consumerIdle,
  expectedSummary,
  futuresTradesSummary,
  syntheticTrades,
  until,
} from '../support/fixtures/lake-check.js';
import { NatsTestServer, natsServerAvailable } from '../support/servers.js';

const hasNats = natsServerAvailable();
const N = 100_000;

describe.skipIf(!hasNats)('nats-server killed with SIGKILL in the middle of a 100 000-message stream', () => {
  let server: NatsTestServer;
  let root: string;
  const buses: NATSBus[] = [];

  beforeAll(async () => {
    server = await NatsTestServer.start();
    root = mkdtempSync(path.join(tmpdir(), 'levelflow-natskill-'));
  });
  afterAll(async () => {
    for (const b of buses) await b.close().catch(() => undefined);
    await server?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('after recovery the lake holds every message exactly once (count and checksum over all rows)', async () => {
    // Producer and lake are separate services with their own connections, as in production.
    const producerBus = new NATSBus([server.url]);
    const lakeBus = new NATSBus([server.url]);
    buses.push(producerBus, lakeBus);
    await producerBus.connect();
    const consumer = await runLakeConsumer({
      bus: lakeBus,
      durablePrefix: 'killed',
      ackWaitS: 5,
      writer: { dataRoot: root, maxRows: 5000, intervalS: 0.5 },
    });

    const events = syntheticTrades(N, 50_000_000n);
    // Retries forever with the same msg id: JetStream's duplicate window turns a retried publish into a no-op.
    const publisher = new JetStreamPublisher(producerBus, { maxInFlight: 1000, maxRetries: 10_000, retryDelayMs: 100 });
    const ids = new MsgIdGenerator();
    let crash: Promise<void> | null = null;
    for (const [i, e] of events.entries()) {
      await publisher.gate();
      if (i === 40_000) {
        await until(() => consumer.stats.files > 0, 'the lake to commit its first files');
        crash = (async () => {
          await server.kill();
          await new Promise((r) => setTimeout(r, 500));
          await server.restart();
        })();
      }
      publisher.publish(SUBJECTS.FUTURES_TRADES, e, { msgId: ids.next('futures.trades', e) }).catch((err: unknown) => {
        throw new Error(`publish of message ${i} failed for good: ${(err as Error).message}`);
      });
    }
    await crash;
    await publisher.drain();

    const { jsm } = producerBus.connection();
    expect((await jsm.streams.info('MARKET_DATA')).state.messages).toBe(N);
    await until(() => consumerIdle(jsm, 'MARKET_DATA', 'killed_market_data'), 'the lake to commit and ack everything');
    await consumer.stop();

    expect(await futuresTradesSummary(root)).toEqual(await expectedSummary(events));
  }, 300_000);
});
