/**
 * JetStream source: a durable pull consumer as an `Observable` of deliveries, in stream order.
 *
 * Each delivery carries its decoded, validated value and its own `ack()`: downstream acknowledges only once what it
 * produced from the message is durable (a Parquet commit, a JetStream ack of the signal it fed). Until then the
 * message stays pending, and `maxAckPending` bounds how many the server hands out — that is the backpressure. A
 * message that cannot be decoded or validated goes to `dlq.<subject>` with the reason and is never emitted.
 *
 *   stream:      --m1--m2--(bad)--m3--|
 *   deliveries:  --d1--d2---------d3--   (bad → dlq.<subject>)
 */
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { JsMsg } from '@nats-io/jetstream';
import { Observable } from 'rxjs';
import { decodeMarketMessage } from '../common/bus.js';
import type { NATSBus } from '../common/bus.js';

export interface Delivery<T> {
  readonly value: T;
  readonly subject: string;
  readonly streamSeq: number;
  readonly deliveryCount: number;
  /** The message's `Nats-Msg-Id`, if the producer set one (consumers de-duplicate on it). */
  readonly msgId: string | null;
  ack(): void;
  nak(delayMs?: number): void;
  /** Reset the server's ack timer while a long flush is under way. */
  working(): void;
  /** A value that decoded but cannot be used downstream: publish it to `dlq.<subject>` with the reason, terminate it. */
  deadLetter(reason: string): Promise<void>;
}

export interface JetStreamSourceOptions {
  /** Subjects to consume, all in one stream (one consumer, so their relative stream order is kept). */
  readonly subjects: readonly string[];
  /** Durable consumer name: a restarted service resumes where it acknowledged. */
  readonly durable: string;
  /** Unacknowledged messages the server may hand out (default 10 000). */
  readonly maxAckPending?: number;
  readonly ackWaitS?: number;
  readonly deliverPolicy?: 'all' | 'new';
  readonly decode?: (subject: string, data: Uint8Array) => unknown;
}

const NS_PER_S = 1_000_000_000;

export function jetStreamSource<T>(bus: NATSBus, options: JetStreamSourceOptions): Observable<Delivery<T>> {
  return new Observable<Delivery<T>>((subscriber) => {
    let stopped = false;
    let close: (() => Promise<void>) | null = null;
    const decode = options.decode ?? decodeMarketMessage;
    void (async () => {
      await bus.connect();
      const { js, jsm } = bus.connection();
      const stream = await jsm.streams.find(options.subjects[0]!);
      // nats-server 2.9 (Debian's) has no multi-filter consumers: with several subjects the consumer reads the whole
      // stream in order and acks the others at once.
      const single = options.subjects.length === 1 ? options.subjects[0]! : null;
      const wanted = new Set(options.subjects);
      const config = {
        durable_name: options.durable,
        ack_policy: AckPolicy.Explicit,
        ...(single ? { filter_subject: single } : {}),
        deliver_policy: options.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
        ack_wait: (options.ackWaitS ?? 60) * NS_PER_S,
        max_ack_pending: options.maxAckPending ?? 10_000,
      };
      try {
        await jsm.consumers.info(stream, options.durable);
        await jsm.consumers.update(stream, options.durable, {
          ack_wait: config.ack_wait,
          max_ack_pending: config.max_ack_pending,
        });
      } catch (err) {
        if (!/not found/i.test((err as Error).message)) throw err;
        await jsm.consumers.add(stream, config);
      }
      const consumer = await js.consumers.get(stream, options.durable);
      const messages = await consumer.consume({ max_messages: Math.min(1000, config.max_ack_pending) });
      close = () => messages.close().then(() => undefined);
      if (stopped) {
        await close();
        return;
      }
      for await (const m of messages) {
        if (stopped) break;
        if (!single && !wanted.has(m.subject)) {
          m.ack();
          continue;
        }
        let value: T;
        try {
          value = decode(m.subject, m.data) as T;
        } catch (err) {
          await bus.deadLetter(m, options.durable, (err as Error).message);
          continue;
        }
        subscriber.next(delivery(m, value, (reason) => bus.deadLetter(m, options.durable, reason)));
      }
      if (!stopped) subscriber.complete();
    })().catch((err: unknown) => {
      if (!stopped) subscriber.error(err);
    });
    return () => {
      stopped = true;
      void close?.();
    };
  });
}

function delivery<T>(m: JsMsg, value: T, deadLetter: (reason: string) => Promise<void>): Delivery<T> {
  return {
    value,
    subject: m.subject,
    streamSeq: m.info.streamSequence,
    deliveryCount: m.info.deliveryCount,
    msgId: m.headers?.get('Nats-Msg-Id') || null,
    ack: () => m.ack(),
    nak: (delayMs?: number) => m.nak(delayMs),
    working: () => m.working(),
    deadLetter,
  };
}
