/**
 * `levelflow dbn FILE`: a DBN file as NDJSON, to look inside it (like Databento's `dbn --json`).
 *
 * Format, one JSON object per line, every line starting with `"kind"`:
 * - Line 1, the metadata: `{"kind":"metadata","version":3,"dataset":"GLBX.MDP3","schema":"trades",
 *   "start":"1609113600000000000","end":"1609200000000000000","limit":"4","stype_in":"raw_symbol",
 *   "stype_out":"instrument_id","ts_out":false,"symbol_cstr_len":71,"symbols":["ESH1"],"partial":[],"not_found":[],
 *   "mappings":[{"raw_symbol":"ESH1","intervals":[{"start_date":"2020-12-28","end_date":"2020-12-29",
 *   "symbol":"5482"}]}]}`. A fragment (no metadata) gives `{"kind":"metadata","fragment":true,"version":N}`.
 *   `schema`, `stype_in`, `stype_out` are null when mixed/none.
 * - Then one line per record, fields in wire order with their wire names, `kind` first (`trade`, `mbp1` — also for
 *   tbbo —, `mbp10`, `definition`, `symbol_mapping`, `error`, `system`):
 *   - a fixed-point price field `X` (price, bid_px, ask_px, strike_price, min_price_increment, ... every i64 price
 *     of a definition) is written twice: `"X"` = the raw integer as a string, `"X_dec"` = the decimal value with 9
 *     fraction digits as a string (`"price":"4108500000000","price_dec":"4108.500000000"`), or null for
 *     UNDEF_PRICE (whose raw string stays `"9223372036854775807"`);
 *   - timestamps (ts_event, ts_recv, ts_out, expiration, activation, start_ts, end_ts, metadata start/end) are
 *     integer strings of ns since the epoch, null for UNDEF_TIMESTAMP;
 *   - other 64-bit integers (raw_instrument_id, metadata limit) are integer strings; smaller integers are numbers;
 *   - chars are 1-character strings, null for a 0 byte; text fields are strings;
 *   - `levels` is an array of objects with the same rules.
 */
import { UNDEF_PRICE, UNDEF_TIMESTAMP, FIXED_PRICE_SCALE } from './constants.js';
import { openDbnFile, type DecodeOptions } from './decoder.js';
import type { DbnMetadata } from './metadata.js';
import { CHAR_FIELDS, PRICE_FIELDS, TIMESTAMP_FIELDS, type DbnRecord } from './records.js';

export interface PrintOptions extends DecodeOptions {
  /** Print at most this many records (the metadata line is always printed). */
  limit?: number;
}

/** A 1e-9 fixed-point value as a decimal string with 9 fraction digits; null for UNDEF_PRICE. */
export function formatPrice(raw: bigint): string | null {
  if (raw === UNDEF_PRICE) return null;
  const neg = raw < 0n;
  const abs = neg ? -raw : raw;
  const frac = (abs % FIXED_PRICE_SCALE).toString().padStart(9, '0');
  return `${neg ? '-' : ''}${abs / FIXED_PRICE_SCALE}.${frac}`;
}

/** YYYYMMDD -> "YYYY-MM-DD" (values that are not 8 digits are kept as numbers). */
function formatDate(d: number): string | number {
  const s = String(d);
  return /^\d{8}$/.test(s) ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}` : d;
}

function fieldsJson(o: object): string {
  let s = '';
  for (const [k, v] of Object.entries(o)) {
    if (s !== '') s += ',';
    const key = JSON.stringify(k);
    if (typeof v === 'bigint') {
      if (PRICE_FIELDS.has(k)) {
        const dec = formatPrice(v);
        s += `${key}:"${v}",${JSON.stringify(`${k}_dec`)}:${dec === null ? 'null' : `"${dec}"`}`;
      } else if (TIMESTAMP_FIELDS.has(k) && v === UNDEF_TIMESTAMP) {
        s += `${key}:null`;
      } else {
        s += `${key}:"${v}"`;
      }
    } else if (typeof v === 'string') {
      s += `${key}:${v === '' && CHAR_FIELDS.has(k) ? 'null' : JSON.stringify(v)}`;
    } else if (Array.isArray(v)) {
      s += `${key}:[${v.map((x: unknown) => (typeof x === 'object' && x !== null ? `{${fieldsJson(x)}}` : JSON.stringify(x))).join(',')}]`;
    } else if (typeof v === 'object' && v !== null) {
      s += `${key}:{${fieldsJson(v)}}`;
    } else {
      s += `${key}:${JSON.stringify(v)}`;
    }
  }
  return s;
}

/** One NDJSON line (without newline) for a record. */
export function recordToJson(rec: DbnRecord): string {
  return `{${fieldsJson(rec)}}`;
}

/** The NDJSON metadata line (without newline); `version` is used for fragments, which have no metadata. */
export function metadataToJson(meta: DbnMetadata | null, version?: number): string {
  if (meta === null) return `{"kind":"metadata","fragment":true,"version":${version ?? null}}`;
  const shown = {
    kind: 'metadata',
    ...meta,
    mappings: meta.mappings.map((m) => ({
      raw_symbol: m.raw_symbol,
      intervals: m.intervals.map((i) => ({
        start_date: formatDate(i.start_date),
        end_date: formatDate(i.end_date),
        symbol: i.symbol,
      })),
    })),
  };
  return `{${fieldsJson(shown)}}`;
}

/** Flush threshold for the output buffer, so a big file is written in large writes. */
const WRITE_BATCH = 64 * 1024;

/**
 * Write a DBN file as NDJSON to `out` (format above), streaming, honouring `out`'s backpressure. Resolves with the
 * number of records written; rejects with DbnError after writing every record before damage.
 */
export async function printDbn(
  path: string,
  out: NodeJS.WritableStream,
  opts: PrintOptions = {},
): Promise<{ records: number }> {
  const { limit = Infinity, ...decodeOpts } = opts;
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  const decoder = await openDbnFile(path, decodeOpts);
  let buf = metadataToJson(decoder.metadata, decoder.metadata?.version ?? opts.fragmentVersion) + '\n';
  let count = 0;
  try {
    if (count < limit) {
      for await (const batch of decoder.batches()) {
        for (const rec of batch) {
          buf += recordToJson(rec) + '\n';
          if (++count >= limit) break;
        }
        if (buf.length >= WRITE_BATCH) {
          await write(buf);
          buf = '';
        }
        if (count >= limit) break;
      }
    }
  } finally {
    await decoder.close();
    if (buf !== '') await write(buf);
  }
  return { records: count };
}
