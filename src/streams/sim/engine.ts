/**
 * The simulator core: a discrete-event loop over a few independent processes (trade arrivals, book noise, gap refills,
 * option prints, episode scripts), each with its own random stream. Processes run in event-time order, and every
 * event a process emits carries that process's timestamp and the next global sequence number, so the output is in
 * canonical order (`compareEvents`) by construction and nothing is ever sorted or held back.
 */
import { CONFIG } from '../../common/config.js';
import { Aggressor, futuresTrade, mbp10, optionTrade } from '../../common/event-types.js';
import type { MarketEvent } from '../../common/event-types.js';
import { black76Greeks } from '../../common/black76.js';
import { ASK, BID, Book, TICK } from './book.js';
import type { Side } from './book.js';
import { EPISODE_TEMPLATES } from './episodes.js';
import type { SimEpisodeSpec } from './episodes.js';
import { Rng } from './rng.js';

const S = 1_000_000_000;
const MS = 1_000_000;

/** Options after defaults and validation; times are ns offsets from `t0Ns`, small enough for exact doubles. */
export interface ResolvedSim {
  seed: number;
  t0Ns: bigint;
  /** Offset of the session start (the premarket segment, if any, runs from 0 to here). */
  startOff: number;
  endOff: number;
  startPrice: number;
  symbol: string;
  tradingDate: string;
  /** Offset of the 0DTE expiry (`OPTION_EXPIRY_ET` on the trading date). */
  expiryOff: number;
  tradeRatePerS: number;
  bookEventRatePerS: number;
  optionRatePerS: number;
  premarketTradesPerMin: number;
  episodes: readonly SimEpisodeSpec[];
}

interface Proc {
  t: number;
  prio: number;
  n: number;
  run: (t: number) => void;
}

/** Binary min-heap on (t, prio, insertion order): ties resolve the same way on every run. */
class Agenda {
  private readonly items: Proc[] = [];
  private count = 0;

  push(t: number, prio: number, run: (t: number) => void): void {
    const items = this.items;
    const p: Proc = { t, prio, n: this.count++, run };
    let i = items.length;
    items.push(p);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(p, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = p;
  }

  peek(): Proc | undefined {
    return this.items[0];
  }

  pop(): Proc | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= items.length) break;
      const r = l + 1;
      const c = r < items.length && before(items[r]!, items[l]!) ? r : l;
      if (!before(items[c]!, last)) break;
      items[i] = items[c]!;
      i = c;
    }
    items[i] = last;
    return top;
  }
}

function before(a: Proc, b: Proc): boolean {
  if (a.t !== b.t) return a.t < b.t;
  if (a.prio !== b.prio) return a.prio < b.prio;
  return a.n < b.n;
}

/** Runtime state of one scheduled episode. */
interface Run {
  spec: SimEpisodeSpec;
  rng: Rng;
  /** The defending side, the other side, and which way is "deeper" on the defending side (+1 asks, −1 bids). */
  D: Side;
  O: Side;
  dir: 1 | -1;
  /** Aggressors that take the defending side / the other side. */
  hitD: Aggressor;
  hitO: Aggressor;
  L: number;
  s0: number;
  scriptStart: number;
  scriptEnd: number;
  exitEnd: number;
  evalT: number;
  zoneLo: number;
  zoneHi: number;
  quietFrom: number;
  quietTo: number;
  /** What a barrier engine would count on the defending side of the zone since `ledgerFrom` (W-03 accounting). */
  ledgerFrom: number;
  added: number;
  filled: number;
  canceled: number;
  /** Staged depth: thick (VACUUM, CONSUMED) or a thin pocket on both sides (WEAK). */
  stage?: { lo: number; hi: number; min: number; max: number; bothSides: boolean };
}

const SMALL_LOTS = [1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5] as const;
const FUEL_TARGET = 1.5;

export class Simulator {
  private readonly agenda = new Agenda();
  private readonly book: Book;
  private readonly runs: Run[] = [];
  private out: MarketEvent[] = [];
  private seq = 0n;
  private firstBook = true;
  private now = 0;
  private lastPx: number;
  private lastSide: Aggressor = Aggressor.BUY;
  private burstLeft = 0;
  private refillPending = false;

  private readonly rTrade: Rng;
  private readonly rNoise: Rng;
  private readonly rRefill: Rng;
  private readonly rOpt: Rng;
  private readonly rDepth: Rng;

  /** Anchor path pieces: premarket Brownian bridge (60 s grid), session OU wiggle (5 s grid), scripted waypoints. */
  private readonly bridge: number[] = [];
  private readonly ou: number[] = [];
  private readonly waypoints: [number, number][] = [];

  constructor(private readonly o: ResolvedSim) {
    this.rTrade = new Rng(o.seed, 1);
    this.rNoise = new Rng(o.seed, 2);
    this.rRefill = new Rng(o.seed, 3);
    this.rOpt = new Rng(o.seed, 4);
    this.rDepth = new Rng(o.seed, 5);
    this.buildAnchor(new Rng(o.seed, 6));
    for (const [i, spec] of o.episodes.entries()) this.runs.push(this.makeRun(spec, new Rng(o.seed, 100 + i)));

    const p0 = Math.round(this.anchor(0) / TICK);
    this.lastPx = p0 * TICK;
    this.book = new Book(p0, (side, tick, distance) => this.depthProfile(side, tick, distance));

    this.agenda.push(0, 2, (t) => {
      this.emitBook(t);
      this.noise(t);
    });
    this.agenda.push(0, 1, this.tradeArrival);
    if (o.optionRatePerS > 0)
      this.agenda.push(Math.round(this.rOpt.exp(1 / o.optionRatePerS) * S), 3, this.optionArrival);
    for (const run of this.runs) this.agenda.push(run.s0, 0, () => this.startEpisode(run));
  }

  /** Run processes until one emits something; `undefined` at the end of the session. */
  nextBatch(): MarketEvent[] | undefined {
    for (;;) {
      const p = this.agenda.peek();
      if (p === undefined || p.t >= this.o.endOff) return undefined;
      this.agenda.pop();
      this.now = p.t;
      p.run(p.t);
      if (this.out.length > 0) {
        const batch = this.out;
        this.out = [];
        return batch;
      }
    }
  }

  // ── emission ────────────────────────────────────────────────────────────────────────────────────────────────

  private ns(t: number): bigint {
    return this.o.t0Ns + BigInt(t);
  }

  private nextSeq(): bigint {
    return ++this.seq;
  }

  private emitTrade(t: number, tick: number, size: number, aggressor: Aggressor): void {
    this.lastPx = tick * TICK;
    this.out.push(
      futuresTrade({
        ts_event_ns: this.ns(t),
        source: 'sim',
        symbol: this.o.symbol,
        price: tick * TICK,
        size,
        aggressor,
        exchange: 'CME',
        seq: this.nextSeq(),
      }),
    );
  }

  private emitBook(t: number): void {
    this.out.push(
      mbp10({
        ts_event_ns: this.ns(t),
        source: 'sim',
        symbol: this.o.symbol,
        levels: this.book.image(),
        is_snapshot: this.firstBook,
        seq: this.nextSeq(),
      }),
    );
    this.firstBook = false;
  }

  /** Print a customer option trade at the quoted bid/ask; returns |gamma|·size·multiplier in the fuel engine's units. */
  private printOption(t: number, strike: number, right: 'C' | 'P', aggressor: Aggressor, size: number): number {
    const spot = this.lastPx;
    const T = Math.max(0, this.o.expiryOff - t) / S / CONFIG.TRADING_SECONDS_PER_YEAR;
    // A mild put skew; ES 0DTE at-the-money implied vols sit around 10–15 %.
    const sigma = Math.min(0.25, Math.max(0.06, 0.11 + (0.004 * (spot - strike)) / 5));
    const { price, gamma } = black76Greeks(spot, strike, T, sigma, right);
    // Quotes in 0.05 units: 0.05 tick under 5.00, 0.25 above (CME ES option ticks); integers keep the decimals exact.
    const fair = Math.max(1, Math.round(price * 20));
    const tickU = fair < 100 ? 1 : 5;
    const spreadU = fair < 100 ? tickU * (fair < 40 ? 1 : 2) : tickU * 2;
    const bidU = Math.max(0, Math.round((fair - spreadU / 2) / tickU) * tickU);
    const askU = bidU + spreadU;
    const side = aggressor === Aggressor.SELL && bidU === 0 ? Aggressor.BUY : aggressor;
    this.out.push(
      optionTrade({
        ts_event_ns: this.ns(t),
        source: 'sim',
        underlying: 'ES',
        option_symbol: `${this.o.symbol} ${right}${strike}`,
        exp_date: this.o.tradingDate,
        strike,
        right,
        price: (side === Aggressor.BUY ? askU : bidU) / 20,
        size,
        opt_bid: bidU / 20,
        opt_ask: askU / 20,
        aggressor: side,
        seq: this.nextSeq(),
      }),
    );
    return gamma * size * CONFIG.OPTION_CONTRACT_MULTIPLIER;
  }

  // ── anchor (where the background flow wants price to be) ───────────────────────────────────────────────────

  private buildAnchor(r: Rng): void {
    const o = this.o;
    // Premarket: a Brownian bridge from and back to the start price, so PM high/low exist a few points either side.
    const steps = Math.max(1, Math.ceil(o.startOff / (60 * S)));
    const walk = [0];
    for (let i = 1; i <= steps; i++) walk.push(walk[i - 1]! + 0.7 * r.normal());
    for (let i = 0; i <= steps; i++) this.bridge.push(walk[i]! - (i / steps) * walk[steps]!);

    const scripted = o.episodes.length > 0;
    const tau = scripted ? 90 : 300;
    const sigma = scripted ? 1.5 : 4;
    const a = Math.exp(-5 / tau);
    const n = Math.ceil((o.endOff - o.startOff) / (5 * S)) + 2;
    let x = 0;
    for (let i = 0; i < n; i++) {
      this.ou.push(x);
      x = a * x + sigma * Math.sqrt(1 - a * a) * r.normal();
    }

    let prev = o.startPrice;
    this.waypoints.push([o.startOff, prev]);
    for (const spec of o.episodes) {
      const tpl = EPISODE_TEMPLATES[spec.kind];
      const dir = spec.direction === 'RESISTANCE' ? 1 : -1;
      const s0 = o.startOff + spec.at_s * S;
      const park = spec.level - dir * tpl.park;
      const hover = spec.level - dir * (tpl.hover ?? tpl.park);
      const exit = spec.level + dir * tpl.exitTo;
      this.waypoints.push(
        [s0, prev],
        [s0 + (tpl.approach - 10) * S, park],
        [s0 + tpl.approach * S, park],
        [s0 + tpl.approach * S, hover],
        [s0 + (tpl.approach + tpl.script) * S, hover],
        [s0 + (tpl.approach + tpl.script + tpl.exit) * S, exit],
      );
      prev = exit;
    }
    if (scripted) this.waypoints.push([o.endOff, (prev + o.startPrice) / 2]);
  }

  private anchor(t: number): number {
    const o = this.o;
    if (t < o.startOff) {
      const x = (t / (60 * S)) | 0;
      const f = t / (60 * S) - x;
      const b = (this.bridge[x] ?? 0) * (1 - f) + (this.bridge[x + 1] ?? 0) * f;
      return o.startPrice + b;
    }
    const w = this.waypoints;
    let base = w[w.length - 1]![1];
    for (let i = 1; i < w.length; i++) {
      const [t1, p1] = w[i]!;
      if (t <= t1) {
        const [t0, p0] = w[i - 1]!;
        base = t1 === t0 ? p1 : p0 + ((p1 - p0) * (t - t0)) / (t1 - t0);
        break;
      }
    }
    const u = (t - o.startOff) / (5 * S);
    const k = u | 0;
    const f = u - k;
    const wiggle = (this.ou[k] ?? 0) * (1 - f) + (this.ou[k + 1] ?? 0) * f;
    return base + wiggle * this.wiggleMask(t);
  }

  /** The random wiggle fades out around episodes so the scripted phases find price where they expect it. */
  private wiggleMask(t: number): number {
    let m = 1;
    for (const run of this.runs) {
      const lo = run.s0 - 20 * S;
      const hi = run.exitEnd;
      const d = t < lo ? lo - t : t > hi ? t - hi : 0;
      m = Math.min(m, Math.min(1, d / (20 * S)));
    }
    return m;
  }

  /** Anchor minus mid, in ticks: > 0 means the flow should lift price. */
  private steer(t: number): number {
    return this.anchor(t) / TICK - (this.book.best(BID) + this.book.best(ASK)) / 2;
  }

  // ── depth ───────────────────────────────────────────────────────────────────────────────────────────────────

  private staged(side: Side, tick: number): Run['stage'] {
    for (const run of this.runs) {
      const st = run.stage;
      if (st === undefined || this.now < run.s0 || this.now >= run.exitEnd) continue;
      if ((st.bothSides || side === run.D) && tick >= st.lo && tick <= st.hi) return st;
    }
    return undefined;
  }

  private targetSize(distance: number, premarket: boolean): number {
    return premarket ? 6 + 3 * distance : 18 + 9 * distance;
  }

  private depthProfile(side: Side, tick: number, distance: number): number {
    const st = this.staged(side, tick);
    if (st !== undefined) return this.rDepth.int(st.min, st.max);
    return this.targetSize(Math.min(distance, 12), this.now < this.o.startOff) * this.rDepth.range(0.5, 1.5);
  }

  private quoteSize(side: Side, tick: number, r: Rng): number {
    const st = this.staged(side, tick);
    if (st !== undefined && st.max < 10) return r.int(st.min, st.max);
    return this.now < this.o.startOff ? r.int(2, 8) : r.int(6, 30);
  }

  private quiet(side: Side, tick: number, t: number): boolean {
    for (const run of this.runs) {
      if (side === run.D && t >= run.quietFrom && t < run.quietTo && tick >= run.zoneLo && tick <= run.zoneHi) {
        return true;
      }
    }
    return false;
  }

  private paused(t: number): boolean {
    for (const run of this.runs) if (t >= run.scriptStart && t < run.scriptEnd) return true;
    return false;
  }

  /** Late in an approach the background trades small and without bursts, so it parks rather than overshoots. */
  private calm(t: number): boolean {
    for (const run of this.runs) if (t >= run.scriptStart - 30 * S && t < run.scriptStart) return true;
    return false;
  }

  /** Every book change goes through here so episode ledgers see it exactly as a barrier engine would. */
  private mutate(t: number, side: Side, tick: number, delta: number, cause: 'add' | 'cancel' | 'fill'): void {
    for (const run of this.runs) {
      if (side !== run.D || t < run.ledgerFrom || tick < run.zoneLo || tick > run.zoneHi) continue;
      if (!this.book.isVisible(side, tick)) continue;
      if (cause === 'add') run.added += delta;
      else if (cause === 'fill') run.filled -= delta;
      else run.canceled -= delta;
    }
    if (delta > 0) this.book.add(side, tick, delta);
    else this.book.remove(side, tick, -delta);
  }

  private canRest(side: Side, tick: number): boolean {
    return side === BID ? tick < this.book.best(ASK) : tick > this.book.best(BID);
  }

  private rest(t: number, side: Side, tick: number, qty: number): void {
    if (qty <= 0 || !this.canRest(side, tick)) return;
    this.mutate(t, side, tick, qty, 'add');
    this.emitBook(t);
  }

  private pull(t: number, side: Side, tick: number, leave: number): void {
    const have = this.book.size(side, tick);
    if (have <= leave) return;
    this.mutate(t, side, tick, -(have - leave), 'cancel');
    this.emitBook(t);
    this.ensureRefill(t);
  }

  /**
   * An aggressive order: prints at the touch, one print per price level, at most `maxLevels` levels and never
   * beyond `limit`; the book image showing its effect follows at the same timestamp.
   */
  private order(t: number, aggressor: Aggressor, qty: number, maxLevels: number, limit?: number): number {
    const side: Side = aggressor === Aggressor.BUY ? ASK : BID;
    let left = qty;
    let done = 0;
    for (let levels = 0; left > 0 && levels < maxLevels; levels++) {
      const tick = this.book.best(side);
      if (limit !== undefined && Book.better(side, limit, tick)) break;
      const q = Math.min(left, this.book.size(side, tick));
      this.mutate(t, side, tick, -q, 'fill');
      this.emitTrade(t, tick, q, aggressor);
      left -= q;
      done += q;
    }
    if (done > 0) {
      this.lastSide = aggressor;
      this.emitBook(t);
      this.ensureRefill(t);
    }
    return done;
  }

  // ── background processes ────────────────────────────────────────────────────────────────────────────────────

  private readonly tradeArrival = (t: number): void => {
    const pre = t < this.o.startOff;
    if (!this.paused(t)) this.backgroundOrder(t, pre);
    const rate = pre ? this.o.premarketTradesPerMin / 60 : this.o.tradeRatePerS;
    if (rate <= 0) {
      if (pre) this.agenda.push(this.o.startOff, 1, this.tradeArrival);
      return;
    }
    // Bursts: a run of orders at eight times the base rate, mostly on one side (momentum ignition, stop runs).
    const mean = this.burstLeft > 0 ? 1 / (8 * rate) : 1 / rate;
    this.agenda.push(t + Math.max(10_000, Math.round(this.rTrade.exp(mean) * S)), 1, this.tradeArrival);
  };

  private backgroundOrder(t: number, pre: boolean): void {
    const r = this.rTrade;
    const calm = this.calm(t);
    if (calm) this.burstLeft = 0;
    let side: Aggressor;
    if (this.burstLeft > 0) {
      this.burstLeft--;
      side = r.chance(0.85) ? this.lastSide : this.lastSide === Aggressor.BUY ? Aggressor.SELL : Aggressor.BUY;
    } else {
      if (r.chance(0.04) && !calm) this.burstLeft = r.int(3, 12);
      const pBuy = 0.5 + 0.42 * Math.tanh(this.steer(t) / 3);
      // Aggressor runs: keep the previous side half the time; the stationary buy share is still `pBuy`.
      side = r.chance(0.55) ? this.lastSide : r.chance(pBuy) ? Aggressor.BUY : Aggressor.SELL;
    }
    const size =
      r.chance(0.85) || calm
        ? r.pick(SMALL_LOTS)
        : Math.min(pre ? 20 : 100, Math.floor(6 / Math.pow(1 - r.float(), 1 / 1.5)));
    this.order(t, side, size, calm ? 1 : 3);
  }

  private readonly noise = (t: number): void => {
    const pre = t < this.o.startOff;
    this.noiseEvent(t, pre);
    const rate = pre ? 0.5 : this.o.bookEventRatePerS;
    if (rate > 0) this.agenda.push(t + Math.max(10_000, Math.round(this.rNoise.exp(1 / rate) * S)), 2, this.noise);
    else if (pre) this.agenda.push(this.o.startOff, 2, this.noise);
  };

  /** Adds and cancels that pull each level's size toward a depth profile; the touch fades ahead of the anchor. */
  private noiseEvent(t: number, pre: boolean): void {
    const r = this.rNoise;
    const side: Side = r.chance(0.5) ? BID : ASK;
    // By tick distance rather than level rank, so a hole behind the touch gets refilled (its size 0 always adds).
    const k = Math.min(12, Math.floor(r.exp(2.5)));
    const tick = this.book.best(side) + Book.deeper(side) * k;
    if (this.quiet(side, tick, t)) return;
    const size = this.book.size(side, tick);
    const st = this.staged(side, tick);
    const target = st !== undefined ? (st.min + st.max) / 2 : this.targetSize(k, pre);
    const d = this.steer(t);
    const blocking = k === 0 && ((side === ASK && d >= 2) || (side === BID && d <= -2));
    let delta: number;
    if (blocking && r.chance(0.3)) delta = -Math.max(1, Math.ceil(size * r.range(0.3, 0.9)));
    else if (r.chance(target / (target + size))) delta = 1 + Math.floor(r.exp(Math.max(1, target * 0.12)));
    else {
      const q = Math.min(size - (k === 0 ? 0 : 1), 1 + Math.floor(r.exp(Math.max(1, size * 0.15))));
      if (q <= 0) return;
      delta = -q;
    }
    this.mutate(t, side, tick, delta, delta > 0 ? 'add' : 'cancel');
    this.emitBook(t);
    this.ensureRefill(t);
  }

  private ensureRefill(t: number): void {
    if (this.refillPending || this.book.spread() <= 1) return;
    this.refillPending = true;
    this.agenda.push(t + MS / 2 + Math.round(this.rRefill.exp(0.02) * S), 1, this.refill);
  }

  /** A gap in the spread is closed one tick at a time, mostly from the side the anchor favours. */
  private readonly refill = (t: number): void => {
    this.refillPending = false;
    if (this.book.spread() <= 1) return;
    const r = this.rRefill;
    const at = (s: Side): number => (s === BID ? this.book.best(BID) + 1 : this.book.best(ASK) - 1);
    let side: Side = r.chance(0.5 + 0.35 * Math.tanh(this.steer(t) / 2)) ? BID : ASK;
    if (this.quiet(side, at(side), t)) side = side === BID ? ASK : BID;
    const tick = at(side);
    this.mutate(t, side, tick, this.quoteSize(side, tick, r), 'add');
    this.emitBook(t);
    this.ensureRefill(t);
  };

  private readonly optionArrival = (t: number): void => {
    const pre = t < this.o.startOff;
    const r = this.rOpt;
    // 0DTE flow is thin before the cash open.
    if (!pre || r.chance(0.03)) {
      const atm = Math.round(this.lastPx / 5) * 5;
      const strike = atm + (r.chance(0.5) ? 5 : -5) * Math.floor(r.exp(1.4));
      const right = r.chance(0.5) ? 'C' : 'P';
      const aggressor = r.chance(0.5) ? Aggressor.BUY : Aggressor.SELL;
      const size = r.chance(0.8) ? r.int(1, 10) : Math.min(300, Math.floor(10 / Math.pow(1 - r.float(), 1 / 1.3)));
      this.printOption(t, strike, right, aggressor, size);
    }
    this.agenda.push(t + Math.max(10_000, Math.round(r.exp(1 / this.o.optionRatePerS) * S)), 3, this.optionArrival);
  };

  // ── episodes ────────────────────────────────────────────────────────────────────────────────────────────────

  private makeRun(spec: SimEpisodeSpec, rng: Rng): Run {
    const tpl = EPISODE_TEMPLATES[spec.kind];
    const up = spec.direction === 'RESISTANCE';
    const s0 = this.o.startOff + Math.round(spec.at_s * S);
    const scriptStart = s0 + tpl.approach * S;
    const scriptEnd = scriptStart + tpl.script * S;
    const evalT = s0 + tpl.evaluateAt * S;
    const L = Math.round(spec.level / TICK);
    const z = CONFIG.BARRIER_ZONE_ES_TICKS;
    const ledgerFrom = evalT - CONFIG.W_b * S;
    const dir = up ? 1 : -1;
    const run: Run = {
      spec,
      rng,
      D: up ? ASK : BID,
      O: up ? BID : ASK,
      dir,
      hitD: up ? Aggressor.BUY : Aggressor.SELL,
      hitO: up ? Aggressor.SELL : Aggressor.BUY,
      L,
      s0,
      scriptStart,
      scriptEnd,
      exitEnd: scriptEnd + tpl.exit * S,
      evalT,
      zoneLo: L - z,
      zoneHi: L + z,
      quietFrom: ledgerFrom - 20 * S,
      quietTo: scriptEnd + 10 * S,
      ledgerFrom,
      added: 0,
      filled: 0,
      canceled: 0,
    };
    const span = (a: number, b: number) => ({
      lo: Math.min(L + dir * a, L + dir * b),
      hi: Math.max(L + dir * a, L + dir * b),
    });
    if (spec.kind === 'WALL') run.stage = { ...span(-z, -1), min: 15, max: 35, bothSides: false };
    if (spec.kind === 'VACUUM') run.stage = { ...span(0, z), min: 160, max: 260, bothSides: false };
    if (spec.kind === 'CONSUMED') run.stage = { ...span(-z, 2), min: 70, max: 110, bothSides: false };
    if (spec.kind === 'WEAK') run.stage = { ...span(-z - 4, z + 4), min: 1, max: 4, bothSides: true };
    return run;
  }

  private at(t: number, fn: (t: number) => void): void {
    this.agenda.push(Math.round(t), 0, fn);
  }

  /** Call `fn` at `from`, then after random gaps (mean `meanS`, at least `minS` seconds) until `to`. */
  private every(run: Run, from: number, to: number, meanS: number, minS: number, fn: (t: number) => void): void {
    const step = (t: number): void => {
      fn(t);
      const next = t + Math.round(Math.max(minS, run.rng.exp(meanS)) * S);
      if (next < to) this.agenda.push(next, 0, step);
    };
    if (from < to) this.at(from, step);
  }

  private startEpisode(run: Run): void {
    const t = run.s0;
    const st = run.stage;
    if (st !== undefined) {
      for (let tick = st.lo; tick <= st.hi; tick++) {
        for (const side of st.bothSides ? [BID, ASK] : [run.D]) {
          const s = side as Side;
          if (this.book.isKnown(s, tick) && this.book.isVisible(s, tick)) continue;
          this.book.stage(s, tick, this.rDepth.int(st.min, st.max));
        }
      }
    }
    switch (run.spec.kind) {
      case 'WALL':
        return this.wall(run, t);
      case 'ABSORPTION':
        return this.absorption(run);
      case 'VACUUM':
        return this.vacuum(run, t);
      case 'CONSUMED':
        return this.consumed(run);
      case 'WEAK':
        return this.weak(run);
    }
  }

  /**
   * Put the defending touch at `target` and the other touch one tick on the approach side of it, taking whatever
   * stands in the way; normally the approach already did this and nothing happens.
   */
  private position(t: number, run: Run, target: number): void {
    const { D, O, hitD, hitO } = run;
    for (let n = 0; n < 400 && Book.better(D, this.book.best(D), target); n++) {
      this.order(t, hitD, this.book.size(D, this.book.best(D)), 1);
    }
    if (Book.better(D, target, this.book.best(D))) {
      for (let n = 0; n < 400 && !Book.better(O, target, this.book.best(O)); n++) {
        this.order(t, hitO, this.book.size(O, this.book.best(O)), 1);
      }
      this.rest(t, D, target, this.quoteSize(D, target, run.rng));
    }
    const want = target - run.dir;
    if (Book.better(O, want, this.book.best(O))) this.rest(t, O, want, this.quoteSize(O, want, run.rng));
  }

  /** Customer option flow at strikes on the level's side of the 5-point grid until the dealer gamma target is met. */
  private fuel(run: Run, from: number, to: number, aggressor: Aggressor): void {
    const base = Math.round(run.spec.level / 5) * 5;
    const strikes = [0, 1, 2, 3].map((j) => base + run.dir * 5 * j);
    const target = FUEL_TARGET * CONFIG.FUEL_EFFECT_GAMMA;
    let done = 0;
    this.every(run, from, to, 1.2, 0.3, (t) => {
      if (done >= target) return;
      const strike = run.rng.pick(strikes);
      const right = run.rng.chance(0.5) ? 'C' : 'P';
      const T = Math.max(0, this.o.expiryOff - t) / S / CONFIG.TRADING_SECONDS_PER_YEAR;
      const perLot =
        black76Greeks(this.lastPx, strike, T, 0.11, right, { r: 0 }).gamma * CONFIG.OPTION_CONTRACT_MULTIPLIER;
      const printsLeft = Math.max(1, Math.floor((to - t) / (1.2 * S)));
      const size = Math.min(5000, Math.max(5, Math.ceil((target - done) / printsLeft / Math.max(perLot, 1e-6))));
      done += this.printOption(t, strike, right, aggressor, size);
    });
  }

  private wall(run: Run, s0: number): void {
    const { D, L, dir, hitD } = run;
    const r = run.rng;
    // Customers sell options near the level: dealers get long gamma and fade moves (DAMPEN).
    this.fuel(run, s0 + 20 * S, run.scriptStart - 5 * S, Aggressor.SELL);
    this.every(run, s0 + 55 * S, run.scriptEnd, 1, 0.3, (t) => {
      if (run.added >= Math.max(600, 2 * (run.filled + run.canceled) + 200)) return;
      const tick = r.chance(0.7) ? L : L + dir;
      if (this.book.isVisible(D, tick)) this.rest(t, D, tick, r.int(30, 70));
    });
    this.at(run.scriptStart, (t) => {
      this.position(t, run, L);
      this.rest(t, D, L, 300 - this.book.size(D, L));
      this.rest(t, run.O, L - dir, 300 - this.book.size(run.O, L - dir));
    });
    // Shorts cover into the wall: a one-sided burst against the break direction, larger than any the background
    // tape makes, so the biggest sweep near the level points away from the break (S_T stays below 100).
    for (let i = 0, t = run.scriptStart + 0.5 * S; i < 4; i++, t += r.range(0.03, 0.045) * S) {
      this.at(t, (t2) => {
        if (this.book.best(run.O) === L - dir) this.order(t2, run.hitO, r.int(50, 70), 1, L - dir);
      });
    }
    this.every(run, run.scriptStart + 1 * S, run.scriptEnd, 0.7, 0.15, (t) => {
      if (this.book.best(D) !== L) return;
      const q = Math.min(r.int(3, 15), this.book.size(D, L) - 50);
      if (q <= 0) return;
      this.order(t, hitD, q, 1, L);
      // The wall refills more than it loses.
      this.at(t + r.range(0.15, 0.45) * S, (t2) => this.rest(t2, D, L, Math.round(q * r.range(1.1, 1.6))));
    });
  }

  private absorption(run: Run): void {
    const { D, L, dir, hitD, hitO } = run;
    const r = run.rng;
    this.at(run.scriptStart, (t) => {
      this.position(t, run, L);
      this.rest(t, D, L, 80 - this.book.size(D, L));
    });
    this.every(run, run.scriptStart + 0.3 * S, run.scriptEnd, 0.8, 0.15, (t) => {
      if (r.chance(0.78)) {
        const q = Math.min(r.int(2, 12), this.book.size(D, L) - 5);
        if (q <= 0 || this.book.best(D) !== L) return;
        this.order(t, hitD, q, 1, L);
        // The passive side tops the level back up to just above what it lost in the window: net change small and
        // positive, replenishment ratio a little over 1.
        this.at(t + r.range(0.15, 0.4) * S, (t2) => {
          this.rest(t2, D, L, run.filled + run.canceled - run.added + r.int(30, 50));
        });
      } else if (this.book.best(run.O) === L - dir) {
        this.order(t, hitO, r.int(1, 4), 1, L - dir);
      }
    });
  }

  private vacuum(run: Run, s0: number): void {
    const { D, O, L, dir, hitD, hitO } = run;
    const r = run.rng;
    const hold = run.scriptStart + 20 * S;
    // Customers buy options near the level: dealers get short gamma and chase (AMPLIFY).
    this.fuel(run, s0 + 40 * S, run.scriptStart + 5 * S, Aggressor.BUY);
    this.at(run.scriptStart, (t) => {
      this.position(t, run, L);
      this.rest(t, D, L, 150 - this.book.size(D, L));
    });
    // Liquidity behind the level is pulled, not traded: cancels, leaving a few lots per level.
    this.every(run, run.scriptStart + 0.2 * S, hold - 2 * S, 0.45, 0.1, (t) => {
      const j0 = r.int(1, CONFIG.BARRIER_ZONE_ES_TICKS);
      for (let j = 0; j < CONFIG.BARRIER_ZONE_ES_TICKS; j++) {
        const tick = L + dir * (1 + ((j0 - 1 + j) % CONFIG.BARRIER_ZONE_ES_TICKS));
        if (this.book.size(D, tick) > 12) {
          this.pull(t, D, tick, r.int(4, 12));
          return;
        }
      }
      if (run.canceled < run.filled + 250) this.pull(t, D, L, 150);
    });
    const tape = (buyShare: number, maxBuy: number, keep: number) => (t: number) => {
      if (r.chance(buyShare)) {
        const q = Math.min(r.int(1, maxBuy), this.book.size(D, L) - keep);
        if (q > 0 && this.book.best(D) === L) this.order(t, hitD, q, 1, L);
      } else if (this.book.best(O) === L - dir) {
        this.order(t, hitO, r.int(1, 3), 1, L - dir);
      }
    };
    this.every(run, run.scriptStart + 0.5 * S, hold, 0.6, 0.15, tape(0.65, 4, 40));
    // One-sided bursts at the level: each print its own order, tens of milliseconds apart (a sweep per ENGINES.md §5).
    const burst = (at: number, prints: number, lo: number, hi: number) => {
      let t = at;
      for (let i = 0; i < prints; i++) {
        this.at(t, (t2) => {
          const q = Math.min(r.int(lo, hi), this.book.size(D, L) - 30);
          if (q > 0 && this.book.best(D) === L) this.order(t2, hitD, q, 1, L);
        });
        t += r.range(0.025, 0.045) * S;
      }
    };
    burst(hold, 5, 12, 25);
    burst(hold + 10 * S, 3, 5, 10);
    this.every(run, hold + 1 * S, run.scriptEnd - 0.5 * S, 0.7, 0.15, tape(0.8, 6, 20));
    // The break: one order clears the level and the thinned levels behind it, two more follow it through.
    this.at(run.scriptEnd, (t) => {
      let qty = 8;
      for (let j = 0; j <= 6; j++) qty += this.book.size(D, L + dir * j);
      this.order(t, hitD, qty, 12);
    });
    this.at(run.scriptEnd + 35 * MS, (t) => this.order(t, hitD, r.int(8, 20), 3));
    this.at(run.scriptEnd + 75 * MS, (t) => this.order(t, hitD, r.int(8, 20), 3));
  }

  private consumed(run: Run): void {
    const { D, O, L, dir, hitD, hitO } = run;
    const r = run.rng;
    const z = CONFIG.BARRIER_ZONE_ES_TICKS;
    const arriveBy = run.scriptStart + 50 * S;
    this.at(run.scriptStart, (t) => this.position(t, run, L - dir * (z + 1)));
    // Gaps stay above SWEEP_MAX_GAP_MS: a grind is not a sweep.
    this.every(run, run.scriptStart + 0.3 * S, run.scriptEnd, 0.45, 0.2, (t) => {
      const best = this.book.best(D);
      if (Book.better(D, best, L)) {
        // Grind through the zone so as to reach the level by `arriveBy`, one level per order (no multi-level sweeps).
        let left = 0;
        for (let tick = best; tick !== L; tick += dir) left += this.book.size(D, tick);
        const steps = Math.max(1, (arriveBy - t) / (0.45 * S));
        if (r.chance(0.85)) this.order(t, hitD, Math.min(30, Math.max(4, Math.ceil(left / steps))), 1);
        else this.order(t, hitO, r.int(1, 3), 1);
      } else if (best === L && this.book.size(D, L) > 35 && r.chance(0.5)) {
        this.order(t, hitD, r.int(2, 6), 1, L);
      } else if (this.book.best(O) === L - dir) {
        this.order(t, hitO, r.int(1, 3), 1, L - dir);
      }
    });
  }

  private weak(run: Run): void {
    const { D, O, L, dir, hitD, hitO } = run;
    const r = run.rng;
    // The background flow would random-walk through a thin pocket, so it parks outside and a scripted creep of
    // one-level orders brings price to the level.
    this.at(run.scriptStart, (t) => this.position(t, run, L - dir * (CONFIG.BARRIER_ZONE_ES_TICKS + 5)));
    this.every(run, run.scriptStart + 0.3 * S, run.scriptEnd, 0.8, 0.2, (t) => {
      const best = this.book.best(D);
      if (Book.better(D, best, L)) {
        if (r.chance(0.8)) this.order(t, hitD, this.book.size(D, best), 1);
        else this.order(t, hitO, 1, 1);
      } else if (r.chance(0.7)) {
        if (this.book.best(O) === L - dir) this.order(t, hitO, r.int(1, 3), 1, L - dir);
      } else if (this.book.best(D) === L && this.book.size(D, L) > 1) {
        this.order(t, hitD, 1, 1, L);
      }
    });
  }
}
