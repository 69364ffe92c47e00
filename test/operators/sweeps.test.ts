import fc from 'fast-check';
import { from } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { Aggressor, futuresTrade, type FuturesTrade } from '../../src/common/event-types.js';
import { OutOfOrderError } from '../../src/operators/event-time-window.js';
import {
  SweepClusterer,
  detectSweep,
  noSweep,
  sweepDetector,
  type SweepDetection,
} from '../../src/operators/sweeps.js';

const BASE = 1_770_000_000_000_000_000n;
const MS = 1_000_000n;
const L = 6870;
const BAND = 0.5;

function trade(ms: number, price: number, size: number, aggressor: Aggressor, extraNs = 0n): FuturesTrade {
  return futuresTrade({
    ts_event_ns: BASE + BigInt(ms) * MS + extraNs,
    source: 'replay',
    symbol: 'ESZ5',
    price,
    size,
    aggressor,
  });
}

const nearLevel = (ts: readonly FuturesTrade[]) => ts.filter((t) => Math.abs(t.price - L) <= BAND);

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

function sweep(
  direction: 'UP' | 'DOWN',
  notional: number,
  prints: readonly FuturesTrade[],
): SweepDetection & { start_ts_ns: bigint; end_ts_ns: bigint } {
  const first = prints[0]!.ts_event_ns;
  const last = prints[prints.length - 1]!.ts_event_ns;
  return {
    detected: true,
    direction,
    notional,
    num_prints: prints.length,
    window_ms: Number(last - first) / 1e6,
    venues: null,
    start_ts_ns: first,
    end_ts_ns: last,
  };
}

describe('detectSweep — ENGINES.md §5 worked examples (L 6870, band 0.50)', () => {
  const prices = [6870.0, 6870.25, 6870.5, 6870.75, 6871.0];
  const ladder = (side: Aggressor, dir: 1 | -1) => prices.map((p, i) => trade(i * 50, L + dir * (p - L), 100, side));

  it('5 BUY 100-lots 50 ms apart up the ladder → the 3 near-level prints, 103,053,750, 100 ms, UP', () => {
    const d = detectSweep(nearLevel(ladder(Aggressor.BUY, 1)), { minNotional: 100_000 });
    expect(d).toMatchObject({ detected: true, direction: 'UP', num_prints: 3, window_ms: 100, venues: null });
    expect(d.notional).toBeCloseTo(103_053_750, 6);
  });

  it('SELL mirror → 103,046,250 DOWN', () => {
    const d = detectSweep(nearLevel(ladder(Aggressor.SELL, -1)), { minNotional: 100_000 });
    expect(d).toMatchObject({ detected: true, direction: 'DOWN', num_prints: 3, window_ms: 100 });
    expect(d.notional).toBeCloseTo(103_046_250, 6);
  });

  it('alternating sides → none', () => {
    const alt = prices.map((p, i) => trade(i * 50, p, 100, i % 2 === 0 ? Aggressor.BUY : Aggressor.SELL));
    expect(detectSweep(nearLevel(alt), { minNotional: 100_000 })).toEqual(noSweep());
  });

  it('three BUY 1-lots at 6870 within 100 ms: none at 10,000,000, detected at the seed 500,000 (W-14)', () => {
    const three = [0, 50, 100].map((ms) => trade(ms, 6870, 1, Aggressor.BUY));
    expect(detectSweep(three, { minNotional: 10_000_000 }).detected).toBe(false);
    const d = detectSweep(three);
    expect(d).toEqual(sweep('UP', 1_030_500, three));
  });

  it('fewer than 3 near-level prints → none; MID prints ride along (W-13); largest notional wins, first on ties', () => {
    const two = [trade(0, 6870, 5, Aggressor.BUY), trade(10, 6870, 5, Aggressor.BUY)];
    expect(detectSweep(two)).toEqual(noSweep());
    const withMid = [trade(0, 6870, 1, Aggressor.MID), trade(10, 6870, 1, Aggressor.SELL), trade(20, 6870, 1, 0)];
    expect(detectSweep(withMid)).toMatchObject({ detected: true, direction: 'DOWN', num_prints: 3 });
    const a = [trade(0, 6870, 2, Aggressor.BUY), trade(10, 6870, 2, Aggressor.BUY)];
    const b = [trade(500, 6870, 2, Aggressor.SELL), trade(510, 6870, 2, Aggressor.SELL)];
    const c = [trade(1000, 6870, 3, Aggressor.SELL), trade(1010, 6870, 1, Aggressor.SELL)];
    expect(detectSweep([...a, ...b, ...c])).toEqual(sweep('UP', 6870 * 4 * 50, a));
    const bigger = [trade(1500, 6870, 3, Aggressor.SELL), trade(1510, 6870, 3, Aggressor.SELL)];
    expect(detectSweep([...a, ...b, ...bigger])).toEqual(sweep('DOWN', 6870 * 6 * 50, bigger));
  });

  it('gap boundary: exactly 100 ms joins the cluster, 100 ms + 1 ns splits it', () => {
    const joined = [trade(0, 6870, 1, Aggressor.BUY), trade(100, 6870, 1, Aggressor.BUY), trade(200, 6870, 1, 1)];
    expect(detectSweep(joined)).toMatchObject({ num_prints: 3, window_ms: 200 });
    const split = [trade(0, 6870, 1, Aggressor.BUY), trade(100, 6870, 1, Aggressor.BUY, 1n), trade(500, 6870, 1, 1)];
    expect(detectSweep(split)).toEqual(noSweep());
  });
});

describe('sweepDetector — marbles', () => {
  it('emits a cluster when the next print is beyond the gap, and the open one on completion', () => {
    const a = trade(0, 6870, 1, Aggressor.BUY);
    const b = trade(50, 6870, 1, Aggressor.BUY);
    const c = trade(100, 6870, 1, Aggressor.BUY);
    const d = trade(250, 6870, 1, Aggressor.BUY);
    const f = trade(300, 6870, 1, Aggressor.BUY);
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c---d-f-|', { a, b, c, d, f });
      expectObservable(src.pipe(sweepDetector())).toBe('---------S---(T|)', {
        S: sweep('UP', 1_030_500, [a, b, c]),
        T: sweep('UP', 687_000, [d, f]),
      });
      expectSubscriptions(src.subscriptions).toBe('^------------!');
    });
  });

  it('gap boundary in the stream: +100 ms stays in the cluster, +100 ms + 1 ns closes it', () => {
    const a = trade(0, 6870, 1, Aggressor.BUY);
    const b = trade(100, 6870, 1, Aggressor.BUY);
    const c = trade(200, 6870, 1, Aggressor.BUY, 1n);
    const d = trade(300, 6870, 1, Aggressor.BUY, 1n);
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c-d-|', { a, b, c, d }).pipe(sweepDetector())).toBe('-----S---(T|)', {
        S: sweep('UP', 687_000, [a, b]),
        T: sweep('UP', 687_000, [c, d]),
      });
    });
  });

  it('two-sided and single-print clusters emit nothing; a far print does not split a near-level cluster', () => {
    const a = trade(0, 6870, 1, Aggressor.BUY);
    const e = trade(50, 6870, 1, Aggressor.SELL);
    const far = trade(120, 6880, 9, Aggressor.SELL);
    const g = trade(400, 6870.25, 1, Aggressor.BUY);
    const h = trade(450, 6875, 1, Aggressor.SELL);
    const i = trade(500, 6870, 1, Aggressor.BUY);
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-e-x-g-h-i-|', { a, e, x: far, g, h, i });
      expectObservable(src.pipe(sweepDetector({ level: L, band: BAND }))).toBe('-------------(S|)', {
        S: sweep('UP', (6870.25 + 6870) * 50, [g, i]),
      });
      expectObservable(src.pipe(sweepDetector())).toBe('-------------|');
    });
  });

  it('errors pass through (the open cluster is discarded); unsubscribing stops the source', () => {
    const a = trade(0, 6870, 1, Aggressor.BUY);
    const b = trade(50, 6870, 1, Aggressor.BUY);
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold('-a-b-#', { a, b }).pipe(sweepDetector())).toBe('-----#');
      const src = hot('-a-b-|', { a, b });
      expectObservable(src.pipe(sweepDetector()), '^--!').toBe('---');
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
  });

  it('drops a late print by default and errors with outOfOrder: error', () => {
    const a = trade(100, 6870, 1, Aggressor.BUY);
    const late = trade(20, 6870, 1, Aggressor.SELL);
    const b = trade(150, 6870, 1, Aggressor.BUY);
    const seen: FuturesTrade[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-l-b-|', { a, l: late, b });
      expectObservable(src.pipe(sweepDetector({ onLate: (t) => seen.push(t) }))).toBe('-------(S|)', {
        S: sweep('UP', 687_000, [a, b]),
      });
      expectObservable(src.pipe(sweepDetector({ outOfOrder: 'error' }))).toBe(
        '---#',
        undefined,
        new OutOfOrderError(late.ts_event_ns, a.ts_event_ns),
      );
    });
    expect(seen).toEqual([late]);
  });
});

describe('SweepClusterer — property: equals a brute-force clustering', () => {
  const step = fc.record({
    gap: fc.oneof(
      { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: 100n * MS }) },
      { weight: 2, arbitrary: fc.constantFrom(0n, 100n * MS, 100n * MS + 1n) },
      { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 1000n * MS }) },
    ),
    price: fc.integer({ min: -4, max: 4 }).map((k) => L + k * 0.25),
    size: fc.integer({ min: 1, max: 20 }),
    aggressor: fc.constantFrom<Aggressor>(Aggressor.BUY, Aggressor.BUY, Aggressor.SELL, Aggressor.SELL, Aggressor.MID),
  });
  const steps = fc.array(step, { maxLength: 200, size: 'large' });
  const minNotional = fc.constantFrom(0, 500_000, 2_000_000, 10_000_000);

  /** Split into maximal runs with gaps ≤ 100 ms, then keep the qualifying ones, as §5 step 4 reads. */
  function bruteClusters(ts: readonly FuturesTrade[], min: number): SweepDetection[] {
    const runs: FuturesTrade[][] = [];
    for (const t of ts) {
      const run = runs[runs.length - 1];
      if (run && t.ts_event_ns - run[run.length - 1]!.ts_event_ns <= 100n * MS) run.push(t);
      else runs.push([t]);
    }
    const out: SweepDetection[] = [];
    for (const run of runs) {
      const buys = run.filter((t) => t.aggressor === Aggressor.BUY).length;
      const sells = run.filter((t) => t.aggressor === Aggressor.SELL).length;
      let notional = 0;
      for (const t of run) notional += t.price * t.size * 50;
      if (run.length < 2 || notional < min || buys > 0 === sells > 0) continue;
      out.push(sweep(buys > 0 ? 'UP' : 'DOWN', notional, run));
    }
    return out;
  }

  it('sweepDetector emits exactly the qualifying clusters; detectSweep picks the first strictly largest', () => {
    fc.assert(
      fc.property(steps, minNotional, (raw, min) => {
        let ts = BASE;
        const trades = raw.map((r) =>
          futuresTrade({
            ts_event_ns: (ts += r.gap),
            source: 'sim',
            symbol: 'ESZ5',
            price: r.price,
            size: r.size,
            aggressor: r.aggressor,
          }),
        );
        const got: SweepDetection[] = [];
        from(trades)
          .pipe(sweepDetector({ minNotional: min }))
          .subscribe((d) => got.push(d));
        const want = bruteClusters(trades, min);
        expect(got).toEqual(want);

        let best: SweepDetection | null = null;
        for (const c of want) if (best === null || c.notional > best.notional) best = c;
        const windowed = trades.length < 3 ? noSweep() : (best ?? noSweep());
        expect(detectSweep(trades, { minNotional: min })).toEqual(windowed);

        const c = new SweepClusterer({ minNotional: min });
        const direct = trades.map((t) => c.push(t)).filter((d) => d !== null);
        const last = c.flush();
        expect(last === null ? direct : [...direct, last]).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });
});
