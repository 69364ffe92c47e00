/**
 * DBN v3 writer: metadata plus trades, MBP-1/TBBO, MBP-10 and instrument definitions, plain or zstd.
 *
 * Used to build test and benchmark files; `decode(encode(x))` reproduces `x` (property-tested). Definitions decoded
 * from v1/v2 streams lack the v3-only fields; those are written with the v3 defaults of DBN.md §7 (leg prices
 * UNDEF_PRICE, leg_side 'N', the rest 0 or empty), which is the reference decoder's upgrade rule.
 */
import { open } from 'node:fs/promises';
import {
  PRELUDE_LEN,
  RType,
  RecordLen,
  SCHEMAS,
  SCHEMA_MIXED,
  STYPES,
  STYPE_NONE,
  SYMBOL_CSTR_LEN,
  UNDEF_PRICE,
  type DbnSType,
} from './constants.js';
import type { DbnMetadata } from './metadata.js';
import {
  DEFINITION_FIELDS,
  type BidAskPair,
  type InstrumentDefMsg,
  type Mbp10Msg,
  type Mbp1Msg,
  type TradeMsg,
} from './records.js';
import { ZstdCompressor } from './zstd.js';

export type EncodableRecord = TradeMsg | Mbp1Msg | Mbp10Msg | InstrumentDefMsg;

/** Metadata to write; the version (3) and symbol width (71) are fixed by the writer. */
export type MetadataInput = Omit<DbnMetadata, 'version' | 'symbol_cstr_len'>;

export interface EncodeOptions {
  compression?: 'none' | 'zstd';
  /** zstd level (default 3, zstd's own default). */
  zstdLevel?: number;
}

const V3_DEFAULTS: Partial<Record<keyof InstrumentDefMsg, bigint | number | string>> = {
  leg_price: UNDEF_PRICE,
  leg_delta: UNDEF_PRICE,
  leg_side: 'N',
};

/** Chunk size of encoded output before compression / writing. */
const CHUNK = 1 << 20;

function writeCStr(b: Uint8Array, off: number, width: number, s: string, field: string): void {
  if (s.length >= width) throw new RangeError(`${field} "${s}" does not fit char[${width}] with its NUL`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) throw new RangeError(`${field} "${s}" has a character outside latin1 (or a NUL)`);
    b[off + i] = c;
  }
}

function charByte(s: string, field: string): number {
  if (s === '') return 0;
  const c = s.charCodeAt(0);
  if (s.length !== 1 || c > 0xff) throw new RangeError(`${field} must be one latin1 character or '', got "${s}"`);
  return c;
}

function stypeId(s: DbnSType | null): number {
  return s === null ? STYPE_NONE : STYPES.indexOf(s);
}

/** Encode the prelude and v3 metadata (padded so records start 8-byte aligned). */
export function encodeMetadata(meta: MetadataInput): Uint8Array {
  const W = SYMBOL_CSTR_LEN;
  const lists = [meta.symbols, meta.partial, meta.not_found];
  let size = 112 + lists.reduce((n, l) => n + 4 + l.length * W, 0) + 4;
  for (const m of meta.mappings) size += W + 4 + m.intervals.length * (8 + W);
  const length = Math.ceil((size - PRELUDE_LEN) / 8) * 8;
  const b = new Uint8Array(PRELUDE_LEN + length);
  const dv = new DataView(b.buffer);
  b.set([0x44, 0x42, 0x4e, 3]);
  dv.setUint32(4, length, true);
  writeCStr(b, 8, 16, meta.dataset, 'dataset');
  dv.setUint16(24, meta.schema === null ? SCHEMA_MIXED : SCHEMAS.indexOf(meta.schema), true);
  dv.setBigUint64(26, meta.start, true);
  dv.setBigUint64(34, meta.end, true);
  dv.setBigUint64(42, meta.limit, true);
  dv.setUint8(50, stypeId(meta.stype_in));
  dv.setUint8(51, stypeId(meta.stype_out));
  dv.setUint8(52, meta.ts_out ? 1 : 0);
  dv.setUint16(53, W, true);
  let pos = 112;
  const u32 = (v: number): void => {
    dv.setUint32(pos, v, true);
    pos += 4;
  };
  const sym = (s: string, field: string): void => {
    writeCStr(b, pos, W, s, field);
    pos += W;
  };
  for (const list of lists) {
    u32(list.length);
    for (const s of list) sym(s, 'symbol');
  }
  u32(meta.mappings.length);
  for (const m of meta.mappings) {
    sym(m.raw_symbol, 'raw_symbol');
    u32(m.intervals.length);
    for (const iv of m.intervals) {
      u32(iv.start_date);
      u32(iv.end_date);
      sym(iv.symbol, 'interval symbol');
    }
  }
  return b;
}

function recordLen(rec: EncodableRecord): number {
  switch (rec.kind) {
    case 'trade':
      return RecordLen.TRADE;
    case 'mbp1':
      return RecordLen.MBP_1;
    case 'mbp10':
      return RecordLen.MBP_10;
    case 'definition':
      return RecordLen.DEFINITION[3];
  }
}

function writeLevel(dv: DataView, p: number, l: BidAskPair): void {
  dv.setBigInt64(p, l.bid_px, true);
  dv.setBigInt64(p + 8, l.ask_px, true);
  dv.setUint32(p + 16, l.bid_sz, true);
  dv.setUint32(p + 20, l.ask_sz, true);
  dv.setUint32(p + 24, l.bid_ct, true);
  dv.setUint32(p + 28, l.ask_ct, true);
}

function writeDefinition(b: Uint8Array, dv: DataView, o: number, rec: InstrumentDefMsg): void {
  const r = rec as unknown as Record<string, bigint | number | string | undefined>;
  for (const f of DEFINITION_FIELDS) {
    const fo = f.off[2];
    if (fo === null) continue;
    const p = o + fo;
    const v = r[f.name] ?? V3_DEFAULTS[f.name] ?? (f.type === 'char' || f.type === 'str' ? '' : 0);
    switch (f.type) {
      case 'u8':
      case 'i8':
        dv.setUint8(p, Number(v) & 0xff);
        break;
      case 'u16':
      case 'i16':
        dv.setUint16(p, Number(v) & 0xffff, true);
        break;
      case 'u32':
      case 'i32':
        dv.setUint32(p, Number(v) >>> 0, true);
        break;
      case 'u32|u64':
      case 'u64':
        dv.setBigUint64(p, BigInt(v), true);
        break;
      case 'i64':
        dv.setBigInt64(p, BigInt(v), true);
        break;
      case 'char':
        dv.setUint8(p, charByte(String(v), f.name));
        break;
      case 'str':
        writeCStr(b, p, f.width![2], String(v), f.name);
        break;
    }
  }
}

/**
 * Write one record at `o` (the bytes must be zero, as reserved fields are not written); returns its length.
 * `tsOut` appends the record's ts_out (0 when it has none).
 */
export function encodeRecord(b: Uint8Array, dv: DataView, o: number, rec: EncodableRecord, tsOut: boolean): number {
  const size = recordLen(rec) + (tsOut ? 8 : 0);
  dv.setUint8(o, size / 4);
  dv.setUint8(o + 1, rec.rtype);
  dv.setUint16(o + 2, rec.publisher_id, true);
  dv.setUint32(o + 4, rec.instrument_id, true);
  dv.setBigUint64(o + 8, rec.ts_event, true);
  if (rec.kind === 'definition') {
    writeDefinition(b, dv, o, rec);
  } else {
    dv.setBigInt64(o + 16, rec.price, true);
    dv.setUint32(o + 24, rec.size, true);
    dv.setUint8(o + 28, charByte(rec.action, 'action'));
    dv.setUint8(o + 29, charByte(rec.side, 'side'));
    dv.setUint8(o + 30, rec.flags);
    dv.setUint8(o + 31, rec.depth);
    dv.setBigUint64(o + 32, rec.ts_recv, true);
    dv.setInt32(o + 40, rec.ts_in_delta, true);
    dv.setUint32(o + 44, rec.sequence, true);
    if (rec.kind !== 'trade') {
      const n = rec.kind === 'mbp1' ? 1 : 10;
      if (rec.levels.length !== n) throw new RangeError(`${rec.kind} needs ${n} levels, got ${rec.levels.length}`);
      for (let i = 0; i < n; i++) writeLevel(dv, o + 48 + i * 32, rec.levels[i]!);
    }
  }
  if (tsOut) dv.setBigUint64(o + size - 8, rec.ts_out ?? 0n, true);
  return size;
}

/** Expected rtype of each record kind, so a record with a stray rtype is caught before it corrupts a file. */
const RTYPE_OF: Record<EncodableRecord['kind'], number> = {
  trade: RType.MBP_0,
  mbp1: RType.MBP_1,
  mbp10: RType.MBP_10,
  definition: RType.INSTRUMENT_DEF,
};

/**
 * Incremental encoder: feed metadata once and records one by one, take the finished output in chunks. Each chunk
 * returned is fresh memory.
 */
export class DbnEncoder {
  private buf = new Uint8Array(CHUNK);
  private dv = new DataView(this.buf.buffer);
  private pos = 0;
  private readonly zstd: ZstdCompressor | null;
  private readonly tsOut: boolean;
  private pending: Uint8Array[] = [];

  constructor(meta: MetadataInput, opts: EncodeOptions = {}) {
    this.zstd = opts.compression === 'zstd' ? new ZstdCompressor(opts.zstdLevel) : null;
    this.tsOut = meta.ts_out;
    this.pending.push(encodeMetadata(meta));
  }

  /** Add one record; returns output chunks completed by it (usually none). */
  write(rec: EncodableRecord): Uint8Array[] {
    if (rec.rtype !== RTYPE_OF[rec.kind]) throw new RangeError(`${rec.kind} record with rtype ${rec.rtype}`);
    if (this.pos + RecordLen.DEFINITION[3] + 8 > this.buf.length) this.rotate();
    this.pos += encodeRecord(this.buf, this.dv, this.pos, rec, this.tsOut);
    return this.take();
  }

  /** Finish: returns the remaining output. */
  end(): Uint8Array[] {
    this.rotate();
    const out = this.take();
    if (this.zstd) out.push(...this.zstd.write(new Uint8Array(0), true));
    return out;
  }

  private rotate(): void {
    if (this.pos > 0) this.pending.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(CHUNK);
    this.dv = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  private take(): Uint8Array[] {
    if (this.pending.length === 0) return [];
    const out = this.zstd ? this.pending.flatMap((c) => this.zstd!.write(c)) : this.pending;
    this.pending = [];
    return out;
  }
}

/** Encode metadata and records into one in-memory DBN v3 stream. */
export function encodeDbn(
  meta: MetadataInput,
  records: Iterable<EncodableRecord>,
  opts: EncodeOptions = {},
): Uint8Array {
  const enc = new DbnEncoder(meta, opts);
  const parts: Uint8Array[] = [];
  for (const r of records) parts.push(...enc.write(r));
  parts.push(...enc.end());
  return Buffer.concat(parts);
}

/** Stream metadata and records to a DBN v3 file; never holds more than one chunk of output. */
export async function writeDbnFile(
  path: string,
  meta: MetadataInput,
  records: Iterable<EncodableRecord> | AsyncIterable<EncodableRecord>,
  opts: EncodeOptions = {},
): Promise<{ records: number; bytes: number }> {
  const fh = await open(path, 'w');
  let count = 0;
  let bytes = 0;
  const flush = async (chunks: Uint8Array[]): Promise<void> => {
    for (const c of chunks) {
      await fh.write(c);
      bytes += c.length;
    }
  };
  try {
    const enc = new DbnEncoder(meta, opts);
    for await (const r of records) {
      const out = enc.write(r);
      count++;
      if (out.length > 0) await flush(out);
    }
    await flush(enc.end());
  } finally {
    await fh.close();
  }
  return { records: count, bytes };
}
