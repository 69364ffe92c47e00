import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DbnError, UNDEF_PRICE, formatPrice, printDbn } from '../../../src/streams/dbn/index.js';
import { DATA_DIR } from './helpers.js';

async function print(
  file: string,
  opts: Parameters<typeof printDbn>[2] = {},
): Promise<{ lines: string[]; error: unknown }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const error = await printDbn(`${DATA_DIR}/${file}`, out, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { lines: text.split('\n').filter((l) => l !== ''), error };
}

describe('formatPrice', () => {
  it('prints 9 fraction digits from integer arithmetic', () => {
    expect(formatPrice(4108500000000n)).toBe('4108.500000000');
    expect(formatPrice(-1500000000n)).toBe('-1.500000000');
    expect(formatPrice(1n)).toBe('0.000000001');
    expect(formatPrice(-(2n ** 63n))).toBe('-9223372036.854775808');
    expect(formatPrice(UNDEF_PRICE)).toBeNull();
  });
});

describe('printDbn', () => {
  it('writes the metadata line, then one line per record', async () => {
    const { lines, error } = await print('test_data.trades.dbn');
    expect(error).toBeUndefined();
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      kind: 'metadata',
      version: 2,
      dataset: 'GLBX.MDP3',
      schema: 'trades',
      start: '1609160400000000000',
      limit: '2',
      mappings: [
        { raw_symbol: 'ESH1', intervals: [{ start_date: '2020-12-28', end_date: '2020-12-29', symbol: '5482' }] },
      ],
    });
    expect(lines[1]).toBe(
      '{"kind":"trade","rtype":0,"publisher_id":1,"instrument_id":5482,"ts_event":"1609160400098821953",' +
        '"price":"3720250000000","price_dec":"3720.250000000","size":5,"action":"T","side":"A","flags":129,"depth":0,' +
        '"ts_recv":"1609160400099150057","ts_in_delta":19251,"sequence":1170380}',
    );
  });

  it('honours limit, shows UNDEF as null decimals and timestamps, 0 chars as null', async () => {
    const { lines } = await print('test_data.definition.v3.dbn.zst', { limit: 1 });
    expect(lines).toHaveLength(2);
    const def = JSON.parse(lines[1]!) as Record<string, unknown>;
    expect(def).toMatchObject({ kind: 'definition', raw_symbol: 'MSFT', strike_price: '9223372036854775807' });
    expect(def.strike_price_dec).toBeNull();
    expect(def.expiration).toBeNull();
    expect(def.leg_instrument_class).toBeNull();
    const mbp = await print('test_data.mbp-10.dbn', { limit: 0 });
    expect(mbp.lines).toHaveLength(1);
  });

  it('prints fragments with a fragment metadata line', async () => {
    const { lines } = await print('test_data.definition.v1.dbn.frag', { fragmentVersion: 1 });
    expect(JSON.parse(lines[0]!)).toEqual({ kind: 'metadata', fragment: true, version: 1 });
    expect(JSON.parse(lines[2]!)).toMatchObject({ raw_symbol: 'ESH1 P2250', strike_price_dec: '2250.000000000' });
  });

  it('rejects with DbnError for a fragment read without its version', async () => {
    const { error } = await print('test_data.definition.v1.dbn.frag');
    expect(error).toBeInstanceOf(DbnError);
  });
});
