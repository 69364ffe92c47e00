/**
 * Sweep detection: bursts of one-sided aggressive prints (ENGINES.md §5 step 4, W-13, W-14).
 *
 * Prints are clustered in the order given while the gap to the previous print is `≤ SWEEP_MAX_GAP_MS`, compared in
 * integer nanoseconds. A cluster qualifies with at least `SWEEP_MIN_PRINTS` prints, one side only (≥ 1 BUY and no
 * SELL, or ≥ 1 SELL and no BUY; MID prints ride along — W-13), and notional `Σ price·size·multiplier ≥
 * SWEEP_MIN_NOTIONAL`. With the seed values any two ES lots within 100 ms on one side qualify (W-14, kept for parity).
 */
import { concat, defer, EMPTY, filter, finalize, map, of, type OperatorFunction } from 'rxjs';
import { CONFIG } from '../common/config.js';
import { Aggressor, type FuturesTrade } from '../common/event-types.js';
import { OutOfOrderError, type OutOfOrderPolicy } from './event-time-window.js';

/** What a sweep reads of a print. */
export type SweepTrade = Pick<FuturesTrade, 'ts_event_ns' | 'price' | 'size' | 'aggressor'>;

export type SweepDirection = 'UP' | 'DOWN' | 'NONE';

export interface SweepDetection {
  detected: boolean;
  direction: SweepDirection;
  notional: number;
  num_prints: number;
  window_ms: number;
  /** Venue ids; the feed carries none, so always `null` (as in the reference). */
  venues: number[] | null;
  start_ts_ns?: bigint;
  end_ts_ns?: bigint;
}

export interface SweepConfig {
  /** Longest gap inside a cluster, ms (default `CONFIG.SWEEP_MAX_GAP_MS`). */
  maxGapMs?: number;
  /** Default `CONFIG.SWEEP_MIN_NOTIONAL` ($). */
  minNotional?: number;
  /** Default `CONFIG.SWEEP_MIN_PRINTS`. */
  minPrints?: number;
  /** $ per point per contract (default `CONFIG.ES_CONTRACT_MULTIPLIER`). */
  multiplier?: number;
}

export interface DetectSweepOptions extends SweepConfig {
  /** Fewer near-level prints in the window than this → no sweep (default `CONFIG.TAPE_MIN_NEAR_LEVEL_PRINTS`). */
  minNearLevelPrints?: number;
}

interface ResolvedSweep {
  gapNs: bigint;
  minNotional: number;
  minPrints: number;
  multiplier: number;
}

function resolveSweep(o: SweepConfig): ResolvedSweep {
  const maxGapMs = o.maxGapMs ?? CONFIG.SWEEP_MAX_GAP_MS;
  if (!(Number.isFinite(maxGapMs) && maxGapMs >= 0)) throw new RangeError(`maxGapMs must be ≥ 0, got ${maxGapMs}`);
  return {
    gapNs: BigInt(Math.round(maxGapMs * 1e6)),
    minNotional: o.minNotional ?? CONFIG.SWEEP_MIN_NOTIONAL,
    minPrints: o.minPrints ?? CONFIG.SWEEP_MIN_PRINTS,
    multiplier: o.multiplier ?? CONFIG.ES_CONTRACT_MULTIPLIER,
  };
}

/** The "no sweep" value, a fresh object each time so callers may mutate it. */
export function noSweep(): SweepDetection {
  return { detected: false, direction: 'NONE', notional: 0, num_prints: 0, window_ms: 0, venues: null };
}

/** One open cluster; the notional is summed in print order, exactly as the reference sums it. */
class Cluster {
  n = 0;
  buys = 0;
  sells = 0;
  notional = 0;
  first = 0n;
  last = 0n;

  start(t: SweepTrade, multiplier: number): void {
    this.n = 0;
    this.buys = 0;
    this.sells = 0;
    this.notional = 0;
    this.first = t.ts_event_ns;
    this.extend(t, multiplier);
  }

  extend(t: SweepTrade, multiplier: number): void {
    this.n++;
    if (t.aggressor === Aggressor.BUY) this.buys++;
    else if (t.aggressor === Aggressor.SELL) this.sells++;
    this.notional += t.price * t.size * multiplier;
    this.last = t.ts_event_ns;
  }

  /** The detection if this cluster qualifies, else `null`. */
  judge(o: ResolvedSweep): SweepDetection | null {
    if (this.n < o.minPrints || this.notional < o.minNotional) return null;
    let direction: SweepDirection;
    if (this.buys > 0 && this.sells === 0) direction = 'UP';
    else if (this.sells > 0 && this.buys === 0) direction = 'DOWN';
    else return null;
    return {
      detected: true,
      direction,
      notional: this.notional,
      num_prints: this.n,
      window_ms: Number(this.last - this.first) / 1e6,
      venues: null,
      start_ts_ns: this.first,
      end_ts_ns: this.last,
    };
  }
}

/**
 * The tape engine's windowed rule: `trades` are the near-level prints of the window in stored order. Returns the
 * qualifying cluster with the strictly largest notional (the first on ties), or `noSweep()`. Like the reference, a
 * print earlier than its predecessor has a negative gap and joins the cluster.
 */
export function detectSweep(trades: readonly SweepTrade[], options: DetectSweepOptions = {}): SweepDetection {
  const minNear = options.minNearLevelPrints ?? CONFIG.TAPE_MIN_NEAR_LEVEL_PRINTS;
  if (trades.length < minNear || trades.length === 0) return noSweep();
  const o = resolveSweep(options);
  const cluster = new Cluster();
  let best: SweepDetection | null = null;
  const consider = (): void => {
    const d = cluster.judge(o);
    if (d !== null && (best === null || d.notional > best.notional)) best = d;
  };
  cluster.start(trades[0]!, o.multiplier);
  for (let i = 1; i < trades.length; i++) {
    const t = trades[i]!;
    if (t.ts_event_ns - cluster.last <= o.gapNs) {
      cluster.extend(t, o.multiplier);
    } else {
      consider();
      cluster.start(t, o.multiplier);
    }
  }
  consider();
  return best ?? noSweep();
}

export interface SweepClustererConfig extends SweepConfig {
  /** Cluster only prints within `band` of this price (the reference clusters near-level prints); `null` = all. */
  level?: number | null;
  /** Half-width around `level`, points (default `CONFIG.TAPE_BAND`). */
  band?: number;
  /** Default `'drop'` (see `OutOfOrderPolicy`). */
  outOfOrder?: OutOfOrderPolicy;
}

/**
 * Streaming clusterer: `push` returns the previous cluster once a print beyond the gap closes it (if it qualified),
 * `flush` closes the open one. Each cluster is judged once, so every qualifying cluster is reported exactly once.
 * Prints must arrive in non-decreasing time; prints outside the band are ignored and do not split a cluster.
 */
export class SweepClusterer {
  private readonly o: ResolvedSweep;
  private readonly level: number | null;
  private readonly band: number;
  private readonly outOfOrder: OutOfOrderPolicy;
  private readonly cluster = new Cluster();
  private open = false;
  private lateCount = 0;

  constructor(config: SweepClustererConfig = {}) {
    this.o = resolveSweep(config);
    this.level = config.level ?? null;
    this.band = config.band ?? CONFIG.TAPE_BAND;
    this.outOfOrder = config.outOfOrder ?? 'drop';
  }

  /** Prints dropped as out of order. */
  get late(): number {
    return this.lateCount;
  }

  /** Feed one print; returns the cluster it closed when that cluster qualified, else `null`. */
  push(t: SweepTrade): SweepDetection | null {
    if (this.level !== null && !(Math.abs(t.price - this.level) <= this.band)) return null;
    const cluster = this.cluster;
    if (!this.open) {
      cluster.start(t, this.o.multiplier);
      this.open = true;
      return null;
    }
    const gap = t.ts_event_ns - cluster.last;
    if (gap < 0n) {
      if (this.outOfOrder === 'error') throw new OutOfOrderError(t.ts_event_ns, cluster.last);
      this.lateCount++;
      return null;
    }
    if (gap <= this.o.gapNs) {
      cluster.extend(t, this.o.multiplier);
      return null;
    }
    const closed = cluster.judge(this.o);
    cluster.start(t, this.o.multiplier);
    return closed;
  }

  /** Close the open cluster (end of input, or a snap that should not wait for the next print). */
  flush(): SweepDetection | null {
    if (!this.open) return null;
    this.open = false;
    return this.cluster.judge(this.o);
  }

  clear(): void {
    this.open = false;
    this.lateCount = 0;
  }
}

export interface SweepDetectorOptions extends SweepClustererConfig {
  onLate?: (t: FuturesTrade) => void;
}

/**
 * Emits each qualifying cluster once it is closed: by the first print more than the gap after its last print, or by
 * completion of the source.
 *
 * ```
 * gap 100 ms, min notional 500,000, 1-lots at 6870: a b c BUY at 0, 50, 100 ms; d BUY at 250 ms; f BUY at 300 ms
 * source: -a-b-c---d-f-|
 * output: ---------S---(T|)   S {UP, 3 prints, 100 ms, 1,030,500} closed by d (150 ms > gap after c);
 *                             T {UP, 2 prints, 50 ms, 687,000} closed by completion
 * source: -a-b-c---d-e-|      e SELL at 300 ms: {d, e} is two-sided, nothing more is emitted
 * output: ---------S---|
 * source: -a-b-#              an error discards the open cluster
 * output: -----#
 * ```
 *
 * Unsubscribing drops the open cluster.
 */
export function sweepDetector(options: SweepDetectorOptions = {}): OperatorFunction<FuturesTrade, SweepDetection> {
  const { onLate } = options;
  new SweepClusterer(options);
  return (source) =>
    defer(() => {
      const clusterer = new SweepClusterer(options);
      return concat(
        source.pipe(
          map((t) => {
            const late = clusterer.late;
            const d = clusterer.push(t);
            if (onLate !== undefined && clusterer.late !== late) onLate(t);
            return d;
          }),
          filter((d): d is SweepDetection => d !== null),
        ),
        defer(() => {
          const last = clusterer.flush();
          return last === null ? EMPTY : of(last);
        }),
      ).pipe(finalize(() => clusterer.clear()));
    });
}
