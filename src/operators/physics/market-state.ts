/**
 * MarketState — last quote and print, session aggregates and the day's bar context (ENGINES.md §3, §13 step 4.1).
 *
 * Every event is applied as it arrives, O(1) each: spot, best bid/ask, session high/low and VWAP, pre-market and
 * opening-range high/low, epoch-aligned 1-minute bars (≤ 240 finalized + the one in progress) and 2-minute closes
 * (≤ 400) with SMA_200/SMA_400 cached when a 2-minute bar is finalized. Option flows live with the fuel engine, and the
 * windowed trade/MBP buffers of the reference live inside the barrier and tape engines, which keep exactly what their
 * windows need; so this class holds no event-time window at all.
 *
 * Departures from REF, all from ENGINES.md §18:
 * - W-26: session high/low and VWAP reset with the rest of the day-scoped context when a trade's New York date
 *   changes (REF never resets them), and the pre-market starts at `PREMARKET_START_HOUR:MINUTE` (REF hard-codes 04:00).
 * - W-24: `approach()` divides the close-to-close change by the minutes elapsed between the first and last close
 *   (REF divides by the number of closes, so a gap of an hour reads like one minute); `approachDivisor: 'count'`
 *   restores REF for parity tests.
 * - W-19/§17: `lastTs()` never falls back to the wall clock; it is `null` before the first futures event.
 */
import { CONFIG, type Config } from '../../common/config.js';
import { isFuturesTrade, isMbp10, type FuturesTrade, type MarketEvent, type MBP10 } from '../../common/event-types.js';
import type { BreakDirection } from './types.js';
import { nyTime } from '../../common/time.js';

const NS_PER_MINUTE = 60_000_000_000n;
const NS_PER_TWO_MINUTES = 120_000_000_000n;
const MAX_MINUTE_BARS = 240;
const MAX_TWO_MINUTE_CLOSES = 400;
const MARKET_OPEN_MINUTE = 9 * 60 + 30;
const OPENING_RANGE_END_MINUTE = 9 * 60 + 45;

/** A 1-minute bar in ES points; `start_ts_ns` is the epoch-aligned minute. */
export interface MinuteBar {
  readonly start_ts_ns: bigint;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

/** §13 step 4.1 approach context toward a level. */
export interface ApproachContext {
  /** Points per minute, positive when price moved in the break direction. */
  readonly velocity: number;
  /** Consecutive latest close-to-close moves strictly in the break direction. */
  readonly bars: number;
  /** |last close − first close| in points. */
  readonly distance: number;
}

/** SMA values and slopes from 2-minute closes (the in-progress close included), REF `get_sma_context`. */
export interface SmaContext {
  readonly sma_200: number | null;
  readonly sma_400: number | null;
  /** ΔSMA over `SMA_SLOPE_WINDOW_MINUTES`, per minute. */
  readonly sma_200_slope: number | null;
  readonly sma_400_slope: number | null;
  /** ΔSMA over `SMA_SLOPE_SHORT_BARS` 2-minute bars, per minute. */
  readonly sma_200_slope_5bar: number | null;
  readonly sma_400_slope_5bar: number | null;
  readonly sma_spread: number | null;
}

/** Best bid and ask of the last MBP-10 image. */
export interface BidAsk {
  readonly bid: number;
  readonly ask: number;
}

export interface MarketStateOptions {
  /** Default `CONFIG`. */
  readonly config?: Config;
  /** `'elapsed_minutes'` (default, W-24) or REF's `'count'` of closes. */
  readonly approachDivisor?: 'elapsed_minutes' | 'count';
}

/** Fixed-capacity FIFO that overwrites its oldest item. */
class Ring<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private n = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.n;
  }

  push(x: T): void {
    const cap = this.capacity;
    if (this.n < cap) {
      this.items[(this.start + this.n) % cap] = x;
      this.n++;
    } else {
      this.items[this.start] = x;
      this.start = (this.start + 1) % cap;
    }
  }

  /** Item `i` counted from the oldest. */
  at(i: number): T {
    return this.items[(this.start + i) % this.capacity] as T;
  }

  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.n = 0;
  }
}

interface OpenBar {
  start_ts_ns: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
}

export class MarketState {
  private readonly config: Config;
  private readonly approachDivisor: 'elapsed_minutes' | 'count';
  private readonly premarketStart: number;

  private lastMbp: MBP10 | null = null;
  private lastTrade: FuturesTrade | null = null;
  private latestTs: bigint | null = null;

  private date: string | null = null;
  private vwapValue: number | null = null;
  private vwapVolume = 0;
  private hi: number | null = null;
  private lo: number | null = null;
  private pmHigh: number | null = null;
  private pmLow: number | null = null;
  private orHigh: number | null = null;
  private orLow: number | null = null;

  private readonly bars = new Ring<MinuteBar>(MAX_MINUTE_BARS);
  private bar: OpenBar | null = null;
  private readonly closes2m = new Ring<number>(MAX_TWO_MINUTE_CLOSES);
  private bucket2m: bigint | null = null;
  private close2m: number | null = null;
  private sma200Value: number | null = null;
  private sma400Value: number | null = null;

  constructor(options: MarketStateOptions = {}) {
    this.config = options.config ?? CONFIG;
    this.approachDivisor = options.approachDivisor ?? 'elapsed_minutes';
    this.premarketStart = this.config.PREMARKET_START_HOUR * 60 + this.config.PREMARKET_START_MINUTE;
  }

  /** Route a market event; option prints are not MarketState's (the fuel engine keeps them). */
  onEvent(e: MarketEvent): void {
    if (isMbp10(e)) this.onMbp10(e);
    else if (isFuturesTrade(e)) this.onTrade(e);
  }

  onMbp10(m: MBP10): void {
    this.lastMbp = m;
    this.touch(m.ts_event_ns);
  }

  onTrade(t: FuturesTrade): void {
    const ts = t.ts_event_ns;
    const price = t.price;
    this.lastTrade = t;
    this.touch(ts);

    const { date, minuteOfDay } = nyTime(ts);
    if (date !== this.date) this.resetDay(date);

    if (this.hi === null || price > this.hi) this.hi = price;
    if (this.lo === null || price < this.lo) this.lo = price;
    if (this.vwapValue === null) {
      this.vwapValue = price;
      this.vwapVolume = t.size;
    } else {
      const volume = this.vwapVolume + t.size;
      // A zero-size print would make 0/0; it carries no weight, so it leaves VWAP as it is.
      if (volume > 0) {
        this.vwapValue = (this.vwapValue * this.vwapVolume + price * t.size) / volume;
        this.vwapVolume = volume;
      }
    }

    if (minuteOfDay >= this.premarketStart && minuteOfDay < MARKET_OPEN_MINUTE) {
      if (this.pmHigh === null || price > this.pmHigh) this.pmHigh = price;
      if (this.pmLow === null || price < this.pmLow) this.pmLow = price;
    }
    if (minuteOfDay >= MARKET_OPEN_MINUTE && minuteOfDay < OPENING_RANGE_END_MINUTE) {
      if (this.orHigh === null || price > this.orHigh) this.orHigh = price;
      if (this.orLow === null || price < this.orLow) this.orLow = price;
    }

    const minute = floorTo(ts, NS_PER_MINUTE);
    const bar = this.bar;
    if (bar !== null && bar.start_ts_ns === minute) {
      bar.close = price;
      if (price > bar.high) bar.high = price;
      if (price < bar.low) bar.low = price;
    } else {
      if (bar !== null) this.bars.push({ ...bar });
      this.bar = { start_ts_ns: minute, open: price, high: price, low: price, close: price };
    }

    const two = floorTo(ts, NS_PER_TWO_MINUTES);
    if (this.bucket2m === two) {
      this.close2m = price;
    } else {
      if (this.close2m !== null) this.finalizeTwoMinute(this.close2m);
      this.bucket2m = two;
      this.close2m = price;
    }
  }

  /** Last trade price, or `null` before the first trade. */
  spot(): number | null {
    return this.lastTrade?.price ?? null;
  }

  /** Level-0 bid and ask of the last MBP-10 image, or `null` without one. */
  bidAsk(): BidAsk | null {
    const best = this.lastMbp?.levels[0];
    return best === undefined ? null : { bid: best.bid_px, ask: best.ask_px };
  }

  /** The newest futures event time (REF `now()` without its wall-clock fallback), or `null`. */
  lastTs(): bigint | null {
    return this.latestTs;
  }

  lastMbp10(): MBP10 | null {
    return this.lastMbp;
  }

  lastFuturesTrade(): FuturesTrade | null {
    return this.lastTrade;
  }

  /** New York date of the current session (of the last trade), or `null`. */
  sessionDate(): string | null {
    return this.date;
  }

  vwap(): number | null {
    return this.vwapValue;
  }

  sessionHigh(): number | null {
    return this.hi;
  }

  sessionLow(): number | null {
    return this.lo;
  }

  premarketHigh(): number | null {
    return this.pmHigh;
  }

  premarketLow(): number | null {
    return this.pmLow;
  }

  openingRangeHigh(): number | null {
    return this.orHigh;
  }

  openingRangeLow(): number | null {
    return this.orLow;
  }

  /** Mean of the last 200 finalized 2-minute closes, updated only when a 2-minute bar is finalized. */
  sma200(): number | null {
    return this.sma200Value;
  }

  sma400(): number | null {
    return this.sma400Value;
  }

  /** The last `n` 1-minute bars, oldest first, the bar in progress included. */
  recentMinuteBars(n: number): MinuteBar[] {
    if (!(n > 0)) return [];
    const bars = this.bars;
    const open = this.bar;
    const total = bars.length + (open === null ? 0 : 1);
    const from = Math.max(0, total - Math.floor(n));
    const out: MinuteBar[] = [];
    for (let i = from; i < bars.length; i++) out.push(bars.at(i));
    if (open !== null) out.push({ ...open });
    return out;
  }

  /** Closes of `recentMinuteBars(n)`. */
  recentMinuteCloses(n: number): number[] {
    return this.recentMinuteBars(n).map((b) => b.close);
  }

  /**
   * Approach toward a level over the last `lookback` minute closes (§13 step 4.1): fewer than two closes → zeros.
   * With W-24 the velocity is points per elapsed minute between the first and the last close's bar.
   */
  approach(direction: BreakDirection, lookback: number = this.config.LOOKBACK_MINUTES): ApproachContext {
    const bars = this.recentMinuteBars(lookback);
    const n = bars.length;
    if (n < 2) return { velocity: 0, bars: 0, distance: 0 };
    const first = bars[0]!;
    const last = bars[n - 1]!;
    const change = last.close - first.close;
    const divisor =
      this.approachDivisor === 'count' ? n : Number((last.start_ts_ns - first.start_ts_ns) / NS_PER_MINUTE);
    const sign = direction === 'UP' ? 1 : -1;
    let count = 0;
    for (let i = n - 1; i > 0; i--) {
      const move = bars[i]!.close - bars[i - 1]!.close;
      if (sign * move > 0) count++;
      else break;
    }
    return { velocity: (sign * change) / divisor, bars: count, distance: Math.abs(change) };
  }

  /**
   * Average true range over the last `min(n, bars)` minute bars (in-progress bar included); the first bar's prior
   * close is its own close. `null` without bars.
   */
  atr(n: number = this.config.ATR_WINDOW_MINUTES): number | null {
    const bars = this.recentMinuteBars(n);
    if (bars.length === 0) return null;
    let prev = bars[0]!.close;
    let sum = 0;
    for (const b of bars) {
      sum += Math.max(b.high - b.low, Math.abs(b.high - prev), Math.abs(b.low - prev));
      prev = b.close;
    }
    return sum / bars.length;
  }

  /** Population std of up to `ceil(seconds/60)` recent close-to-close changes; `null` with fewer than 3 closes. */
  recentReturnStd(seconds: number): number | null {
    const minutes = Math.max(1, Math.ceil(seconds / 60));
    const closes = this.recentMinuteCloses(minutes + 1);
    if (closes.length < 3) return null;
    const diffs: number[] = [];
    for (let i = 1; i < closes.length; i++) diffs.push(closes[i]! - closes[i - 1]!);
    const r = diffs.length > minutes ? diffs.slice(-minutes) : diffs;
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    return Math.sqrt(r.reduce((a, b) => a + (b - mean) * (b - mean), 0) / r.length);
  }

  /** SMA values, slopes and spread from the 2-minute closes, the in-progress close included (REF semantics). */
  smaContext(): SmaContext {
    const closes: number[] = [];
    for (let i = 0; i < this.closes2m.length; i++) closes.push(this.closes2m.at(i));
    if (this.close2m !== null) closes.push(this.close2m);
    if (closes.length === 0) {
      return {
        sma_200: null,
        sma_400: null,
        sma_200_slope: null,
        sma_400_slope: null,
        sma_200_slope_5bar: null,
        sma_400_slope_5bar: null,
        sma_spread: null,
      };
    }
    const now = closes.length - 1;
    const sma200 = smaAt(closes, now, 200) ?? this.sma200Value;
    const sma400 = smaAt(closes, now, 400) ?? this.sma400Value;
    const slopeMinutes = Math.max(1, this.config.SMA_SLOPE_WINDOW_MINUTES);
    const slopeBars = Math.max(1, Math.round(slopeMinutes / 2));
    const shortBars = Math.max(1, this.config.SMA_SLOPE_SHORT_BARS);
    const slope = (cur: number | null, prev: number | null, minutes: number): number | null =>
      cur !== null && prev !== null ? (cur - prev) / minutes : null;
    return {
      sma_200: sma200,
      sma_400: sma400,
      sma_200_slope: slope(sma200, smaAt(closes, now - slopeBars, 200), slopeMinutes),
      sma_400_slope: slope(sma400, smaAt(closes, now - slopeBars, 400), slopeMinutes),
      sma_200_slope_5bar: slope(sma200, smaAt(closes, now - shortBars, 200), shortBars * 2),
      sma_400_slope_5bar: slope(sma400, smaAt(closes, now - shortBars, 400), shortBars * 2),
      sma_spread: sma200 !== null && sma400 !== null ? sma200 - sma400 : null,
    };
  }

  private touch(ts: bigint): void {
    if (this.latestTs === null || ts > this.latestTs) this.latestTs = ts;
  }

  private resetDay(date: string): void {
    this.date = date;
    this.vwapValue = null;
    this.vwapVolume = 0;
    this.hi = null;
    this.lo = null;
    this.pmHigh = null;
    this.pmLow = null;
    this.orHigh = null;
    this.orLow = null;
    this.bars.clear();
    this.bar = null;
    this.closes2m.clear();
    this.bucket2m = null;
    this.close2m = null;
    this.sma200Value = null;
    this.sma400Value = null;
  }

  // O(400) once per 2 minutes: summing afresh keeps the cached SMA free of add/remove rounding.
  private finalizeTwoMinute(close: number): void {
    const ring = this.closes2m;
    ring.push(close);
    const n = ring.length;
    if (n >= 200) this.sma200Value = meanOfLast(ring, 200);
    if (n >= 400) this.sma400Value = meanOfLast(ring, 400);
  }
}

function floorTo(ts: bigint, step: bigint): bigint {
  const r = ts % step;
  return r < 0n ? ts - r - step : ts - r;
}

function meanOfLast(ring: Ring<number>, k: number): number {
  let sum = 0;
  for (let i = ring.length - k; i < ring.length; i++) sum += ring.at(i);
  return sum / k;
}

function smaAt(closes: readonly number[], idx: number, period: number): number | null {
  if (idx < 0 || idx + 1 < period) return null;
  let sum = 0;
  for (let i = idx + 1 - period; i <= idx; i++) sum += closes[i]!;
  return sum / period;
}
