/** One benchmark figure: a median rate and its ratio to the baseline measured in the same run. */
export interface BenchRow {
  suite: string;
  name: string;
  /** Median items per second over the repetitions. */
  eventsPerSec: number;
  /** This rate divided by the suite's baseline rate (1 for the baseline itself). */
  ratioToBaseline: number;
  extra?: string;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
