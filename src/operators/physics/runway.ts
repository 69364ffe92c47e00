/**
 * Room to run (ENGINES.md §11): the next level in a direction, how far it is, and whether it is a strong obstacle.
 *
 * Definition: UP candidates are levels priced strictly above the current level, DOWN strictly below (levels at the
 * same price, the current one included, never count); the next obstacle is the nearest candidate, ties resolved by
 * universe order. `computeRunway` is that definition in O(n); `RunwayIndex` sorts the universe once per snap by
 * (price, universe order) and answers the same question in O(log n).
 *
 * Departures from REF (W-18):
 * - Quality: OBSTRUCTED iff the next obstacle itself is a strong kind (CALL_WALL, PUT_WALL, SESSION_HIGH,
 *   SESSION_LOW, VWAP, GAMMA_FLIP). REF tests the levels strictly *between* current and next — an empty set by
 *   construction — so it always says CLEAR. Parity: `quality: 'ref'`.
 * - No obstacle: distance `null` (REF: `Infinity`, not valid JSON). Parity `quality: 'ref'` gives `Infinity`.
 * - REF's always-empty `intermediate` list is not carried.
 */
import { Direction, LevelKind, RunwayQuality, type BreakDirection, type Level, type LevelDirection } from './types.js';

/** Kinds that make the path OBSTRUCTED when they are the next obstacle. */
export const STRONG_OBSTACLE_KINDS: ReadonlySet<LevelKind> = new Set<LevelKind>([
  LevelKind.CALL_WALL,
  LevelKind.PUT_WALL,
  LevelKind.SESSION_HIGH,
  LevelKind.SESSION_LOW,
  LevelKind.VWAP,
  LevelKind.GAMMA_FLIP,
]);

export interface Runway {
  readonly direction: BreakDirection;
  /** |next.price − current.price|; null (REF: Infinity) when nothing lies that way. */
  readonly distance: number | null;
  readonly next_obstacle: Level | null;
  readonly quality: RunwayQuality;
}

export interface RunwayOptions {
  /** `'next_obstacle'` (default, W-18) or `'ref'` (always CLEAR, Infinity distance). */
  readonly quality?: 'next_obstacle' | 'ref' | undefined;
}

function result(
  current: { readonly price: number },
  direction: BreakDirection,
  next: Level | null,
  opts: RunwayOptions,
): Runway {
  const ref = opts.quality === 'ref';
  if (next === null) {
    return { direction, distance: ref ? Infinity : null, next_obstacle: null, quality: RunwayQuality.CLEAR };
  }
  const strong = !ref && STRONG_OBSTACLE_KINDS.has(next.kind);
  return {
    direction,
    distance: Math.abs(next.price - current.price),
    next_obstacle: next,
    quality: strong ? RunwayQuality.OBSTRUCTED : RunwayQuality.CLEAR,
  };
}

/** The O(n) definition of §11 over `levels` in universe order. */
export function computeRunway(
  current: { readonly price: number },
  direction: BreakDirection,
  levels: readonly Level[],
  opts: RunwayOptions = {},
): Runway {
  let next: Level | null = null;
  for (const l of levels) {
    // Strict comparison against the best so far keeps the earliest level (universe order) among equal prices.
    if (direction === Direction.UP) {
      if (l.price > current.price && (next === null || l.price < next.price)) next = l;
    } else if (l.price < current.price && (next === null || l.price > next.price)) {
      next = l;
    }
  }
  return result(current, direction, next, opts);
}

/** The universe sorted once by (price, universe order) for O(log n) runway queries at one snap. */
export class RunwayIndex {
  private readonly sorted: readonly Level[];
  private readonly prices: Float64Array;
  private readonly opts: RunwayOptions;

  constructor(universe: readonly Level[], opts: RunwayOptions = {}) {
    const order = universe.map((_, i) => i);
    order.sort((a, b) => universe[a]!.price - universe[b]!.price || a - b);
    this.sorted = order.map((i) => universe[i]!);
    this.prices = Float64Array.from(this.sorted, (l) => l.price);
    this.opts = opts;
  }

  /** Runway from `current` (a level of the universe or any price) in `direction`. */
  runway(current: { readonly price: number }, direction: BreakDirection): Runway {
    return result(current, direction, this.next(current.price, direction), this.opts);
  }

  /** Runway both ways, UP then DOWN (REF `bidirectional`). */
  bidirectional(current: { readonly price: number }): [Runway, Runway] {
    return [this.runway(current, Direction.UP), this.runway(current, Direction.DOWN)];
  }

  private next(price: number, direction: BreakDirection): Level | null {
    if (direction === Direction.UP) {
      const i = this.firstIndex((p) => p > price);
      return this.sorted[i] ?? null;
    }
    const below = this.firstIndex((p) => p >= price) - 1;
    if (below < 0) return null;
    // Several levels may share the nearest lower price: the first of that block is the earliest in universe order.
    const p = this.prices[below]!;
    return this.sorted[this.firstIndex((q) => q >= p)]!;
  }

  /** First index whose price satisfies a predicate that is monotone (false…false true…true) over the sort. */
  private firstIndex(pred: (p: number) => boolean): number {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.prices[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Break direction of a level: through a SUPPORT is DOWN, through a RESISTANCE is UP. */
export function breakDirectionOf(direction: LevelDirection): BreakDirection {
  return direction === Direction.SUPPORT ? Direction.DOWN : Direction.UP;
}

/** The bounce direction, opposite of the break. */
export function rejectDirectionOf(direction: LevelDirection): BreakDirection {
  return direction === Direction.SUPPORT ? Direction.UP : Direction.DOWN;
}

/** §13 step 4.5: a REJECT runs the bounce way, anything else the break way. */
export function runwayDirection(direction: LevelDirection, signal: string): BreakDirection {
  return signal === 'REJECT' ? rejectDirectionOf(direction) : breakDirectionOf(direction);
}
