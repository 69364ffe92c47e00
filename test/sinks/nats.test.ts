/**
 * The publisher's flow control and the sink's ordering, against a bus whose acks the test settles by hand (the real
 * JetStream round trips are covered by test/integration/*, which start their own nats-server).
 */
import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import type { PubAck } from '@nats-io/jetstream';
import type { NATSBus } from '../../src/common/bus.js';
import { JetStreamPublisher, jetStreamSink } from '../../src/sinks/nats.js';

interface Pending {
  subject: string;
  payload: unknown;
  resolve: (ack: PubAck) => void;
  reject: (err: Error) => void;
}

/** A bus whose publishes stay pending until the test acks or fails them. */
function manualBus(): { bus: NATSBus; pending: Pending[]; calls: () => number } {
  const pending: Pending[] = [];
  let calls = 0;
  const bus = {
    publish: (subject: string, payload: unknown) => {
      calls++;
      return new Promise<PubAck>((resolve, reject) => {
        pending.push({ subject, payload, resolve, reject });
      });
    },
  } as unknown as NATSBus;
  return { bus, pending, calls: () => calls };
}

const ackOf = (seq: number): PubAck => ({ stream: 'S', seq, duplicate: false }) as PubAck;
const flush = () => new Promise((r) => setImmediate(r));

describe('JetStreamPublisher flow control', () => {
  it('fills the window, blocks, and reopens only at resumeAt', async () => {
    const { bus, pending } = manualBus();
    const p = new JetStreamPublisher(bus, { maxInFlight: 4, resumeAt: 1 });
    for (let i = 0; i < 4; i++) {
      expect(p.gate()).toBeUndefined();
      void p.publish('s', i);
    }
    const gate = p.gate();
    expect(gate).toBeInstanceOf(Promise);
    let open = false;
    void (gate as Promise<void>).then(() => (open = true));
    // Two acks bring the count to 2 > resumeAt: still closed, and a newcomer queues behind the waiter.
    pending.shift()!.resolve(ackOf(1));
    pending.shift()!.resolve(ackOf(2));
    await flush();
    expect(p.pending).toBe(2);
    expect(open).toBe(false);
    expect(p.gate()).toBeInstanceOf(Promise);
    pending.shift()!.resolve(ackOf(3));
    await flush();
    expect(p.pending).toBe(1);
    expect(open).toBe(true);
  });

  it('defaults resumeAt to reopening on the first ack and keeps it below maxInFlight', () => {
    const { bus } = manualBus();
    expect(new JetStreamPublisher(bus).resumeAt).toBe(999);
    expect(new JetStreamPublisher(bus, { maxInFlight: 1 }).resumeAt).toBe(0);
    expect(new JetStreamPublisher(bus, { maxInFlight: 8, resumeAt: 99 }).resumeAt).toBe(7);
  });

  it('retries a failed publish with backoff, then gives up with the error', async () => {
    const { bus, pending, calls } = manualBus();
    const p = new JetStreamPublisher(bus, { maxRetries: 2, retryDelayMs: 1 });
    const done = p.publish('s', 'x');
    pending.shift()!.reject(new Error('timeout'));
    await new Promise((r) => setTimeout(r, 10));
    expect(calls()).toBe(2);
    pending.shift()!.reject(new Error('timeout again'));
    await expect(done).rejects.toThrow('timeout again');
    expect(p.pending).toBe(0);
  });

  fcTest.prop([
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 0, max: 12 }),
    fc.integer({ min: 1, max: 60 }),
    fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
  ])(
    'never exceeds maxInFlight, loses nothing, and drains, whatever order the acks come in',
    async (max, resume, n, picks) => {
      const { bus, pending } = manualBus();
      const p = new JetStreamPublisher(bus, { maxInFlight: max, resumeAt: resume });
      let peak = 0;
      const producer = (async () => {
        for (let i = 0; i < n; i++) {
          await p.gate();
          void p.publish('s', i);
          peak = Math.max(peak, p.pending);
        }
        await p.drain();
      })();
      let k = 0;
      let acked = 0;
      while (acked < n) {
        await flush();
        if (pending.length === 0) continue;
        const [entry] = pending.splice(picks[k++ % picks.length]! % pending.length, 1);
        entry!.resolve(ackOf(++acked));
      }
      await producer;
      expect(peak).toBeLessThanOrEqual(max);
      expect(p.published).toBe(n);
      expect(p.pending).toBe(0);
    },
  );
});

describe('jetStreamSink', () => {
  it('emits items with their acks in input order even when acks arrive out of order', async () => {
    const { bus, pending } = manualBus();
    const p = new JetStreamPublisher(bus);
    const out = lastValueFrom(
      from([0, 1, 2, 3].map((i) => ({ subject: `s.${i}`, payload: i }))).pipe(jetStreamSink(p), toArray()),
    );
    await flush();
    for (const i of [2, 0, 3, 1]) pending.find((x) => x.payload === i)!.resolve(ackOf(10 + i));
    const rows = await out;
    expect(rows.map(([item, ack]) => [item.payload, ack.seq])).toEqual([
      [0, 10],
      [1, 11],
      [2, 12],
      [3, 13],
    ]);
  });

  it('fails the stream when a publish gives up', async () => {
    const { bus, pending } = manualBus();
    const p = new JetStreamPublisher(bus, { maxRetries: 1 });
    const out = lastValueFrom(from([{ subject: 's', payload: 1 }]).pipe(jetStreamSink(p), toArray()));
    await flush();
    pending.shift()!.reject(new Error('no responders'));
    await expect(out).rejects.toThrow('no responders');
  });
});
