import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { nyDate, nyMinuteOfDay, nyOffsetMinutes, nyTime, nyWallTimeToNs } from '../../src/common/time.js';

const utc = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

/** Uncached reading straight from Intl, the oracle for the cache. */
function direct(ts: bigint): { date: string; minuteOfDay: number } {
  const ms = Number(ts / 1_000_000n);
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'America/New_York',
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(ms);
  const get = (t: string): string => parts.find((p) => p.type === t)!.value;
  return {
    date: `${get('year')}-${get('month')}-${get('day')}`,
    minuteOfDay: Number(get('hour')) * 60 + Number(get('minute')),
  };
}

describe('New York time', () => {
  it('reads date and minute of day in winter and summer', () => {
    expect(nyTime(utc('2025-12-16T13:00:00Z'))).toEqual({ date: '2025-12-16', minuteOfDay: 480 });
    expect(nyTime(utc('2025-07-01T13:30:59.999Z'))).toEqual({ date: '2025-07-01', minuteOfDay: 570 });
    expect(nyOffsetMinutes(utc('2025-12-16T13:00:00Z'))).toBe(-300);
    expect(nyOffsetMinutes(utc('2025-07-01T13:00:00Z'))).toBe(-240);
  });

  it('changes date at New York midnight, not UTC midnight', () => {
    expect(nyDate(utc('2025-12-17T04:59:59.999Z'))).toBe('2025-12-16');
    expect(nyMinuteOfDay(utc('2025-12-17T04:59:59.999Z'))).toBe(1439);
    expect(nyTime(utc('2025-12-17T05:00:00Z'))).toEqual({ date: '2025-12-17', minuteOfDay: 0 });
    expect(nyDate(utc('2025-12-17T00:30:00Z'))).toBe('2025-12-16');
  });

  it('follows the DST changes', () => {
    expect(nyMinuteOfDay(utc('2025-03-09T06:59:00Z'))).toBe(1 * 60 + 59);
    expect(nyMinuteOfDay(utc('2025-03-09T07:00:00Z'))).toBe(3 * 60);
    expect(nyMinuteOfDay(utc('2025-11-02T05:59:00Z'))).toBe(1 * 60 + 59);
    expect(nyMinuteOfDay(utc('2025-11-02T06:00:00Z'))).toBe(1 * 60);
  });

  it('maps New York wall times to instants, DST edges included', () => {
    expect(nyWallTimeToNs('2025-12-16', 16 * 60)).toBe(utc('2025-12-16T21:00:00Z'));
    expect(nyWallTimeToNs('2025-07-01', 16 * 60)).toBe(utc('2025-07-01T20:00:00Z'));
    expect(nyWallTimeToNs('2025-03-09', 12 * 60)).toBe(utc('2025-03-09T16:00:00Z'));
    expect(nyWallTimeToNs('2025-11-02', 12 * 60)).toBe(utc('2025-11-02T17:00:00Z'));
    expect(nyWallTimeToNs('2025-03-09', 2 * 60 + 30)).toBe(utc('2025-03-09T07:30:00Z'));
    expect(nyWallTimeToNs('2025-11-02', 1 * 60 + 30)).toBe(utc('2025-11-02T05:30:00Z'));
    expect(() => nyWallTimeToNs('2025-7-1', 0)).toThrow(RangeError);
    expect(() => nyWallTimeToNs('2025-07-01', 1440)).toThrow(RangeError);
  });

  test.prop([fc.bigInt({ min: utc('2000-01-01T00:00:00Z'), max: utc('2040-01-01T00:00:00Z') })], { numRuns: 300 })(
    'the per-hour cache agrees with Intl at every instant',
    (ts) => {
      expect(nyTime(ts)).toEqual(direct(ts));
    },
  );

  test.prop([fc.bigInt({ min: utc('2000-01-01T00:00:00Z'), max: utc('2040-01-01T00:00:00Z') })], { numRuns: 300 })(
    'a wall time maps back to itself (outside the spring-forward gap)',
    (ts) => {
      const { date, minuteOfDay } = nyTime(ts);
      expect(nyTime(nyWallTimeToNs(date, minuteOfDay))).toEqual({ date, minuteOfDay });
    },
  );
});
