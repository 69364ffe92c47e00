/**
 * DBN record types and their byte layouts (spec/DBN.md §4–§5).
 *
 * Records are plain objects discriminated by `kind`, with the wire field names. Every object starts with the header
 * fields (`rtype`, `publisher_id`, `instrument_id`, `ts_event`), so mapping code reads them the same way for any kind.
 * Value rules: 64-bit integers (prices, timestamps, ids) are `bigint`, raw and exact (UNDEF_PRICE stays i64 max);
 * smaller integers are `number`; a `char` is a 1-character string, or `''` when the byte is 0 ("not set");
 * fixed-width strings stop at the first NUL.
 *
 * Definitions, symbol mappings, error and system messages are exposed in the layout of the stream's own version:
 * fields a version lacks are absent, never invented (see InstrumentDefMsg).
 */
import { RType, RecordLen, type DbnVersion } from './constants.js';

export interface RecordHeader {
  rtype: number;
  publisher_id: number;
  instrument_id: number;
  ts_event: bigint;
  /** Gateway send time, present only when the metadata (or the caller, for fragments) says ts_out. */
  ts_out?: bigint;
}

export interface BidAskPair {
  bid_px: bigint;
  ask_px: bigint;
  bid_sz: number;
  ask_sz: number;
  bid_ct: number;
  ask_ct: number;
}

interface MarketFields extends RecordHeader {
  price: bigint;
  size: number;
  action: string;
  side: string;
  flags: number;
  depth: number;
  ts_recv: bigint;
  ts_in_delta: number;
  sequence: number;
}

/** Schema `trades` (rtype 0x00). */
export interface TradeMsg extends MarketFields {
  kind: 'trade';
}

/** Schemas `mbp-1` and `tbbo` (rtype 0x01); only the metadata schema tells them apart. */
export interface Mbp1Msg extends MarketFields {
  kind: 'mbp1';
  levels: BidAskPair[];
}

/** Schema `mbp-10` (rtype 0x0A): the top-10 book after the update; level 0 is best. */
export interface Mbp10Msg extends MarketFields {
  kind: 'mbp10';
  levels: BidAskPair[];
}

/**
 * Schema `definition` (rtype 0x13), fields in v3 order. Fields marked v1/v2 exist only in those versions, fields
 * marked v3 only in v3; a decoded record carries exactly its version's fields. `raw_instrument_id` is `bigint` in
 * every version because v3 widened it to u64.
 */
export interface InstrumentDefMsg extends RecordHeader {
  kind: 'definition';
  ts_recv: bigint;
  min_price_increment: bigint;
  display_factor: bigint;
  expiration: bigint;
  activation: bigint;
  high_limit_price: bigint;
  low_limit_price: bigint;
  max_price_variation: bigint;
  /** v1/v2 */
  trading_reference_price?: bigint;
  unit_of_measure_qty: bigint;
  min_price_increment_amount: bigint;
  price_ratio: bigint;
  strike_price: bigint;
  raw_instrument_id: bigint;
  /** v3 */
  leg_price?: bigint;
  /** v3 */
  leg_delta?: bigint;
  inst_attrib_value: number;
  underlying_id: number;
  market_depth_implied: number;
  market_depth: number;
  market_segment_id: number;
  max_trade_vol: number;
  min_lot_size: number;
  min_lot_size_block: number;
  min_lot_size_round_lot: number;
  min_trade_vol: number;
  contract_multiplier: number;
  decay_quantity: number;
  original_contract_size: number;
  /** v3 */
  leg_instrument_id?: number;
  /** v3 */
  leg_ratio_price_numerator?: number;
  /** v3 */
  leg_ratio_price_denominator?: number;
  /** v3 */
  leg_ratio_qty_numerator?: number;
  /** v3 */
  leg_ratio_qty_denominator?: number;
  /** v3 */
  leg_underlying_id?: number;
  /** v1/v2 */
  trading_reference_date?: number;
  appl_id: number;
  maturity_year: number;
  decay_start_date: number;
  channel_id: number;
  /** v3 */
  leg_count?: number;
  /** v3 */
  leg_index?: number;
  currency: string;
  settl_currency: string;
  secsubtype: string;
  raw_symbol: string;
  group: string;
  exchange: string;
  asset: string;
  cfi: string;
  security_type: string;
  unit_of_measure: string;
  underlying: string;
  strike_price_currency: string;
  /** v3 */
  leg_raw_symbol?: string;
  instrument_class: string;
  match_algorithm: string;
  /** v1/v2 */
  md_security_trading_status?: number;
  main_fraction: number;
  price_display_format: number;
  /** v1/v2 */
  settl_price_type?: number;
  sub_fraction: number;
  underlying_product: number;
  security_update_action: string;
  maturity_month: number;
  maturity_day: number;
  maturity_week: number;
  user_defined_instrument: string;
  contract_multiplier_unit: number;
  flow_schedule_type: number;
  tick_rule: number;
  /** v3 */
  leg_instrument_class?: string;
  /** v3 */
  leg_side?: string;
}

/** rtype 0x16. `stype_in` / `stype_out` exist from v2 on. */
export interface SymbolMappingMsg extends RecordHeader {
  kind: 'symbol_mapping';
  stype_in?: number;
  stype_in_symbol: string;
  stype_out?: number;
  stype_out_symbol: string;
  start_ts: bigint;
  end_ts: bigint;
}

/** rtype 0x15. `code` and `is_last` exist from v2 on. */
export interface ErrorMsg extends RecordHeader {
  kind: 'error';
  err: string;
  code?: number;
  is_last?: number;
}

/** rtype 0x17. `code` exists from v2 on. */
export interface SystemMsg extends RecordHeader {
  kind: 'system';
  msg: string;
  code?: number;
}

export type DbnRecord = TradeMsg | Mbp1Msg | Mbp10Msg | InstrumentDefMsg | SymbolMappingMsg | ErrorMsg | SystemMsg;
export type DbnRecordKind = DbnRecord['kind'];

/** Byte value -> 1-character string, byte 0 -> '' (not set); one table so decoding a char allocates nothing. */
const CHARS: readonly string[] = Array.from({ length: 256 }, (_, i) => (i === 0 ? '' : String.fromCharCode(i)));

export function readChar(dv: DataView, off: number): string {
  return CHARS[dv.getUint8(off)]!;
}

/** Fixed-width NUL-padded ASCII; bytes above 0x7F are read as latin1 so no input can fail to decode. */
export function readCStr(dv: DataView, off: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) {
    const b = dv.getUint8(off + i);
    if (b === 0) break;
    s += CHARS[b]!;
  }
  return s;
}

// ---- Instrument definitions: one table drives all three layouts (and the v3 encoder). ----

export type DefFieldType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u32|u64' | 'i64' | 'u64' | 'char' | 'str';

export interface DefField {
  name: keyof InstrumentDefMsg & string;
  type: DefFieldType;
  /** Offset in v1, v2, v3; null where the version lacks the field. */
  off: readonly [number | null, number | null, number | null];
  /** Width of a `str` field in v1, v2, v3. */
  width?: readonly [number, number, number];
}

/** Field table transcribed from DBN.md §5.7, in v3 order (the order of the decoded object). */
export const DEFINITION_FIELDS: readonly DefField[] = [
  { name: 'ts_recv', type: 'u64', off: [16, 16, 16] },
  { name: 'min_price_increment', type: 'i64', off: [24, 24, 24] },
  { name: 'display_factor', type: 'i64', off: [32, 32, 32] },
  { name: 'expiration', type: 'u64', off: [40, 40, 40] },
  { name: 'activation', type: 'u64', off: [48, 48, 48] },
  { name: 'high_limit_price', type: 'i64', off: [56, 56, 56] },
  { name: 'low_limit_price', type: 'i64', off: [64, 64, 64] },
  { name: 'max_price_variation', type: 'i64', off: [72, 72, 72] },
  { name: 'trading_reference_price', type: 'i64', off: [80, 80, null] },
  { name: 'unit_of_measure_qty', type: 'i64', off: [88, 88, 80] },
  { name: 'min_price_increment_amount', type: 'i64', off: [96, 96, 88] },
  { name: 'price_ratio', type: 'i64', off: [104, 104, 96] },
  { name: 'strike_price', type: 'i64', off: [328, 112, 104] },
  { name: 'raw_instrument_id', type: 'u32|u64', off: [120, 128, 112] },
  { name: 'leg_price', type: 'i64', off: [null, null, 120] },
  { name: 'leg_delta', type: 'i64', off: [null, null, 128] },
  { name: 'inst_attrib_value', type: 'i32', off: [112, 120, 136] },
  { name: 'underlying_id', type: 'u32', off: [116, 124, 140] },
  { name: 'market_depth_implied', type: 'i32', off: [124, 132, 144] },
  { name: 'market_depth', type: 'i32', off: [128, 136, 148] },
  { name: 'market_segment_id', type: 'u32', off: [132, 140, 152] },
  { name: 'max_trade_vol', type: 'u32', off: [136, 144, 156] },
  { name: 'min_lot_size', type: 'i32', off: [140, 148, 160] },
  { name: 'min_lot_size_block', type: 'i32', off: [144, 152, 164] },
  { name: 'min_lot_size_round_lot', type: 'i32', off: [148, 156, 168] },
  { name: 'min_trade_vol', type: 'u32', off: [152, 160, 172] },
  { name: 'contract_multiplier', type: 'i32', off: [160, 164, 176] },
  { name: 'decay_quantity', type: 'i32', off: [164, 168, 180] },
  { name: 'original_contract_size', type: 'i32', off: [168, 172, 184] },
  { name: 'leg_instrument_id', type: 'u32', off: [null, null, 188] },
  { name: 'leg_ratio_price_numerator', type: 'i32', off: [null, null, 192] },
  { name: 'leg_ratio_price_denominator', type: 'i32', off: [null, null, 196] },
  { name: 'leg_ratio_qty_numerator', type: 'i32', off: [null, null, 200] },
  { name: 'leg_ratio_qty_denominator', type: 'i32', off: [null, null, 204] },
  { name: 'leg_underlying_id', type: 'u32', off: [null, null, 208] },
  { name: 'trading_reference_date', type: 'u16', off: [176, 176, null] },
  { name: 'appl_id', type: 'i16', off: [178, 178, 212] },
  { name: 'maturity_year', type: 'u16', off: [180, 180, 214] },
  { name: 'decay_start_date', type: 'u16', off: [182, 182, 216] },
  { name: 'channel_id', type: 'u16', off: [184, 184, 218] },
  { name: 'leg_count', type: 'u16', off: [null, null, 220] },
  { name: 'leg_index', type: 'u16', off: [null, null, 222] },
  { name: 'currency', type: 'str', off: [186, 186, 224], width: [4, 4, 4] },
  { name: 'settl_currency', type: 'str', off: [190, 190, 228], width: [4, 4, 4] },
  { name: 'secsubtype', type: 'str', off: [194, 194, 232], width: [6, 6, 6] },
  { name: 'raw_symbol', type: 'str', off: [200, 200, 238], width: [22, 71, 71] },
  { name: 'group', type: 'str', off: [222, 271, 309], width: [21, 21, 21] },
  { name: 'exchange', type: 'str', off: [243, 292, 330], width: [5, 5, 5] },
  { name: 'asset', type: 'str', off: [248, 297, 335], width: [7, 7, 11] },
  { name: 'cfi', type: 'str', off: [255, 304, 346], width: [7, 7, 7] },
  { name: 'security_type', type: 'str', off: [262, 311, 353], width: [7, 7, 7] },
  { name: 'unit_of_measure', type: 'str', off: [269, 318, 360], width: [31, 31, 31] },
  { name: 'underlying', type: 'str', off: [300, 349, 391], width: [21, 21, 21] },
  { name: 'strike_price_currency', type: 'str', off: [321, 370, 412], width: [4, 4, 4] },
  { name: 'leg_raw_symbol', type: 'str', off: [null, null, 416], width: [0, 0, 71] },
  { name: 'instrument_class', type: 'char', off: [325, 374, 487] },
  { name: 'match_algorithm', type: 'char', off: [342, 375, 488] },
  { name: 'md_security_trading_status', type: 'u8', off: [343, 376, null] },
  { name: 'main_fraction', type: 'u8', off: [344, 377, 489] },
  { name: 'price_display_format', type: 'u8', off: [345, 378, 490] },
  { name: 'settl_price_type', type: 'u8', off: [346, 379, null] },
  { name: 'sub_fraction', type: 'u8', off: [347, 380, 491] },
  { name: 'underlying_product', type: 'u8', off: [348, 381, 492] },
  { name: 'security_update_action', type: 'char', off: [349, 382, 493] },
  { name: 'maturity_month', type: 'u8', off: [350, 383, 494] },
  { name: 'maturity_day', type: 'u8', off: [351, 384, 495] },
  { name: 'maturity_week', type: 'u8', off: [352, 385, 496] },
  { name: 'user_defined_instrument', type: 'char', off: [353, 386, 497] },
  { name: 'contract_multiplier_unit', type: 'i8', off: [354, 387, 498] },
  { name: 'flow_schedule_type', type: 'i8', off: [355, 388, 499] },
  { name: 'tick_rule', type: 'u8', off: [356, 389, 500] },
  { name: 'leg_instrument_class', type: 'char', off: [null, null, 501] },
  { name: 'leg_side', type: 'char', off: [null, null, 502] },
];

/** Definition fields holding 1e-9 fixed-point values (shown with a decimal twin by the NDJSON printer). */
export const PRICE_FIELDS: ReadonlySet<string> = new Set([
  'price',
  'bid_px',
  'ask_px',
  ...DEFINITION_FIELDS.filter((f) => f.type === 'i64').map((f) => f.name),
]);

/** Timestamp fields (u64 ns, UNDEF_TIMESTAMP = unset). */
export const TIMESTAMP_FIELDS: ReadonlySet<string> = new Set([
  'ts_event',
  'ts_recv',
  'ts_out',
  'expiration',
  'activation',
  'start_ts',
  'end_ts',
]);

/** Single-char fields, for presenting a 0 byte as null. */
export const CHAR_FIELDS: ReadonlySet<string> = new Set([
  'action',
  'side',
  ...DEFINITION_FIELDS.filter((f) => f.type === 'char').map((f) => f.name),
]);

function readDefinition(dv: DataView, o: number, v: DbnVersion): InstrumentDefMsg {
  const rec: Record<string, unknown> = {
    kind: 'definition',
    rtype: dv.getUint8(o + 1),
    publisher_id: dv.getUint16(o + 2, true),
    instrument_id: dv.getUint32(o + 4, true),
    ts_event: dv.getBigUint64(o + 8, true),
  };
  const vi = v - 1;
  for (const f of DEFINITION_FIELDS) {
    const fo = f.off[vi];
    if (fo == null) continue;
    const p = o + fo;
    switch (f.type) {
      case 'u8':
        rec[f.name] = dv.getUint8(p);
        break;
      case 'i8':
        rec[f.name] = dv.getInt8(p);
        break;
      case 'u16':
        rec[f.name] = dv.getUint16(p, true);
        break;
      case 'i16':
        rec[f.name] = dv.getInt16(p, true);
        break;
      case 'u32':
        rec[f.name] = dv.getUint32(p, true);
        break;
      case 'i32':
        rec[f.name] = dv.getInt32(p, true);
        break;
      case 'u32|u64':
        rec[f.name] = v === 3 ? dv.getBigUint64(p, true) : BigInt(dv.getUint32(p, true));
        break;
      case 'i64':
        rec[f.name] = dv.getBigInt64(p, true);
        break;
      case 'u64':
        rec[f.name] = dv.getBigUint64(p, true);
        break;
      case 'char':
        rec[f.name] = readChar(dv, p);
        break;
      case 'str':
        rec[f.name] = readCStr(dv, p, f.width![vi]!);
        break;
    }
  }
  return rec as unknown as InstrumentDefMsg;
}

function readLevel(dv: DataView, p: number): BidAskPair {
  return {
    bid_px: dv.getBigInt64(p, true),
    ask_px: dv.getBigInt64(p + 8, true),
    bid_sz: dv.getUint32(p + 16, true),
    ask_sz: dv.getUint32(p + 20, true),
    bid_ct: dv.getUint32(p + 24, true),
    ask_ct: dv.getUint32(p + 28, true),
  };
}

/**
 * Decodes the records of one stream version. `need[rtype]` is the byte length a record of that type must have
 * (ts_out included), 0 for types this reader skips; the caller checks it so `read` never reads past a record.
 */
export class RecordReader {
  readonly need = new Uint16Array(256);

  constructor(
    readonly version: DbnVersion,
    readonly tsOut: boolean,
  ) {
    const extra = tsOut ? 8 : 0;
    this.need[RType.MBP_0] = RecordLen.TRADE + extra;
    this.need[RType.MBP_1] = RecordLen.MBP_1 + extra;
    this.need[RType.MBP_10] = RecordLen.MBP_10 + extra;
    this.need[RType.INSTRUMENT_DEF] = RecordLen.DEFINITION[version] + extra;
    this.need[RType.SYMBOL_MAPPING] = RecordLen.SYMBOL_MAPPING[version] + extra;
    this.need[RType.ERROR] = RecordLen.ERROR[version] + extra;
    this.need[RType.SYSTEM] = RecordLen.SYSTEM[version] + extra;
  }

  /** Decode the record of `size` bytes at `o`; `rtype` must have a non-zero `need` no larger than `size`. */
  read(dv: DataView, o: number, size: number, rtype: number): DbnRecord {
    let rec: DbnRecord;
    switch (rtype) {
      case RType.MBP_10: {
        const levels = new Array<BidAskPair>(10);
        for (let i = 0; i < 10; i++) levels[i] = readLevel(dv, o + 48 + i * 32);
        rec = {
          kind: 'mbp10',
          rtype,
          publisher_id: dv.getUint16(o + 2, true),
          instrument_id: dv.getUint32(o + 4, true),
          ts_event: dv.getBigUint64(o + 8, true),
          price: dv.getBigInt64(o + 16, true),
          size: dv.getUint32(o + 24, true),
          action: CHARS[dv.getUint8(o + 28)]!,
          side: CHARS[dv.getUint8(o + 29)]!,
          flags: dv.getUint8(o + 30),
          depth: dv.getUint8(o + 31),
          ts_recv: dv.getBigUint64(o + 32, true),
          ts_in_delta: dv.getInt32(o + 40, true),
          sequence: dv.getUint32(o + 44, true),
          levels,
        };
        break;
      }
      case RType.MBP_1:
        rec = {
          kind: 'mbp1',
          rtype,
          publisher_id: dv.getUint16(o + 2, true),
          instrument_id: dv.getUint32(o + 4, true),
          ts_event: dv.getBigUint64(o + 8, true),
          price: dv.getBigInt64(o + 16, true),
          size: dv.getUint32(o + 24, true),
          action: CHARS[dv.getUint8(o + 28)]!,
          side: CHARS[dv.getUint8(o + 29)]!,
          flags: dv.getUint8(o + 30),
          depth: dv.getUint8(o + 31),
          ts_recv: dv.getBigUint64(o + 32, true),
          ts_in_delta: dv.getInt32(o + 40, true),
          sequence: dv.getUint32(o + 44, true),
          levels: [readLevel(dv, o + 48)],
        };
        break;
      case RType.MBP_0:
        rec = {
          kind: 'trade',
          rtype,
          publisher_id: dv.getUint16(o + 2, true),
          instrument_id: dv.getUint32(o + 4, true),
          ts_event: dv.getBigUint64(o + 8, true),
          price: dv.getBigInt64(o + 16, true),
          size: dv.getUint32(o + 24, true),
          action: CHARS[dv.getUint8(o + 28)]!,
          side: CHARS[dv.getUint8(o + 29)]!,
          flags: dv.getUint8(o + 30),
          depth: dv.getUint8(o + 31),
          ts_recv: dv.getBigUint64(o + 32, true),
          ts_in_delta: dv.getInt32(o + 40, true),
          sequence: dv.getUint32(o + 44, true),
        };
        break;
      case RType.INSTRUMENT_DEF:
        rec = readDefinition(dv, o, this.version);
        break;
      case RType.SYMBOL_MAPPING:
        rec = this.readSymbolMapping(dv, o);
        break;
      case RType.ERROR:
        rec = this.readError(dv, o);
        break;
      default:
        rec = this.readSystem(dv, o);
        break;
    }
    if (this.tsOut) rec.ts_out = dv.getBigUint64(o + size - 8, true);
    return rec;
  }

  private readSymbolMapping(dv: DataView, o: number): SymbolMappingMsg {
    const hd = header(dv, o);
    if (this.version === 1) {
      return {
        kind: 'symbol_mapping',
        ...hd,
        stype_in_symbol: readCStr(dv, o + 16, 22),
        stype_out_symbol: readCStr(dv, o + 38, 22),
        start_ts: dv.getBigUint64(o + 64, true),
        end_ts: dv.getBigUint64(o + 72, true),
      };
    }
    return {
      kind: 'symbol_mapping',
      ...hd,
      stype_in: dv.getUint8(o + 16),
      stype_in_symbol: readCStr(dv, o + 17, 71),
      stype_out: dv.getUint8(o + 88),
      stype_out_symbol: readCStr(dv, o + 89, 71),
      start_ts: dv.getBigUint64(o + 160, true),
      end_ts: dv.getBigUint64(o + 168, true),
    };
  }

  private readError(dv: DataView, o: number): ErrorMsg {
    const hd = header(dv, o);
    if (this.version === 1) return { kind: 'error', ...hd, err: readCStr(dv, o + 16, 64) };
    return {
      kind: 'error',
      ...hd,
      err: readCStr(dv, o + 16, 302),
      code: dv.getUint8(o + 318),
      is_last: dv.getUint8(o + 319),
    };
  }

  private readSystem(dv: DataView, o: number): SystemMsg {
    const hd = header(dv, o);
    if (this.version === 1) return { kind: 'system', ...hd, msg: readCStr(dv, o + 16, 64) };
    return { kind: 'system', ...hd, msg: readCStr(dv, o + 16, 303), code: dv.getUint8(o + 319) };
  }
}

function header(dv: DataView, o: number): Omit<RecordHeader, 'ts_out'> {
  return {
    rtype: dv.getUint8(o + 1),
    publisher_id: dv.getUint16(o + 2, true),
    instrument_id: dv.getUint32(o + 4, true),
    ts_event: dv.getBigUint64(o + 8, true),
  };
}
