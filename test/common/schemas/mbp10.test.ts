import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type BidAskLevel, EVENT_SOURCES, type MBP10, mbp10 } from '../../../src/common/event-types.js';
import {
  FUTURES_MBP10_V1,
  MBP10_DEPTH,
  askLevels,
  bidLevels,
  flattenMbp10,
  fromLevels,
  unflattenMbp10,
} from '../../../src/common/schemas/index.js';

const price = fc.double({ min: 0, max: 10_000, noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x));
const size = fc.integer({ min: 0, max: 5_000 });
const level: fc.Arbitrary<BidAskLevel> = fc.record({ bid_px: price, bid_sz: size, ask_px: price, ask_sz: size });
const nonEmpty = (l: BidAskLevel) => l.bid_px !== 0 || l.bid_sz !== 0 || l.ask_px !== 0 || l.ask_sz !== 0;

const event = (levels: fc.Arbitrary<BidAskLevel[]>): fc.Arbitrary<MBP10> =>
  fc.record({
    ts_event_ns: fc.bigInt({ min: 946_684_800_000_000_000n, max: 4_102_444_800_000_000_000n }),
    ts_recv_ns: fc.bigInt({ min: 946_684_800_000_000_000n, max: 4_102_444_800_000_000_000n }),
    source: fc.constantFrom(...EVENT_SOURCES),
    symbol: fc.constantFrom('ESH6', 'ESM6', 'ES.c.0'),
    levels,
    is_snapshot: fc.boolean(),
    seq: fc.option(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), { nil: null }),
  });

describe('MBP-10 flattening (DATA.md §2.3)', () => {
  test.prop([event(fc.array(level, { maxLength: MBP10_DEPTH }))])('a flattened event is a valid 46-column row', (e) => {
    const row = flattenMbp10(e);
    expect(Object.keys(row)).toEqual(FUTURES_MBP10_V1.columns.map((c) => c.name));
    expect(FUTURES_MBP10_V1.parse(row)).toEqual(row);
  });

  test.prop([
    event(fc.array(level, { maxLength: MBP10_DEPTH }).filter((ls) => ls.length === 0 || nonEmpty(ls[ls.length - 1]!))),
  ])('unflatten(flatten(e)) = e when the deepest level is not empty', (e) => {
    expect(unflattenMbp10(flattenMbp10(e))).toEqual(e);
  });

  test.prop([event(fc.array(level, { maxLength: 14 }))])('flatten(unflatten(row)) = row', (e) => {
    const row = flattenMbp10(e);
    expect(flattenMbp10(unflattenMbp10(row))).toEqual(row);
  });

  it('pads missing levels with zeros and drops levels past ten', () => {
    const levels = Array.from({ length: 12 }, (_, i) => ({
      bid_px: 6000 - i * 0.25,
      bid_sz: i + 1,
      ask_px: 6000.25 + i * 0.25,
      ask_sz: i + 1,
    }));
    const cols = fromLevels(levels);
    expect(cols.bid_px_10).toBe(6000 - 9 * 0.25);
    expect(Object.keys(cols)).toHaveLength(40);
    expect(Object.keys(cols)).not.toContain('bid_px_11');
    const short = fromLevels(levels.slice(0, 2));
    expect([short.bid_px_3, short.bid_sz_3, short.ask_px_10, short.ask_sz_10]).toEqual([0, 0, 0, 0]);
  });

  it('fills the defaulted fields of a wire event that lacks them', () => {
    const wire = { ts_event_ns: 1_767_225_600_000_000_000n, source: 'replay', symbol: 'ESH6', levels: [] };
    const row = flattenMbp10(wire as unknown as MBP10);
    expect(row).toMatchObject({ ts_recv_ns: 1_767_225_600_000_000_000n, is_snapshot: false, seq: null, bid_px_1: 0 });
    expect(FUTURES_MBP10_V1.parse(row)).toEqual(row);
  });

  it('bidLevels/askLevels return [px, sz] of the non-empty levels, best first', () => {
    const row = flattenMbp10(
      mbp10({
        ts_event_ns: 1_767_225_600_000_000_000n,
        source: 'replay',
        symbol: 'ESH6',
        levels: [
          { bid_px: 6000, bid_sz: 10, ask_px: 6000.25, ask_sz: 4 },
          { bid_px: 5999.75, bid_sz: 0, ask_px: 0, ask_sz: 0 },
          { bid_px: 0, bid_sz: 3, ask_px: 6000.75, ask_sz: 2 },
        ],
      }),
    );
    expect(bidLevels(row)).toEqual([
      [6000, 10],
      [5999.75, 0],
      [0, 3],
    ]);
    expect(askLevels(row)).toEqual([
      [6000.25, 4],
      [6000.75, 2],
    ]);
  });
});
