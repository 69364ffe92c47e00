/**
 * DBN prelude and metadata (spec/DBN.md §3), all three versions.
 */
import {
  DBN_MAGIC,
  MAX_METADATA_LEN,
  MAX_VERSION,
  METADATA_FIXED_END,
  METADATA_MIN_LEN,
  MIN_VERSION,
  PRELUDE_LEN,
  SCHEMAS,
  SCHEMA_MIXED,
  STYPES,
  STYPE_NONE,
  V1_SYMBOL_CSTR_LEN,
  type DbnSType,
  type DbnSchema,
  type DbnVersion,
} from './constants.js';
import { readCStr } from './records.js';

export interface MappingInterval {
  /** YYYYMMDD, inclusive. */
  start_date: number;
  /** YYYYMMDD, exclusive. */
  end_date: number;
  /** The resolved value in stype_out (for instrument_id: the id as decimal text). */
  symbol: string;
}

export interface SymbolMapping {
  /** The symbol as requested, in stype_in. */
  raw_symbol: string;
  intervals: MappingInterval[];
}

export interface DbnMetadata {
  version: DbnVersion;
  dataset: string;
  /** null: the stream mixes schemas (id 0xFFFF). */
  schema: DbnSchema | null;
  /** Query start, ns UTC. */
  start: bigint;
  /** Query end (exclusive), ns UTC; UNDEF_TIMESTAMP when not set. */
  end: bigint;
  /** Requested record limit; 0n = none. */
  limit: bigint;
  /** null: none or mixed (0xFF). */
  stype_in: DbnSType | null;
  stype_out: DbnSType | null;
  /** Every record carries a trailing u64 ts_out. */
  ts_out: boolean;
  /** Width of the symbol strings (22 in v1). */
  symbol_cstr_len: number;
  symbols: string[];
  partial: string[];
  not_found: string[];
  mappings: SymbolMapping[];
}

/** A metadata problem, with the offset (from the start of the stream) where it was found. */
export class MetadataFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export function startsWithDbnMagic(b: Uint8Array): boolean {
  return b[0] === DBN_MAGIC[0] && b[1] === DBN_MAGIC[1] && b[2] === DBN_MAGIC[2];
}

/** Validate the 8-byte prelude and return the version and the metadata length that follows it. */
export function readPrelude(b: Uint8Array): { version: DbnVersion; length: number } {
  if (!startsWithDbnMagic(b)) throw new MetadataFormatError('not a DBN stream (no "DBN" magic)', 0);
  const version = b[3]!;
  if (version < MIN_VERSION || version > MAX_VERSION) {
    throw new MetadataFormatError(`unsupported DBN version ${version}`, 3);
  }
  const length = new DataView(b.buffer, b.byteOffset, PRELUDE_LEN).getUint32(4, true);
  if (length < METADATA_MIN_LEN || length > MAX_METADATA_LEN) {
    throw new MetadataFormatError(`implausible metadata length ${length}`, 4);
  }
  return { version: version as DbnVersion, length };
}

/** Parse prelude + metadata; `b` holds exactly the first `8 + length` bytes of the stream. */
export function parseMetadata(b: Uint8Array): DbnMetadata {
  const { version } = readPrelude(b);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = b.byteLength;
  // v1 has an 8-byte record_count at 50, which shifts the fields after it.
  const at = version === 1 ? 58 : 50;
  const schemaId = dv.getUint16(24, true);
  let schema: DbnSchema | null = null;
  if (schemaId !== SCHEMA_MIXED) {
    schema = SCHEMAS[schemaId] ?? null;
    if (schema === null) throw new MetadataFormatError(`unknown schema id ${schemaId}`, 24);
  }
  const symbolLen = version === 1 ? V1_SYMBOL_CSTR_LEN : dv.getUint16(53, true);
  if (symbolLen === 0) throw new MetadataFormatError('symbol_cstr_len is 0', 53);
  const schemaDefLen = dv.getUint32(108, true);
  let pos = METADATA_FIXED_END + schemaDefLen;

  const need = (n: number, what: string): void => {
    if (n > end - pos) throw new MetadataFormatError(`metadata ends inside ${what}`, pos);
  };
  const u32 = (what: string): number => {
    need(4, what);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const sym = (what: string): string => {
    need(symbolLen, what);
    const s = readCStr(dv, pos, symbolLen);
    pos += symbolLen;
    return s;
  };
  const symbolList = (what: string): string[] => {
    const n = u32(`${what} count`);
    // Checked before allocating so a corrupt count cannot request a huge array.
    need(n * symbolLen, what);
    return Array.from({ length: n }, () => sym(what));
  };

  const meta: DbnMetadata = {
    version,
    dataset: readCStr(dv, 8, 16),
    schema,
    start: dv.getBigUint64(26, true),
    end: dv.getBigUint64(34, true),
    limit: dv.getBigUint64(42, true),
    stype_in: stype(dv.getUint8(at), at),
    stype_out: stype(dv.getUint8(at + 1), at + 1),
    ts_out: dv.getUint8(at + 2) !== 0,
    symbol_cstr_len: symbolLen,
    symbols: [],
    partial: [],
    not_found: [],
    mappings: [],
  };
  need(0, 'schema definition');
  meta.symbols = symbolList('symbols');
  meta.partial = symbolList('partial');
  meta.not_found = symbolList('not_found');
  const nMappings = u32('mappings count');
  need(nMappings * (symbolLen + 4), 'mappings');
  for (let i = 0; i < nMappings; i++) {
    const raw_symbol = sym('mapping raw_symbol');
    const nIntervals = u32('mapping interval count');
    need(nIntervals * (8 + symbolLen), 'mapping intervals');
    const intervals: MappingInterval[] = [];
    for (let j = 0; j < nIntervals; j++) {
      const start_date = u32('interval start_date');
      const end_date = u32('interval end_date');
      intervals.push({ start_date, end_date, symbol: sym('interval symbol') });
    }
    meta.mappings.push({ raw_symbol, intervals });
  }
  return meta;
}

function stype(id: number, offset: number): DbnSType | null {
  if (id === STYPE_NONE) return null;
  const name = STYPES[id];
  if (name === undefined) throw new MetadataFormatError(`unknown stype id ${id}`, offset);
  return name;
}
