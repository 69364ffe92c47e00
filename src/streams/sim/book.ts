/**
 * A price-level order book on integer ticks. Levels beyond what has ever been looked at are materialised lazily from a
 * depth profile the simulator supplies, so the book is effectively unbounded in depth while only the top ~10 levels
 * cost anything. Invariant: bids live only at ticks ≤ best bid, asks only at ticks ≥ best ask, best bid < best ask.
 */
import type { BidAskLevel } from '../../common/event-types.js';

export const BID = 0;
export const ASK = 1;
export type Side = typeof BID | typeof ASK;

export const TICK = 0.25;
export const DEPTH = 10;
/** How far a scan may look for the next non-empty level before the book is considered broken. */
const MAX_SCAN = 4000;

/** Size for a level that is first looked at: side, tick, and its distance in ticks from that side's touch. */
export type DepthProfile = (side: Side, tick: number, distance: number) => number;

export class Book {
  private readonly base: number;
  private readonly sizes: [Int32Array, Int32Array];
  private readonly known: [Uint8Array, Uint8Array];
  private readonly bestTick: [number, number];

  constructor(
    bestBid: number,
    private readonly profile: DepthProfile,
    halfRange = 40_000,
  ) {
    this.base = bestBid - halfRange;
    const n = 2 * halfRange + 1;
    this.sizes = [new Int32Array(n), new Int32Array(n)];
    this.known = [new Uint8Array(n), new Uint8Array(n)];
    this.bestTick = [bestBid, bestBid + 1];
    this.ensure(BID, bestBid);
    this.ensure(ASK, bestBid + 1);
  }

  private idx(tick: number): number {
    const i = tick - this.base;
    if (i < 0 || i >= this.sizes[0].length) throw new RangeError(`sim book: tick ${tick} outside the simulated range`);
    return i;
  }

  private ensure(side: Side, tick: number): number {
    const i = this.idx(tick);
    if (this.known[side][i] === 0) {
      this.known[side][i] = 1;
      this.sizes[side][i] = Math.max(1, Math.round(this.profile(side, tick, Math.abs(tick - this.bestTick[side]))));
    }
    return this.sizes[side][i]!;
  }

  best(side: Side): number {
    return this.bestTick[side];
  }

  /** One tick further from the touch on `side` (down for bids, up for asks). */
  static deeper(side: Side): number {
    return side === BID ? -1 : 1;
  }

  /** True when `a` is a better (more aggressive) price than `b` on `side`. */
  static better(side: Side, a: number, b: number): boolean {
    return side === BID ? a > b : a < b;
  }

  spread(): number {
    return this.bestTick[ASK] - this.bestTick[BID];
  }

  size(side: Side, tick: number): number {
    if (side === BID ? tick > this.bestTick[BID] : tick < this.bestTick[ASK]) return 0;
    return this.ensure(side, tick);
  }

  /** Whether a resting size has already been drawn for this tick (used to avoid overwriting what was shown). */
  isKnown(side: Side, tick: number): boolean {
    return this.known[side][this.idx(tick)] === 1;
  }

  /** Tick of the k-th non-empty level (0 = touch). */
  nthTick(side: Side, k: number): number {
    const step = Book.deeper(side);
    let tick = this.bestTick[side];
    let seen = 0;
    for (let n = 0; n < MAX_SCAN; n++, tick += step) {
      if (this.ensure(side, tick) > 0) {
        if (seen === k) return tick;
        seen++;
      }
    }
    throw new RangeError('sim book: no liquidity found');
  }

  /** Whether `tick` lies within the published top-10 range of `side` (between the touch and the 10th level). */
  isVisible(side: Side, tick: number): boolean {
    const edge = this.nthTick(side, DEPTH - 1);
    return side === BID ? tick <= this.bestTick[BID] && tick >= edge : tick >= this.bestTick[ASK] && tick <= edge;
  }

  /** Rest `qty` at `tick`; the tick must not cross the opposite touch. */
  add(side: Side, tick: number, qty: number): void {
    const other = side === BID ? ASK : BID;
    if (side === BID ? tick >= this.bestTick[ASK] : tick <= this.bestTick[BID]) {
      throw new RangeError(`sim book: ${side === BID ? 'bid' : 'ask'} at ${tick} would cross`);
    }
    const i = this.idx(tick);
    this.ensure(side, tick);
    if (Book.better(side, tick, this.bestTick[side])) {
      // Ticks between the old and the new touch hold nothing on this side: mark them known-empty, not lazily deep.
      for (let t = this.bestTick[side] - Book.deeper(side); t !== tick; t -= Book.deeper(side)) {
        const j = this.idx(t);
        this.known[side][j] = 1;
        this.sizes[side][j] = 0;
      }
      this.known[side][i] = 1;
      this.sizes[side][i] = 0;
      this.bestTick[side] = tick;
    }
    this.sizes[side][i]! += qty;
    // The opposite side may later reach this tick again; it should then draw fresh depth rather than show a stale hole.
    this.known[other][i] = 0;
    this.sizes[other][i] = 0;
  }

  /** Take `qty` (≤ resting size) from `tick`; an emptied touch moves to the next non-empty level. */
  remove(side: Side, tick: number, qty: number): void {
    const i = this.idx(tick);
    const have = this.ensure(side, tick);
    if (qty > have || qty < 0) throw new RangeError(`sim book: cannot remove ${qty} of ${have}`);
    this.sizes[side][i] = have - qty;
    if (tick === this.bestTick[side] && have === qty) this.bestTick[side] = this.nthTick(side, 0);
  }

  /**
   * Overwrite the size of a level that is not on show (deeper than the published top 10, or never looked at), to stage
   * depth before price gets there. Returns false when the tick is on the other side of the market.
   */
  stage(side: Side, tick: number, qty: number): boolean {
    if (side === BID ? tick > this.bestTick[BID] : tick < this.bestTick[ASK]) return false;
    const i = this.idx(tick);
    this.known[side][i] = 1;
    this.sizes[side][i] = qty;
    return true;
  }

  /** The top-10 image, index 0 = best; every level is non-empty because the profile never returns less than 1. */
  image(): BidAskLevel[] {
    const out: BidAskLevel[] = [];
    let b = this.bestTick[BID];
    let a = this.bestTick[ASK];
    for (let k = 0; k < DEPTH; k++) {
      let bs = this.ensure(BID, b);
      for (let n = 0; bs === 0 && n < MAX_SCAN; n++) bs = this.ensure(BID, --b);
      let as = this.ensure(ASK, a);
      for (let n = 0; as === 0 && n < MAX_SCAN; n++) as = this.ensure(ASK, ++a);
      out.push({ bid_px: b * TICK, bid_sz: bs, ask_px: a * TICK, ask_sz: as });
      b--;
      a++;
    }
    return out;
  }
}
