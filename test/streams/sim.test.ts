import { createHash } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CONFIG } from '../../src/common/config.js';
import { Aggressor, compareEvents, isMbp10, isOptionTrade } from '../../src/common/event-types.js';
import type { FuturesTrade, MBP10, MarketEvent, OptionTrade } from '../../src/common/event-types.js';
import { encodeJson } from '../../src/common/json.js';
import { SIM_DEFAULTS, SIM_EPISODES, simEpisodes, simMarket$, simulateMarket } from '../../src/streams/sim.js';
import type { SimEpisode, SimOptions } from '../../src/streams/sim.js';
import { black76Greeks } from '../../src/common/black76.js';

const NS = 1_000_000_000n;
const sec = (s: number): bigint => BigInt(Math.round(s * 1e9));

function digest(events: Iterable<MarketEvent>): { hash: string; count: number } {
  const h = createHash('sha256');
  let count = 0;
  for (const e of events) {
    h.update(encodeJson(e));
    h.update('\n');
    count++;
  }
  return { hash: h.digest('hex'), count };
}

interface Split {
  all: MarketEvent[];
  trades: FuturesTrade[];
  books: MBP10[];
  options: OptionTrade[];
}

function split(all: MarketEvent[]): Split {
  const trades: FuturesTrade[] = [];
  const books: MBP10[] = [];
  const options: OptionTrade[] = [];
  for (const e of all) {
    if (isMbp10(e)) books.push(e);
    else if (isOptionTrade(e)) options.push(e);
    else trades.push(e);
  }
  return { all, trades, books, options };
}

const onTick = (px: number): boolean => Number.isInteger(px * 4);

/**
 * Structural invariants every simulated session must satisfy. Plain checks with one `expect` at the end: a hundred
 * thousand events times a dozen matcher calls would dominate the test time.
 */
function violation(s: Split, tradingDate?: string): string | null {
  const { all } = s;
  let prevBook: MBP10 | undefined;
  for (let i = 0; i < all.length; i++) {
    const e = all[i]!;
    const at = `event ${i} ${encodeJson(e)}`;
    if (e.source !== 'sim' || e.ts_recv_ns !== e.ts_event_ns || e.seq === null) return `envelope: ${at}`;
    if (i > 0) {
      const p = all[i - 1]!;
      if (e.ts_event_ns < p.ts_event_ns) return `time goes back: ${at}`;
      if (compareEvents(p, e) >= 0 || e.seq <= p.seq!) return `not in canonical order: ${at}`;
    }
    if (isMbp10(e)) {
      const lv = e.levels;
      if (lv.length !== 10) return `not ten levels: ${at}`;
      for (let k = 0; k < lv.length; k++) {
        const l = lv[k]!;
        if (!onTick(l.bid_px) || !onTick(l.ask_px)) return `price off tick: ${at}`;
        if (!Number.isInteger(l.bid_sz) || l.bid_sz < 0 || !Number.isInteger(l.ask_sz) || l.ask_sz < 0) {
          return `bad size: ${at}`;
        }
        if (k > 0 && (l.bid_px >= lv[k - 1]!.bid_px || l.ask_px <= lv[k - 1]!.ask_px)) return `unordered: ${at}`;
      }
      if (lv[0]!.bid_px >= lv[0]!.ask_px) return `crossed: ${at}`;
      prevBook = e;
    } else if (isOptionTrade(e)) {
      if (e.underlying !== 'ES' || e.strike % 5 !== 0 || (e.right !== 'C' && e.right !== 'P')) return `option: ${at}`;
      if (tradingDate !== undefined && e.exp_date !== tradingDate) return `exp_date: ${at}`;
      if (!Number.isInteger(e.size) || e.size < 1) return `option size: ${at}`;
      if (!(e.opt_bid! >= 0 && e.opt_bid! <= e.price && e.price <= e.opt_ask!)) return `option quote: ${at}`;
      if (!e.option_symbol.endsWith(` ${e.right}${e.strike}`)) return `option symbol: ${at}`;
    } else {
      if (!onTick(e.price) || e.price <= 0 || !Number.isInteger(e.size) || e.size < 1) return `print: ${at}`;
      if (e.exchange !== 'CME' || (e.aggressor !== Aggressor.BUY && e.aggressor !== Aggressor.SELL)) {
        return `print fields: ${at}`;
      }
      // Prints take liquidity at or through the touch shown just before them.
      if (prevBook !== undefined) {
        const top = prevBook.levels[0]!;
        if (e.aggressor === Aggressor.BUY ? e.price < top.ask_px : e.price > top.bid_px) return `inside print: ${at}`;
      }
      // The book change a print causes follows it at the same timestamp (after any sibling prints of the order).
      let j = i + 1;
      while (j < all.length && !isMbp10(all[j]!) && !isOptionTrade(all[j]!)) j++;
      if (j >= all.length || !isMbp10(all[j]!) || all[j]!.ts_event_ns !== e.ts_event_ns) return `no book after: ${at}`;
    }
  }
  return null;
}

function checkInvariants(s: Split, tradingDate?: string): void {
  expect(violation(s, tradingDate)).toBeNull();
}

// ── a brute-force reading of ENGINES.md §4/§5/§7/§8 with the §18 decisions (W-01/02/03/15/31/32) ─────────────

type Side = 'bid' | 'ask';

function barrier(s: Split, now: bigint, L: number, side: Side) {
  const from = now - sec(CONFIG.W_b);
  const H = s.books.filter((b) => b.ts_event_ns >= from && b.ts_event_ns <= now);
  const T = s.trades.filter((t) => t.ts_event_ns >= from && t.ts_event_ns <= now);
  const z = CONFIG.BARRIER_ZONE_ES_TICKS * CONFIG.ES_TICK_SIZE;
  const px = (l: MBP10['levels'][number]) => (side === 'bid' ? l.bid_px : l.ask_px);
  const sz = (l: MBP10['levels'][number]) => (side === 'bid' ? l.bid_sz : l.ask_sz);
  const hit = side === 'bid' ? Aggressor.SELL : Aggressor.BUY;
  let added = 0;
  let filled = 0;
  let canceled = 0;
  let ti = 0;
  for (let i = 1; i < H.length; i++) {
    const a = H[i - 1]!;
    const b = H[i]!;
    const ma = new Map(a.levels.map((l) => [px(l), sz(l)]));
    const mb = new Map(b.levels.map((l) => [px(l), sz(l)]));
    const edgeA = side === 'bid' ? Math.min(...ma.keys()) : Math.max(...ma.keys());
    const edgeB = side === 'bid' ? Math.min(...mb.keys()) : Math.max(...mb.keys());
    const visible = (p: number) => (side === 'bid' ? p >= edgeA && p >= edgeB : p <= edgeA && p <= edgeB);
    let delta = 0;
    for (const p of new Set([...ma.keys(), ...mb.keys()])) {
      if (p >= L - z && p <= L + z && visible(p)) delta += (mb.get(p) ?? 0) - (ma.get(p) ?? 0);
    }
    while (ti < T.length && T[ti]!.ts_event_ns <= a.ts_event_ns) ti++;
    let V = 0;
    for (let j = ti; j < T.length && T[j]!.ts_event_ns <= b.ts_event_ns; j++) {
      const t = T[j]!;
      if (t.price >= L - z && t.price <= L + z && t.aggressor === hit) V += t.size;
    }
    if (delta > 0) added += delta;
    else if (delta < 0) {
      const f = Math.min(-delta, V);
      filled += f;
      canceled += -delta - f;
    }
  }
  const last = H[H.length - 1]!;
  const depth = last.levels.filter((l) => px(l) >= L - z && px(l) <= L + z).reduce((acc, l) => acc + sz(l), 0);
  const removed = filled + canceled;
  const delta_liq = added - removed;
  const R = added / Math.max(removed, 1);
  const F = CONFIG.F_thresh;
  let state = 'NEUTRAL';
  if (R < CONFIG.R_vac && delta_liq < -F && canceled >= filled) state = 'VACUUM';
  else if (R > CONFIG.R_wall && delta_liq > F) state = 'WALL';
  else if (delta_liq < -F && filled > canceled) state = 'CONSUMED';
  else if (delta_liq > 0 && R > 1) state = 'ABSORPTION';
  else if (depth < CONFIG.BARRIER_WEAK_DEPTH) state = 'WEAK';
  else if (Math.abs(delta_liq) < F / 2 && added + removed > F) state = 'ABSORPTION';
  return { state, added, filled, canceled, delta_liq, R, depth };
}

function tape(s: Split, now: bigint, L: number) {
  const N = s.trades.filter(
    (t) => t.ts_event_ns >= now - sec(CONFIG.W_t) && t.ts_event_ns <= now && Math.abs(t.price - L) <= CONFIG.TAPE_BAND,
  );
  let buy = 0;
  let sell = 0;
  for (const t of N) {
    if (t.aggressor === Aggressor.BUY) buy += t.size;
    if (t.aggressor === Aggressor.SELL) sell += t.size;
  }
  const A = s.trades.filter((t) => t.ts_event_ns >= now - sec(CONFIG.W_v) && t.ts_event_ns <= now);
  let velocity = 0;
  if (A.length >= 2) {
    const xs = A.map((t) => Number(t.ts_event_ns - A[0]!.ts_event_ns) / 1e9);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = A.reduce((a, t) => a + t.price, 0) / A.length;
    let sxx = 0;
    let sxy = 0;
    xs.forEach((x, i) => {
      sxx += (x - mx) ** 2;
      sxy += (x - mx) * (A[i]!.price - my);
    });
    velocity = sxx === 0 ? 0 : sxy / sxx;
  }
  let sweep: { direction: 'UP' | 'DOWN'; notional: number; prints: number } | null = null;
  if (N.length >= CONFIG.TAPE_MIN_NEAR_LEVEL_PRINTS) {
    let cluster: FuturesTrade[] = [];
    const flush = () => {
      const b = cluster.some((t) => t.aggressor === Aggressor.BUY);
      const sl = cluster.some((t) => t.aggressor === Aggressor.SELL);
      if (cluster.length < CONFIG.SWEEP_MIN_PRINTS || b === sl) return;
      const notional = cluster.reduce((a, t) => a + t.price * t.size * CONFIG.ES_CONTRACT_MULTIPLIER, 0);
      if (notional >= CONFIG.SWEEP_MIN_NOTIONAL && (sweep === null || notional > sweep.notional)) {
        sweep = { direction: b ? 'UP' : 'DOWN', notional, prints: cluster.length };
      }
    };
    for (const t of N) {
      const prev = cluster[cluster.length - 1];
      if (prev !== undefined && Number(t.ts_event_ns - prev.ts_event_ns) / 1e6 > CONFIG.SWEEP_MAX_GAP_MS) {
        flush();
        cluster = [];
      }
      cluster.push(t);
    }
    flush();
  }
  const total = buy + sell;
  return { buy, sell, imbalance: total === 0 ? 0 : (buy - sell) / total, velocity, sweep };
}

function impliedVol(price: number, S: number, K: number, T: number, right: 'C' | 'P'): number {
  let lo = 0.01;
  let hi = 5;
  if (price <= black76Greeks(S, K, T, lo, right).price) return lo;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (black76Greeks(S, K, T, mid, right).price < price) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Net dealer gamma near L (W-11: per-print Black-76, spot = last ES print, IV from the premium, expiry 16:00 ET). */
function dealerGamma(s: Split, now: bigint, L: number, expiryNs: bigint): number {
  let g = 0;
  let ti = 0;
  let spot = 0;
  for (const o of s.options) {
    if (o.ts_event_ns > now) break;
    while (ti < s.trades.length && s.trades[ti]!.ts_event_ns <= o.ts_event_ns) spot = s.trades[ti++]!.price;
    if (Math.abs(o.strike - L) > CONFIG.FUEL_STRIKE_RANGE) continue;
    const T = Number(expiryNs - o.ts_event_ns) / 1e9 / CONFIG.TRADING_SECONDS_PER_YEAR;
    const iv = o.price > 0 ? impliedVol(o.price, spot, o.strike, T, o.right) : CONFIG.BLACK76_DEFAULT_VOL;
    const gamma = black76Greeks(spot, o.strike, T, iv, o.right).gamma;
    g += -o.aggressor * o.size * gamma * CONFIG.OPTION_CONTRACT_MULTIPLIER;
  }
  return g;
}

function spotAt(s: Split, now: bigint): number {
  let lo = 0;
  let hi = s.trades.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.trades[mid]!.ts_event_ns <= now) lo = mid + 1;
    else hi = mid;
  }
  return s.trades[lo - 1]!.price;
}

const S_L: Record<string, number> = { VACUUM: 100, WEAK: 75, NEUTRAL: 50, WALL: 0, ABSORPTION: 0 };

function composite(s: Split, ep: SimEpisode, now: bigint, expiryNs: bigint) {
  const side: Side = ep.direction === 'SUPPORT' ? 'bid' : 'ask';
  const breakDir = ep.direction === 'SUPPORT' ? 'DOWN' : 'UP';
  const b = barrier(s, now, ep.level, side);
  const t = tape(s, now, ep.level);
  const g = dealerGamma(s, now, ep.level, expiryNs);
  const sl = b.state === 'CONSUMED' ? (b.delta_liq < -CONFIG.F_thresh ? 60 : 50) : S_L[b.state]!;
  const fuel = g < -CONFIG.FUEL_EFFECT_GAMMA ? 'AMPLIFY' : g > CONFIG.FUEL_EFFECT_GAMMA ? 'DAMPEN' : 'NEUTRAL';
  const sh = fuel === 'AMPLIFY' ? 100 : fuel === 'DAMPEN' ? 0 : 50;
  let st = 0;
  const sw = t.sweep as { direction: string } | null;
  if (sw !== null && sw.direction === breakDir) st = 100;
  else {
    const v = Math.min(1, Math.abs(t.velocity) / CONFIG.TAPE_VELOCITY_NORM);
    if ((breakDir === 'UP' && t.velocity > 0) || (breakDir === 'DOWN' && t.velocity < 0)) st += 25 * v;
    if ((breakDir === 'UP' && t.imbalance > 0) || (breakDir === 'DOWN' && t.imbalance < 0)) {
      st += 25 * Math.abs(t.imbalance);
    }
    st = Math.min(50, st);
  }
  const raw = CONFIG.w_L * sl + CONFIG.w_H * sh + CONFIG.w_T * st;
  return { barrier: b, tape: t, gamma: g, fuel, raw, spot: spotAt(s, now) };
}

// ── the default session ─────────────────────────────────────────────────────────────────────────────────────

const t0 = performance.now();
const session = split([...simulateMarket()]);
const genMs = performance.now() - t0;
const first = session.all[0]!.ts_event_ns;
const last = session.all[session.all.length - 1]!.ts_event_ns;
const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
const EXPIRY_NS = BigInt(Date.parse('2025-12-16T21:00:00Z')) * 1_000_000n;
const byKind = (k: string) => SIM_EPISODES.find((e) => e.kind === k)!;
const during = <T extends MarketEvent>(xs: T[], from: bigint, to: bigint): T[] =>
  xs.filter((x) => x.ts_event_ns >= from && x.ts_event_ns <= to);

/*
 * Default session (seed 42): ≈106k events — ≈15k futures prints, ≈89k MBP-10 images, ≈2.5k option prints — from
 * 04:00:00 ET (premarket) to 09:54:59 ET on 2025-12-16; generated in about half a second.
 */
describe(`default session: ${session.all.length} events (${session.trades.length} trades, ${session.books.length} books, ${session.options.length} options), ${iso(first)} → ${iso(last)}`, () => {
  it('is generated quickly and stays within the event budget', () => {
    expect(genMs).toBeLessThan(10_000);
    expect(session.all.length).toBeLessThan(300_000);
    expect(session.trades.length).toBeGreaterThan(5_000);
    expect(session.options.length).toBeGreaterThan(1_000);
  });

  it('keeps every structural invariant', () => {
    checkInvariants(session, '2025-12-16');
    expect(session.books[0]!.is_snapshot).toBe(true);
    expect(session.books.slice(1).every((b) => !b.is_snapshot)).toBe(true);
    expect(new Set(session.trades.map((t) => t.symbol))).toEqual(new Set(['ESH6']));
    expect(session.options[0]!.option_symbol).toMatch(/^ESH6 [CP]\d+$/);
  });

  it('starts at 04:00 ET with a sparse premarket, so PM high/low and the opening range exist', () => {
    expect(iso(first)).toBe('2025-12-16T09:00:00.000Z');
    const rth = BigInt(Date.parse('2025-12-16T14:30:00Z')) * 1_000_000n;
    const orEnd = rth + 15n * 60n * NS;
    const pm = session.trades.filter((t) => t.ts_event_ns < BigInt(Date.parse('2025-12-16T14:25:00Z')) * 1_000_000n);
    const or = session.trades.filter((t) => t.ts_event_ns >= rth && t.ts_event_ns < orEnd);
    expect(pm.length).toBeGreaterThan(500);
    expect(pm.length / 325).toBeLessThan(10); // a few prints a minute
    const pmHigh = Math.max(...pm.map((t) => t.price));
    const pmLow = Math.min(...pm.map((t) => t.price));
    expect(pmHigh - pmLow).toBeGreaterThan(5);
    expect(or.length).toBeGreaterThan(1_000);
  });

  it('has bursts, aggressor runs and a heavy-tailed size distribution', () => {
    const rthTrades = session.trades.filter(
      (t) => t.ts_event_ns >= BigInt(Date.parse('2025-12-16T14:25:00Z')) * 1_000_000n,
    );
    const sizes = rthTrades.map((t) => t.size);
    const small = sizes.filter((x) => x <= 5).length / sizes.length;
    expect(small).toBeGreaterThan(0.7);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(50);
    let same = 0;
    for (let i = 1; i < rthTrades.length; i++) if (rthTrades[i]!.aggressor === rthTrades[i - 1]!.aggressor) same++;
    expect(same / (rthTrades.length - 1)).toBeGreaterThan(0.6);
    const gaps = rthTrades.slice(1).map((t, i) => Number(t.ts_event_ns - rthTrades[i]!.ts_event_ns) / 1e6);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / gaps.length);
    expect(sd / mean).toBeGreaterThan(1); // over-dispersed: Poisson would be 1
  });

  it('quotes plausible 0DTE premiums around the money', () => {
    for (const o of session.options.filter(
      (x) => x.ts_event_ns > BigInt(Date.parse('2025-12-16T14:25:00Z')) * 1_000_000n,
    )) {
      if (o.strike === 6870 && o.right === 'C') {
        expect(o.price).toBeGreaterThan(1);
        expect(o.price).toBeLessThan(60);
      }
      expect(Math.abs(o.strike - 6880)).toBeLessThanOrEqual(60);
    }
  });

  it('schedules five episodes at ROUND levels', () => {
    expect(SIM_EPISODES.map((e) => [e.kind, e.level, e.direction])).toEqual([
      ['WALL', 6860, 'SUPPORT'],
      ['ABSORPTION', 6870, 'RESISTANCE'],
      ['VACUUM', 6880, 'RESISTANCE'],
      ['CONSUMED', 6890, 'RESISTANCE'],
      ['WEAK', 6900, 'RESISTANCE'],
    ]);
    for (const e of SIM_EPISODES) {
      expect(e.level % CONFIG.ROUND_LEVELS_SPACING).toBe(0);
      expect(e.approach_ns < e.start_ns && e.start_ns < e.evaluate_ns && e.evaluate_ns < e.end_ns).toBe(true);
    }
    expect(simEpisodes(SIM_DEFAULTS)).toEqual(SIM_EPISODES);
  });

  describe.each(SIM_EPISODES.map((e) => [e.kind, e] as const))('%s episode', (_kind, ep) => {
    it(`reads ${JSON.stringify(ep.expected)} for 10 s up to evaluate_ns`, () => {
      for (let k = 10; k >= 0; k--) {
        const now = ep.evaluate_ns - BigInt(k) * NS;
        const c = composite(session, ep, now, EXPIRY_NS);
        const at = `${ep.kind} −${k}s ${JSON.stringify({ ...c.barrier, fuel: c.fuel, raw: c.raw, spot: c.spot })}`;
        expect(c.barrier.state, at).toBe(ep.expected.barrier);
        if (ep.expected.fuel !== undefined) expect(c.fuel, at).toBe(ep.expected.fuel);
        if (ep.expected.sweep !== undefined)
          expect((c.tape.sweep as { direction: string } | null)?.direction, at).toBe(ep.expected.sweep);
        // Levels at ROUND prices are only evaluated within MONITOR_BAND of spot.
        expect(Math.abs(c.spot - ep.level), at).toBeLessThanOrEqual(CONFIG.MONITOR_BAND);
        if (ep.expected.signal === 'BREAK') expect(c.raw, at).toBeGreaterThan(CONFIG.BREAK_SCORE_THRESHOLD);
        if (ep.expected.signal === 'REJECT') {
          expect(c.raw, at).toBeLessThan(CONFIG.REJECT_SCORE_THRESHOLD);
          expect(Math.abs(c.spot - ep.level), at).toBeLessThanOrEqual(CONFIG.TOUCH_BAND);
        }
        if (ep.expected.signal === undefined) {
          expect(c.raw).toBeLessThanOrEqual(CONFIG.BREAK_SCORE_THRESHOLD);
        }
      }
    });
  });

  it('VACUUM: defending asks are pulled, not traded; a one-sided sweep prints; price then breaks through', () => {
    const ep = byKind('VACUUM');
    const L = ep.level;
    const askDepth = (b: MBP10) =>
      b.levels.filter((l) => l.ask_px >= L && l.ask_px <= L + 2).reduce((a, l) => a + l.ask_sz, 0);
    const before = during(session.books, ep.start_ns - 5n * NS, ep.start_ns).at(-1)!;
    const after = during(session.books, ep.start_ns, ep.evaluate_ns).at(-1)!;
    const fell = askDepth(before) - askDepth(after);
    const fills = during(session.trades, ep.start_ns, ep.evaluate_ns)
      .filter((t) => t.aggressor === Aggressor.BUY && t.price >= L && t.price <= L + 2)
      .reduce((a, t) => a + t.size, 0);
    expect(fell).toBeGreaterThan(CONFIG.F_thresh);
    expect(fills).toBeLessThan(fell / 2);

    const near = during(session.trades, ep.start_ns, ep.end_ns).filter((t) => Math.abs(t.price - L) <= 0.5);
    let best = 0;
    for (let i = 0; i < near.length; i++) {
      let notional = 0;
      for (let j = i; j < near.length && near[j]!.aggressor === Aggressor.BUY; j++) {
        if (j > i && near[j]!.ts_event_ns - near[j - 1]!.ts_event_ns > 100_000_000n) break;
        notional += near[j]!.price * near[j]!.size * 50;
        if (j > i) best = Math.max(best, notional);
      }
    }
    expect(best).toBeGreaterThanOrEqual(CONFIG.SWEEP_MIN_NOTIONAL);

    expect(during(session.trades, ep.approach_ns, ep.end_ns - 1n).every((t) => t.price <= L)).toBe(true);
    expect(during(session.trades, ep.end_ns, ep.end_ns + 60n * NS).some((t) => t.price >= L + 3)).toBe(true);
  });

  it('WALL: bids at the level grow while every print is at the level for 20+ s; price then bounces', () => {
    const ep = byKind('WALL');
    const L = ep.level;
    const bidAt = (b: MBP10) => b.levels.find((l) => l.bid_px === L)?.bid_sz ?? 0;
    const books = during(session.books, ep.start_ns, ep.end_ns);
    expect(bidAt(books.at(-1)!)).toBeGreaterThan(bidAt(books[0]!) + CONFIG.F_thresh);
    const touch = during(session.trades, ep.start_ns + 2n * NS, ep.end_ns);
    expect(touch.length).toBeGreaterThan(10);
    expect(touch.every((t) => t.price === L && t.aggressor === Aggressor.SELL)).toBe(true);
    expect(Number(touch.at(-1)!.ts_event_ns - touch[0]!.ts_event_ns) / 1e9).toBeGreaterThan(20);
    expect(during(session.trades, ep.end_ns, ep.end_ns + 60n * NS).some((t) => t.price >= L + 4)).toBe(true);
  });

  it('CONSUMED: resting asks in the zone are eaten by prints', () => {
    const ep = byKind('CONSUMED');
    const c = barrier(session, ep.evaluate_ns, ep.level, 'ask');
    expect(c.filled).toBeGreaterThan(c.canceled + CONFIG.F_thresh);
    const bought = during(session.trades, ep.start_ns, ep.evaluate_ns)
      .filter((t) => t.aggressor === Aggressor.BUY && Math.abs(t.price - ep.level) <= 2)
      .reduce((a, t) => a + t.size, 0);
    expect(bought).toBeGreaterThan(300);
  });

  it('WEAK: fewer than 50 contracts defend the zone while price sits at the level', () => {
    const ep = byKind('WEAK');
    const book = during(session.books, ep.start_ns, ep.evaluate_ns).at(-1)!;
    const depth = book.levels.filter((l) => Math.abs(l.ask_px - ep.level) <= 2).reduce((a, l) => a + l.ask_sz, 0);
    expect(depth).toBeLessThan(CONFIG.BARRIER_WEAK_DEPTH);
    expect(book.levels[0]!.ask_px).toBe(ep.level);
  });

  it('ABSORPTION: prints at the level are matched by refills', () => {
    const ep = byKind('ABSORPTION');
    const c = barrier(session, ep.evaluate_ns, ep.level, 'ask');
    expect(c.filled).toBeGreaterThan(2 * CONFIG.F_thresh);
    expect(c.added).toBeGreaterThan(c.filled);
    expect(c.delta_liq).toBeLessThan(CONFIG.F_thresh);
  });
});

// ── determinism, API, properties ────────────────────────────────────────────────────────────────────────────

describe('determinism', () => {
  const short: SimOptions = { durationMinutes: 3, premarket: false };

  it('the same seed gives byte-identical encodeJson output; another seed does not', () => {
    const a = digest(simulateMarket(short));
    const b = digest(simulateMarket(short));
    const c = digest(simulateMarket({ ...short, seed: 43 }));
    expect(a).toEqual(b);
    expect(c.hash).not.toBe(a.hash);
  });

  it('the default session is byte-identical across runs and iterations', () => {
    const again = digest(simulateMarket());
    expect(again).toEqual(digest(session.all));
    const it1 = simulateMarket(short);
    expect(digest(it1)).toEqual(digest(it1));
  });
});

describe('simMarket$', () => {
  it('emits the iterable’s events and completes', async () => {
    const opts: SimOptions = { durationMinutes: 1, premarket: false, seed: 5 };
    const events = await firstValueFrom(simMarket$(opts).pipe(toArray()));
    expect(digest(events)).toEqual(digest(simulateMarket(opts)));
  });

  it('stops generating on unsubscribe', async () => {
    const started = performance.now();
    const events = await firstValueFrom(simMarket$({ durationMinutes: 1440 }).pipe(take(25), toArray()));
    expect(events).toHaveLength(25);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('options', () => {
  it('rejects invalid values eagerly', () => {
    expect(() => simulateMarket({ seed: 1.5 })).toThrow(RangeError);
    expect(() => simulateMarket({ durationMinutes: 0 })).toThrow(/durationMinutes/);
    expect(() => simulateMarket({ start: 'yesterday' })).toThrow(/start/);
    expect(() => simulateMarket({ tradeRatePerS: -1 })).toThrow(/tradeRatePerS/);
    expect(() =>
      simulateMarket({
        episodes: [
          { kind: 'WEAK', level: 6880, direction: 'RESISTANCE', at_s: 10 },
          { kind: 'WALL', level: 6860, direction: 'SUPPORT', at_s: 20 },
        ],
      }),
    ).toThrow(/overlaps/);
  });

  it('episodes: false schedules nothing; episodes that do not fit are dropped', () => {
    expect(simEpisodes({ episodes: false })).toEqual([]);
    expect(simEpisodes({ durationMinutes: 10 }).map((e) => e.kind)).toEqual(['WALL', 'ABSORPTION']);
    const s = split([...simulateMarket({ episodes: false, durationMinutes: 5, premarket: false })]);
    checkInvariants(s, '2025-12-16');
  });

  it('a custom SUPPORT VACUUM is the mirror image: bids pulled, DOWN sweep, dealers short gamma', () => {
    const opts: SimOptions = {
      seed: 9,
      durationMinutes: 6,
      premarket: false,
      startPrice: 6905,
      episodes: [{ kind: 'VACUUM', level: 6900, direction: 'SUPPORT', at_s: 60 }],
    };
    const [ep] = simEpisodes(opts);
    expect(ep!.expected).toEqual({ barrier: 'VACUUM', fuel: 'AMPLIFY', sweep: 'DOWN', signal: 'BREAK' });
    const s = split([...simulateMarket(opts)]);
    checkInvariants(s, '2025-12-16');
    const c = composite(s, ep!, ep!.evaluate_ns, EXPIRY_NS);
    expect(c.barrier.state).toBe('VACUUM');
    expect(c.fuel).toBe('AMPLIFY');
    expect((c.tape.sweep as { direction: string } | null)?.direction).toBe('DOWN');
    expect(c.raw).toBeGreaterThan(CONFIG.BREAK_SCORE_THRESHOLD);
    expect(during(s.trades, ep!.end_ns, ep!.end_ns + 60n * NS).some((t) => t.price <= 6897)).toBe(true);
  });

  it('carries the trading date, the front-month symbol and a custom start', () => {
    const s = split([...simulateMarket({ start: '2026-03-02T15:00:00Z', durationMinutes: 2, premarket: false })]);
    expect(s.trades[0]!.symbol).toBe('ESH6');
    expect(s.options.every((o) => o.exp_date === '2026-03-02')).toBe(true);
    const t = split([...simulateMarket({ start: '2026-03-16T14:00:00Z', durationMinutes: 2, premarket: false })]);
    expect(t.trades[0]!.symbol).toBe('ESM6');
    // 10:00 ET during daylight time: the premarket starts at 04:00 EDT = 08:00Z.
    const u = simulateMarket({ start: '2026-03-16T14:00:00Z', durationMinutes: 1 });
    expect(iso(u[Symbol.iterator]().next().value!.ts_event_ns)).toBe('2026-03-16T08:00:00.000Z');
  });
});

describe('properties over random seeds and short sessions', () => {
  test.prop(
    [
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.double({ min: 0.2, max: 4, noNaN: true }),
      fc.boolean(),
      fc.integer({ min: 4000 * 4, max: 7000 * 4 }),
    ],
    { numRuns: 12 },
  )('books never cross, prices on tick, sorted canonically, options on the 5-pt grid', (seed, minutes, pre, tick) => {
    const s = split([...simulateMarket({ seed, durationMinutes: minutes, premarket: pre, startPrice: tick / 4 })]);
    expect(s.all.length).toBeGreaterThan(0);
    checkInvariants(s, '2025-12-16');
  });

  test.prop([fc.integer({ min: 0, max: 2 ** 31 })], { numRuns: 5 })('same seed, same bytes', (seed) => {
    const opts: SimOptions = { seed, durationMinutes: 0.5, premarket: false };
    expect(digest(simulateMarket(opts))).toEqual(digest(simulateMarket(opts)));
  });
});
