/**
 * Levels whose tick ranges coincide share one accumulator (a barrier zone, a tape band): ROUND_6870 and STRIKE_6870
 * read the same windows. This keeps the id → range bookkeeping, reference counts and the range list the engines
 * iterate on every event. A range is created — and back-filled by `create` — when its first level is tracked, and
 * dropped with its last.
 */
/** Inclusive tick range `[lo, hi]` of prices within `halfWidth` points of `price`, robust to float noise. */
export function tickRange(price: number, halfWidth: number, tickSize: number): [number, number] {
  const x = price / tickSize;
  const w = halfWidth / tickSize;
  return [Math.ceil(x - w - 1e-9), Math.floor(x + w + 1e-9)];
}

export class LevelRanges<R> {
  private readonly levels = new Map<string, { readonly price: number; readonly key: string }>();
  private readonly byKey = new Map<string, { readonly range: R; refs: number }>();
  /** Ranges in creation order; replaced, never mutated, so an iteration in progress stays valid. */
  list: readonly R[] = [];

  constructor(
    private readonly halfWidth: number,
    private readonly tickSize: number,
    private readonly create: (lo: number, hi: number) => R,
  ) {}

  /** Start (or move) a level. */
  track(levelId: string, price: number): void {
    if (!Number.isFinite(price)) throw new RangeError(`level ${levelId}: price must be finite, got ${String(price)}`);
    const existing = this.levels.get(levelId);
    if (existing !== undefined) {
      if (existing.price === price) return;
      this.untrack(levelId);
    }
    const [lo, hi] = tickRange(price, this.halfWidth, this.tickSize);
    const key = `${lo}:${hi}`;
    let ref = this.byKey.get(key);
    if (ref === undefined) {
      ref = { range: this.create(lo, hi), refs: 0 };
      this.byKey.set(key, ref);
      this.list = [...this.list, ref.range];
    }
    ref.refs++;
    this.levels.set(levelId, { price, key });
  }

  untrack(levelId: string): void {
    const level = this.levels.get(levelId);
    if (level === undefined) return;
    this.levels.delete(levelId);
    const ref = this.byKey.get(level.key)!;
    if (--ref.refs === 0) {
      this.byKey.delete(level.key);
      this.list = this.list.filter((r) => r !== ref.range);
    }
  }

  /** Make the tracked set exactly `levels` (ids not listed are dropped; moved prices re-tracked). */
  sync(levels: Iterable<{ readonly id: string; readonly price: number }>): void {
    const list = [...levels];
    const keep = new Set(list.map((l) => l.id));
    for (const id of [...this.levels.keys()]) if (!keep.has(id)) this.untrack(id);
    for (const l of list) this.track(l.id, l.price);
  }

  has(levelId: string): boolean {
    return this.levels.has(levelId);
  }

  /** The range of a tracked level, or undefined. */
  get(levelId: string): R | undefined {
    const level = this.levels.get(levelId);
    return level === undefined ? undefined : this.byKey.get(level.key)!.range;
  }
}
