/**
 * TapeEngine — momentum of the prints near a level (ENGINES.md §5).
 *
 * For a level `L` over `[now − W_t, now]` (closed, W-19): `buy_vol`/`sell_vol` of the BUY/SELL prints within
 * `±TAPE_BAND` of `L` (integer ticks of `ES_TICK_SIZE`; MID prints ignored), their imbalance, the tape velocity (OLS
 * slope of every print of `[now − W_v, now]`, no band — `VelocityWindow`), the largest one-sided sweep cluster among
 * the near-level prints (the rule of `detectSweep` in `../sweeps.ts`), and `confidence = min(1, (buy + sell) /
 * TAPE_CONFIDENCE_SCALE)`.
 *
 * Departures from REF (ENGINES.md §18):
 * - W-15: `imbalance = total == 0 ? 0 : (buy − sell) / total`; REF divides by `total + 1e-6` (`refImbalance`), so
 *   a one-sided tape reads ±0.99999995 instead of ±1.
 * - W-16: velocity is `VelocityWindow`'s centred closed-form OLS (REF `polyfit`), 0 on zero time variance.
 * - W-19: windows end at the snap time `now`, not at the last appended print.
 * - W-17/W-21: incremental. Every print is kept once for `W_t` (to back-fill a level tracked later) and pushed into
 *   each tracked band it falls in. A band keeps its prints in a deque with running buy/sell sums and its sweep
 *   clusters: the open (newest) cluster and the oldest one change — the oldest loses prints as they leave the window —
 *   while the clusters between them are sealed and feed a monotonic deque that yields the largest qualifying one
 *   (earliest on ties). A query judges at most three clusters. Per print: O(levels); per query: O(1) amortised.
 *   Levels with the same band share one state. Cluster notionals are running sums of `price·size·multiplier`,
 *   exact for tick prices (multiples of 12.5 $ at the seed values), so they equal the reference's in-order sums.
 *
 * Time: events in canonical order; `metrics(…, now)` expects every print with `ts ≤ now` applied and `now` never
 * going backwards; a print older than the engine's clock is dropped and counted in `late`.
 */
import { CONFIG, type Config } from '../../common/config.js';
import { Aggressor, isFuturesTrade, type FuturesTrade, type MarketEvent } from '../../common/event-types.js';
import { secondsToNs } from '../event-time-window.js';
import { noSweep, type SweepDetection } from '../sweeps.js';
import { VelocityWindow } from '../velocity.js';
import { LevelRanges } from './level-ranges.js';

/** ENGINES.md §5 output. */
export interface TapeMetrics {
  imbalance: number;
  buy_vol: number;
  sell_vol: number;
  velocity: number;
  sweep: SweepDetection;
  confidence: number;
}

export interface TapeOptions {
  /** Bands, thresholds and defaults (default `CONFIG`). */
  readonly config?: Config;
  /** Imbalance/sweep window, s (default `config.W_t`). */
  readonly windowS?: number;
  /** Velocity window, s (default `config.W_v`). */
  readonly velocityWindowS?: number;
  /** Half-width of the near-level band, points (default `config.TAPE_BAND`). */
  readonly band?: number;
  /** Sweep rules (defaults from `config`: `SWEEP_MAX_GAP_MS`, `SWEEP_MIN_NOTIONAL`, `SWEEP_MIN_PRINTS`, …). */
  readonly sweepMaxGapMs?: number;
  readonly sweepMinNotional?: number;
  readonly sweepMinPrints?: number;
  readonly minNearLevelPrints?: number;
  readonly multiplier?: number;
  /** REF imbalance `(b − s)/(b + s + 1e-6)` instead of W-15 (default false). */
  readonly refImbalance?: boolean;
}

/** Options that reproduce the reference's arithmetic. */
export const REF_TAPE_PARITY = { refImbalance: true } as const satisfies TapeOptions;

interface SweepRules {
  readonly gapNs: bigint;
  readonly minNotional: number;
  readonly minPrints: number;
  readonly minNear: number;
  readonly multiplier: number;
}

/** A run of near-level prints with gaps ≤ the sweep gap. */
class Cluster {
  n = 0;
  buys = 0;
  sells = 0;
  notional = 0;
  first: bigint;
  last: bigint;

  constructor(ts: bigint) {
    this.first = ts;
    this.last = ts;
  }

  qualifies(r: SweepRules): boolean {
    return (
      this.n >= r.minPrints && this.notional >= r.minNotional && (this.buys > 0 ? this.sells === 0 : this.sells > 0)
    );
  }

  detection(): SweepDetection {
    return {
      detected: true,
      direction: this.buys > 0 ? 'UP' : 'DOWN',
      notional: this.notional,
      num_prints: this.n,
      window_ms: Number(this.last - this.first) / 1e6,
      venues: null,
      start_ts_ns: this.first,
      end_ts_ns: this.last,
    };
  }
}

/** Windowed state of one near-level band. */
class Band {
  private ts: bigint[] = [];
  private notional: number[] = [];
  private size: number[] = [];
  private side: number[] = [];
  private head = 0;
  buy = 0;
  sell = 0;

  private clusters: Cluster[] = [];
  private cHead = 0;
  // Sealed qualifying clusters strictly between the oldest and the open one, notional non-increasing.
  private mono: Cluster[] = [];
  private mHead = 0;

  constructor(
    readonly lo: number,
    readonly hi: number,
    private readonly rules: SweepRules,
  ) {}

  get count(): number {
    return this.ts.length - this.head;
  }

  push(ts: bigint, notional: number, size: number, side: number): void {
    this.ts.push(ts);
    this.notional.push(notional);
    this.size.push(size);
    this.side.push(side);
    if (side === Aggressor.BUY) this.buy += size;
    else if (side === Aggressor.SELL) this.sell += size;

    const clusters = this.clusters;
    let open = this.cHead < clusters.length ? clusters[clusters.length - 1]! : null;
    if (open === null || ts - open.last > this.rules.gapNs) {
      if (open !== null && open !== clusters[this.cHead]) this.seal(open);
      open = new Cluster(ts);
      clusters.push(open);
    }
    open.n++;
    if (side === Aggressor.BUY) open.buys++;
    else if (side === Aggressor.SELL) open.sells++;
    open.notional += notional;
    open.last = ts;
  }

  evict(cutoff: bigint): void {
    const ts = this.ts;
    const end = ts.length;
    let head = this.head;
    if (head >= end || ts[head]! >= cutoff) return;
    const clusters = this.clusters;
    while (head < end && ts[head]! < cutoff) {
      const size = this.size[head]!;
      const side = this.side[head]!;
      if (side === Aggressor.BUY) this.buy -= size;
      else if (side === Aggressor.SELL) this.sell -= size;
      const front = clusters[this.cHead]!;
      front.n--;
      if (side === Aggressor.BUY) front.buys--;
      else if (side === Aggressor.SELL) front.sells--;
      front.notional -= this.notional[head]!;
      head++;
      if (front.n === 0) {
        this.cHead++;
        // The next cluster becomes the oldest and starts to shrink: it leaves the sealed set.
        if (this.mHead < this.mono.length && this.mono[this.mHead] === clusters[this.cHead]) this.mHead++;
      } else {
        front.first = ts[head]!;
      }
    }
    if (head === end) {
      this.ts = [];
      this.notional = [];
      this.size = [];
      this.side = [];
      this.head = 0;
      this.buy = this.sell = 0;
      this.clusters = [];
      this.cHead = 0;
      this.mono = [];
      this.mHead = 0;
      return;
    }
    this.head = head;
    if (head >= 1024 && head * 2 >= end) {
      this.ts = ts.slice(head);
      this.notional = this.notional.slice(head);
      this.size = this.size.slice(head);
      this.side = this.side.slice(head);
      this.head = 0;
    }
    if (this.cHead >= 256 && this.cHead * 2 >= clusters.length) {
      this.clusters = clusters.slice(this.cHead);
      this.cHead = 0;
    }
    if (this.mHead >= 256 && this.mHead * 2 >= this.mono.length) {
      this.mono = this.mono.slice(this.mHead);
      this.mHead = 0;
    }
  }

  /** The strictly largest qualifying cluster, earliest on ties (oldest, then sealed, then open). */
  sweep(): SweepDetection {
    const r = this.rules;
    if (this.count < r.minNear || this.count === 0) return noSweep();
    const clusters = this.clusters;
    const oldest = clusters[this.cHead]!;
    const open = clusters[clusters.length - 1]!;
    let best: Cluster | null = oldest.qualifies(r) ? oldest : null;
    if (this.mHead < this.mono.length) {
      const m = this.mono[this.mHead]!;
      if (best === null || m.notional > best.notional) best = m;
    }
    if (open !== oldest && open.qualifies(r) && (best === null || open.notional > best.notional)) best = open;
    return best === null ? noSweep() : best.detection();
  }

  private seal(c: Cluster): void {
    if (!c.qualifies(this.rules)) return;
    const mono = this.mono;
    while (mono.length > this.mHead && mono[mono.length - 1]!.notional < c.notional) mono.pop();
    mono.push(c);
  }
}

export class TapeEngine {
  private readonly config: Config;
  private readonly windowNs: bigint;
  private readonly bandWidth: number;
  private readonly tickSize: number;
  private readonly rules: SweepRules;
  private readonly refImbalance: boolean;
  private readonly velocityWindow: VelocityWindow;

  private readonly ranges: LevelRanges<Band>;

  // Every print of the last W_t, for back-filling a band tracked later.
  private ts: bigint[] = [];
  private tick: number[] = [];
  private notional: number[] = [];
  private size: number[] = [];
  private side: number[] = [];
  private head = 0;

  private clock: bigint | null = null;
  private lateCount = 0;
  private velocityAt: bigint | null = null;
  private velocityValue = 0;

  constructor(options: TapeOptions = {}) {
    const config = options.config ?? CONFIG;
    this.config = config;
    this.windowNs = secondsToNs(options.windowS ?? config.W_t, 'W_t');
    this.velocityWindow = new VelocityWindow({ windowS: options.velocityWindowS ?? config.W_v });
    this.bandWidth = options.band ?? config.TAPE_BAND;
    this.tickSize = config.ES_TICK_SIZE;
    const gapMs = options.sweepMaxGapMs ?? config.SWEEP_MAX_GAP_MS;
    if (!(Number.isFinite(gapMs) && gapMs >= 0)) throw new RangeError(`sweepMaxGapMs must be ≥ 0, got ${gapMs}`);
    this.rules = {
      gapNs: BigInt(Math.round(gapMs * 1e6)),
      minNotional: options.sweepMinNotional ?? config.SWEEP_MIN_NOTIONAL,
      minPrints: options.sweepMinPrints ?? config.SWEEP_MIN_PRINTS,
      minNear: options.minNearLevelPrints ?? config.TAPE_MIN_NEAR_LEVEL_PRINTS,
      multiplier: options.multiplier ?? config.ES_CONTRACT_MULTIPLIER,
    };
    this.refImbalance = options.refImbalance ?? false;
    this.ranges = new LevelRanges<Band>(this.bandWidth, this.tickSize, (lo, hi) => {
      const band = new Band(lo, hi, this.rules);
      for (let i = this.head; i < this.ts.length; i++) {
        const t = this.tick[i]!;
        if (t >= lo && t <= hi) band.push(this.ts[i]!, this.notional[i]!, this.size[i]!, this.side[i]!);
      }
      return band;
    });
  }

  /** Prints dropped as older than the engine's clock. */
  get late(): number {
    return this.lateCount;
  }

  /** Start (or move) a level; a level tracked mid-stream is back-filled from the prints of the last `W_t`. */
  track(levelId: string, price: number): void {
    this.ranges.track(levelId, price);
  }

  untrack(levelId: string): void {
    this.ranges.untrack(levelId);
  }

  /** Make the tracked set exactly `levels` (ids not listed are dropped; moved prices re-tracked). */
  syncLevels(levels: Iterable<{ readonly id: string; readonly price: number }>): void {
    this.ranges.sync(levels);
  }

  isTracked(levelId: string): boolean {
    return this.ranges.has(levelId);
  }

  onEvent(e: MarketEvent): void {
    if (isFuturesTrade(e)) this.onTrade(e);
  }

  onTrade(t: FuturesTrade): void {
    const ts = t.ts_event_ns;
    if (this.clock !== null && ts < this.clock) {
      this.lateCount++;
      return;
    }
    this.clock = ts;
    const tick = Math.round(t.price / this.tickSize);
    const notional = t.price * t.size * this.rules.multiplier;
    const side: number = t.aggressor;
    this.ts.push(ts);
    this.tick.push(tick);
    this.notional.push(notional);
    this.size.push(t.size);
    this.side.push(side);
    this.velocityWindow.add(ts, t.price);
    this.velocityAt = null;
    const cutoff = ts - this.windowNs;
    for (const band of this.ranges.list) {
      if (tick >= band.lo && tick <= band.hi) {
        band.evict(cutoff);
        band.push(ts, notional, t.size, side);
      }
    }
    this.evictPrints(cutoff);
  }

  /** Velocity (points/s) of every print of `[now − W_v, now]`. */
  velocity(now: bigint): number {
    this.advanceTo(now);
    if (this.velocityAt !== now) {
      this.velocityValue = this.velocityWindow.slopeAt(now);
      this.velocityAt = now;
    }
    return this.velocityValue;
  }

  /**
   * Tape metrics of a tracked level at `now`. Throws for an untracked id or a `now` earlier than an applied print or
   * a previous query.
   */
  metrics(levelId: string, now: bigint): TapeMetrics {
    const band = this.ranges.get(levelId);
    if (band === undefined) throw new Error(`tape: level ${levelId} is not tracked`);
    const velocity = this.velocity(now);
    const cutoff = now - this.windowNs;
    this.evictPrints(cutoff);
    band.evict(cutoff);
    const { buy, sell } = band;
    const total = buy + sell;
    const imbalance = this.refImbalance ? (buy - sell) / (total + 1e-6) : total === 0 ? 0 : (buy - sell) / total;
    return {
      imbalance,
      buy_vol: buy,
      sell_vol: sell,
      velocity,
      sweep: band.sweep(),
      confidence: Math.min(1, total / this.config.TAPE_CONFIDENCE_SCALE),
    };
  }

  private advanceTo(now: bigint): void {
    if (this.clock !== null && now < this.clock) {
      throw new RangeError(`tape: now ${now} is before the engine clock ${this.clock}`);
    }
    this.clock = now;
  }

  private evictPrints(cutoff: bigint): void {
    const ts = this.ts;
    const end = ts.length;
    let head = this.head;
    while (head < end && ts[head]! < cutoff) head++;
    if (head === end) {
      if (end > 0) {
        this.ts = [];
        this.tick = [];
        this.notional = [];
        this.size = [];
        this.side = [];
        this.head = 0;
      }
      return;
    }
    this.head = head;
    if (head >= 1024 && head * 2 >= end) {
      this.ts = ts.slice(head);
      this.tick = this.tick.slice(head);
      this.notional = this.notional.slice(head);
      this.size = this.size.slice(head);
      this.side = this.side.slice(head);
      this.head = 0;
    }
  }
}
