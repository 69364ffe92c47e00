/**
 * Replay pacing (DATA.md §6.5): anchored scheduling. Event `e` is due at `wallStart + (e.ts − tsAnchor) / speed`, so the
 * schedule is a function of event time alone and the error of one sleep never carries into the next (per-event
 * `sleep(Δts)`, the reference's way, accumulates every overshoot). When the next event is more than `maxGapS` seconds
 * of wall time away, the anchor moves so that the wait is exactly `maxGapS`: a quiet market (overnight, a halt) does
 * not stall the replay. Events with equal timestamps go back to back. `speed ≤ 0` means as fast as possible.
 *
 * Batches are split at due times: what is due now is emitted at once as one batch, then the transformer sleeps until
 * the next event is due. It is an async-iterable transformer over batches, so it sits between a pulled source and
 * `fromPulled` without breaking backpressure.
 *
 *   input (event time):   [a b]------------[c]-[d]
 *   speed 2 (wall time):  [a b]------[c][d]      (gaps halved; a and b share a timestamp)
 */

/** Wall clock and sleep, injectable so tests can run a schedule without real time. */
export interface PacingClock {
  /** Milliseconds, monotonic enough for scheduling. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const REAL_CLOCK: PacingClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface PacingOptions {
  readonly clock?: PacingClock;
  /** Longest wall-time wait between two events, in seconds (default 5). */
  readonly maxGapS?: number;
}

/** Anything with an event time. */
export interface Timed {
  readonly ts_event_ns: bigint;
}

/**
 * An async-iterable transformer that releases each event no earlier than its due time at `speed` × real time.
 * Source order is kept; a source that goes backwards in time emits at once (its due time has passed).
 */
export function paced<T extends Timed>(
  speed: number,
  options: PacingOptions = {},
): (source: AsyncIterable<readonly T[]>) => AsyncGenerator<T[], void, undefined> {
  const clock = options.clock ?? REAL_CLOCK;
  const maxGapMs = (options.maxGapS ?? 5) * 1000;
  return async function* pace(source) {
    if (!(speed > 0)) {
      for await (const batch of source) if (batch.length > 0) yield [...batch];
      return;
    }
    let anchorTs: bigint | null = null;
    let wallStart = 0;
    for await (const batch of source) {
      let out: T[] = [];
      for (const event of batch) {
        const now = clock.now();
        if (anchorTs === null) {
          anchorTs = event.ts_event_ns;
          wallStart = now;
        }
        // Subtract as bigint first: the difference of two epoch-ns values is exact, the values themselves are not.
        let due = wallStart + Number(event.ts_event_ns - anchorTs) / 1e6 / speed;
        if (due - now > maxGapMs) {
          anchorTs = event.ts_event_ns;
          wallStart = now + maxGapMs;
          due = wallStart;
        }
        if (due > now) {
          if (out.length > 0) {
            yield out;
            out = [];
          }
          // The consumer may have taken time with the batch just yielded; wait only for what is left.
          const left = due - clock.now();
          if (left > 0) await clock.sleep(left);
        }
        out.push(event);
      }
      if (out.length > 0) yield out;
    }
  };
}
