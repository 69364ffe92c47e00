import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fc, test } from '@fast-check/vitest';
import { Subject, firstValueFrom, from, map, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { Aggressor, futuresTrade, mbp10 } from '../../../src/common/event-types.js';
import type { MarketEvent } from '../../../src/common/event-types.js';
import { encodeJson } from '../../../src/common/json.js';
import type { LevelSignalsPayload } from '../../../src/common/payloads.js';
import { SchemaRegistry } from '../../../src/common/schemas/index.js';
import { nyWallTimeToNs } from '../../../src/common/time.js';
import { LevelSignalEngine, levelSignals } from '../../../src/operators/physics/level-signals.js';
import { toLevelSignalRows } from '../../../src/sinks/parquet.js';
import { dbnEvents } from '../../../src/streams/dbn-events.js';
import { SIM_EPISODES, simulateMarket } from '../../../src/streams/sim.js';

const DAY = '2025-12-16';
const at = (hh: number, mm: number, s = 0) => nyWallTimeToNs(DAY, hh * 60 + mm) + BigInt(Math.round(s * 1e9));

/** ENGINES.md §16: the end-to-end worked example. */
function section16(): MarketEvent[] {
  const t0 = at(9, 50);
  const ms = (n: number) => t0 + BigInt(n) * 1_000_000n;
  const trade = (ts: bigint, price: number, size: number, aggressor: Aggressor) =>
    futuresTrade({ ts_event_ns: ts, source: 'replay', symbol: 'ESZ5', price, size, aggressor });
  const book = (ts: bigint, bid: number) =>
    mbp10({
      ts_event_ns: ts,
      source: 'replay',
      symbol: 'ESZ5',
      levels: [
        { bid_px: 6870, bid_sz: bid, ask_px: 6870.25, ask_sz: 200 },
        { bid_px: 6869.75, bid_sz: 300, ask_px: 6870.5, ask_sz: 150 },
      ],
    });
  return [
    trade(at(8, 0), 6880, 5, Aggressor.BUY),
    trade(at(8, 30), 6869, 5, Aggressor.SELL),
    book(ms(0), 400),
    ...[200, 400, 600, 800].map((n) => trade(ms(n), 6870, 25, Aggressor.SELL)),
    book(ms(1000), 150),
    trade(ms(1100), 6870.25, 2, Aggressor.BUY),
  ];
}

async function payloads(events: MarketEvent[], opts: Parameters<typeof levelSignals>[0] = {}) {
  return firstValueFrom(from(events).pipe(levelSignals(opts), toArray()));
}

describe('ENGINES.md §16 end-to-end snapshot', () => {
  it('scores ROUND_6870 / PM_LOW / PM_HIGH at 67.303922 / 62.5 / 53.709017', async () => {
    const all = await payloads(section16());
    const p = all[all.length - 1]!;
    // The snap after the last event (09:50:01.100) is the grid instant 09:50:01.250 (W-19: now = T_k).
    expect(p.ts).toBe(Number((at(9, 50) + 1_250_000_000n) / 1_000_000n));
    expect(p.es).toEqual({ spot: 6870.25, bid: 6870, ask: 6870.25 });
    expect(p.levels.map((l) => l.id)).toEqual(['ROUND_6870', 'PM_LOW', 'PM_HIGH']);
    const [round, pmLow, pmHigh] = p.levels as [
      LevelSignalsPayload['levels'][0],
      LevelSignalsPayload['levels'][0],
      LevelSignalsPayload['levels'][0],
    ];
    expect(round.break_score_raw).toBeCloseTo(67.303922, 6);
    expect(pmLow.break_score_raw).toBeCloseTo(62.5, 9);
    expect(pmHigh.break_score_raw).toBeCloseTo(53.709017, 5);

    expect(round).toMatchObject({ direction: 'SUPPORT', distance: 0.25, signal: 'NEUTRAL', confidence: 'LOW' });
    // W-03: filled = min(lost, V) = 100 (REF books 101 with its +1 tolerance).
    expect(round.barrier).toMatchObject({
      state: 'VACUUM',
      delta_liq: -250,
      filled: 100,
      canceled: 150,
      depth_in_zone: 450,
    });
    expect(round.tape.buy_vol).toBe(2);
    expect(round.tape.sell_vol).toBe(100);
    expect(round.tape.imbalance).toBeCloseTo(-0.960784, 6);
    expect(round.tape.velocity).toBeCloseTo(0.245902, 6);
    expect(round.fuel.effect).toBe('NEUTRAL');
    expect(round.runway).toEqual({
      direction: 'DOWN',
      distance: 1,
      next_obstacle: { id: 'PM_LOW', price: 6869 },
      quality: 'CLEAR',
    });
    expect(round).toMatchObject({
      confluence_count: 0,
      confluence_level: 0,
      confluence_level_name: 'UNDEFINED',
      note: 'Vacuum',
    });

    expect(pmLow).toMatchObject({ direction: 'SUPPORT', distance: 1.25 });
    expect(pmLow.barrier.state).toBe('VACUUM');
    expect(pmLow.runway).toMatchObject({ direction: 'DOWN', next_obstacle: { id: 'ROUND_6860' }, distance: 9 });

    expect(pmHigh).toMatchObject({ direction: 'RESISTANCE', distance: 9.75, note: 'Monitoring', approach_bars: 1 });
    expect(pmHigh.barrier.state).toBe('WEAK');
    expect(pmHigh.runway).toMatchObject({ direction: 'UP', next_obstacle: { id: 'ROUND_6890' }, distance: 10 });
    // W-24: closes [6880, 6869, 6870.25] moved 9.75 pt over 110 minutes (REF divides by the 3 closes: 3.25).
    expect(round.approach_velocity).toBeCloseTo(9.75 / 110, 9);
    expect(round.approach_bars).toBe(0);
    expect(round.approach_distance).toBeCloseTo(9.75, 9);
  });

  it('smooths per level: the first snap of a level passes its raw score through', async () => {
    const all = await payloads(section16());
    const first = all.find((p) => p.levels.length > 0)!;
    for (const l of first.levels) expect(l.break_score_smooth).toBe(l.break_score_raw);
  });

  it('emits the empty payload before any trade and book exist, never wall-clock time', async () => {
    const [t] = section16();
    const all = await payloads([t!]);
    expect(all).toEqual([
      { ts: Number(t!.ts_event_ns / 1_000_000n), es: { spot: null, bid: null, ask: null }, levels: [] },
    ]);
  });

  it('produces rows that validate against levels.signals.v1', async () => {
    const all = await payloads(section16());
    const rows = all.flatMap((p) => toLevelSignalRows(p));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) SchemaRegistry.validate('levels.signals.v1', row);
  });
});

describe('real Databento sample files', () => {
  it('produce schema-valid payloads from the ESH1 trades and MBP-10 of GLBX.MDP3', async () => {
    const dir = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/data/dbn');
    const files = [
      'test_data.trades.dbn',
      'test_data.mbp-10.dbn',
      'GLBX.MDP3/test_data.trades.dbn.zst',
      'GLBX.MDP3/test_data.mbp-10.dbn.zst',
    ].map((f) => path.join(dir, f));
    // 08:00 ET prints form a pre-market high/low; the newer extract starts Sunday 19:00 ET, before any level exists.
    for (const [group, levels] of [
      [files.slice(0, 2), 1],
      [files.slice(2), 0],
    ] as const) {
      const events: MarketEvent[] = [];
      for await (const batch of dbnEvents(group)) events.push(...batch);
      const all = await payloads(events);
      expect(all.length).toBeGreaterThan(0);
      const last = all[all.length - 1]!;
      expect(last.es.spot).not.toBeNull();
      expect(last.levels.length).toBeGreaterThanOrEqual(levels);
      for (const row of all.flatMap((p) => toLevelSignalRows(p))) SchemaRegistry.validate('levels.signals.v1', row);
    }
  });
});

describe('timing (marble)', () => {
  it('emits each snap as soon as a later event completes it, and the final snap on completion', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const [c, d, e, f, g, h, i] = section16().slice(2);
    const base = Number(c!.ts_event_ns / 1_000_000n);
    scheduler.run(({ cold, expectObservable }) => {
      const src = cold('c-d-e-f-g-h-i|', { c: c!, d: d!, e: e!, f: f!, g: g!, h: h!, i: i! });
      const ts = src.pipe(
        levelSignals({ reorder: false }),
        map((p) => p.ts - base),
      );
      // A snap T waits for the first event after T: the book at exactly 1.000 s does not complete the 1.000 snap.
      expectObservable(ts).toBe('--a-b-c-d---e(f|)', { a: 0, b: 250, c: 500, d: 750, e: 1000, f: 1250 });
    });
  });

  it('forwards a source error after the payloads already emitted', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const ev = section16();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('a-b---------#', { a: ev[2]!, b: ev[8]! }, new Error('feed lost'));
      const seen = src.pipe(levelSignals({ reorder: false }));
      const values = { x: expect.anything() as unknown as LevelSignalsPayload };
      expectObservable(seen).toBe('--(xxxxx)---#', values, new Error('feed lost'));
      expectSubscriptions(src.subscriptions).toBe('^-----------!');
    });
  });

  it('heartbeats advance the grid in a quiet market like later events would', async () => {
    const ev = section16().slice(0, 3);
    const beats = new Subject<bigint>();
    const feed = new Subject<MarketEvent>();
    const got: number[] = [];
    const sub = feed.pipe(levelSignals({ heartbeats: beats })).subscribe((p) => got.push(p.ts));
    for (const e of ev) feed.next(e);
    const last = ev[2]!.ts_event_ns;
    // Without a heartbeat the book at `last` is still held by the reorder buffer: no snap has been complete yet.
    expect(got.filter((t) => t >= Number(last / 1_000_000n))).toEqual([]);
    beats.next(last + 2_000_000_000n);
    const beforeEnd = got.length;
    sub.unsubscribe();
    // Watermark = beat − 500 ms lateness = last + 1.5 s; events strictly before it are released, so the snaps up to
    // last + 1.25 s are complete (an event at exactly last + 1.5 s could still arrive).
    expect(beforeEnd).toBeGreaterThan(0);
    expect(got[got.length - 1]).toBe(Number((last + 1_250_000_000n) / 1_000_000n));
  });
});

describe('determinism', () => {
  const session = [...simulateMarket({ durationMinutes: 3, premarket: false, seed: 7 })];
  const reference = encodeJson(
    (() => {
      const out: LevelSignalsPayload[] = [];
      from(session)
        .pipe(levelSignals({ reorder: false }))
        .subscribe((p) => out.push(p));
      return out;
    })(),
  );

  it('is byte-identical through the reorder buffer', async () => {
    expect(encodeJson(await payloads(session))).toBe(reference);
  });

  test.prop([fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })], { numRuns: 8 })(
    'is byte-identical whatever the chunking, and with disorder below the lateness',
    async (chunk, seed) => {
      // Disorder: swap neighbours whose timestamps differ by less than 400 ms (lateness 500 ms).
      const shuffled = [...session];
      let s = seed;
      for (let i = 1; i < shuffled.length; i++) {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        const a = shuffled[i - 1]!;
        const b = shuffled[i]!;
        if (s % 3 === 0 && b.ts_event_ns - a.ts_event_ns < 400_000_000n) {
          shuffled[i - 1] = b;
          shuffled[i] = a;
        }
      }
      const chunks: MarketEvent[][] = [];
      for (let i = 0; i < shuffled.length; i += chunk) chunks.push(shuffled.slice(i, i + chunk));
      const subject = new Subject<MarketEvent>();
      const out: LevelSignalsPayload[] = [];
      const done = new Promise<void>((resolve) =>
        subject.pipe(levelSignals()).subscribe({ next: (p) => out.push(p), complete: resolve }),
      );
      for (const c of chunks) {
        for (const e of c) subject.next(e);
        await Promise.resolve();
      }
      subject.complete();
      await done;
      expect(encodeJson(out)).toBe(reference);
    },
  );
});

describe('the simulator default session', () => {
  it('shows every barrier state, a sweep, a BREAK and a REJECT where the episodes are scripted', () => {
    const engineStates = new Set<string>();
    let sweeps = 0;
    const fired: { id: string; signal: string; ts: number }[] = [];
    const last = new Map<string, string>();
    from(simulateMarket())
      .pipe(levelSignals({ reorder: false }))
      .subscribe((p) => {
        for (const l of p.levels) {
          engineStates.add(l.barrier.state);
          if (l.tape.sweep.detected) sweeps++;
          const prev = last.get(l.id) ?? 'NEUTRAL';
          if ((l.signal === 'BREAK' || l.signal === 'REJECT') && l.signal !== prev) {
            fired.push({ id: l.id, signal: l.signal, ts: p.ts });
          }
          last.set(l.id, l.signal);
        }
      });
    expect([...engineStates].sort()).toEqual(['ABSORPTION', 'CONSUMED', 'NEUTRAL', 'VACUUM', 'WALL', 'WEAK']);
    expect(sweeps).toBeGreaterThan(0);
    for (const ep of SIM_EPISODES.filter((e) => e.expected.signal)) {
      const lo = Number(ep.start_ns / 1_000_000n);
      const hi = Number(ep.end_ns / 1_000_000n) + 60_000;
      const hit = fired.find((f) => f.signal === ep.expected.signal && f.ts >= lo && f.ts <= hi);
      expect(hit, `${ep.kind} at ${ep.level} should fire ${ep.expected.signal}`).toBeDefined();
    }
  });
});

describe('LevelSignalEngine', () => {
  it('rejects nothing and keeps state bounded across a trading-date change', () => {
    const engine = new LevelSignalEngine();
    for (const e of section16()) engine.onEvent(e);
    const p1 = engine.snap(at(9, 50, 2));
    expect(p1.levels.length).toBe(3);
    const next = nyWallTimeToNs('2025-12-17', 9 * 60 + 50);
    engine.onEvent(futuresTrade({ ts_event_ns: next, source: 'replay', symbol: 'ESZ5', price: 6870.25, size: 1 }));
    const p2 = engine.snap(next + 250_000_000n);
    expect(p2.levels.every((l) => l.prior_touches === 0)).toBe(true);
  });
});
