/**
 * Progress of a long job: on a terminal a bar (events, event-time position in the session, events/s); otherwise a
 * log line every few seconds. Event time drives the position, so a replay at any speed reads the same.
 */
import { SingleBar } from 'cli-progress';
import type { Logger } from '../common/log.js';
import { nyTime } from '../common/time.js';

export interface Progress {
  /** `span`: the session's first and last event time when known (else the bar shows position only). */
  start(span: [bigint, bigint] | null): void;
  tick(tsNs: bigint): void;
  stop(): void;
}

/** `HH:MM:SS` New York time of an instant. */
export function nyClock(tsNs: bigint): string {
  const { minuteOfDay } = nyTime(tsNs);
  const sec = Number((((tsNs / 1_000_000_000n) % 60n) + 60n) % 60n);
  const hh = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  const mm = String(minuteOfDay % 60).padStart(2, '0');
  return `${hh}:${mm}:${String(sec).padStart(2, '0')}`;
}

/** Redraw or log at most this often (a redraw costs more than processing thousands of events). */
const EVERY_EVENTS = 8192;

abstract class BaseProgress implements Progress {
  protected events = 0;
  protected last = 0n;
  protected span: [bigint, bigint] | null = null;
  protected t0 = 0;

  start(span: [bigint, bigint] | null): void {
    this.span = span;
    this.t0 = performance.now();
  }

  tick(tsNs: bigint): void {
    this.events++;
    if (tsNs > this.last) this.last = tsNs;
    if (this.events % EVERY_EVENTS === 0) this.update();
  }

  protected rate(): number {
    const s = (performance.now() - this.t0) / 1000;
    return s > 0 ? this.events / s : 0;
  }

  protected fraction(): number | null {
    if (this.span === null || this.last === 0n) return null;
    const [a, b] = this.span;
    if (b <= a) return null;
    return Math.min(1, Math.max(0, Number(this.last - a) / Number(b - a)));
  }

  abstract stop(): void;
  protected abstract update(): void;
}

class BarProgress extends BaseProgress {
  private readonly bar = new SingleBar({
    format: ' {bar} {percentage}% | {events} events | {clock} ET | {rate} ev/s',
    hideCursor: true,
    clearOnComplete: true,
    stream: process.stderr,
  });
  private running = false;

  override start(span: [bigint, bigint] | null): void {
    super.start(span);
    this.bar.start(1000, 0, { events: '0', clock: '--:--:--', rate: '0' });
    this.running = true;
  }

  protected update(): void {
    const f = this.fraction();
    this.bar.update(f === null ? 0 : Math.round(f * 1000), {
      events: this.events.toLocaleString('en-US'),
      clock: this.last === 0n ? '--:--:--' : nyClock(this.last),
      rate: Math.round(this.rate()).toLocaleString('en-US'),
    });
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.update();
    this.bar.stop();
  }
}

class LogProgress extends BaseProgress {
  private lastLog = 0;

  constructor(
    private readonly logger: Logger,
    private readonly everyMs: number,
  ) {
    super();
  }

  protected update(): void {
    const now = performance.now();
    if (now - this.lastLog < this.everyMs) return;
    this.lastLog = now;
    const f = this.fraction();
    this.logger.info(
      {
        events: this.events,
        eventTime: this.last === 0n ? null : `${nyTime(this.last).date} ${nyClock(this.last)} ET`,
        ...(f === null ? {} : { percent: Math.round(f * 1000) / 10 }),
        eventsPerSec: Math.round(this.rate()),
      },
      'progress',
    );
  }

  stop(): void {}
}

/** A bar on a terminal, log lines every `everyMs` otherwise. */
export function createProgress(logger: Logger, opts: { tty?: boolean; everyMs?: number } = {}): Progress {
  return (opts.tty ?? process.stderr.isTTY === true)
    ? new BarProgress()
    : new LogProgress(logger, opts.everyMs ?? 2000);
}
