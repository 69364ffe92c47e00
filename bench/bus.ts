/**
 * JetStream publish throughput against a real `nats-server -js` started for the run (file storage, loopback): events/s
 * from a `FuturesTrade` object to a stored, acknowledged message, with a deterministic `Nats-Msg-Id` on each.
 *
 * - awaited: one publish at a time, each awaiting its ack (one round trip per message).
 * - pipelined: `JetStreamPublisher` with up to 1000 publishes in flight, acks awaited as they come.
 * - batched: groups of 1000 sent back to back, then all acks of the group awaited (a barrier per batch).
 * Baseline: core NATS `publish` of the same encoded JSON on an uncaptured subject and one final `flush()`, i.e. the
 * connection's own ceiling with no storage and no acks.
 */
import { NATSBus, MsgIdGenerator, SUBJECTS } from '../src/common/bus.js';
import { futuresTrade } from '../src/common/event-types.js';
import type { FuturesTrade } from '../src/common/event-types.js';
import { encodeJson } from '../src/common/json.js';
import { JetStreamPublisher } from '../src/sinks/nats.js';
import { NatsTestServer } from '../test/support/servers.js';
import { type BenchRow, median } from './types.js';

const MESSAGES = 20_000;
const REPS = 3;
const BATCH = 1000;
const T0 = 1_765_896_600_000_000_000n;

function events(): FuturesTrade[] {
  return Array.from({ length: MESSAGES }, (_, i) =>
    futuresTrade({
      ts_event_ns: T0 + BigInt(i) * 1_000_000n,
      source: 'replay',
      symbol: 'ESZ5',
      price: 6870 + (i % 40) * 0.25,
      size: 1 + (i % 9),
      aggressor: i % 2 === 0 ? 1 : -1,
      exchange: 'CME',
      seq: BigInt(i),
    }),
  );
}

type Variant = (bus: NATSBus, input: readonly FuturesTrade[], rep: string) => Promise<void>;

const variants: Record<string, Variant> = {
  'core NATS publish + flush (baseline)': async (bus, input) => {
    const { nc } = bus.connection();
    for (const e of input) nc.publish('bench.core', encodeJson(e));
    await nc.flush();
  },
  'JetStream awaited (1 in flight)': async (bus, input, rep) => {
    const ids = new MsgIdGenerator(rep);
    for (const e of input) await bus.publish(SUBJECTS.FUTURES_TRADES, e, { msgId: ids.next('futures.trades', e) });
  },
  'JetStream pipelined (JetStreamPublisher, 1000 in flight)': async (bus, input, rep) => {
    const ids = new MsgIdGenerator(rep);
    const publisher = new JetStreamPublisher(bus, { maxInFlight: 1000 });
    for (const e of input) {
      await publisher.gate();
      void publisher.publish(SUBJECTS.FUTURES_TRADES, e, { msgId: ids.next('futures.trades', e) });
    }
    await publisher.drain();
  },
  [`JetStream batched (${BATCH} per batch, acks awaited per batch)`]: async (bus, input, rep) => {
    const ids = new MsgIdGenerator(rep);
    for (let i = 0; i < input.length; i += BATCH) {
      await Promise.all(
        input
          .slice(i, i + BATCH)
          .map((e) => bus.publish(SUBJECTS.FUTURES_TRADES, e, { msgId: ids.next('futures.trades', e) })),
      );
    }
  },
};

export async function runBusBenchmarks(): Promise<BenchRow[]> {
  const server = await NatsTestServer.start();
  const bus = new NATSBus([server.url]);
  try {
    await bus.connect();
    const input = events();
    const rates = new Map<string, number[]>();
    for (let rep = 0; rep < REPS; rep++) {
      for (const [name, run] of Object.entries(variants)) {
        const t0 = performance.now();
        await run(bus, input, `bench${rep}`);
        const s = (performance.now() - t0) / 1000;
        rates.set(name, [...(rates.get(name) ?? []), MESSAGES / s]);
      }
    }
    const names = Object.keys(variants);
    const baseline = median(rates.get(names[0]!)!);
    return names.map((name) => {
      const rate = median(rates.get(name)!);
      return {
        suite: 'bus',
        name,
        eventsPerSec: rate,
        ratioToBaseline: rate / baseline,
        extra: `${MESSAGES} msgs × ${REPS}, file store, loopback`,
      };
    });
  } finally {
    await bus.close();
    await server.dispose();
  }
}
