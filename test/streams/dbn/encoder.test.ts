/**
 * decode(encode(x)) = x over random metadata and records covering every field's full range; plus the framing
 * cases the encoder makes easy to build (unknown rtypes, ts_out, several and skippable zstd frames).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DbnDecoder,
  RType,
  SCHEMAS,
  STYPES,
  UNDEF_PRICE,
  decodeDbnBuffer,
  encodeDbn,
  type BidAskPair,
  type EncodableRecord,
  type InstrumentDefMsg,
  type MetadataInput,
} from '../../../src/streams/dbn/index.js';
import { DEFINITION_FIELDS } from '../../../src/streams/dbn/records.js';
import { ZstdCompressor } from '../../../src/streams/dbn/zstd.js';
import { chunked, decodeStream, readSample } from './helpers.js';

const i64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
const u64 = fc.bigInt(0n, 2n ** 64n - 1n);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const char = u8.map((b) => (b === 0 ? '' : String.fromCharCode(b)));
const cstr = (width: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: width - 1 });

const header = { publisher_id: u16, instrument_id: u32, ts_event: u64 };
const market = {
  ...header,
  price: i64,
  size: u32,
  action: char,
  side: char,
  flags: u8,
  depth: u8,
  ts_recv: u64,
  ts_in_delta: i32,
  sequence: u32,
};
const level: fc.Arbitrary<BidAskPair> = fc.record({
  bid_px: i64,
  ask_px: i64,
  bid_sz: u32,
  ask_sz: u32,
  bid_ct: u32,
  ask_ct: u32,
});

const byType: Record<string, fc.Arbitrary<unknown>> = {
  u8,
  i8: fc.integer({ min: -128, max: 127 }),
  u16,
  i16: fc.integer({ min: -32768, max: 32767 }),
  u32,
  i32,
  'u32|u64': u64,
  i64,
  u64,
  char,
};
const definition = fc.record({
  kind: fc.constant('definition' as const),
  rtype: fc.constant(RType.INSTRUMENT_DEF),
  ...header,
  ...Object.fromEntries(
    DEFINITION_FIELDS.filter((f) => f.off[2] !== null).map((f) => [
      f.name,
      f.type === 'str' ? cstr(f.width![2]) : byType[f.type]!,
    ]),
  ),
}) as unknown as fc.Arbitrary<InstrumentDefMsg>;

const record: fc.Arbitrary<EncodableRecord> = fc.oneof(
  fc.record({ kind: fc.constant('trade' as const), rtype: fc.constant(RType.MBP_0), ...market }),
  fc.record({
    kind: fc.constant('mbp1' as const),
    rtype: fc.constant(RType.MBP_1),
    ...market,
    levels: fc.array(level, { minLength: 1, maxLength: 1 }),
  }),
  fc.record({
    kind: fc.constant('mbp10' as const),
    rtype: fc.constant(RType.MBP_10),
    ...market,
    levels: fc.array(level, { minLength: 10, maxLength: 10 }),
  }),
  definition,
);

const symbol = cstr(71);
const metadata = (tsOut: boolean): fc.Arbitrary<MetadataInput> =>
  fc.record({
    dataset: cstr(16),
    schema: fc.option(fc.constantFrom(...SCHEMAS)),
    start: u64,
    end: u64,
    limit: u64,
    stype_in: fc.option(fc.constantFrom(...STYPES)),
    stype_out: fc.option(fc.constantFrom(...STYPES)),
    ts_out: fc.constant(tsOut),
    symbols: fc.array(symbol, { maxLength: 3 }),
    partial: fc.array(symbol, { maxLength: 2 }),
    not_found: fc.array(symbol, { maxLength: 2 }),
    mappings: fc.array(
      fc.record({
        raw_symbol: symbol,
        intervals: fc.array(fc.record({ start_date: u32, end_date: u32, symbol }), { maxLength: 3 }),
      }),
      { maxLength: 2 },
    ),
  });

describe('DBN v3 encoder', () => {
  it('decode(encode(x)) = x, plain and zstd, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean().chain((tsOut) =>
          fc.tuple(
            metadata(tsOut),
            fc.array(tsOut ? fc.tuple(record, u64).map(([r, t]) => ({ ...r, ts_out: t })) : record, {
              maxLength: 20,
            }),
          ),
        ),
        fc.constantFrom('none' as const, 'zstd' as const),
        fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 4 }),
        async ([meta, records], compression, sizes) => {
          const bytes = encodeDbn(meta, records, { compression });
          const out = await decodeStream(chunked(bytes, sizes), {});
          expect(out.error).toBeUndefined();
          expect(out.metadata).toEqual({ ...meta, version: 3, symbol_cstr_len: 71 });
          expect(out.records).toEqual(records);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('writes v3 metadata padded to a multiple of 8', () => {
    const meta = decodeDbnBuffer(readSample('test_data.trades.dbn')).metadata!;
    const bytes = encodeDbn(meta, []);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) % 8).toBe(0);
  });

  it('upgrades a v1 definition with the v3 defaults', () => {
    const v1 = decodeDbnBuffer(readSample('test_data.definition.v1.dbn.frag'), { fragmentVersion: 1 }).records;
    const meta = decodeDbnBuffer(readSample('test_data.definition.dbn')).metadata!;
    const back = decodeDbnBuffer(encodeDbn(meta, v1 as InstrumentDefMsg[])).records as InstrumentDefMsg[];
    expect(back[1]).toMatchObject({ raw_symbol: 'ESH1 P2250', strike_price: 2250000000000n, leg_price: UNDEF_PRICE });
    expect(back[1]!.leg_side).toBe('N');
  });
});

describe('framing', () => {
  const meta = decodeDbnBuffer(readSample('test_data.trades.dbn')).metadata!;
  const trades = decodeDbnBuffer(readSample('test_data.trades.dbn')).records as EncodableRecord[];

  it('skips unknown record types by their length', async () => {
    const plain = encodeDbn(meta, trades);
    const firstRecord = plain.length - 2 * 48;
    const ohlcv = new Uint8Array(56);
    ohlcv[0] = 14;
    ohlcv[1] = RType.OHLCV_1M;
    const spliced = Buffer.concat([plain.subarray(0, firstRecord + 48), ohlcv, plain.subarray(firstRecord + 48)]);
    const dec = await DbnDecoder.open(spliced);
    const got = [];
    for await (const r of dec) got.push(r);
    expect(got).toEqual(trades);
    expect(dec.skippedRecords).toBe(1);
  });

  it('reads several zstd frames and skips skippable frames', async () => {
    const plain = encodeDbn(meta, trades);
    const frames = [plain.subarray(0, 100), plain.subarray(100, 301), plain.subarray(301)].map((part) =>
      Buffer.concat(new ZstdCompressor().write(part, true)),
    );
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 0x44, 0x42, 0x5a]);
    const bytes = Buffer.concat([skippable, frames[0]!, frames[1]!, skippable, frames[2]!]);
    const out = await decodeStream(chunked(bytes, [5]), {});
    expect(out.error).toBeUndefined();
    expect(out.records).toEqual(trades);
    expect(decodeDbnBuffer(bytes).records).toEqual(trades);
  });
});
