/**
 * America/New_York calendar helpers on event time (ENGINES.md §3, §17.3, W-20, W-26): the trading date, the ET minute
 * of day (pre-market, opening range) and the instant of an ET wall-clock time (option expiry).
 *
 * `Intl.DateTimeFormat` is the only source of the zone rules, so DST changes come from the runtime's tz database,
 * never from hand-written rules. Formatting is slow (~µs), and MarketState asks on every trade, so the answer is
 * cached per UTC hour: New York has had whole-hour offsets since 1883, hence one UTC hour is one local hour with one
 * date, and the minute follows by arithmetic. The cache is a pure memo of a pure function (bounded, cleared when
 * full), so it cannot change any result.
 */

const NY_ZONE = 'America/New_York';
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const NS_PER_MS = 1_000_000n;
const CACHE_LIMIT = 4096;

const formatter = new Intl.DateTimeFormat('en-US', {
  timeZone: NY_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});

/** A New York wall-clock reading of one instant. */
export interface NyTime {
  /** Calendar date `YYYY-MM-DD` in New York. */
  readonly date: string;
  /** Minutes since New York midnight, 0–1439. */
  readonly minuteOfDay: number;
}

interface HourEntry {
  readonly date: string;
  /** Minute of day at the start of the UTC hour. */
  readonly minute0: number;
  /** Local wall time minus UTC at that hour, in ms. */
  readonly offsetMs: number;
}

const hourCache = new Map<number, HourEntry>();
let lastHour = Number.NaN;
let lastEntry: HourEntry | null = null;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function hourEntry(hour: number): HourEntry {
  if (hour === lastHour && lastEntry !== null) return lastEntry;
  let entry = hourCache.get(hour);
  if (entry === undefined) {
    entry = computeHour(hour * MS_PER_HOUR);
    if (hourCache.size >= CACHE_LIMIT) hourCache.clear();
    hourCache.set(hour, entry);
  }
  lastHour = hour;
  lastEntry = entry;
  return entry;
}

function computeHour(utcMs: number): HourEntry {
  let y = '';
  let mo = '';
  let d = '';
  let h = 0;
  let mi = 0;
  for (const p of formatter.formatToParts(utcMs)) {
    switch (p.type) {
      case 'year':
        y = p.value;
        break;
      case 'month':
        mo = p.value;
        break;
      case 'day':
        d = p.value;
        break;
      case 'hour':
        h = Number(p.value);
        break;
      case 'minute':
        mi = Number(p.value);
        break;
      default:
        break;
    }
  }
  const wallMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), h, mi);
  return { date: `${y.padStart(4, '0')}-${mo}-${d}`, minute0: h * 60 + mi, offsetMs: wallMs - utcMs };
}

function split(ts_ns: bigint): { entry: HourEntry; msInHour: number } {
  const ms = floorDiv(ts_ns, NS_PER_MS);
  const hourBig = floorDiv(ms, BigInt(MS_PER_HOUR));
  const hour = Number(hourBig);
  return { entry: hourEntry(hour), msInHour: Number(ms - hourBig * BigInt(MS_PER_HOUR)) };
}

/** New York date and minute of day of a Unix-ns instant. */
export function nyTime(ts_ns: bigint): NyTime {
  const { entry, msInHour } = split(ts_ns);
  return { date: entry.date, minuteOfDay: entry.minute0 + Math.floor(msInHour / MS_PER_MINUTE) };
}

/** New York calendar date `YYYY-MM-DD` of a Unix-ns instant (the trading date of §17.3). */
export function nyDate(ts_ns: bigint): string {
  return split(ts_ns).entry.date;
}

/** Minutes since New York midnight of a Unix-ns instant, 0–1439. */
export function nyMinuteOfDay(ts_ns: bigint): number {
  const { entry, msInHour } = split(ts_ns);
  return entry.minute0 + Math.floor(msInHour / MS_PER_MINUTE);
}

/** New York's offset from UTC at an instant, in minutes (−300 EST, −240 EDT). */
export function nyOffsetMinutes(ts_ns: bigint): number {
  return split(ts_ns).entry.offsetMs / MS_PER_MINUTE;
}

/**
 * The Unix-ns instant at which New York wall clocks read `date` (`YYYY-MM-DD`) `minuteOfDay` minutes after midnight
 * (e.g. 16:00 → 960). A wall time skipped by the spring-forward change resolves with the offset in force before
 * it (02:30 → 03:30 EDT); one repeated in the fall resolves to its first (EDT) occurrence.
 */
export function nyWallTimeToNs(date: string, minuteOfDay: number): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (m === null) throw new RangeError(`date must be YYYY-MM-DD, got ${JSON.stringify(date)}`);
  if (!Number.isInteger(minuteOfDay) || minuteOfDay < 0 || minuteOfDay >= 1440) {
    throw new RangeError(`minuteOfDay must be an integer in [0, 1440), got ${String(minuteOfDay)}`);
  }
  const wallMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + minuteOfDay * MS_PER_MINUTE;
  // The offset one day earlier is the pre-transition one; re-reading it at the candidate settles the DST edge.
  const before = offsetAtMs(wallMs - 24 * MS_PER_HOUR);
  let utcMs = wallMs - before;
  const at = offsetAtMs(utcMs);
  if (at !== before && offsetAtMs(wallMs - at) === at) utcMs = wallMs - at;
  return BigInt(utcMs) * NS_PER_MS;
}

function offsetAtMs(utcMs: number): number {
  return hourEntry(Math.floor(utcMs / MS_PER_HOUR)).offsetMs;
}
