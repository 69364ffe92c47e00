import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { firstValueFrom, toArray } from 'rxjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { type MarketEvent, compareEvents, futuresTrade, mbp10, optionTrade } from '../../src/common/event-types.js';
import { ParquetLakeWriter } from '../../src/sinks/parquet.js';
import { type PacingClock, paced } from '../../src/streams/pacing.js';
import { type ContractSelection, replay$, replayBronze, rthWindowNs } from '../../src/streams/replay.js';

const DATE = '2025-12-16';
const T0 = 1_765_896_600_000_000_000n; // 2025-12-16T14:50:00Z, inside RTH (09:50 New York)
const SEC = 1_000_000_000n;

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'lf-replay-'));
  return () => rmSync(root, { recursive: true, force: true });
});

/** A small seeded market: trades, books and options, with cross-schema ties at equal timestamps. */
function market(n: number, seed = 1): MarketEvent[] {
  let s = seed;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const out: MarketEvent[] = [];
  let ts = T0;
  for (let i = 0; i < n; i++) {
    // Spans two hours so the lake has several partitions; some steps are zero so kinds tie on ts_event_ns.
    ts += i % 5 === 0 ? 0n : BigInt(Math.floor((rnd() * 4e12) / n));
    const k = i % 3;
    if (k === 0)
      out.push(
        futuresTrade({
          ts_event_ns: ts,
          ts_recv_ns: ts + 1000n,
          source: 'replay',
          symbol: 'ESZ5',
          price: 6870 + Math.floor(rnd() * 20) * 0.25,
          size: 1 + Math.floor(rnd() * 10),
          aggressor: [-1, 0, 1][i % 3] as -1 | 0 | 1,
          exchange: 'CME',
          conditions: i % 7 === 0 ? [3, 14] : null,
          seq: i % 11 === 0 ? null : BigInt(i),
        }),
      );
    else if (k === 1)
      out.push(
        mbp10({
          ts_event_ns: ts,
          ts_recv_ns: ts + 1000n,
          source: 'replay',
          symbol: 'ESZ5',
          levels: Array.from({ length: 1 + (i % 10) }, (_, j) => ({
            bid_px: 6870 - j * 0.25,
            bid_sz: 1 + j + (i % 4),
            ask_px: 6870.25 + j * 0.25,
            ask_sz: 2 + j,
          })),
          seq: BigInt(i),
        }),
      );
    else
      out.push(
        optionTrade({
          ts_event_ns: ts,
          ts_recv_ns: ts + 1000n,
          source: 'replay',
          underlying: 'ES',
          option_symbol: `E2AZ5 C${6850 + (i % 10) * 5}`,
          exp_date: DATE,
          strike: 6850 + (i % 10) * 5,
          right: i % 2 ? 'C' : 'P',
          price: 3.5,
          size: 1 + (i % 4),
          opt_bid: i % 4 === 0 ? null : 3.25,
          opt_ask: i % 4 === 0 ? null : 3.75,
          aggressor: 1,
          conditions: null,
          seq: BigInt(i),
        }),
      );
  }
  return out;
}

async function writeLake(events: readonly MarketEvent[], maxRows = 1_000_000): Promise<void> {
  const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0, maxRows });
  for (const e of events) {
    const schema = 'levels' in e ? 'futures.mbp10' : 'option_symbol' in e ? 'options.trades' : 'futures.trades';
    expect(w.append(schema, e)).toBe(true);
    await w.ready();
  }
  await w.close();
}

async function collect(it: AsyncIterable<MarketEvent[]>): Promise<{ events: MarketEvent[]; batches: number[] }> {
  const events: MarketEvent[] = [];
  const batches: number[] = [];
  for await (const b of it) {
    batches.push(b.length);
    events.push(...b);
  }
  return { events, batches };
}

function canonical(events: readonly MarketEvent[]): MarketEvent[] {
  return [...events].sort(compareEvents);
}

describe('replayBronze', () => {
  it('replays the three Bronze schemas as the identical events in canonical order', async () => {
    const events = market(600);
    await writeLake(events, 70); // many micro-batch files per partition
    const { events: got } = await collect(replayBronze({ dataRoot: root, from: DATE, speed: 0 }));
    expect(got).toHaveLength(events.length);
    expect(got).toEqual(canonical(events));
    for (let i = 1; i < got.length; i++) expect(compareEvents(got[i - 1]!, got[i]!)).toBeLessThanOrEqual(0);
  });

  it('reads in small chunks without changing the result', async () => {
    const events = market(200, 7);
    await writeLake(events);
    const { events: got, batches } = await collect(
      replayBronze({ dataRoot: root, from: DATE, speed: 0, chunkRows: 3, batchSize: 5 }),
    );
    expect(got).toEqual(canonical(events));
    expect(Math.max(...batches)).toBeLessThanOrEqual(5);
  });

  it('selects schemas and an inclusive event-time window', async () => {
    const events = market(300, 3);
    await writeLake(events);
    const trades = canonical(events.filter((e) => !('levels' in e) && !('option_symbol' in e)));
    const startNs = trades[10]!.ts_event_ns;
    const endNs = trades[40]!.ts_event_ns;
    const { events: got } = await collect(
      replayBronze({ dataRoot: root, from: DATE, speed: 0, schemas: ['futures.trades'], startNs, endNs }),
    );
    expect(got).toEqual(trades.filter((e) => e.ts_event_ns >= startNs && e.ts_event_ns <= endNs));
    expect(got[0]!.ts_event_ns).toBe(startNs);
    expect(got[got.length - 1]!.ts_event_ns).toBe(endNs);
  });

  it('is an Observable through replay$', async () => {
    const events = market(90, 5);
    await writeLake(events);
    const got = await firstValueFrom(replay$({ dataRoot: root, from: DATE, speed: 0 }).pipe(toArray()));
    expect(got).toEqual(canonical(events));
  });

  it('gives nothing for a missing lake and a clear error for an unknown date', async () => {
    expect((await collect(replayBronze({ dataRoot: path.join(root, 'none'), from: DATE, speed: 0 }))).events).toEqual(
      [],
    );
    await writeLake(market(30));
    await expect(collect(replayBronze({ dataRoot: root, from: '2025-12-17', speed: 0 }))).rejects.toThrow(
      /no Bronze data for 2025-12-17 .*available dates: 2025-12-16/,
    );
    await expect(collect(replayBronze({ dataRoot: root, from: '2025-13-01', speed: 0 }))).rejects.toThrow(/invalid/);
  });

  it('keeps the dominant contract of a roll day (most trades during RTH New York) and reports it', async () => {
    const day = '2025-12-15'; // Monday; EST, so RTH is 14:30–18:30 UTC
    const [rthStart] = rthWindowNs(day)!;
    expect(rthStart).toBe(1_765_809_000_000_000_000n);
    const at = (ns: bigint, symbol: string, i: number) =>
      futuresTrade({ ts_event_ns: ns, source: 'replay', symbol, price: 6900, size: 1, seq: BigInt(i) });
    const events: MarketEvent[] = [];
    for (let i = 0; i < 6; i++) events.push(at(rthStart + 1800n * SEC + BigInt(i) * SEC, 'ESH6', i));
    for (let i = 0; i < 4; i++) events.push(at(rthStart + 1900n * SEC + BigInt(i) * SEC, 'ESZ5', 10 + i));
    // More ESZ5 prints after the close: a whole-day count would pick the expiring contract.
    for (let i = 0; i < 20; i++) events.push(at(rthStart + 6n * 3600n * SEC + BigInt(i) * SEC, 'ESZ5', 20 + i));
    events.push(mbp10({ ts_event_ns: rthStart + SEC, source: 'replay', symbol: 'ESZ5', levels: [] }));
    events.push(
      mbp10({
        ts_event_ns: rthStart + SEC,
        source: 'replay',
        symbol: 'ESH6',
        levels: [{ bid_px: 1, bid_sz: 1, ask_px: 2, ask_sz: 1 }],
      }),
    );
    await writeLake(events);
    const selections: ContractSelection[] = [];
    const { events: got } = await collect(
      replayBronze({
        dataRoot: root,
        from: day,
        speed: 0,
        onSelection: (s) => selections.push(s),
        onWarning: () => {},
      }),
    );
    expect(new Set(got.map((e) => (e as { symbol: string }).symbol))).toEqual(new Set(['ESH6']));
    expect(got).toHaveLength(7);
    expect(selections).toEqual([
      {
        date: day,
        front: 'ESH6',
        dominance: 0.6,
        rollContaminated: false,
        runnerUp: 'ESZ5',
        runnerUpRatio: 4 / 6,
        contractCount: 2,
        counts: [
          { symbol: 'ESH6', trades: 6 },
          { symbol: 'ESZ5', trades: 4 },
        ],
        window: 'rth',
      },
    ]);
    const all = await collect(
      replayBronze({ dataRoot: root, from: day, speed: 0, frontMonthOnly: false, onWarning: () => {} }),
    );
    expect(all.events).toHaveLength(events.length);
  });

  it('normalises legacy Bronze files (DATA.md §2.9)', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const optDir = path.join(root, 'bronze/options/trades/underlying=ES', `date=${DATE}`);
    const futDir = path.join(root, 'bronze/futures/trades/symbol=ES', `date=${DATE}`);
    mkdirSync(optDir, { recursive: true });
    mkdirSync(futDir, { recursive: true });
    // Inferred types of the batch scripts: int64 sizes and aggressor, null-typed columns, string exp_date, another order.
    await c.run(
      `COPY (SELECT * FROM (VALUES
          (${T0 + 2n}::BIGINT, 'E2AZ5 P6850', '${DATE}', 'ES', 6850.0, 'P', 2.5, 7::BIGINT, 2::BIGINT, NULL, NULL, NULL, ${T0 + 2n}::BIGINT, 'DATABENTO_CME', 11::BIGINT),
          (${T0 + 4n}::BIGINT, 'E2AZ5 C6900', '${DATE}', 'ES', 6900.0, 'C', 1.0, 3::BIGINT, 1::BIGINT, NULL, NULL, NULL, ${T0 + 4n}::BIGINT, 'DATABENTO_CME', 12::BIGINT)
        ) AS t(ts_event_ns, option_symbol, exp_date, underlying, strike, "right", price, size, aggressor, opt_bid, opt_ask, conditions, ts_recv_ns, source, seq))
        TO '${optDir}/trades_${DATE}_h14.parquet' (FORMAT parquet)`,
    );
    await c.run(
      `COPY (SELECT ${T0 + 1n}::BIGINT AS ts_event_ns, 'ESZ5' AS symbol, 6870.25 AS price, 5::BIGINT AS size, 1::BIGINT AS aggressor, 'direct_feed' AS source)
        TO '${futDir}/trades_${DATE}_h14.parquet' (FORMAT parquet)`,
    );
    c.closeSync();
    db.closeSync();
    const { events: got } = await collect(replayBronze({ dataRoot: root, from: DATE, speed: 0, onWarning: () => {} }));
    expect(got).toEqual([
      futuresTrade({ ts_event_ns: T0 + 1n, source: 'replay', symbol: 'ESZ5', price: 6870.25, size: 5, aggressor: 1 }),
      optionTrade({
        ts_event_ns: T0 + 2n,
        source: 'replay',
        underlying: 'ES',
        option_symbol: 'E2AZ5 P6850',
        exp_date: DATE,
        strike: 6850,
        right: 'P',
        price: 2.5,
        size: 7,
        aggressor: -1,
        seq: 11n,
      }),
      optionTrade({
        ts_event_ns: T0 + 4n,
        source: 'replay',
        underlying: 'ES',
        option_symbol: 'E2AZ5 C6900',
        exp_date: DATE,
        strike: 6900,
        right: 'C',
        price: 1,
        size: 3,
        aggressor: 1,
        seq: 12n,
      }),
    ]);
  });

  it('paces by the replay speed with the injected clock', async () => {
    await writeLake(market(30));
    const clock = fakeClock(0);
    const { events } = await collect(replayBronze({ dataRoot: root, from: DATE, speed: 1000, clock }));
    expect(events).toHaveLength(30);
    expect(clock.sleeps.length).toBeGreaterThan(0);
  });
});

function fakeClock(overshootMs: number): PacingClock & { t: number; sleeps: number[] } {
  const c = {
    t: 0,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      c.t += ms + overshootMs;
    },
  };
  return c;
}

async function* batches<T>(...bs: T[][]): AsyncGenerator<T[]> {
  for (const b of bs) yield b;
}

const ev = (sec: number, id: number) => ({ ts_event_ns: T0 + BigInt(Math.round(sec * 1e9)), id });

describe('paced', () => {
  it('releases the k-th event at exactly anchor + offset / speed, sleep overshoots do not accumulate', async () => {
    const clock = fakeClock(3);
    const offsets = [0, 1, 1, 2.5, 4, 4, 4.2, 9];
    const emitted: [id: number, at: number][] = [];
    for await (const b of paced<{ ts_event_ns: bigint; id: number }>(2, { clock })(
      batches(
        offsets
          .slice(0, 3)
          .map(ev)
          .map((e, i) => ({ ...e, id: i })),
        offsets.slice(3).map((o, i) => ev(o, i + 3)),
      ),
    ))
      for (const e of b) emitted.push([e.id, clock.now()]);
    // Due = offset / 2 s; each wait ends 3 ms late, and that lateness is not carried into the next due time.
    expect(emitted).toEqual([
      [0, 0],
      [1, 503],
      [2, 503],
      [3, 1253],
      [4, 2003],
      [5, 2003],
      [6, 2103],
      [7, 4503],
    ]);
  });

  it('splits batches at due times and keeps equal timestamps together', async () => {
    const clock = fakeClock(0);
    const out: number[][] = [];
    for await (const b of paced<{ ts_event_ns: bigint; id: number }>(1, { clock })(
      batches([ev(0, 0), ev(0, 1), ev(1, 2), ev(1, 3), ev(1, 4), ev(3, 5)]),
    ))
      out.push(b.map((e) => e.id));
    expect(out).toEqual([[0, 1], [2, 3, 4], [5]]);
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('caps a wall-time gap at 5 s by moving the anchor', async () => {
    const clock = fakeClock(0);
    const at: number[] = [];
    for await (const b of paced<{ ts_event_ns: bigint; id: number }>(1, { clock })(
      batches([ev(0, 0), ev(1, 1), ev(3601, 2), ev(3602.5, 3)]),
    ))
      for (const _ of b) at.push(clock.now());
    expect(at).toEqual([0, 1000, 6000, 7500]);
    expect(clock.sleeps).toEqual([1000, 5000, 1500]);
  });

  it('does not wait at speed 0 (or below)', async () => {
    for (const speed of [0, -1]) {
      const clock = fakeClock(0);
      const out: number[][] = [];
      for await (const b of paced<{ ts_event_ns: bigint; id: number }>(speed, { clock })(
        batches([ev(0, 0), ev(100, 1)], [ev(1000, 2)]),
      ))
        out.push(b.map((e) => e.id));
      expect(out).toEqual([[0, 1], [2]]);
      expect(clock.sleeps).toEqual([]);
    }
  });

  it('only waits for what is left when the consumer was slow', async () => {
    const clock = fakeClock(0);
    const sleeps: number[] = [];
    for await (const b of paced<{ ts_event_ns: bigint; id: number }>(1, { clock })(
      batches([ev(0, 0), ev(2, 1), ev(2.5, 2)]),
    )) {
      sleeps.push(...clock.sleeps.splice(0));
      if (b[0]!.id === 0) clock.t += 1500; // the consumer takes 1.5 s with the first batch
    }
    expect(sleeps).toEqual([500, 500]);
  });
});
