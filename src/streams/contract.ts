/**
 * Front-month contract selection (DATA.md §6.3): one ES contract per trading date, so roll weeks never interleave two
 * books. Primary rule: volume dominance during regular trading hours (09:30–13:30 America/New_York, weekdays) — the
 * contract with the most trades (or contracts) wins, ties to the lower symbol. Fallback when a date has no RTH
 * trades: the quarterly calendar (expiry = third Friday; roll 8 days before it).
 */
import { nyTime } from '../common/time.js';

/** Outright ES futures: `ES` + month code + one year digit (drops spreads like `ESZ6-ESH7` and continuous symbols). */
export const ES_OUTRIGHT = /^ES[FGHJKMNQUVXZ]\d$/;

const QUARTER_CODES: Readonly<Record<number, string>> = { 3: 'H', 6: 'M', 9: 'U', 12: 'Z' };
const RTH_START_MIN = 9 * 60 + 30;
const RTH_END_MIN = 13 * 60 + 30;
const ROLL_DAYS_BEFORE_EXPIRY = 8;
/** Below this share of the front contract the date is flagged as roll-contaminated. */
export const DOMINANCE_MIN = 0.6;

/** Third Friday of a month, as `YYYY-MM-DD`. */
export function thirdFriday(year: number, month: number): string {
  const firstDow = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  const firstFriday = 1 + ((5 - firstDow + 7) % 7);
  return isoDate(year, month, firstFriday + 14);
}

function isoDate(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** The calendar front month for a trading date (`2025-11-03` → `ESZ5`, `2025-12-11` → `ESH6`). */
export function calendarFrontMonth(date: string, root = 'ES'): string {
  const [y, m] = date.split('-').map(Number) as [number, number];
  let year = y;
  let month = Math.ceil(m / 3) * 3;
  for (let i = 0; i < 3; i++) {
    const expiry = thirdFriday(year, month);
    if (date < addDays(expiry, -ROLL_DAYS_BEFORE_EXPIRY)) return `${root}${QUARTER_CODES[month]}${year % 10}`;
    month += 3;
    if (month > 12) {
      month = 3;
      year += 1;
    }
  }
  throw new Error(`no front month found for ${date}`);
}

/** `[matches, expected]` for a contract and a date, by the calendar rule. */
export function validateContract(contract: string, date: string): [boolean, string] {
  const expected = calendarFrontMonth(date, contract.slice(0, -2) || 'ES');
  return [contract === expected, expected];
}

export interface DateSelection {
  readonly date: string;
  readonly contract: string;
  readonly method: 'volume' | 'calendar';
  /** Front's share of RTH activity (1 when only one contract traded; null for the calendar rule). */
  readonly dominance: number | null;
  readonly rollContaminated: boolean;
  readonly runnerUp: string | null;
  /** Runner-up activity / front activity. */
  readonly runnerUpRatio: number | null;
  readonly contracts: number;
}

/**
 * Counts RTH activity per (trading date, contract) from the trades of a pre-scan, then picks the front month per
 * date. Feed it every futures trade (any order); ask `select(date)` afterwards.
 */
export class FrontMonthSelector {
  private readonly counts = new Map<string, Map<string, number>>();

  constructor(private readonly options: { by?: 'trade_count' | 'volume'; root?: string; outright?: RegExp } = {}) {}

  /** Record one trade of `symbol` at `ts` with `size` contracts. */
  observe(symbol: string, ts: bigint, size: number): void {
    if (!(this.options.outright ?? ES_OUTRIGHT).test(symbol)) return;
    const { date, minuteOfDay } = nyTime(ts);
    const dow = new Date(`${date}T12:00:00Z`).getUTCDay();
    if (dow === 0 || dow === 6 || minuteOfDay < RTH_START_MIN || minuteOfDay >= RTH_END_MIN) return;
    let perDate = this.counts.get(date);
    if (!perDate) this.counts.set(date, (perDate = new Map()));
    perDate.set(symbol, (perDate.get(symbol) ?? 0) + (this.options.by === 'volume' ? size : 1));
  }

  /** Dates that saw RTH trades, ascending. */
  dates(): string[] {
    return [...this.counts.keys()].sort();
  }

  select(date: string): DateSelection {
    const perDate = this.counts.get(date);
    if (!perDate || perDate.size === 0) {
      return {
        date,
        contract: calendarFrontMonth(date, this.options.root ?? 'ES'),
        method: 'calendar',
        dominance: null,
        rollContaminated: false,
        runnerUp: null,
        runnerUpRatio: null,
        contracts: 0,
      };
    }
    const ranked = [...perDate.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const [front, frontCount] = ranked[0]!;
    const total = ranked.reduce((s, [, n]) => s + n, 0);
    const dominance = frontCount / total;
    const second = ranked[1];
    return {
      date,
      contract: front,
      method: 'volume',
      dominance,
      rollContaminated: dominance < DOMINANCE_MIN,
      runnerUp: second ? second[0] : null,
      runnerUpRatio: second ? second[1] / frontCount : null,
      contracts: ranked.length,
    };
  }
}
