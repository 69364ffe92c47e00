/**
 * Confluence: how many weighted levels stack near a level, how hard they press, and whether the SMA trend agrees
 * (ENGINES.md §12, W-23, W-29).
 *
 * Neighbours of a target are the other levels of a weighted kind within `band` (`|Δprice| ≤ band`). Pressure is
 * `Σ ω·max(0, 1 − d/band) / pressureNorm`; the port divides by the top-4 weight sum `CONFIG.CONFLUENCE_PRESSURE_NORM`
 * (4.0) so the > 0.5 / > 0.7 tiers are reachable (W-23); `pressureNorm: REFERENCE_OMEGA` reproduces the reference.
 */
import { map, type OperatorFunction } from 'rxjs';
import { CONFIG } from '../common/config.js';

/** Kind weights ω; kinds not listed (STRIKE, ROUND, USER_HOTZONE) are never neighbours. */
export const CONFLUENCE_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  PM_HIGH: 1.0,
  PM_LOW: 1.0,
  OR_HIGH: 0.9,
  OR_LOW: 0.9,
  SMA_200: 0.8,
  SMA_400: 0.8,
  VWAP: 0.7,
  SESSION_HIGH: 0.6,
  SESSION_LOW: 0.6,
  CALL_WALL: 1.0,
  PUT_WALL: 1.0,
  GAMMA_FLIP: 0.85,
});

// Own-property lookup: `kind in CONFLUENCE_WEIGHTS` would also accept 'toString' and friends.
const WEIGHT: ReadonlyMap<string, number> = new Map(Object.entries(CONFLUENCE_WEIGHTS));

/**
 * Ω = Σω, summed in the reference's order so the float is the reference's own (10.149999999999999, i.e. 10.15):
 * the parity normaliser.
 */
export const REFERENCE_OMEGA: number = Object.values(CONFLUENCE_WEIGHTS).reduce((a, b) => a + b, 0);

/** Kinds whose hierarchical level is scored as premium. */
export const PREMIUM_KINDS: ReadonlySet<string> = new Set([
  'PM_HIGH',
  'PM_LOW',
  'OR_HIGH',
  'OR_LOW',
  'CALL_WALL',
  'PUT_WALL',
]);

export type ConfluenceDirection = 'SUPPORT' | 'RESISTANCE';

/** −1 OPPOSED, 0 NEUTRAL, +1 ALIGNED. */
export type ConfluenceAlignment = -1 | 0 | 1;

export type ConfluenceLevelName = 'UNDEFINED' | 'ULTRA_PREMIUM' | 'PREMIUM' | 'STRONG' | 'MODERATE' | 'CONSOLIDATION';

export interface LevelLike {
  readonly id: string;
  readonly price: number;
  readonly kind: string;
}

export interface ConfluenceTarget extends LevelLike {
  readonly direction: ConfluenceDirection;
}

export interface ConfluenceResult {
  confluence_count: number;
  confluence_pressure: number;
  confluence_alignment: ConfluenceAlignment;
  confluence_min_distance: number | null;
  /** `[id, distance, weight]` in universe order. */
  nearby_levels: [string, number, number][];
  confluence_level: number;
  confluence_level_name: ConfluenceLevelName;
}

export interface ConfluenceConfig {
  /** Neighbour radius, points; 0 or absent falls back to `CONFIG.CONFLUENCE_BAND` as in the reference. */
  band?: number;
  /** SMA_200 vs SMA_400 dead-band (default `CONFIG.CONFLUENCE_SMA_DEADBAND`). */
  deadband?: number;
  /** Pressure divisor (default `CONFIG.CONFLUENCE_PRESSURE_NORM`; `REFERENCE_OMEGA` for parity). */
  pressureNorm?: number;
}

export interface ConfluenceOptions extends ConfluenceConfig {
  /** Last trade price; `null`/absent → alignment NEUTRAL. */
  spot?: number | null;
}

interface Resolved {
  band: number;
  deadband: number;
  pressureNorm: number;
}

function resolve(o: ConfluenceConfig): Resolved {
  const band = o.band || CONFIG.CONFLUENCE_BAND;
  const deadband = o.deadband ?? CONFIG.CONFLUENCE_SMA_DEADBAND;
  const pressureNorm = o.pressureNorm ?? CONFIG.CONFLUENCE_PRESSURE_NORM;
  if (!(Number.isFinite(band) && band > 0)) throw new RangeError(`band must be > 0, got ${band}`);
  if (!(deadband >= 0)) throw new RangeError(`deadband must be ≥ 0, got ${deadband}`);
  if (!(Number.isFinite(pressureNorm) && pressureNorm > 0)) {
    throw new RangeError(`pressureNorm must be > 0, got ${pressureNorm}`);
  }
  return { band, deadband, pressureNorm };
}

/**
 * SMA trend of the universe: +1 bullish (SMA_200 above SMA_400 by more than the dead-band), −1 bearish, 0 otherwise
 * or when spot or either SMA is missing. The last level of each SMA kind wins, as in the reference.
 */
export function smaTrend(levels: readonly LevelLike[], spot: number | null, deadband: number): -1 | 0 | 1 {
  if (spot === null) return 0;
  let sma200: number | null = null;
  let sma400: number | null = null;
  for (const l of levels) {
    if (l.kind === 'SMA_200') sma200 = l.price;
    else if (l.kind === 'SMA_400') sma400 = l.price;
  }
  if (sma200 === null || sma400 === null) return 0;
  if (sma200 > sma400 + deadband) return 1;
  if (sma200 < sma400 - deadband) return -1;
  return 0;
}

/** Support is aligned with a bullish trend, resistance with a bearish one. */
export function alignmentFor(trend: -1 | 0 | 1, direction: ConfluenceDirection): ConfluenceAlignment {
  if (trend === 0) return 0;
  const bullish = trend === 1;
  return (direction === 'SUPPORT') === bullish ? 1 : -1;
}

/** Hierarchical level 0–10 (lower is better; premium kinds score lower), ENGINES.md §12 step 5. */
export function confluenceLevel(
  count: number,
  pressure: number,
  alignment: ConfluenceAlignment,
  targetKind: string,
): number {
  if (count === 0) return 0;
  const premium = PREMIUM_KINDS.has(targetKind);
  let base: number;
  if (count >= 4 && pressure > 0.7) base = premium ? 1 : 9;
  else if (count >= 3 && pressure > 0.5) base = premium ? 3 : 7;
  else if (count >= 2 && pressure > 0.3) base = premium ? 3 : 5;
  else base = premium ? 5 : 7;
  if (alignment === 1) return Math.max(1, base - 1);
  if (alignment === -1) return Math.min(10, base + 1);
  return base;
}

export function confluenceLevelName(level: number): ConfluenceLevelName {
  if (level === 0) return 'UNDEFINED';
  if (level <= 2) return 'ULTRA_PREMIUM';
  if (level <= 4) return 'PREMIUM';
  if (level <= 6) return 'STRONG';
  if (level <= 8) return 'MODERATE';
  return 'CONSOLIDATION';
}

function emptyResult(): ConfluenceResult {
  return {
    confluence_count: 0,
    confluence_pressure: 0,
    confluence_alignment: 0,
    confluence_min_distance: null,
    nearby_levels: [],
    confluence_level: 0,
    confluence_level_name: 'UNDEFINED',
  };
}

/**
 * Fold neighbours, given in universe order, into a result. Sums run in universe order so the batch path and the
 * direct scan give bit-identical floats.
 */
function finish(
  target: ConfluenceTarget,
  neighbours: readonly LevelLike[],
  trend: -1 | 0 | 1,
  r: Resolved,
): ConfluenceResult {
  if (neighbours.length === 0) return emptyResult();
  const nearby: [string, number, number][] = [];
  let minD = Infinity;
  let score = 0;
  for (const l of neighbours) {
    const d = Math.abs(l.price - target.price);
    const w = WEIGHT.get(l.kind)!;
    if (d < minD) minD = d;
    score += w * Math.max(0, 1 - d / r.band);
    nearby.push([l.id, d, w]);
  }
  const pressure = score / r.pressureNorm;
  const alignment = alignmentFor(trend, target.direction);
  const level = confluenceLevel(nearby.length, pressure, alignment, target.kind);
  return {
    confluence_count: nearby.length,
    confluence_pressure: pressure,
    confluence_alignment: alignment,
    confluence_min_distance: minD,
    nearby_levels: nearby,
    confluence_level: level,
    confluence_level_name: confluenceLevelName(level),
  };
}

function isNeighbour(l: LevelLike, target: LevelLike, band: number): boolean {
  return l.id !== target.id && WEIGHT.has(l.kind) && Math.abs(l.price - target.price) <= band;
}

/** Confluence of one target against the universe: one O(n) pass, the reference's own loop. */
export function computeConfluence(
  target: ConfluenceTarget,
  levels: readonly LevelLike[],
  options: ConfluenceOptions = {},
): ConfluenceResult {
  const r = resolve(options);
  const neighbours = levels.filter((l) => isNeighbour(l, target, r.band));
  const trend = neighbours.length === 0 ? 0 : smaTrend(levels, options.spot ?? null, r.deadband);
  return finish(target, neighbours, trend, r);
}

/**
 * Confluence of many targets against one universe in O((n + m) log(n + m) + output): weighted levels and targets are
 * sorted by price once and a left pointer walks up with the targets. `|q − p| ≤ band` holds on a contiguous run
 * of sorted prices (float subtraction is monotone), so the exact reference predicate bounds each scan. Results are in
 * `targets` order.
 */
export function computeConfluenceBatch(
  targets: readonly ConfluenceTarget[],
  levels: readonly LevelLike[],
  options: ConfluenceOptions = {},
): ConfluenceResult[] {
  const r = resolve(options);
  const band = r.band;
  const trend = smaTrend(levels, options.spot ?? null, r.deadband);

  const weighted: number[] = [];
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    // A NaN price fails every band test in the scan, so it is left out of the sorted run.
    if (WEIGHT.has(l.kind) && !Number.isNaN(l.price)) weighted.push(i);
  }
  weighted.sort((a, b) => levels[a]!.price - levels[b]!.price || a - b);
  const wPrice = weighted.map((i) => levels[i]!.price);

  const order = targets.map((_, i) => i);
  order.sort((a, b) => targets[a]!.price - targets[b]!.price || a - b);

  const out = new Array<ConfluenceResult>(targets.length);
  const m = wPrice.length;
  let lo = 0;
  const hits: number[] = [];
  for (const ti of order) {
    const target = targets[ti]!;
    const p = target.price;
    if (Number.isNaN(p)) {
      out[ti] = emptyResult();
      continue;
    }
    while (lo < m && wPrice[lo]! < p && !(Math.abs(wPrice[lo]! - p) <= band)) lo++;
    hits.length = 0;
    for (let j = lo; j < m && Math.abs(wPrice[j]! - p) <= band; j++) {
      const idx = weighted[j]!;
      if (levels[idx]!.id !== target.id) hits.push(idx);
    }
    if (hits.length > 1) hits.sort((a, b) => a - b);
    out[ti] = finish(
      target,
      hits.map((i) => levels[i]!),
      hits.length === 0 ? 0 : trend,
      r,
    );
  }
  return out;
}

/** One snapshot of the level universe. */
export interface ConfluenceSnapshot {
  readonly levels: readonly (LevelLike & { readonly direction?: ConfluenceDirection })[];
  readonly spot: number | null;
  /** Levels to score; absent → every level of the universe. */
  readonly targets?: readonly ConfluenceTarget[];
}

/** Direction when none is given: above spot (or at it, or no spot) resistance, below support. */
function directionOf(level: LevelLike & { readonly direction?: ConfluenceDirection }, spot: number | null) {
  return level.direction ?? (spot !== null && level.price < spot ? 'SUPPORT' : 'RESISTANCE');
}

/**
 * Maps each snapshot to the confluence of every target, keyed by level id in target order.
 *
 * ```
 * source: -s----t----|      s, t: snapshots {levels, spot, targets?}
 * output: -S----T----|      S = Map(id → ConfluenceResult) for s; stateless, so errors and completion pass through
 * ```
 *
 * A level without `direction` is RESISTANCE at or above spot (or with no spot) and SUPPORT below; pass explicit
 * directions to keep the previous side while spot sits on the level (W-36).
 */
export function confluence(
  options: ConfluenceConfig = {},
): OperatorFunction<ConfluenceSnapshot, Map<string, ConfluenceResult>> {
  const config = resolve(options);
  return map((snap) => {
    const targets: readonly ConfluenceTarget[] =
      snap.targets ??
      snap.levels.map((l) => ({ id: l.id, price: l.price, kind: l.kind, direction: directionOf(l, snap.spot) }));
    const results = computeConfluenceBatch(targets, snap.levels, { ...config, spot: snap.spot });
    const out = new Map<string, ConfluenceResult>();
    for (let i = 0; i < targets.length; i++) out.set(targets[i]!.id, results[i]!);
    return out;
  });
}
