import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  Aggressor,
  EventSource,
  aggressorFromSide,
  compareEvents,
  eventKind,
  futuresTrade,
  isFuturesTrade,
  isMbp10,
  isOptionTrade,
  mbp10,
  optionTrade,
} from '../../src/common/event-types.js';
import type { MarketEvent } from '../../src/common/event-types.js';

const trade = futuresTrade({ ts_event_ns: 10n, source: 'replay', symbol: 'ESZ5', price: 6870, size: 1 });
const book = mbp10({ ts_event_ns: 10n, source: 'replay', symbol: 'ESZ5', levels: [] });
const option = optionTrade({
  ts_event_ns: 10n,
  source: 'replay',
  underlying: 'ES',
  option_symbol: 'ESZ5 C6870',
  exp_date: '2025-12-16',
  strike: 6870,
  right: 'C',
  price: 12.5,
  size: 2,
});

describe('enums', () => {
  it('have the wire values', () => {
    expect(EventSource).toEqual({ DIRECT_FEED: 'direct_feed', REPLAY: 'replay', SIM: 'sim' });
    expect(Aggressor).toEqual({ BUY: 1, SELL: -1, MID: 0 });
  });
  it('map vendor sides', () => {
    expect(['B', 'A', 'N', 'BUY', 'sell', 'x', null].map(aggressorFromSide)).toEqual([1, -1, 0, 1, -1, 0, 0]);
  });
});

describe('narrowing', () => {
  it('tells the kinds apart without a tag field', () => {
    expect([trade, book, option].map(eventKind)).toEqual(['futures.trades', 'futures.mbp10', 'options.trades']);
    expect([isFuturesTrade(trade), isMbp10(book), isOptionTrade(option)]).toEqual([true, true, true]);
    expect([isFuturesTrade(book), isFuturesTrade(option), isMbp10(option), isOptionTrade(trade)]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
  it('defaults ts_recv_ns to ts_event_ns', () => {
    expect(trade.ts_recv_ns).toBe(10n);
  });
});

describe('canonical order', () => {
  it('breaks ties by ts_recv_ns, then seq (missing last), then trade < option < mbp10', () => {
    const a = { ...trade, ts_recv_ns: 11n };
    const b = { ...trade, seq: 5n };
    const c = { ...trade, seq: 4n };
    const events: MarketEvent[] = [book, a, option, b, trade, c];
    const sorted = [...events].sort(compareEvents);
    expect(sorted).toEqual([c, b, trade, option, book, a]);
  });
  test.prop([
    fc.array(
      fc.record({
        ts: fc.bigInt({ min: 0n, max: 5n }),
        recv: fc.bigInt({ min: 0n, max: 3n }),
        seq: fc.option(fc.bigInt({ min: 0n, max: 3n }), { nil: null }),
      }),
    ),
  ])('is a total preorder consistent with the key tuple', (keys) => {
    const events = keys.map((k) => ({ ...trade, ts_event_ns: k.ts, ts_recv_ns: k.recv, seq: k.seq }));
    const sorted = [...events].sort(compareEvents);
    for (let i = 1; i < sorted.length; i++) {
      const p = sorted[i - 1]!;
      const q = sorted[i]!;
      expect(compareEvents(p, q)).toBeLessThanOrEqual(0);
      expect(Math.sign(compareEvents(p, q)) + Math.sign(compareEvents(q, p))).toBe(0);
    }
  });
});
