/**
 * A seeded ES market simulator: MBP-10 book images, futures prints and 0DTE option prints for one New York session,
 * with scripted episodes at price levels so every barrier state, a sweep, a BREAK and a REJECT occur at known times.
 *
 * Determinism: the output is a pure function of the options. Randomness comes from a seeded xoshiro128** per process
 * (never `Math.random`), times are offsets from the configured start (never the wall clock), and prices are tick
 * multiples, so the same options give byte-identical `encodeJson` output on any machine.
 *
 * Shape of the default session (seed 42, 2025-12-16): a sparse premarket from 04:00 ET (PM high/low), then 30 minutes
 * from 09:25 ET (so the 09:30–09:45 opening range forms) with five episodes at ROUND levels around 6870 — see
 * `SIM_EPISODES`. It is ~106 k events covering 04:00–09:55 ET and generates in about half a second.
 *
 * ```
 * simMarket$({ seed: 7, durationMinutes: 5 })
 *   ──mbp──trade─mbp──mbp──opt──trade─trade─mbp── … ──|
 * ```
 */
import { defer, from } from 'rxjs';
import type { Observable } from 'rxjs';
import type { MarketEvent } from '../common/event-types.js';
import { CONFIG } from '../common/config.js';
import { Simulator } from './sim/engine.js';
import type { ResolvedSim } from './sim/engine.js';
import { EPISODE_TEMPLATES, defaultEpisodeSpecs, episodeSpan } from './sim/episodes.js';
import type { SimEpisode, SimEpisodeSpec } from './sim/episodes.js';
import { nyDate, nyWallTimeToNs } from '../common/time.js';
import { calendarFrontMonth } from './contract.js';

export type {
  SimDirection,
  SimEpisode,
  SimEpisodeExpectation,
  SimEpisodeKind,
  SimEpisodeSpec,
} from './sim/episodes.js';
export { EPISODE_TEMPLATES } from './sim/episodes.js';

export interface SimOptions {
  /** PRNG seed, a safe integer. */
  seed?: number;
  /** Session start: ISO-8601 instant or Unix ns. */
  start?: string | bigint;
  /** Length of the session after `start`, in minutes of event time. */
  durationMinutes?: number;
  /** Price at `start` (rounded to the 0.25 tick); the default episodes sit at ROUND levels around it. */
  startPrice?: number;
  /** Futures contract; default: the calendar front month of the session date (DATA.md §6.3), e.g. `ESH6`. */
  symbol?: string;
  /** Mean aggressive orders per second in the session (bursts come on top). */
  tradeRatePerS?: number;
  /** Mean background book changes (adds/cancels) per second in the session. */
  bookEventRatePerS?: number;
  /** Mean background 0DTE option prints per second in the session. */
  optionRatePerS?: number;
  /** Simulate 04:00 ET → `start` sparsely, so PM high/low exist. */
  premarket?: boolean;
  /** Mean aggressive orders per minute in the premarket. */
  premarketTradesPerMin?: number;
  /** `true`: the default schedule; `false`: none; or a custom schedule. Episodes that do not fit are dropped. */
  episodes?: boolean | readonly SimEpisodeSpec[];
}

export const SIM_DEFAULTS = Object.freeze({
  seed: 42,
  start: '2025-12-16T14:25:00Z',
  durationMinutes: 30,
  startPrice: 6870,
  tradeRatePerS: 6,
  bookEventRatePerS: 40,
  optionRatePerS: 1,
  premarket: true,
  premarketTradesPerMin: 4,
  episodes: true,
} as const);

const NS = 1_000_000_000;

function fail(key: string, value: unknown, rule: string): never {
  throw new RangeError(`simulateMarket: ${key}=${String(value)} ${rule}`);
}

function nonNegative(key: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) fail(key, value, 'must be a finite number ≥ 0');
  return value;
}

function parseStart(start: string | bigint): bigint {
  if (typeof start === 'bigint') return start;
  const ms = Date.parse(start);
  if (!Number.isFinite(ms)) fail('start', start, 'is not an ISO-8601 instant');
  return BigInt(ms) * 1_000_000n;
}

function resolve(opts: SimOptions): ResolvedSim {
  const seed = opts.seed ?? SIM_DEFAULTS.seed;
  if (!Number.isSafeInteger(seed)) fail('seed', seed, 'must be a safe integer');
  const startNs = parseStart(opts.start ?? SIM_DEFAULTS.start);
  const durationMinutes = opts.durationMinutes ?? SIM_DEFAULTS.durationMinutes;
  if (!Number.isFinite(durationMinutes) || durationMinutes <= 0 || durationMinutes > 24 * 60) {
    fail('durationMinutes', durationMinutes, 'must be in (0, 1440]');
  }
  const startPriceRaw = opts.startPrice ?? SIM_DEFAULTS.startPrice;
  if (!Number.isFinite(startPriceRaw) || startPriceRaw < 100) fail('startPrice', startPriceRaw, 'must be ≥ 100');
  const startPrice = Math.round(startPriceRaw * 4) / 4;

  const tradingDate = nyDate(startNs);
  const pmStartNs = nyWallTimeToNs(tradingDate, CONFIG.PREMARKET_START_HOUR * 60 + CONFIG.PREMARKET_START_MINUTE);
  const premarket = opts.premarket ?? SIM_DEFAULTS.premarket;
  const t0Ns = premarket && pmStartNs < startNs ? pmStartNs : startNs;
  const [eh, em] = CONFIG.OPTION_EXPIRY_ET.split(':').map(Number) as [number, number];
  const expiryNs = nyWallTimeToNs(tradingDate, eh * 60 + em);

  const startOff = Number(startNs - t0Ns);
  const endOff = startOff + Math.round(durationMinutes * 60 * NS);
  const symbol = opts.symbol ?? calendarFrontMonth(tradingDate);
  if (symbol.length === 0) fail('symbol', symbol, 'must not be empty');

  const wanted = opts.episodes ?? SIM_DEFAULTS.episodes;
  const specs =
    wanted === true ? defaultEpisodeSpecs(Math.round(startPrice / 10) * 10) : wanted === false ? [] : wanted;
  const sorted = [...specs].sort((a, b) => a.at_s - b.at_s);
  let busyUntil = 0;
  for (const e of sorted) {
    if (!(e.kind in EPISODE_TEMPLATES)) fail('episodes.kind', e.kind, 'is not an episode kind');
    if (!Number.isFinite(e.at_s) || e.at_s < busyUntil) fail('episodes.at_s', e.at_s, 'overlaps the previous episode');
    if (!Number.isFinite(e.level) || e.level <= 0 || Math.round(e.level * 4) !== e.level * 4) {
      fail('episodes.level', e.level, 'must be a positive multiple of 0.25');
    }
    busyUntil = e.at_s + episodeSpan(e.kind);
  }
  const episodes = sorted.filter((e) => (e.at_s + episodeSpan(e.kind)) * NS <= endOff - startOff);

  return {
    seed,
    t0Ns,
    startOff,
    endOff,
    startPrice,
    symbol,
    tradingDate,
    expiryOff: Number(expiryNs - t0Ns),
    tradeRatePerS: nonNegative('tradeRatePerS', opts.tradeRatePerS ?? SIM_DEFAULTS.tradeRatePerS),
    bookEventRatePerS: nonNegative('bookEventRatePerS', opts.bookEventRatePerS ?? SIM_DEFAULTS.bookEventRatePerS),
    optionRatePerS: nonNegative('optionRatePerS', opts.optionRatePerS ?? SIM_DEFAULTS.optionRatePerS),
    premarketTradesPerMin: nonNegative(
      'premarketTradesPerMin',
      opts.premarketTradesPerMin ?? SIM_DEFAULTS.premarketTradesPerMin,
    ),
    episodes,
  };
}

function* generate(r: ResolvedSim): Generator<MarketEvent, void, undefined> {
  const sim = new Simulator(r);
  for (let batch = sim.nextBatch(); batch !== undefined; batch = sim.nextBatch()) yield* batch;
}

/**
 * The simulated session as a lazy iterable in canonical event order. Each iteration replays the session from the
 * start (same events); nothing is materialised beyond the few events of the current simulation step. Options are
 * validated eagerly: a bad option throws `RangeError` here, not on first `next()`.
 */
export function simulateMarket(opts: SimOptions = {}): Iterable<MarketEvent> {
  const r = resolve(opts);
  return { [Symbol.iterator]: () => generate(r) };
}

/** The same session as a cold Observable: synchronous emission, each subscription replays it; unsubscribing stops it. */
export function simMarket$(opts: SimOptions = {}): Observable<MarketEvent> {
  const events = simulateMarket(opts);
  return defer(() => from(events));
}

/** The episode schedule a session with these options plays, with absolute times and what the engines should read. */
export function simEpisodes(opts: SimOptions = {}): SimEpisode[] {
  const r = resolve(opts);
  const at = (off: number): bigint => r.t0Ns + BigInt(Math.round(off));
  return r.episodes.map((e) => {
    const tpl = EPISODE_TEMPLATES[e.kind];
    const s0 = r.startOff + e.at_s * NS;
    return {
      kind: e.kind,
      level: e.level,
      direction: e.direction,
      approach_ns: at(s0),
      start_ns: at(s0 + tpl.approach * NS),
      end_ns: at(s0 + (tpl.approach + tpl.script) * NS),
      evaluate_ns: at(s0 + tpl.evaluateAt * NS),
      expected: tpl.expected(e.direction === 'RESISTANCE'),
    };
  });
}

/** The default session's schedule (`simEpisodes()` with `SIM_DEFAULTS`). */
export const SIM_EPISODES: readonly SimEpisode[] = Object.freeze(simEpisodes());
