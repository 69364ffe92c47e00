/**
 * BarrierEngine — liquidity at a level from MBP-10 depth changes and the prints that explain them (ENGINES.md §4).
 *
 * For a level `L` and a defending side (SUPPORT → bid, RESISTANCE → ask), over the MBP-10 images `H` of
 * `[now − W_b, now]`: each consecutive pair `(H[i−1], H[i])` changes the side's depth in the zone `[L − z, L + z]`
 * (`z = BARRIER_ZONE_ES_TICKS` ticks) by `Δ`. A rise is `added`; a drop of `lost` is split into `filled` (explained by
 * prints hitting the defending side inside the zone during the pair) and `canceled`. The window's sums give
 * `delta_liq = added − canceled − filled`, the replenishment ratio and a state.
 *
 * Window membership (decided here, matching REF): a pair counts iff both its images are in the window
 * (`t_prev ≥ now − W_b`), so `|H| < 2` — fewer than two images in the window — gives NEUTRAL metrics. Depth and the
 * defending quote are read from the last image. Band tests use integer ticks of `ES_TICK_SIZE`.
 *
 * Departures from REF (ENGINES.md §18), each with a parity option so REF's numbers stay testable:
 * - W-03: `filled = min(lost, V + fillTolerance)`, `canceled = max(0, lost − V)` with `fillTolerance` 0, i.e.
 *   `filled = min(lost, V)`, `canceled = lost − filled`. REF uses a tolerance of 1 (`CONFIG.BARRIER_FILL_TOLERANCE`,
 *   kept there for parity), which books one phantom contract per unexplained drop.
 * - W-02: `R = added / max(canceled + filled, 1)`; REF `added / (canceled + filled + 1e-6)` (`refRatio`) reads
 *   2.5e8 when nothing was removed.
 * - W-01: VACUUM also needs `canceled ≥ filled` (`vacuumRequiresCancels`), so fill-driven depletion falls through
 *   to CONSUMED instead of reading as pulled liquidity.
 * - W-31: a pair's zone change sums per-price changes only over prices both images can see, so levels scrolling into
 *   or out of the top 10 are neither adds nor cancels (REF differences the two zone sums). The default reading,
 *   `visibility: 'visible_range'`, treats a price absent from an image but inside the range it shows as size 0, so a
 *   best bid hit until it vanishes still counts as filled/canceled; `'both_images'` compares only prices present in
 *   both images (see `BookVisibility`).
 * - W-32: a print belongs to the pair whose interval `(t_prev, t_curr]` holds its time (REF: closed at both ends,
 *   so a print at a shared image time counted twice). Prints at or before the first image belong to no pair.
 * - W-17: incremental (REF rescans every pair and every print per level per snap). Each image is differenced once
 *   against the previous one into sparse per-price changes, with the defending prints since the previous image per
 *   price. Pairs that change depth are kept, flat, for `W_b`; each tracked zone adds a pair's contribution to running
 *   sums when the pair is committed and subtracts it (recomputed from the same integers, so exactly) when the pair
 *   leaves the window, and a zone tracked later is back-filled once from the kept pairs. Levels with the same zone
 *   share one set of sums. Per image: O(zones × changed prices); per query: O(1) amortised + the 10 slots of the
 *   last image. Memory: the changed prices and defending prints of `W_b`, whatever the number of levels.
 *
 * Time: events in canonical order; `metrics(…, now)` expects every event with `ts ≤ now` applied and none after
 * (§17.2), and `now` never going backwards. A pair is committed once time has moved past its `t_curr` (or a query
 * reaches it), because a print with the same timestamp as the image may still arrive after it. An event older than
 * the engine's clock is dropped and counted in `late`.
 */
import { CONFIG, type Config } from '../../common/config.js';
import {
  Aggressor,
  isFuturesTrade,
  isMbp10,
  type FuturesTrade,
  type MarketEvent,
  type MBP10,
} from '../../common/event-types.js';
import { secondsToNs } from '../event-time-window.js';
import { BarrierState, type LevelDirection } from './types.js';
import { LevelRanges } from './level-ranges.js';

/** Level-0 quote of the defending side (`price` 0.0 when the slot is empty). */
export interface DefendingQuote {
  price: number;
  size: number;
}

/** ENGINES.md §4 output. */
export interface BarrierMetrics {
  state: BarrierState;
  delta_liq: number;
  replenishment_ratio: number;
  added_size: number;
  canceled_size: number;
  filled_size: number;
  churn: number;
  defending_quote: DefendingQuote;
  confidence: number;
  depth_in_zone: number;
}

export interface BarrierOptions {
  /** Thresholds and zone (default `CONFIG`). */
  readonly config?: Config;
  /** Look-back in seconds (default `config.W_b`). */
  readonly windowS?: number;
  /** Contracts added to V before capping `filled` (default 0, W-03; REF 1). */
  readonly fillTolerance?: number;
  /** REF ratio `added / (removed + 1e-6)` instead of W-02's `added / max(removed, 1)` (default false). */
  readonly refRatio?: boolean;
  /** W-01 guard: VACUUM needs `canceled ≥ filled` (default true; REF false). */
  readonly vacuumRequiresCancels?: boolean;
  /** Which prices a pair compares (W-31); default `'visible_range'`. */
  readonly visibility?: BookVisibility;
}

/**
 * W-31 reading. `'both_images'`: a price counts only when present in both images. `'visible_range'` (default): a
 * price also counts when absent from one image but inside the price range that image shows (a full top-10 side shows
 * prices up to its 10th level; a side with empty slots shows everything), so a best level that is hit until it
 * vanishes reads as removed depth instead of nothing.
 */
export type BookVisibility = 'both_images' | 'visible_range';

/** Options that reproduce the reference's arithmetic (for parity tests and comparisons). */
export const REF_BARRIER_PARITY = {
  fillTolerance: 1,
  refRatio: true,
  vacuumRequiresCancels: false,
} as const satisfies BarrierOptions;

/** The metrics with no data: NEUTRAL, every number 0, quote `{0.0, 0}`. */
export function neutralBarrierMetrics(): BarrierMetrics {
  return {
    state: BarrierState.NEUTRAL,
    delta_liq: 0,
    replenishment_ratio: 0,
    added_size: 0,
    canceled_size: 0,
    filled_size: 0,
    churn: 0,
    defending_quote: { price: 0, size: 0 },
    confidence: 0,
    depth_in_zone: 0,
  };
}

/** The inputs of the state rules of §4 step 7. */
export interface BarrierClassInput {
  delta_liq: number;
  replenishment_ratio: number;
  canceled: number;
  filled: number;
  depth_in_zone: number;
  churn: number;
}

/** §4 step 7, first match wins; `vacuumRequiresCancels` is W-01. */
export function classifyBarrier(
  x: BarrierClassInput,
  config: Config = CONFIG,
  vacuumRequiresCancels = true,
): BarrierState {
  const f = config.F_thresh;
  const d = x.delta_liq;
  const r = x.replenishment_ratio;
  if (r < config.R_vac && d < -f && (!vacuumRequiresCancels || x.canceled >= x.filled)) return BarrierState.VACUUM;
  if (r > config.R_wall && d > f) return BarrierState.WALL;
  if (d < -f && x.filled > x.canceled) return BarrierState.CONSUMED;
  if (d > 0 && r > config.BARRIER_ABSORPTION_RATIO) return BarrierState.ABSORPTION;
  if (x.depth_in_zone < config.BARRIER_WEAK_DEPTH) return BarrierState.WEAK;
  if (Math.abs(d) < f / 2 && x.churn > f) return BarrierState.ABSORPTION;
  return BarrierState.NEUTRAL;
}

/**
 * A depth-changing pair awaiting commit. `bid`/`ask`: interleaved `(tick, Δsize)` for prices present in both images;
 * `bidV`/`askV`: interleaved `(tick, size)` of prints hitting the bid (SELL) / lifting the ask (BUY) in the pair.
 */
interface Pair {
  readonly tPrev: bigint;
  readonly bid: number[];
  readonly ask: number[];
  bidV: number[];
  askV: number[];
}

const BID_DELTA = 0;
const ASK_DELTA = 1;
const BID_PRINT = 2;
const ASK_PRINT = 3;

/**
 * Windowed sums of one (zone, side). A pair's contribution is a function of its zone change `d` and defending
 * volume `v`, recomputed from the pair's entries when it leaves the window, so add and remove cancel exactly.
 */
class SideSums {
  added = 0;
  filled = 0;
  canceled = 0;
  removed = 0;

  constructor(private readonly tolerance: number) {}

  apply(d: number, v: number, sign: number): void {
    if (d > 0) {
      this.added += sign * d;
      return;
    }
    const lost = -d;
    this.filled += sign * Math.min(lost, v + this.tolerance);
    this.canceled += sign * Math.max(0, lost - v);
    this.removed += sign * lost;
  }

  reset(): void {
    this.added = this.filled = this.canceled = this.removed = 0;
  }
}

interface Zone {
  readonly lo: number;
  readonly hi: number;
  readonly bid: SideSums;
  readonly ask: SideSums;
}

/** Present levels (size > 0) of one side of an image, as ticks and sizes, and the price range the image shows. */
class SideImage {
  ticks = new Float64Array(16);
  sizes = new Float64Array(16);
  n = 0;
  /** Every slot is populated, so prices beyond `worst` are out of view (unknown), not empty. */
  full = false;
  /** Lowest present bid / highest present ask tick. */
  worst = 0;

  load(m: MBP10, bid: boolean, tickSize: number): void {
    const levels = m.levels;
    if (levels.length > this.ticks.length) {
      this.ticks = new Float64Array(levels.length);
      this.sizes = new Float64Array(levels.length);
    }
    let n = 0;
    let worst = bid ? Infinity : -Infinity;
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i]!;
      const sz = bid ? l.bid_sz : l.ask_sz;
      if (sz > 0) {
        const tick = Math.round((bid ? l.bid_px : l.ask_px) / tickSize);
        this.ticks[n] = tick;
        this.sizes[n] = sz;
        if (bid ? tick < worst : tick > worst) worst = tick;
        n++;
      }
    }
    this.n = n;
    this.full = n > 0 && n === levels.length;
    this.worst = worst;
  }

  /** Whether the image tells the depth at `tick` (an absent price in view has depth 0). */
  shows(tick: number, bid: boolean): boolean {
    return !this.full || (bid ? tick >= this.worst : tick <= this.worst);
  }

  indexOf(tick: number, hint: number): number {
    const t = this.ticks;
    // Books mostly keep their shape between images, so the same slot is the likely match.
    if (hint < this.n && t[hint] === tick) return hint;
    for (let k = 0; k < this.n; k++) if (t[k] === tick) return k;
    return -1;
  }
}

const EMPTY: number[] = [];

/**
 * Per-price changes of one side (W-31). `'both_images'`: only prices present in both images. `'visible_range'`: also
 * a price present in one image and in view but absent in the other (depth 0 there), so a level that is emptied or
 * appears inside the shown range counts, while one scrolling past the 10th level does not.
 */
function diffSide(prev: SideImage, curr: SideImage, bid: boolean, visibility: BookVisibility): number[] {
  let out: number[] | null = null;
  const range = visibility === 'visible_range';
  const cs = curr.sizes;
  const ps = prev.sizes;
  for (let i = 0; i < curr.n; i++) {
    const tick = curr.ticks[i]!;
    const j = prev.indexOf(tick, i);
    let d: number;
    if (j >= 0) d = cs[i]! - ps[j]!;
    else if (range && prev.shows(tick, bid)) d = cs[i]!;
    else continue;
    if (d !== 0) (out ??= []).push(tick, d);
  }
  if (range) {
    for (let j = 0; j < prev.n; j++) {
      const tick = prev.ticks[j]!;
      if (curr.indexOf(tick, j) < 0 && curr.shows(tick, bid)) (out ??= []).push(tick, -ps[j]!);
    }
  }
  return out ?? EMPTY;
}

export class BarrierEngine {
  private readonly config: Config;
  private readonly windowNs: bigint;
  private readonly tickSize: number;
  private readonly zoneTicks: number;
  private readonly refRatio: boolean;
  private readonly vacuumGuard: boolean;
  private readonly visibility: BookVisibility;

  private readonly ranges: LevelRanges<Zone>;

  private lastMbp: MBP10 | null = null;
  private lastMbpTs: bigint | null = null;
  private prevMbpTs: bigint | null = null;
  private prevBid = new SideImage();
  private prevAsk = new SideImage();
  private currBid = new SideImage();
  private currAsk = new SideImage();

  // Defending prints after the last image: they belong to the next pair.
  private nextBidV: number[] = [];
  private nextAskV: number[] = [];
  // Pairs ending at the last image's time, held until time moves on; `head` still takes prints at that time.
  private pending: Pair[] = [];
  private head: Pair | null = null;
  private groupCommitted = false;

  /*
   * Committed depth-changing pairs of the last W_b, flat: pair `i` starts at absolute entry offset `ringStart[i]`
   * of `pool` (`poolBase` = offset of `pool[0]`), whose entries are `(kind, tick, value)` triplets. They back-fill
   * new zones and, on leaving the window, are subtracted from every zone: no zone keeps a deque of its own.
   */
  private ringT: bigint[] = [];
  private ringStart: number[] = [];
  private ringHead = 0;
  private pool: number[] = [];
  private poolBase = 0;

  private clock: bigint | null = null;
  private lateCount = 0;

  constructor(options: BarrierOptions = {}) {
    const config = options.config ?? CONFIG;
    this.config = config;
    this.windowNs = secondsToNs(options.windowS ?? config.W_b, 'W_b');
    this.tickSize = config.ES_TICK_SIZE;
    this.zoneTicks = config.BARRIER_ZONE_ES_TICKS;
    const tol = options.fillTolerance ?? 0;
    if (!(Number.isFinite(tol) && tol >= 0)) throw new RangeError(`fillTolerance must be ≥ 0, got ${String(tol)}`);
    this.refRatio = options.refRatio ?? false;
    this.vacuumGuard = options.vacuumRequiresCancels ?? true;
    this.visibility = options.visibility ?? 'visible_range';
    this.ranges = new LevelRanges<Zone>(this.zoneTicks * this.tickSize, this.tickSize, (lo, hi) => {
      const zone: Zone = { lo, hi, bid: new SideSums(tol), ask: new SideSums(tol) };
      for (let i = this.ringHead; i < this.ringT.length; i++) this.applyPair(zone, i, 1);
      return zone;
    });
  }

  /** Events dropped as older than the engine's clock. */
  get late(): number {
    return this.lateCount;
  }

  /** Start (or move) a level; a level tracked mid-stream is back-filled from the pairs of the last `W_b`. */
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
    if (isMbp10(e)) this.onMbp10(e);
    else if (isFuturesTrade(e)) this.onTrade(e);
  }

  onTrade(t: FuturesTrade): void {
    const ts = t.ts_event_ns;
    if (!this.advance(ts)) return;
    const ag = t.aggressor;
    if (ag !== Aggressor.SELL && ag !== Aggressor.BUY) return;
    if (this.lastMbpTs === null) return;
    const tick = Math.round(t.price / this.tickSize);
    if (ts === this.lastMbpTs) {
      const head = this.head;
      if (head !== null) {
        if (ag === Aggressor.SELL) (head.bidV === EMPTY ? (head.bidV = []) : head.bidV).push(tick, t.size);
        else (head.askV === EMPTY ? (head.askV = []) : head.askV).push(tick, t.size);
      } else if (this.groupCommitted) {
        // Its pair was already reported at a snap at this very time: the §17.2 contract was broken upstream.
        this.lateCount++;
      }
      return;
    }
    if (ag === Aggressor.SELL) this.nextBidV.push(tick, t.size);
    else this.nextAskV.push(tick, t.size);
  }

  onMbp10(m: MBP10): void {
    const ts = m.ts_event_ns;
    if (!this.advance(ts)) return;
    const lastTs = this.lastMbpTs;
    if (lastTs !== null && ts > lastTs) this.flush(lastTs);

    const tickSize = this.tickSize;
    this.currBid.load(m, true, tickSize);
    this.currAsk.load(m, false, tickSize);
    if (lastTs !== null) {
      const bid = diffSide(this.prevBid, this.currBid, true, this.visibility);
      const ask = diffSide(this.prevAsk, this.currAsk, false, this.visibility);
      let pair: Pair | null = null;
      if (bid !== EMPTY || ask !== EMPTY) {
        pair = { tPrev: lastTs, bid, ask, bidV: EMPTY, askV: EMPTY };
        if (this.nextBidV.length > 0) {
          pair.bidV = this.nextBidV;
          this.nextBidV = [];
        }
        if (this.nextAskV.length > 0) {
          pair.askV = this.nextAskV;
          this.nextAskV = [];
        }
        this.pending.push(pair);
      }
      if (ts > lastTs) {
        this.head = pair;
        this.groupCommitted = false;
      }
      this.prevMbpTs = lastTs;
    }
    if (this.nextBidV.length > 0) this.nextBidV = [];
    if (this.nextAskV.length > 0) this.nextAskV = [];
    this.lastMbp = m;
    this.lastMbpTs = ts;
    [this.prevBid, this.currBid] = [this.currBid, this.prevBid];
    [this.prevAsk, this.currAsk] = [this.currAsk, this.prevAsk];
  }

  /**
   * Barrier metrics of a tracked level for `direction` over `[now − W_b, now]`. Throws for an untracked id or a
   * `now` earlier than an applied event or a previous query.
   */
  metrics(levelId: string, direction: LevelDirection, now: bigint): BarrierMetrics {
    const zone = this.ranges.get(levelId);
    if (zone === undefined) throw new Error(`barrier: level ${levelId} is not tracked`);
    if (this.clock !== null && now < this.clock) {
      throw new RangeError(`barrier: now ${now} is before the engine clock ${this.clock}`);
    }
    this.clock = now;
    const lastMbp = this.lastMbp;
    if (lastMbp === null || this.lastMbpTs === null) return neutralBarrierMetrics();
    this.flush(now);
    const cutoff = now - this.windowNs;
    this.evictRing(cutoff);
    if (this.prevMbpTs === null || this.prevMbpTs < cutoff) return neutralBarrierMetrics();

    const bidSide = direction === 'SUPPORT';
    const w = bidSide ? zone.bid : zone.ask;
    const tick = this.tickSize;
    let depth = 0;
    for (const l of lastMbp.levels) {
      const t = Math.round((bidSide ? l.bid_px : l.ask_px) / tick);
      if (t >= zone.lo && t <= zone.hi) depth += bidSide ? l.bid_sz : l.ask_sz;
    }
    const best = lastMbp.levels[0];
    const quote: DefendingQuote =
      best === undefined
        ? { price: 0, size: 0 }
        : bidSide
          ? { price: best.bid_px || 0, size: best.bid_sz }
          : { price: best.ask_px || 0, size: best.ask_sz };

    const { added, filled, canceled, removed } = w;
    const delta = added - canceled - filled;
    const out = canceled + filled;
    const ratio = this.refRatio ? added / (out + 1e-6) : added / Math.max(out, 1);
    const churn = added + removed;
    const state = classifyBarrier(
      { delta_liq: delta, replenishment_ratio: ratio, canceled, filled, depth_in_zone: depth, churn },
      this.config,
      this.vacuumGuard,
    );
    return {
      state,
      delta_liq: delta,
      replenishment_ratio: ratio,
      added_size: added,
      canceled_size: canceled,
      filled_size: filled,
      churn,
      defending_quote: quote,
      confidence: Math.min(1, (added + canceled + filled) / this.config.BARRIER_CONFIDENCE_SCALE),
      depth_in_zone: depth,
    };
  }

  /** Forget all events (tracked levels stay tracked, with empty windows). */
  clear(): void {
    this.lastMbp = null;
    this.lastMbpTs = null;
    this.prevMbpTs = null;
    this.prevBid = new SideImage();
    this.prevAsk = new SideImage();
    this.nextBidV = [];
    this.nextAskV = [];
    this.pending = [];
    this.head = null;
    this.groupCommitted = false;
    this.ringT = [];
    this.ringStart = [];
    this.ringHead = 0;
    this.pool = [];
    this.poolBase = 0;
    this.clock = null;
    this.lateCount = 0;
    for (const z of this.ranges.list) {
      z.bid.reset();
      z.ask.reset();
    }
  }

  private advance(ts: bigint): boolean {
    if (this.clock !== null && ts < this.clock) {
      this.lateCount++;
      return false;
    }
    this.clock = ts;
    return true;
  }

  /** Commit the pairs ending at the last image into the ring and every tracked zone. `at` ≥ their `t_curr`. */
  private flush(at: bigint): void {
    this.head = null;
    this.groupCommitted = true;
    const pending = this.pending;
    if (pending.length === 0) return;
    this.evictRing(at - this.windowNs);
    const pool = this.pool;
    for (const pair of pending) {
      const from = pool.length;
      this.ringT.push(pair.tPrev);
      this.ringStart.push(this.poolBase + from);
      append(pool, BID_DELTA, pair.bid);
      append(pool, ASK_DELTA, pair.ask);
      if (pair.bid !== EMPTY) append(pool, BID_PRINT, pair.bidV);
      if (pair.ask !== EMPTY) append(pool, ASK_PRINT, pair.askV);
      for (const zone of this.ranges.list) this.applyEntries(zone, from, pool.length, 1);
    }
    pending.length = 0;
  }

  /** Add (`sign` 1) or remove (−1) ring pair `i` in a zone. */
  private applyPair(zone: Zone, i: number, sign: number): void {
    const end = i + 1 < this.ringT.length ? this.ringStart[i + 1]! : this.poolBase + this.pool.length;
    this.applyEntries(zone, this.ringStart[i]! - this.poolBase, end - this.poolBase, sign);
  }

  private applyEntries(zone: Zone, from: number, to: number, sign: number): void {
    const { lo, hi } = zone;
    const pool = this.pool;
    let dBid = 0;
    let dAsk = 0;
    let vBid = 0;
    let vAsk = 0;
    for (let i = from; i < to; i += 3) {
      const tick = pool[i + 1]!;
      if (tick < lo || tick > hi) continue;
      const value = pool[i + 2]!;
      switch (pool[i]) {
        case BID_DELTA:
          dBid += value;
          break;
        case ASK_DELTA:
          dAsk += value;
          break;
        case BID_PRINT:
          vBid += value;
          break;
        default:
          vAsk += value;
      }
    }
    if (dBid !== 0) zone.bid.apply(dBid, vBid, sign);
    if (dAsk !== 0) zone.ask.apply(dAsk, vAsk, sign);
  }

  private evictRing(cutoff: bigint): void {
    const ringT = this.ringT;
    const n = ringT.length;
    let h = this.ringHead;
    if (h >= n || ringT[h]! >= cutoff) return;
    const zones = this.ranges.list;
    while (h < n && ringT[h]! < cutoff) {
      for (const zone of zones) this.applyPair(zone, h, -1);
      h++;
    }
    if (h === n) {
      // An empty window restarts every sum at exactly zero.
      for (const zone of zones) {
        zone.bid.reset();
        zone.ask.reset();
      }
      this.ringT = [];
      this.ringStart = [];
      this.ringHead = 0;
      this.poolBase += this.pool.length;
      this.pool = [];
      return;
    }
    this.ringHead = h;
    if (h >= 1024 && h * 2 >= n) {
      const cut = this.ringStart[h]! - this.poolBase;
      this.ringT = ringT.slice(h);
      this.ringStart = this.ringStart.slice(h);
      this.ringHead = 0;
      this.pool = this.pool.slice(cut);
      this.poolBase += cut;
    }
  }
}

function append(pool: number[], kind: number, entries: readonly number[]): void {
  for (let i = 0; i < entries.length; i += 2) pool.push(kind, entries[i]!, entries[i + 1]!);
}
