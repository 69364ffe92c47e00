/**
 * Every sample file of shared/data/dbn, every metadata and record field. Expected values come from
 * fixtures/expected.json, written by an independent Python decoder (fixtures/dbn_oracle.py); the facts stated by
 * the data README and DBN.md are asserted by hand as well.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DbnDecoder,
  UNDEF_PRICE,
  UNDEF_TIMESTAMP,
  decodeDbnBuffer,
  openDbnFile,
  type DbnRecord,
  type InstrumentDefMsg,
  type Mbp10Msg,
  type TradeMsg,
} from '../../../src/streams/dbn/index.js';
import { DATA_DIR, SAMPLE_FILES, chunked, decodeStream, optsFor, plain, readSample } from './helpers.js';

const expected = JSON.parse(readFileSync(new URL('./fixtures/expected.json', import.meta.url), 'utf8')) as Record<
  string,
  { metadata: unknown; records: unknown[] }
>;

async function decodeFile(name: string): Promise<{ metadata: unknown; records: DbnRecord[] }> {
  const dec = await openDbnFile(`${DATA_DIR}/${name}`, optsFor(name));
  const records: DbnRecord[] = [];
  for await (const r of dec) records.push(r);
  expect(dec.skippedRecords).toBe(0);
  return { metadata: dec.metadata, records };
}

describe('DBN sample files', () => {
  it('covers all 37 files', () => {
    expect(SAMPLE_FILES).toHaveLength(37);
    expect(Object.keys(expected).sort()).toEqual(SAMPLE_FILES);
  });

  describe.each(SAMPLE_FILES)('%s', (name) => {
    it('decodes metadata and every record field like the oracle', async () => {
      const { metadata, records } = await decodeFile(name);
      expect(plain(metadata)).toEqual(expected[name]!.metadata);
      expect(plain(records)).toEqual(expected[name]!.records);
    });

    it('decodes the same when fed in small uneven chunks and from a whole buffer', async () => {
      const whole = await decodeFile(name);
      const bytes = readSample(name);
      const split = await decodeStream(chunked(bytes, [1, 7, 3, 64, 13]), optsFor(name));
      expect(split.error).toBeUndefined();
      expect(split.records).toEqual(whole.records);
      expect(split.metadata).toEqual(whole.metadata);
      expect(decodeDbnBuffer(bytes, optsFor(name))).toEqual(whole);
    });
  });
});

describe('facts of the data README and DBN.md', () => {
  it('ES futures market data: ESH1 = instrument 5482 on GLBX.MDP3, trades as described in DBN.md', async () => {
    const { metadata, records } = await decodeFile('test_data.trades.dbn');
    expect(metadata).toMatchObject({
      version: 2,
      dataset: 'GLBX.MDP3',
      schema: 'trades',
      start: 1609160400000000000n, // 2020-12-28T13:00:00Z
      end: 1609200000000000000n, // 2020-12-29T00:00:00Z
      limit: 2n,
      stype_in: 'raw_symbol',
      stype_out: 'instrument_id',
      ts_out: false,
      symbols: ['ESH1'],
      partial: [],
      not_found: [],
      mappings: [{ raw_symbol: 'ESH1', intervals: [{ start_date: 20201228, end_date: 20201229, symbol: '5482' }] }],
    });
    const t = records[0] as TradeMsg;
    expect(t).toMatchObject({ kind: 'trade', rtype: 0, publisher_id: 1, instrument_id: 5482, action: 'T', side: 'A' });
    expect(t.price).toBe(3720250000000n);
    // DBN.md §8: ts_event < venue send time (ts_recv - ts_in_delta) < ts_recv
    expect(t.ts_event).toBe(1609160400098821953n);
    expect(t.ts_recv - BigInt(t.ts_in_delta)).toBe(1609160400099130806n);
    expect(t.ts_recv).toBe(1609160400099150057n);
    expect(t.flags).toBe(129);
  });

  it('MBP-10 sample record of DBN.md §5.4', async () => {
    const { records } = await decodeFile('test_data.mbp-10.dbn');
    const r = records[0] as Mbp10Msg;
    expect(r).toMatchObject({ kind: 'mbp10', action: 'C', side: 'A', depth: 9, price: 3722750000000n });
    expect(r.levels).toHaveLength(10);
    expect(r.levels[0]).toEqual({
      bid_px: 3720250000000n,
      ask_px: 3720500000000n,
      bid_sz: 24,
      ask_sz: 10,
      bid_ct: 15,
      ask_ct: 8,
    });
  });

  it('v1, v2 and v3 variants of each market-data schema carry equal records', async () => {
    for (const schema of ['trades', 'mbp-1', 'tbbo', 'mbp-10']) {
      const variants = [
        `test_data.${schema}.dbn`,
        `test_data.${schema}.v1.dbn`,
        `test_data.${schema}.v1.dbn.zst`,
        `test_data.${schema}.v2.dbn.zst`,
        `test_data.${schema}.v3.dbn.zst`,
      ];
      const decoded = await Promise.all(variants.map(decodeFile));
      expect(decoded.map((d) => (d.metadata as { version: number }).version)).toEqual([2, 1, 1, 2, 3]);
      for (const d of decoded.slice(1)) expect(d.records).toEqual(decoded[0]!.records);
      for (const d of decoded) expect(d.records.every((r) => r.instrument_id === 5482)).toBe(true);
    }
  });

  it('MSFT definitions: the three layouts agree on every common field', async () => {
    const files = ['test_data.definition.v1.dbn', 'test_data.definition.dbn', 'test_data.definition.v3.dbn.zst'];
    const [v1, v2, v3] = await Promise.all(files.map(decodeFile));
    expect(v1!.metadata).toMatchObject({ version: 1, dataset: 'XNAS.ITCH', schema: 'definition', symbols: ['MSFT'] });
    const meta = v2!.metadata as { mappings: { raw_symbol: string; intervals: unknown[] }[] };
    expect(meta.mappings).toHaveLength(1);
    expect(meta.mappings[0]!.intervals).toHaveLength(62);
    const d = v3!.records[0] as InstrumentDefMsg;
    expect(d).toMatchObject({ raw_symbol: 'MSFT', instrument_class: 'K', strike_price: UNDEF_PRICE });
    expectCommonFieldsEqual(v1!.records, v2!.records);
    expectCommonFieldsEqual(v2!.records, v3!.records);
  });

  it('CME option fragments v1/v2/v3 hold GEM3 P9812 and ESH1 P2250 with equal common fields', async () => {
    const names = [
      'test_data.definition.v1.dbn.frag',
      'test_data.definition.v1.dbn.frag.zst',
      'test_data.definition.v2.dbn.frag',
      'test_data.definition.dbn.frag.zst',
      'test_data.definition.v3.dbn.frag',
      'test_data.definition.v3.dbn.frag.zst',
    ];
    const all = await Promise.all(names.map(decodeFile));
    for (const f of all) {
      expect(f.metadata).toBeNull();
      expect(f.records.map((r) => (r as InstrumentDefMsg).raw_symbol)).toEqual(['GEM3 P9812', 'ESH1 P2250']);
      expectCommonFieldsEqual(f.records, all[0]!.records);
    }
    expect(all[0]!.records).toEqual(all[1]!.records);
    expect(all[2]!.records).toEqual(all[3]!.records);
    expect(all[4]!.records).toEqual(all[5]!.records);
    const esOpt = all[4]!.records[1] as InstrumentDefMsg;
    expect(esOpt).toMatchObject({
      instrument_id: 688141,
      instrument_class: 'P',
      strike_price: 2250000000000n,
      expiration: 1616160600000000000n, // 2021-03-19T13:30:00Z
      underlying: 'ESH1',
      underlying_id: 5482,
      asset: 'ES',
      group: 'EW',
      security_type: 'OOF',
      cfi: 'OPAFPS',
      maturity_year: 2021,
      maturity_month: 3,
      unit_of_measure_qty: 50000000000n,
      currency: 'USD',
      // v3 defaults for an outright
      leg_price: UNDEF_PRICE,
      leg_count: 0,
      leg_side: 'N',
    });
    expect(all[0]!.records[1]).not.toHaveProperty('leg_price');
    expect(all[4]!.records[1]).not.toHaveProperty('trading_reference_price');
  });

  it('multi-frame fragment: 8 option definitions, one zstd frame each', async () => {
    const { records } = await decodeFile('multi-frame.definition.v1.dbn.frag.zst');
    expect(records).toHaveLength(8);
    const classes = new Set(records.map((r) => (r as InstrumentDefMsg).instrument_class));
    expect([...classes].every((c) => c === 'C' || c === 'P')).toBe(true);
  });

  it('GLBX.MDP3 v3 extract: 4 records each, and the ESH1 future definition', async () => {
    for (const s of ['trades', 'mbp-1', 'tbbo', 'mbp-10']) {
      const { metadata, records } = await decodeFile(`GLBX.MDP3/test_data.${s}.dbn.zst`);
      expect(metadata).toMatchObject({ version: 3, schema: s, start: 1609113600000000000n, limit: 4n });
      expect(records).toHaveLength(4);
    }
    const { records } = await decodeFile('GLBX.MDP3/test_data.definition.dbn.zst');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      kind: 'definition',
      instrument_id: 5482,
      raw_symbol: 'ESH1',
      instrument_class: 'F',
      min_price_increment: 250000000n,
      expiration: 1616160600000000000n,
      strike_price: UNDEF_PRICE,
    });
  });

  it('records start at unaligned offsets in v1/v2 streams (first record at 206 / 353)', async () => {
    for (const [name, start] of [
      ['test_data.trades.v1.dbn', 206],
      ['test_data.trades.dbn', 353],
    ] as const) {
      const bytes = readSample(name);
      expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) + 8).toBe(start);
      const dec = await DbnDecoder.open(bytes.subarray(0, start + 48), { name });
      const recs: DbnRecord[] = [];
      for await (const r of dec) recs.push(r);
      expect(recs).toHaveLength(1);
    }
  });

  it('MSFT definitions are full of sentinels', async () => {
    const { records } = await decodeFile('test_data.definition.v1.dbn');
    const d = records[0] as InstrumentDefMsg;
    expect(d.expiration).toBe(UNDEF_TIMESTAMP);
    expect(d.strike_price).toBe(UNDEF_PRICE);
  });
});

function expectCommonFieldsEqual(a: DbnRecord[], b: DbnRecord[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((ra, i) => {
    const rb = b[i] as unknown as Record<string, unknown>;
    const common = Object.keys(ra).filter((k) => k in rb);
    expect(common.length).toBeGreaterThan(60);
    for (const k of common) expect([k, rb[k]]).toEqual([k, (ra as unknown as Record<string, unknown>)[k]]);
  });
}
