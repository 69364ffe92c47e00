/**
 * DBN constants (spec/DBN.md §1, §6). Enumerations are kept as their wire numbers where records carry them raw,
 * and named where the metadata exposes them by name.
 */

/** Null price (i64 max). Compare with `===`; it is the one price value that is not a price. */
export const UNDEF_PRICE = 9223372036854775807n;
/** Null timestamp (u64 max). */
export const UNDEF_TIMESTAMP = 18446744073709551615n;
/** Null order size (u32 max). */
export const UNDEF_ORDER_SIZE = 4294967295;
/** Fixed-point scale of every price field: value = raw / 1e9. */
export const FIXED_PRICE_SCALE = 1_000_000_000n;

export const DBN_MAGIC = [0x44, 0x42, 0x4e] as const;
export const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames carry magic 0x184D2A50..0x184D2A5F; the low nibble is free. */
export const ZSTD_SKIPPABLE_MAGIC_MASK = 0xfffffff0;
export const ZSTD_SKIPPABLE_MAGIC = 0x184d2a50;

export const MIN_VERSION = 1;
export const MAX_VERSION = 3;
export type DbnVersion = 1 | 2 | 3;

export const PRELUDE_LEN = 8;
/** The fixed metadata part ends at absolute offset 112 in every version. */
export const METADATA_FIXED_END = 112;
export const METADATA_MIN_LEN = METADATA_FIXED_END - PRELUDE_LEN;
/** Symbol width of v1 metadata and records; v2+ store it (and use 71). */
export const V1_SYMBOL_CSTR_LEN = 22;
export const SYMBOL_CSTR_LEN = 71;
/**
 * Refuse metadata larger than this: a corrupt length would otherwise make a streaming reader buffer the whole file.
 * Real metadata (even ALL_SYMBOLS definition queries) stays far below it.
 */
export const MAX_METADATA_LEN = 256 * 1024 * 1024;

export const RECORD_HEADER_LEN = 16;
/** A length byte counts 4-byte words, so no record is longer than this. */
export const MAX_RECORD_LEN = 255 * 4;

export const RType = {
  MBP_0: 0x00,
  MBP_1: 0x01,
  MBP_10: 0x0a,
  OHLCV_DEPRECATED: 0x11,
  STATUS: 0x12,
  INSTRUMENT_DEF: 0x13,
  IMBALANCE: 0x14,
  ERROR: 0x15,
  SYMBOL_MAPPING: 0x16,
  SYSTEM: 0x17,
  STATISTICS: 0x18,
  OHLCV_1S: 0x20,
  OHLCV_1M: 0x21,
  OHLCV_1H: 0x22,
  OHLCV_1D: 0x23,
  OHLCV_EOD: 0x24,
  MBO: 0xa0,
  CMBP_1: 0xb1,
  CBBO_1S: 0xc0,
  CBBO_1M: 0xc1,
  TCBBO: 0xc2,
  BBO_1S: 0xc3,
  BBO_1M: 0xc4,
} as const;

/** Record sizes in bytes, without the optional trailing ts_out. */
export const RecordLen = {
  TRADE: 48,
  MBP_1: 80,
  MBP_10: 368,
  DEFINITION: { 1: 360, 2: 400, 3: 520 },
  SYMBOL_MAPPING: { 1: 80, 2: 176, 3: 176 },
  ERROR: { 1: 80, 2: 320, 3: 320 },
  SYSTEM: { 1: 80, 2: 320, 3: 320 },
} as const;

/** Schema names by metadata id (DBN.md §6.4). */
export const SCHEMAS = [
  'mbo',
  'mbp-1',
  'mbp-10',
  'tbbo',
  'trades',
  'ohlcv-1s',
  'ohlcv-1m',
  'ohlcv-1h',
  'ohlcv-1d',
  'definition',
  'statistics',
  'status',
  'imbalance',
  'ohlcv-eod',
  'cmbp-1',
  'cbbo-1s',
  'cbbo-1m',
  'tcbbo',
  'bbo-1s',
  'bbo-1m',
] as const;
export type DbnSchema = (typeof SCHEMAS)[number];
/** Metadata schema id meaning "records of several schemas". */
export const SCHEMA_MIXED = 0xffff;

/** Symbology type names by metadata id (DBN.md §6.5). */
export const STYPES = [
  'instrument_id',
  'raw_symbol',
  'smart',
  'continuous',
  'parent',
  'nasdaq_symbol',
  'cms_symbol',
  'isin',
  'us_code',
  'bbg_comp_id',
  'bbg_comp_ticker',
  'figi',
  'figi_ticker',
] as const;
export type DbnSType = (typeof STYPES)[number];
/** Metadata stype meaning "none or mixed" (live data). */
export const STYPE_NONE = 0xff;

/** Record flag bits (DBN.md §6.3); the raw byte is kept, unknown bits included. */
export const Flags = {
  LAST: 0x80,
  TOB: 0x40,
  SNAPSHOT: 0x20,
  MBP: 0x10,
  BAD_TS_RECV: 0x08,
  MAYBE_BAD_BOOK: 0x04,
  PUBLISHER_SPECIFIC: 0x02,
} as const;
