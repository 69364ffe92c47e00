import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../src/common/event-types.js';
import { nyWallTimeToNs } from '../../src/common/time.js';
import { FrontMonthSelector, calendarFrontMonth, thirdFriday, validateContract } from '../../src/streams/contract.js';
import type { DateSelection } from '../../src/streams/contract.js';
import { dbnEvents } from '../../src/streams/dbn-events.js';
import { decodeDbnBuffer, encodeDbn } from '../../src/streams/dbn/index.js';
import type { DbnMetadata, InstrumentDefMsg, Mbp10Msg, TradeMsg } from '../../src/streams/dbn/index.js';
import { DATA_DIR, readSample } from './dbn/helpers.js';

async function collect(paths: string[], opts: Parameters<typeof dbnEvents>[1] = {}): Promise<MarketEvent[]> {
  const out: MarketEvent[] = [];
  for await (const b of dbnEvents(paths, opts)) out.push(...b);
  return out;
}

describe('calendar front month', () => {
  it('follows the quarterly cycle with an 8-day roll', () => {
    expect(thirdFriday(2021, 3)).toBe('2021-03-19');
    expect(thirdFriday(2025, 12)).toBe('2025-12-19');
    expect(calendarFrontMonth('2025-11-03')).toBe('ESZ5');
    expect(calendarFrontMonth('2025-12-10')).toBe('ESZ5');
    expect(calendarFrontMonth('2025-12-11')).toBe('ESH6');
    expect(calendarFrontMonth('2025-12-22')).toBe('ESH6');
    expect(calendarFrontMonth('2020-12-28')).toBe('ESH1');
    expect(validateContract('ESZ5', '2025-11-03')).toEqual([true, 'ESZ5']);
    expect(validateContract('ESH6', '2025-11-03')).toEqual([false, 'ESZ5']);
  });
});

describe('volume dominance', () => {
  const at = (date: string, hhmm: string) => {
    const [h, m] = hhmm.split(':').map(Number) as [number, number];
    return nyWallTimeToNs(date, h * 60 + m);
  };
  it('picks the contract with most RTH trades on a roll day and flags contamination', () => {
    const s = new FrontMonthSelector();
    for (let i = 0; i < 60; i++) s.observe('ESH6', at('2025-12-12', '10:00') + BigInt(i), 1);
    for (let i = 0; i < 50; i++) s.observe('ESZ5', at('2025-12-12', '11:00') + BigInt(i), 1);
    for (let i = 0; i < 500; i++) s.observe('ESZ5', at('2025-12-12', '08:00') + BigInt(i), 1); // pre-market: ignored
    s.observe('ESZ5-ESH6', at('2025-12-12', '10:00'), 100); // spread: ignored
    const sel = s.select('2025-12-12');
    expect(sel).toMatchObject({
      contract: 'ESH6',
      method: 'volume',
      contracts: 2,
      runnerUp: 'ESZ5',
      rollContaminated: true,
    });
    expect(sel.dominance).toBeCloseTo(60 / 110, 12);
    expect(sel.runnerUpRatio).toBeCloseTo(50 / 60, 12);
  });
  it('breaks ties by symbol and can weigh by volume', () => {
    const s = new FrontMonthSelector();
    s.observe('ESZ5', at('2025-11-03', '10:00'), 1);
    s.observe('ESH6', at('2025-11-03', '10:01'), 1);
    expect(s.select('2025-11-03').contract).toBe('ESH6');
    const v = new FrontMonthSelector({ by: 'volume' });
    v.observe('ESZ5', at('2025-11-03', '10:00'), 10);
    v.observe('ESH6', at('2025-11-03', '10:01'), 1);
    v.observe('ESH6', at('2025-11-03', '10:02'), 1);
    expect(v.select('2025-11-03')).toMatchObject({ contract: 'ESZ5', rollContaminated: false });
  });
  it('falls back to the calendar on a date without RTH trades (weekends excluded)', () => {
    const s = new FrontMonthSelector();
    s.observe('ESH6', at('2025-12-13', '10:00'), 1); // a Saturday
    expect(s.select('2025-12-13')).toMatchObject({ contract: 'ESH6', method: 'calendar', dominance: null });
  });
});

describe('DBN → market events', () => {
  it('maps the real ESH1 trades and MBP-10 files exactly', async () => {
    const selections: DateSelection[] = [];
    const events = await collect(
      [path.join(DATA_DIR, 'test_data.trades.dbn'), path.join(DATA_DIR, 'test_data.mbp-10.dbn')],
      { onSelection: (s) => selections.push(s) },
    );
    const raw = decodeDbnBuffer(readSample('test_data.trades.dbn')).records as TradeMsg[];
    const trades = events.filter((e) => !('levels' in e));
    expect(trades).toHaveLength(2);
    expect(trades[0]).toEqual({
      ts_event_ns: raw[0]!.ts_event,
      ts_recv_ns: raw[0]!.ts_recv,
      source: 'replay',
      symbol: 'ESH1',
      price: Number(raw[0]!.price) / 1e9,
      size: raw[0]!.size,
      aggressor: raw[0]!.side === 'A' ? -1 : raw[0]!.side === 'B' ? 1 : 0,
      exchange: 'CME',
      conditions: null,
      seq: BigInt(raw[0]!.sequence),
    });
    const books = events.filter((e) => 'levels' in e);
    expect(books).toHaveLength(2);
    expect(books[0]).toMatchObject({ symbol: 'ESH1', is_snapshot: false });
    expect((books[0] as { levels: unknown[] }).levels).toHaveLength(10);
    expect(selections.map((s) => s.contract)).toEqual(['ESH1']);
    // canonical order across the two files
    for (let i = 1; i < events.length; i++) expect(events[i - 1]!.ts_event_ns <= events[i]!.ts_event_ns).toBe(true);
  });

  it('reads zstd files of the newer GLBX extract', async () => {
    const events = await collect([
      path.join(DATA_DIR, 'GLBX.MDP3/test_data.trades.dbn.zst'),
      path.join(DATA_DIR, 'GLBX.MDP3/test_data.mbp-10.dbn.zst'),
    ]);
    expect(events).toHaveLength(8);
    expect(new Set(events.map((e) => ('symbol' in e ? e.symbol : '')))).toEqual(new Set(['ESH1']));
  });

  it('keeps one contract per date on a roll day, maps undefined prices to empty levels, and options from definitions', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'levelflow-dbn-'));
    const template = decodeDbnBuffer(readSample('test_data.trades.dbn'));
    const meta = template.metadata as DbnMetadata;
    const t0 = template.records[0] as TradeMsg;
    const date = '2025-12-12';
    const rth = nyWallTimeToNs(date, 10 * 60);
    const mapping = (sym: string, id: number) => ({
      raw_symbol: sym,
      intervals: [{ start_date: 20251212, end_date: 20251213, symbol: String(id) }],
    });
    const trade = (id: number, i: number, side: string): TradeMsg => ({
      ...t0,
      instrument_id: id,
      ts_event: rth + BigInt(i) * 1_000_000n,
      ts_recv: rth + BigInt(i) * 1_000_000n + 500n,
      price: 6870_250_000_000n,
      side,
      sequence: i,
    });
    const trades = [
      ...Array.from({ length: 5 }, (_, i) => trade(1, i * 2, 'B')),
      ...Array.from({ length: 3 }, (_, i) => trade(2, i * 2 + 1, 'A')),
    ].sort((a, b) => (a.ts_event < b.ts_event ? -1 : 1));
    const futMeta = {
      ...meta,
      symbols: ['ESH6', 'ESZ5'],
      mappings: [mapping('ESH6', 1), mapping('ESZ5', 2)],
    };
    writeFileSync(path.join(dir, 'trades.dbn'), encodeDbn(futMeta, trades));

    const mbpTemplate = decodeDbnBuffer(readSample('test_data.mbp-10.dbn'));
    const m0 = mbpTemplate.records[0] as Mbp10Msg;
    const levels = m0.levels.map((l, i) => (i === 9 ? { ...l, ask_px: 9223372036854775807n } : l));
    const books: Mbp10Msg[] = [1, 2].map((id, i) => ({
      ...m0,
      instrument_id: id,
      ts_event: rth + BigInt(i),
      ts_recv: rth + BigInt(i),
      levels,
    }));
    writeFileSync(path.join(dir, 'mbp10.dbn'), encodeDbn({ ...futMeta, schema: 'mbp-10' }, books));

    const defTemplate = decodeDbnBuffer(readSample('test_data.definition.v3.dbn.frag'), { fragmentVersion: 3 });
    const put = defTemplate.records.find(
      (r) => r.kind === 'definition' && r.raw_symbol === 'ESH1 P2250',
    ) as InstrumentDefMsg;
    const expiry = nyWallTimeToNs(date, 16 * 60);
    const defs: InstrumentDefMsg[] = [
      {
        ...put,
        instrument_id: 10,
        raw_symbol: 'ESH6 C6870',
        instrument_class: 'C',
        strike_price: 6870_000_000_000n,
        underlying: 'ESH6',
        expiration: expiry,
      },
      {
        ...put,
        instrument_id: 11,
        raw_symbol: 'ESZ5 P6850',
        instrument_class: 'P',
        strike_price: 6850_000_000_000n,
        underlying: 'ESZ5',
        expiration: expiry,
      },
      {
        ...put,
        instrument_id: 12,
        raw_symbol: 'ESH6 P6800',
        instrument_class: 'P',
        strike_price: 6800_000_000_000n,
        underlying: 'ESH6',
        expiration: expiry + 86_400_000_000_000n,
      },
    ];
    writeFileSync(
      path.join(dir, 'defs.dbn'),
      encodeDbn({ ...meta, schema: 'definition', symbols: [], mappings: [] }, defs),
    );
    const optTrades = [10, 11, 12].map((id, i) => ({ ...trade(id, 100 + i, 'B'), price: 12_500_000_000n, size: 4 }));
    writeFileSync(path.join(dir, 'opt.dbn'), encodeDbn({ ...meta, symbols: [], mappings: [] }, optTrades));

    const events = await collect(['defs.dbn', 'trades.dbn', 'mbp10.dbn', 'opt.dbn'].map((f) => path.join(dir, f)));
    const futures = events.filter((e) => 'symbol' in e);
    expect(new Set(futures.map((e) => (e as { symbol: string }).symbol))).toEqual(new Set(['ESH6']));
    expect(futures.filter((e) => !('levels' in e))).toHaveLength(5);
    const book = futures.find((e) => 'levels' in e) as { levels: { ask_px: number; ask_sz: number }[] };
    expect(book.levels[9]).toMatchObject({ ask_px: 0, ask_sz: 0 });
    const options = events.filter((e) => 'option_symbol' in e);
    expect(options).toEqual([
      {
        ts_event_ns: optTrades[0]!.ts_event,
        ts_recv_ns: optTrades[0]!.ts_recv,
        source: 'replay',
        underlying: 'ES',
        option_symbol: 'ESH6 C6870',
        exp_date: date,
        strike: 6870,
        right: 'C',
        price: 12.5,
        size: 4,
        opt_bid: null,
        opt_ask: null,
        aggressor: 1,
        conditions: null,
        seq: 100n,
      },
    ]);

    const all = await collect(
      ['trades.dbn'].map((f) => path.join(dir, f)),
      { allContracts: true },
    );
    expect(all).toHaveLength(8);
  });

  it('fails loudly on a damaged file, naming it, before any event is emitted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'levelflow-dbn-'));
    const bytes = readSample('test_data.trades.dbn');
    const file = path.join(dir, 'cut.dbn');
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const got: MarketEvent[] = [];
    await expect(
      (async () => {
        for await (const b of dbnEvents([file])) got.push(...b);
      })(),
    ).rejects.toThrow(/cut\.dbn/);
    expect(got).toEqual([]);
  });
});
