import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/common/config.js';
import { Aggressor, futuresTrade, mbp10, type FuturesTrade } from '../../../src/common/event-types.js';
import { MarketState } from '../../../src/operators/physics/market-state.js';
import { nyTime } from '../../../src/common/time.js';

const NS_MIN = 60_000_000_000n;
/** 2025-12-16 is EST (UTC−5). */
const et = (hh: number, mm: number, ss = 0, day = 16): bigint =>
  BigInt(Date.UTC(2025, 11, day, hh + 5, mm, ss)) * 1_000_000n;

function trade(ts: bigint, price: number, size = 1, aggressor: Aggressor = Aggressor.BUY): FuturesTrade {
  return futuresTrade({ ts_event_ns: ts, source: 'replay', symbol: 'ESZ5', price, size, aggressor });
}

function close(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

describe('MarketState', () => {
  it('worked example §3: PM, OR, VWAP and minute closes', () => {
    const ms = new MarketState();
    const prints: [number, number, number][] = [
      [8, 0, 6880],
      [8, 30, 6900],
      [9, 0, 6860],
      [9, 31, 6890],
      [9, 40, 6875],
      [9, 46, 6870.25],
    ];
    for (const [h, m, p] of prints) ms.onTrade(trade(et(h, m), p));
    expect(ms.premarketHigh()).toBe(6900);
    expect(ms.premarketLow()).toBe(6860);
    expect(ms.openingRangeHigh()).toBe(6890);
    expect(ms.openingRangeLow()).toBe(6875);
    expect(ms.vwap()).toBeCloseTo(6879.208333, 6);
    expect(ms.recentMinuteCloses(10)).toEqual([6880, 6900, 6860, 6890, 6875, 6870.25]);
    expect(ms.recentMinuteCloses(2)).toEqual([6875, 6870.25]);
    expect(ms.sessionHigh()).toBe(6900);
    expect(ms.sessionLow()).toBe(6860);
    expect(ms.sessionDate()).toBe('2025-12-16');
    expect(ms.spot()).toBe(6870.25);
    expect(ms.lastTs()).toBe(et(9, 46));
  });

  it('quotes: spot, bid/ask and lastTs without a wall-clock fallback', () => {
    const ms = new MarketState();
    expect(ms.spot()).toBeNull();
    expect(ms.bidAsk()).toBeNull();
    expect(ms.lastTs()).toBeNull();
    ms.onEvent(
      mbp10({
        ts_event_ns: et(9, 50),
        source: 'replay',
        symbol: 'ESZ5',
        levels: [{ bid_px: 6870, bid_sz: 400, ask_px: 6870.25, ask_sz: 200 }],
      }),
    );
    expect(ms.bidAsk()).toEqual({ bid: 6870, ask: 6870.25 });
    expect(ms.spot()).toBeNull();
    expect(ms.lastTs()).toBe(et(9, 50));
    ms.onEvent(trade(et(9, 50, 1), 6870.25, 2));
    expect(ms.spot()).toBe(6870.25);
    expect(ms.lastTs()).toBe(et(9, 50, 1));
  });

  it('W-26: a new New York date resets session high/low, VWAP and the day context', () => {
    const ms = new MarketState();
    ms.onTrade(trade(et(8, 0), 6880, 5));
    ms.onTrade(trade(et(9, 35), 6890, 5));
    // 19:30 ET is still the 16th (00:30 UTC on the 17th).
    ms.onTrade(trade(et(19, 30), 6850, 5));
    expect(ms.sessionDate()).toBe('2025-12-16');
    expect(ms.sessionLow()).toBe(6850);
    ms.onTrade(trade(et(4, 10, 0, 17), 6900, 2));
    expect(ms.sessionDate()).toBe('2025-12-17');
    expect(ms.sessionHigh()).toBe(6900);
    expect(ms.sessionLow()).toBe(6900);
    expect(ms.vwap()).toBe(6900);
    expect(ms.premarketHigh()).toBe(6900);
    expect(ms.openingRangeHigh()).toBeNull();
    expect(ms.recentMinuteCloses(10)).toEqual([6900]);
  });

  it('W-26: the pre-market starts at PREMARKET_START_HOUR:MINUTE', () => {
    const config = loadConfig({ env: {}, overrides: { PREMARKET_START_HOUR: 7, PREMARKET_START_MINUTE: 30 } });
    const ms = new MarketState({ config });
    ms.onTrade(trade(et(7, 29), 6800));
    ms.onTrade(trade(et(7, 30), 6880));
    ms.onTrade(trade(et(9, 29, 59), 6870));
    ms.onTrade(trade(et(9, 30), 6990));
    expect(ms.premarketHigh()).toBe(6880);
    expect(ms.premarketLow()).toBe(6870);
    const dflt = new MarketState();
    dflt.onTrade(trade(et(3, 59), 6800));
    dflt.onTrade(trade(et(4, 0), 6810));
    expect(dflt.premarketLow()).toBe(6810);
  });

  it('approach (§16 closes 6880, 6869, 6870.25): W-24 divides by elapsed minutes; REF by the count', () => {
    const feed = (ms: MarketState): void => {
      ms.onTrade(trade(et(8, 0), 6880));
      ms.onTrade(trade(et(8, 30), 6869));
      ms.onTrade(trade(et(9, 50, 1), 6870.25));
    };
    const w24 = new MarketState();
    feed(w24);
    const down = w24.approach('DOWN');
    expect(down.velocity).toBeCloseTo(9.75 / 110, 12);
    expect(down.bars).toBe(0);
    expect(down.distance).toBe(9.75);
    const up = w24.approach('UP');
    expect(up.velocity).toBeCloseTo(-9.75 / 110, 12);
    expect(up.bars).toBe(1);
    const ref = new MarketState({ approachDivisor: 'count' });
    feed(ref);
    expect(ref.approach('DOWN')).toEqual({ velocity: 3.25, bars: 0, distance: 9.75 });
    expect(ref.approach('UP')).toEqual({ velocity: -3.25, bars: 1, distance: 9.75 });
    expect(new MarketState().approach('UP')).toEqual({ velocity: 0, bars: 0, distance: 0 });
  });

  it('2-minute closes: SMA_200/SMA_400 cached on finalization; 1-minute bars capped at 240', () => {
    const ms = new MarketState();
    const t0 = et(0, 0);
    for (let i = 0; i <= 200; i++) ms.onTrade(trade(t0 + BigInt(i) * 2n * NS_MIN, i));
    expect(ms.sma200()).toBe(99.5);
    expect(ms.sma400()).toBeNull();
    for (let i = 201; i <= 400; i++) ms.onTrade(trade(t0 + BigInt(i) * 2n * NS_MIN, i));
    expect(ms.sma200()).toBe(299.5);
    expect(ms.sma400()).toBe(199.5);
    expect(ms.recentMinuteBars(1000)).toHaveLength(241);
    const ctx = ms.smaContext();
    // In-progress close 400 included: mean(201..400).
    expect(ctx.sma_200).toBe(300.5);
    expect(ctx.sma_400).toBe(200.5);
    expect(ctx.sma_200_slope).toBe((300.5 - 290.5) / 20);
    expect(ctx.sma_spread).toBe(100);
  });

  it('ATR and return std over minute bars', () => {
    const ms = new MarketState();
    const t0 = et(10, 0);
    // bar 1: 10 → 12 → 11; bar 2: 14, 13; bar 3: 13
    ms.onTrade(trade(t0, 10));
    ms.onTrade(trade(t0 + 1n, 12));
    ms.onTrade(trade(t0 + 2n, 11));
    ms.onTrade(trade(t0 + NS_MIN, 14));
    ms.onTrade(trade(t0 + NS_MIN + 1n, 13));
    ms.onTrade(trade(t0 + 2n * NS_MIN, 13));
    // TRs: 2 (first bar, prior close = own close 11: max(2, 1, 1)), max(1, 3, 2) = 3, max(0, 0, 0) = 0.
    expect(ms.atr(14)).toBeCloseTo(5 / 3, 12);
    expect(ms.atr(1)).toBe(0);
    // Diffs 2, 0 → mean 1, population std 1.
    expect(ms.recentReturnStd(120)).toBe(1);
    expect(new MarketState().atr()).toBeNull();
  });

  const tradesArb = fc
    .array(
      fc.record({
        gapS: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 90 }), fc.integer({ min: 600, max: 30_000 })),
        tick: fc.integer({ min: -40, max: 40 }),
        size: fc.integer({ min: 1, max: 50 }),
      }),
      { minLength: 1, maxLength: 300 },
    )
    .map((xs) => {
      let ts = et(3, 0) - 7n * 3_600_000_000_000n;
      return xs.map((x) => {
        ts += BigInt(x.gapS) * 1_000_000_000n + 1_000n;
        return trade(ts, 6870 + x.tick * 0.25, x.size);
      });
    });

  test.prop([tradesArb], { numRuns: 150 })('equals a brute-force recomputation from the day’s trades', (trades) => {
    const ms = new MarketState();
    for (const t of trades) ms.onTrade(t);
    const last = trades[trades.length - 1]!;
    const date = nyTime(last.ts_event_ns).date;
    const day = trades.filter((t) => nyTime(t.ts_event_ns).date === date);
    const prices = day.map((t) => t.price);
    const pm = day.filter((t) => {
      const m = nyTime(t.ts_event_ns).minuteOfDay;
      return m >= 240 && m < 570;
    });
    const or = day.filter((t) => {
      const m = nyTime(t.ts_event_ns).minuteOfDay;
      return m >= 570 && m < 585;
    });
    const max = (xs: FuturesTrade[]): number | null => (xs.length ? Math.max(...xs.map((t) => t.price)) : null);
    const min = (xs: FuturesTrade[]): number | null => (xs.length ? Math.min(...xs.map((t) => t.price)) : null);
    expect(ms.sessionHigh()).toBe(Math.max(...prices));
    expect(ms.sessionLow()).toBe(Math.min(...prices));
    expect(ms.premarketHigh()).toBe(max(pm));
    expect(ms.premarketLow()).toBe(min(pm));
    expect(ms.openingRangeHigh()).toBe(max(or));
    expect(ms.openingRangeLow()).toBe(min(or));
    const vwap = day.reduce((a, t) => a + t.price * t.size, 0) / day.reduce((a, t) => a + t.size, 0);
    expect(close(ms.vwap(), vwap)).toBe(true);

    const minuteCloses = new Map<bigint, number>();
    for (const t of day) minuteCloses.set(t.ts_event_ns / NS_MIN, t.price);
    const closes = [...minuteCloses.values()];
    expect(ms.recentMinuteCloses(500)).toEqual(closes.slice(-241));
    expect(ms.recentMinuteCloses(10)).toEqual(closes.slice(-10));

    const twoMin = new Map<bigint, number>();
    for (const t of day) twoMin.set(t.ts_event_ns / (2n * NS_MIN), t.price);
    const finalized = [...twoMin.values()].slice(0, -1);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    if (finalized.length >= 200) expect(close(ms.sma200(), mean(finalized.slice(-200)))).toBe(true);
    else expect(ms.sma200()).toBeNull();

    const bars = ms.recentMinuteBars(10);
    if (bars.length >= 2) {
      const a = ms.approach('UP', 10);
      const minutes = Number((bars[bars.length - 1]!.start_ts_ns - bars[0]!.start_ts_ns) / NS_MIN);
      const c = closes.slice(-10);
      expect(close(a.velocity, (c[c.length - 1]! - c[0]!) / minutes)).toBe(true);
    }
  });
});
