/**
 * Option flow and dealer gamma (ENGINES.md §3 `update_option_trade` and flow snapshot, §7 FuelEngine).
 *
 * `OptionFlowBook` keeps one cumulative aggregate per (strike, right, exp_date), indexed by strike so a query around
 * a level costs O(log n + aggregates in range) (W-21). Every list it returns is in the §17.6 order — strike
 * ascending, 'C' before 'P', exp_date ascending — so sums, argmax ties and STRIKE levels never depend on the order
 * in which contracts first traded (REF iterates a dict in first-print order).
 *
 * `FuelEngine` turns the aggregates near a level into `FuelMetrics`.
 *
 * Departures from REF:
 * - W-12: the book empties when the New York date of event time advances (REF keeps flows forever). A print dated
 *   before the book's date is ignored (it belongs to a closed session) and counted in `stalePrints`. Parity:
 *   `resetOnNewYorkDate: false`.
 * - W-12: `abs_gamma_exposure` is dropped: REF never writes it and no output reads it.
 * - W-11: greeks come from Black-76 per print against the last ES trade price (`updateOptionTrade`); REF's live path
 *   takes them from a vendor cache or uses 0. Without a spot yet (no ES trade) the print is recorded with Δ = Γ = 0,
 *   which is what REF does when it has no greeks.
 * - W-09: the HVL is the sign change nearest to the level (tie → the lower one); REF takes the first from the lowest
 *   strike. Parity: `hvl: 'first'`.
 * - W-10: walls keep Fuel's convention: per aggregate (contract right), the maximum positive dealer gamma.
 * - Thresholds (`G_eff`, `G_wall`, confidence scale, wall search range) come from CONFIG (W-30); they are sized for
 *   SPY and flagged for recalibration on ES (W-11).
 */
import { CONFIG } from '../../common/config.js';
import type { OptionTrade } from '../../common/event-types.js';
import { greeksForPrint, type PrintGreeks, type PrintGreeksOptions } from '../../common/black76.js';
import { nyDate } from '../../common/time.js';
import { FuelEffect, type OptionRight, type StrikeSummary } from './types.js';

/** Cumulative flow of one option contract (strike, right, expiry) since the book's session began. */
export interface OptionFlowAggregate {
  readonly strike: number;
  readonly right: OptionRight;
  readonly exp_date: string;
  /** Contracts traded. */
  readonly cumulative_volume: number;
  /** Σ price·size·M, in $. */
  readonly cumulative_premium: number;
  /** Σ s·size·Δ·M: customer delta bought (s = aggressor +1/−1/0). */
  readonly net_delta_flow: number;
  /** Σ −s·size·Γ·M: the dealer's gamma (customer buying makes it negative). */
  readonly net_gamma_flow: number;
  readonly last_price: number;
  readonly last_timestamp_ns: bigint | null;
  /** Greeks of the last print. */
  readonly delta: number;
  readonly gamma: number;
}

interface MutableAggregate {
  strike: number;
  right: OptionRight;
  exp_date: string;
  cumulative_volume: number;
  cumulative_premium: number;
  net_delta_flow: number;
  net_gamma_flow: number;
  last_price: number;
  last_timestamp_ns: bigint | null;
  delta: number;
  gamma: number;
}

/** What engines need from a flow store: aggregates with strike in [center − range, center + range], §17.6 order. */
export interface OptionFlowSource {
  flowsNearLevel(center: number, range: number, expDate?: string | null): OptionFlowAggregate[];
  /** Aggregates with strike in [lo, hi], §17.6 order. */
  flowsBetween(lo: number, hi: number, expDate?: string | null): OptionFlowAggregate[];
}

/** One entry of the `market.flow` snapshot (§3). */
export interface FlowSnapshotEntry {
  readonly cumulative_volume: number;
  readonly cumulative_premium: number;
  readonly last_price: number;
  readonly net_delta_flow: number;
  readonly net_gamma_flow: number;
  readonly delta: number;
  readonly gamma: number;
  readonly strike_price: number;
  readonly type: OptionRight;
  readonly expiration: string;
  /** Unix ms of the last print, 0 if none. */
  readonly last_timestamp: number;
}

export interface OptionFlowBookOptions extends PrintGreeksOptions {
  /** $ per point per contract (default `CONFIG.OPTION_CONTRACT_MULTIPLIER`). */
  readonly multiplier?: number | undefined;
  /** W-12 daily reset on the New York date of event time (default true; false = REF). */
  readonly resetOnNewYorkDate?: boolean | undefined;
}

/** Smallest index i with a[i] ≥ x (a sorted ascending). */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** §17.6 order within one strike: 'C' < 'P', then exp_date ascending (ISO dates compare as strings). */
function compareWithinStrike(a: MutableAggregate, b: MutableAggregate): number {
  if (a.right !== b.right) return a.right === 'C' ? -1 : 1;
  return a.exp_date < b.exp_date ? -1 : a.exp_date > b.exp_date ? 1 : 0;
}

/** `O:ES{YYMMDD}{C|P}{round(strike·1000), 8 digits}` — the vendor-style ticker keys of the flow snapshot. */
export function flowTicker(strike: number, right: OptionRight, expDate: string): string {
  const yymmdd = expDate.replaceAll('-', '').slice(2);
  return `O:ES${yymmdd}${right}${String(Math.round(strike * 1000)).padStart(8, '0')}`;
}

export class OptionFlowBook implements OptionFlowSource {
  private readonly byKey = new Map<string, MutableAggregate>();
  /** Per strike, aggregates kept in §17.6 order. */
  private readonly byStrike = new Map<number, MutableAggregate[]>();
  /** Distinct strikes, ascending. */
  private readonly strikes: number[] = [];
  private readonly multiplier: number;
  private readonly resetDaily: boolean;
  private readonly greekOptions: PrintGreeksOptions;
  private date: string | null = null;
  private stale = 0;

  constructor(options: OptionFlowBookOptions = {}) {
    const { multiplier, resetOnNewYorkDate, ...greekOptions } = options;
    this.multiplier = multiplier ?? CONFIG.OPTION_CONTRACT_MULTIPLIER;
    this.resetDaily = resetOnNewYorkDate ?? true;
    this.greekOptions = greekOptions;
  }

  /** New York date of the session the book holds (null before the first print). */
  get sessionDate(): string | null {
    return this.date;
  }

  /** Prints ignored because their New York date was before the book's session (W-12). */
  get stalePrints(): number {
    return this.stale;
  }

  /** Number of aggregates. */
  get size(): number {
    return this.byKey.size;
  }

  /**
   * Record a print with greeks computed by Black-76 against `spot`, the last ES trade price at the print's event
   * time (W-11). Returns the greeks used, or null when there is no spot (the print is recorded with Δ = Γ = 0).
   */
  updateOptionTrade(trade: OptionTrade, spot: number | null): PrintGreeks | null {
    if (spot === null || !(spot > 0)) {
      this.applyTrade(trade, 0, 0);
      return null;
    }
    const g = greeksForPrint(trade, spot, this.greekOptions);
    this.applyTrade(trade, g.delta, g.gamma);
    return g;
  }

  /**
   * REF `update_option_trade(o, delta, gamma)`: fold one print into its aggregate with the given greeks.
   * Returns false when the print was ignored as belonging to an earlier New York date.
   */
  applyTrade(trade: OptionTrade, delta: number, gamma: number): boolean {
    if (this.resetDaily && !this.rollTo(nyDate(trade.ts_event_ns))) {
      this.stale++;
      return false;
    }
    const agg = this.aggregateFor(trade.strike, trade.right, trade.exp_date);
    const s: number = trade.aggressor;
    const m = this.multiplier;
    agg.cumulative_volume += trade.size;
    agg.cumulative_premium += trade.price * trade.size * m;
    agg.net_delta_flow += s * trade.size * delta * m;
    agg.net_gamma_flow += -s * trade.size * gamma * m;
    agg.last_price = trade.price;
    agg.last_timestamp_ns = trade.ts_event_ns;
    agg.delta = delta;
    agg.gamma = gamma;
    return true;
  }

  /**
   * Tell the book event time has reached `nowNs` (the orchestrator calls this at each snap), so a new New York date
   * empties it even before the day's first option print. No-op with `resetOnNewYorkDate: false`.
   */
  advanceTo(nowNs: bigint): void {
    if (this.resetDaily) this.rollTo(nyDate(nowNs));
  }

  /** Drop every aggregate. */
  clear(): void {
    this.byKey.clear();
    this.byStrike.clear();
    this.strikes.length = 0;
  }

  /** Aggregates with `|strike − center| ≤ range` and, when given, matching `expDate`; §17.6 order. */
  flowsNearLevel(center: number, range: number, expDate: string | null = null): OptionFlowAggregate[] {
    return this.flowsBetween(center - range, center + range, expDate);
  }

  /** Aggregates with `lo ≤ strike ≤ hi` and, when given, matching `expDate`; §17.6 order. */
  flowsBetween(lo: number, hi: number, expDate: string | null = null): OptionFlowAggregate[] {
    const out: OptionFlowAggregate[] = [];
    for (let i = lowerBound(this.strikes, lo); i < this.strikes.length; i++) {
      const k = this.strikes[i]!;
      if (k > hi) break;
      for (const agg of this.byStrike.get(k)!) if (expDate === null || agg.exp_date === expDate) out.push(agg);
    }
    return out;
  }

  /** Every aggregate, §17.6 order. */
  aggregates(): OptionFlowAggregate[] {
    const out: OptionFlowAggregate[] = [];
    for (const k of this.strikes) out.push(...this.byStrike.get(k)!);
    return out;
  }

  /**
   * One entry per (strike, exp_date) with `|strike − center| ≤ range` (and matching `expDate` when given): which
   * rights traded there. Ordered by strike, then exp_date. Feeds the STRIKE levels of the universe (§10).
   */
  strikeSummaries(center: number, range: number, expDate: string | null = null): StrikeSummary[] {
    const out: StrikeSummary[] = [];
    const group = new Map<string, { strike: number; exp_date: string; has_calls: boolean; has_puts: boolean }>();
    const flush = (): void => {
      // Within a strike the aggregates run C then P, each by exp_date; merge the two runs back into date order.
      for (const e of [...group.values()].sort((a, b) => (a.exp_date < b.exp_date ? -1 : 1))) out.push(e);
      group.clear();
    };
    let strike = Number.NaN;
    for (const agg of this.flowsNearLevel(center, range, expDate)) {
      if (agg.strike !== strike) {
        flush();
        strike = agg.strike;
      }
      let e = group.get(agg.exp_date);
      if (e === undefined) {
        e = { strike: agg.strike, exp_date: agg.exp_date, has_calls: false, has_puts: false };
        group.set(agg.exp_date, e);
      }
      if (agg.right === 'C') e.has_calls = true;
      else e.has_puts = true;
    }
    flush();
    return out;
  }

  /**
   * The `market.flow` snapshot (§3): aggregates with `|strike − spot| ≤ strikeRange` and matching `expDate` (all
   * expiries when null), keyed by `flowTicker`, in §17.6 order. `{}` without a spot.
   */
  flowSnapshot(
    spot: number | null,
    expDate: string | null,
    strikeRange: number = CONFIG.STRIKE_RANGE,
  ): Record<string, FlowSnapshotEntry> {
    const out: Record<string, FlowSnapshotEntry> = {};
    if (spot === null) return out;
    for (const a of this.flowsNearLevel(spot, strikeRange, expDate)) {
      out[flowTicker(a.strike, a.right, a.exp_date)] = {
        cumulative_volume: a.cumulative_volume,
        cumulative_premium: a.cumulative_premium,
        last_price: a.last_price,
        net_delta_flow: a.net_delta_flow,
        net_gamma_flow: a.net_gamma_flow,
        delta: a.delta,
        gamma: a.gamma,
        strike_price: a.strike,
        type: a.right,
        expiration: a.exp_date,
        last_timestamp: a.last_timestamp_ns === null ? 0 : Number(a.last_timestamp_ns / 1_000_000n),
      };
    }
    return out;
  }

  /** Move the session to `date`; false if `date` is before the current session. */
  private rollTo(date: string): boolean {
    if (this.date === date) return true;
    if (this.date !== null && date < this.date) return false;
    if (this.date !== null) this.clear();
    this.date = date;
    return true;
  }

  private aggregateFor(strike: number, right: OptionRight, expDate: string): MutableAggregate {
    const key = `${strike}|${right}|${expDate}`;
    let agg = this.byKey.get(key);
    if (agg !== undefined) return agg;
    agg = {
      strike,
      right,
      exp_date: expDate,
      cumulative_volume: 0,
      cumulative_premium: 0,
      net_delta_flow: 0,
      net_gamma_flow: 0,
      last_price: 0,
      last_timestamp_ns: null,
      delta: 0,
      gamma: 0,
    };
    this.byKey.set(key, agg);
    let bucket = this.byStrike.get(strike);
    if (bucket === undefined) {
      bucket = [];
      this.byStrike.set(strike, bucket);
      this.strikes.splice(lowerBound(this.strikes, strike), 0, strike);
    }
    bucket.push(agg);
    bucket.sort(compareWithinStrike);
    return agg;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// FuelEngine (§7)
// ---------------------------------------------------------------------------------------------------------------

export interface GammaWall {
  readonly strike: number;
  readonly net_gamma: number;
  readonly wall_type: 'CALL' | 'PUT';
  /** net_gamma / G_wall (≥ 1). */
  readonly strength: number;
}

export interface FuelMetrics {
  readonly effect: FuelEffect;
  /** Σ dealer gamma of the aggregates near the level. */
  readonly net_dealer_gamma: number;
  readonly call_wall: GammaWall | null;
  readonly put_wall: GammaWall | null;
  /** Gamma flip (high-volatility line), interpolated between adjacent strikes; null without a sign change. */
  readonly hvl: number | null;
  /** min(1, Σ volume / scale). */
  readonly confidence: number;
  /** Dealer gamma per strike (both rights), keyed by `String(strike)`, strikes ascending. */
  readonly gamma_by_strike: Record<string, number>;
}

/** `'nearest'`: sign change nearest to the level (W-09). `'first'`: first from the lowest strike (REF). */
export type HvlRule = 'nearest' | 'first';

export interface FuelOptions {
  /** ± points around the level (default `CONFIG.FUEL_STRIKE_RANGE`). */
  readonly strikeRange?: number | undefined;
  /** |net| beyond which the effect is AMPLIFY/DAMPEN (default `CONFIG.FUEL_EFFECT_GAMMA`). */
  readonly effectGamma?: number | undefined;
  /** Minimum dealer gamma of a wall, inclusive (default `CONFIG.FUEL_WALL_GAMMA`). */
  readonly wallGamma?: number | undefined;
  /** Volume at which confidence reaches 1 (default `CONFIG.FUEL_CONFIDENCE_SCALE`). */
  readonly confidenceScale?: number | undefined;
  /** ± points around spot for `allWalls` (default `CONFIG.WALL_SEARCH_RANGE`). */
  readonly wallSearchRange?: number | undefined;
  /** Default `'nearest'`. */
  readonly hvl?: HvlRule | undefined;
}

interface ResolvedFuel {
  strikeRange: number;
  effectGamma: number;
  wallGamma: number;
  confidenceScale: number;
  wallSearchRange: number;
  hvl: HvlRule;
}

function resolveFuel(o: FuelOptions): ResolvedFuel {
  return {
    strikeRange: o.strikeRange ?? CONFIG.FUEL_STRIKE_RANGE,
    effectGamma: o.effectGamma ?? CONFIG.FUEL_EFFECT_GAMMA,
    wallGamma: o.wallGamma ?? CONFIG.FUEL_WALL_GAMMA,
    confidenceScale: o.confidenceScale ?? CONFIG.FUEL_CONFIDENCE_SCALE,
    wallSearchRange: o.wallSearchRange ?? CONFIG.WALL_SEARCH_RANGE,
    hvl: o.hvl ?? 'nearest',
  };
}

const EMPTY_FUEL: FuelMetrics = Object.freeze({
  effect: FuelEffect.NEUTRAL,
  net_dealer_gamma: 0,
  call_wall: null,
  put_wall: null,
  hvl: null,
  confidence: 0,
  gamma_by_strike: Object.freeze({}),
});

/**
 * The wall of one right: the first aggregate (in the given order) attaining the maximum dealer gamma among those on
 * the level's side (calls at or above, puts at or below); null when that maximum is below `wallGamma`.
 */
function findWall(
  flows: readonly OptionFlowAggregate[],
  level: number,
  right: OptionRight,
  wallGamma: number,
): GammaWall | null {
  let best: OptionFlowAggregate | null = null;
  for (const f of flows) {
    if (f.right !== right || (right === 'C' ? f.strike < level : f.strike > level)) continue;
    if (best === null || f.net_gamma_flow > best.net_gamma_flow) best = f;
  }
  if (best === null || !(best.net_gamma_flow >= wallGamma)) return null;
  return {
    strike: best.strike,
    net_gamma: best.net_gamma_flow,
    wall_type: right === 'C' ? 'CALL' : 'PUT',
    strength: best.net_gamma_flow / wallGamma,
  };
}

/** Gamma flip from per-strike gamma (strikes ascending); needs ≥ 3 strikes. */
function findHvl(strikes: readonly number[], gammas: readonly number[], level: number, rule: HvlRule): number | null {
  if (strikes.length < 3) return null;
  let best: number | null = null;
  for (let i = 0; i + 1 < strikes.length; i++) {
    const ga = gammas[i]!;
    const gb = gammas[i + 1]!;
    if (!(ga * gb < 0)) continue;
    const ka = strikes[i]!;
    const x = ka + (strikes[i + 1]! - ka) * (-ga / (gb - ga));
    if (rule === 'first') return x;
    // Ascending scan with a strict `<` keeps the lower crossing on a tie.
    if (best === null || Math.abs(x - level) < Math.abs(best - level)) best = x;
  }
  return best;
}

/**
 * Fuel metrics of the aggregates `flows` (already filtered to the level's strike range and expiry, in §17.6 order,
 * which fixes the summation order and the argmax tie-break).
 */
export function fuelFromFlows(
  flows: readonly OptionFlowAggregate[],
  level: number,
  options: FuelOptions = {},
): FuelMetrics {
  if (flows.length === 0) return EMPTY_FUEL;
  const o = resolveFuel(options);
  let net = 0;
  let volume = 0;
  const strikes: number[] = [];
  const gammas: number[] = [];
  for (const f of flows) {
    net += f.net_gamma_flow;
    volume += f.cumulative_volume;
    if (strikes.length > 0 && strikes[strikes.length - 1] === f.strike) {
      gammas[gammas.length - 1]! += f.net_gamma_flow;
    } else {
      strikes.push(f.strike);
      gammas.push(f.net_gamma_flow);
    }
  }
  const effect =
    net < -o.effectGamma ? FuelEffect.AMPLIFY : net > o.effectGamma ? FuelEffect.DAMPEN : FuelEffect.NEUTRAL;
  return {
    effect,
    net_dealer_gamma: net,
    call_wall: findWall(flows, level, 'C', o.wallGamma),
    put_wall: findWall(flows, level, 'P', o.wallGamma),
    hvl: findHvl(strikes, gammas, level, o.hvl),
    confidence: Math.min(1, volume / o.confidenceScale),
    // Built on first read: the per-snap payload does not carry it, and string keys per level per snap add up.
    get gamma_by_strike(): Record<string, number> {
      const byStrike: Record<string, number> = {};
      for (let i = 0; i < strikes.length; i++) byStrike[String(strikes[i])] = gammas[i]!;
      return byStrike;
    },
  };
}

export class FuelEngine {
  private readonly options: FuelOptions;
  private readonly o: ResolvedFuel;

  constructor(options: FuelOptions = {}) {
    this.options = options;
    this.o = resolveFuel(options);
  }

  /** Fuel at `level` from the aggregates within `strikeRange`, restricted to `expFilter` (the 0DTE trading date). */
  compute(flows: OptionFlowSource, level: number, expFilter: string | null): FuelMetrics {
    return fuelFromFlows(flows.flowsNearLevel(level, this.o.strikeRange, expFilter), level, this.options);
  }

  /**
   * REF `get_all_walls`: the call and put walls of all strikes in [min, max] (default spot ± `wallSearchRange`),
   * judged from `spot` (calls at or above it, puts at or below). Both null without a spot.
   */
  allWalls(
    flows: OptionFlowSource,
    spot: number | null,
    expFilter: string | null = null,
    min?: number,
    max?: number,
  ): { call_wall: GammaWall | null; put_wall: GammaWall | null } {
    if (spot === null) return { call_wall: null, put_wall: null };
    const lo = min ?? spot - this.o.wallSearchRange;
    const hi = max ?? spot + this.o.wallSearchRange;
    const inRange = flows.flowsBetween(lo, hi, expFilter);
    return {
      call_wall: findWall(inRange, spot, 'C', this.o.wallGamma),
      put_wall: findWall(inRange, spot, 'P', this.o.wallGamma),
    };
  }
}
