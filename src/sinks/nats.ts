/**
 * JetStream sink: pipelined publishes with a bounded number in flight.
 *
 * Awaiting each publish caps a producer at one round trip per message (≈ 6 k msg/s here); keeping up to
 * `maxInFlight` publishes outstanding on one connection reaches ≈ 30 k msg/s while the server still stores them in
 * send order. `gate()` is the high-water mark a pulled source awaits before reading more, so memory stays bounded.
 * A failed publish (for example during a reconnect) is retried with the same message id — JetStream de-duplicates —
 * and only after `maxRetries` does the stream error.
 *
 *   input:   --a--b--c--------|
 *   acks:    ------a'-b'--c'--|   (in input order)
 */
import type { PubAck } from '@nats-io/jetstream';
import { Observable } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import type { NATSBus, PublishOptions } from '../common/bus.js';

export interface PublisherOptions {
  /** Publishes outstanding at once (default 1000). */
  readonly maxInFlight?: number;
  /**
   * Once `gate()` has blocked at `maxInFlight`, it opens again only when the acks have brought the count down to this
   * (default `maxInFlight − 1`: reopen on the first ack). A lower value refills the window in bursts, so the client
   * writes many publishes per socket write instead of one per ack; it is opt-in until measured on a quiet machine.
   */
  readonly resumeAt?: number;
  /** Attempts per message before giving up (default 8). */
  readonly maxRetries?: number;
  /** Delay between attempts in ms (default 250, doubling, capped at 5 s). */
  readonly retryDelayMs?: number;
}

export class JetStreamPublisher {
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private idle: (() => void)[] = [];
  readonly maxInFlight: number;
  readonly resumeAt: number;
  published = 0;
  duplicates = 0;

  constructor(
    private readonly bus: NATSBus,
    private readonly options: PublisherOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 1000;
    this.resumeAt = Math.min(this.maxInFlight - 1, Math.max(0, options.resumeAt ?? this.maxInFlight - 1));
  }

  get pending(): number {
    return this.inFlight;
  }

  /**
   * Returns nothing when another publish may start now (fewer than `maxInFlight` outstanding and no one waiting);
   * otherwise a promise that resolves once the acks have brought the count down to `resumeAt`.
   */
  gate(): void | Promise<void> {
    if (this.inFlight < this.maxInFlight && this.waiters.length === 0) return;
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Start a publish now; the promise settles with its ack. Callers should respect `gate()`. */
  publish(subject: string, payload: unknown, options: PublishOptions = {}): Promise<PubAck> {
    this.inFlight++;
    return this.attempt(subject, payload, options, 1).finally(() => {
      this.inFlight--;
      if (this.inFlight <= this.resumeAt && this.waiters.length > 0) for (const w of this.waiters.splice(0)) w();
      if (this.inFlight === 0) for (const r of this.idle.splice(0)) r();
    });
  }

  private async attempt(subject: string, payload: unknown, options: PublishOptions, n: number): Promise<PubAck> {
    try {
      const ack = await this.bus.publish(subject, payload, options);
      this.published++;
      if (ack.duplicate) this.duplicates++;
      return ack;
    } catch (err) {
      if (n >= (this.options.maxRetries ?? 8)) throw err;
      const base = this.options.retryDelayMs ?? 250;
      await new Promise((r) => setTimeout(r, Math.min(base * 2 ** (n - 1), 5_000)));
      return this.attempt(subject, payload, options, n + 1);
    }
  }

  /** Resolves when nothing is in flight. */
  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idle.push(resolve));
  }
}

export interface SinkItem {
  readonly subject: string;
  readonly payload: unknown;
  readonly msgId?: string;
}

/**
 * Publish each item and emit `[item, ack]` in input order once JetStream has stored it. Completes after the last ack;
 * errors if a publish fails for good.
 */
export function jetStreamSink<T extends SinkItem>(publisher: JetStreamPublisher): OperatorFunction<T, [T, PubAck]> {
  return (source) =>
    new Observable<[T, PubAck]>((subscriber) => {
      const queue: { item: T; ack?: PubAck; done: boolean }[] = [];
      let sourceDone = false;
      let failed = false;
      const flushInOrder = () => {
        while (queue.length > 0 && queue[0]!.done) {
          const head = queue.shift()!;
          subscriber.next([head.item, head.ack!]);
        }
        if (sourceDone && queue.length === 0) subscriber.complete();
      };
      const sub = source.subscribe({
        next: (item) => {
          const entry: { item: T; ack?: PubAck; done: boolean } = { item, done: false };
          queue.push(entry);
          publisher
            .publish(item.subject, item.payload, item.msgId ? { msgId: item.msgId } : {})
            .then((ack) => {
              entry.ack = ack;
              entry.done = true;
              if (!failed) flushInOrder();
            })
            .catch((err: unknown) => {
              if (failed) return;
              failed = true;
              subscriber.error(err);
            });
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          flushInOrder();
        },
      });
      return () => sub.unsubscribe();
    });
}
