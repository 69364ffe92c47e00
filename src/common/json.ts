/**
 * Lossless JSON for the wire (DATA.md §3.3, ARCHITECTURE.md "Wire format").
 *
 * Encoding: enums are already their values; `bigint` is written as bare integer digits (exactly what the Python
 * peers write); NaN/±Infinity become `null`; `undefined` object members are omitted; Maps become objects; class
 * instances are written by their own enumerable fields (or their `toJSON()`); Dates become `YYYY-MM-DD`. Anything else
 * (functions, symbols) throws — never a silent `String(x)`.
 *
 * Decoding: a small strict parser (plain `JSON.parse` rounds 1.77e18 to the nearest 256). Integer literals of int64
 * fields (`*_ns`, `seq`, or keys the caller names) and any integer beyond 2^53 come back as exact `bigint`; a decimal
 * string in an int64 field is accepted too; the tokens `NaN`, `Infinity`, `-Infinity` are read as `null`.
 */

export class JsonEncodeError extends Error {
  override readonly name = 'JsonEncodeError';
}

export class JsonDecodeError extends Error {
  override readonly name = 'JsonDecodeError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
  }
}

/** Encode a value as one line of JSON under the lossless rules above. */
export function encodeJson(value: unknown): string {
  let out: string | undefined;
  try {
    out = encodeValue(value);
  } catch (err) {
    // Paths are found only on failure: building them for every value would double the cost of encoding.
    if (err instanceof Unencodable) throw new JsonEncodeError(`cannot encode ${err.message} at ${locate(value, '$')}`);
    throw err;
  }
  if (out === undefined) throw new JsonEncodeError('cannot encode undefined at $');
  return out;
}

class Unencodable extends Error {}

/** The path of the first value `encodeValue` rejects, walking in the same order. */
function locate(v: unknown, path: string): string {
  if (typeof v === 'function' || typeof v === 'symbol' || ArrayBuffer.isView(v)) return path;
  if (v === null || typeof v !== 'object' || v instanceof Date) return '';
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return locate(toJSON.call(v), path);
  const entries: [string, unknown][] = Array.isArray(v)
    ? v.map((x, i) => [`[${i}]`, x])
    : v instanceof Map
      ? [...v].map(([k, x]) => [`.${String(k)}`, x])
      : v instanceof Set
        ? [...v].map((x, i) => [`[${i}]`, x])
        : Object.keys(v).map((k) => [`.${k}`, (v as Record<string, unknown>)[k]]);
  for (const [seg, x] of entries) {
    const found = locate(x, path + seg);
    if (found !== '') return found;
  }
  return '';
}

/** Encode to UTF-8 bytes (NATS payloads). */
export function encodeJsonBytes(value: unknown): Uint8Array {
  return Buffer.from(encodeJson(value), 'utf8');
}

/** Quoted object keys: payloads repeat the same few dozen keys millions of times. */
const keyCache = new Map<string, string>();
function quoteKey(k: string): string {
  let q = keyCache.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (keyCache.size < 10_000) keyCache.set(k, q);
  }
  return q;
}

function encodeValue(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      // String(n) is JSON's number syntax for every finite double (-0 prints as 0 in both).
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'object':
      return v === null ? 'null' : encodeObject(v);
    default:
      throw new Unencodable(`a ${typeof v}`);
  }
}

function encodeObject(v: object): string {
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) s += ',';
      s += encodeValue(v[i]) ?? 'null';
    }
    return s + ']';
  }
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return 'null';
    return `"${v.toISOString().slice(0, 10)}"`;
  }
  if (v instanceof Map) {
    let s = '{';
    let first = true;
    for (const [k, item] of v) {
      const enc = encodeValue(item);
      if (enc === undefined) continue;
      s += (first ? '' : ',') + quoteKey(String(k)) + ':' + enc;
      first = false;
    }
    return s + '}';
  }
  if (v instanceof Set) return encodeObject([...v]);
  if (ArrayBuffer.isView(v)) throw new Unencodable('binary data');
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return encodeValue(toJSON.call(v)) ?? 'null';
  let s = '{';
  let first = true;
  for (const k of Object.keys(v)) {
    const enc = encodeValue((v as Record<string, unknown>)[k]);
    if (enc === undefined) continue;
    s += (first ? '' : ',') + quoteKey(k) + ':' + enc;
    first = false;
  }
  return s + '}';
}

export interface DecodeOptions {
  /** Extra keys whose integer values are int64 (always decoded as `bigint`). */
  readonly int64Keys?: ReadonlySet<string>;
}

/** Default int64 rule: nanosecond timestamps and vendor sequences. */
export function isInt64Key(key: string): boolean {
  return key === 'seq' || key.endsWith('_ns');
}

/** Decode JSON text (or UTF-8 bytes) losslessly. */
export function decodeJson(input: string | Uint8Array, options: DecodeOptions = {}): unknown {
  const text =
    typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  const p = new Parser(text, options.int64Keys);
  p.skipWs();
  const value = p.parseValue(null);
  p.skipWs();
  if (p.pos !== text.length) throw new JsonDecodeError('unexpected trailing characters', p.pos);
  return value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

class Parser {
  pos = 0;
  constructor(
    readonly text: string,
    readonly extraInt64: ReadonlySet<string> | undefined,
  ) {}

  private int64(key: string | null): boolean {
    return key !== null && (isInt64Key(key) || (this.extraInt64?.has(key) ?? false));
  }

  skipWs(): void {
    const t = this.text;
    let c = t.charCodeAt(this.pos);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = t.charCodeAt(++this.pos);
  }

  parseValue(key: string | null): unknown {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === 123) return this.parseObject();
    if (c === 91) return this.parseArray();
    if (c === 34) {
      const s = this.parseString();
      return this.int64(key) && INTEGER.test(s) ? BigInt(s) : s;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      if (t.startsWith('-Infinity', this.pos)) {
        this.pos += 9;
        return null;
      }
      return this.parseNumber(key);
    }
    if (t.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (t.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (t.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    if (t.startsWith('NaN', this.pos)) {
      this.pos += 3;
      return null;
    }
    if (t.startsWith('Infinity', this.pos)) {
      this.pos += 8;
      return null;
    }
    throw new JsonDecodeError(
      this.pos >= t.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(t[this.pos])}`,
      this.pos,
    );
  }

  private parseObject(): Record<string, unknown> {
    const t = this.text;
    const obj: Record<string, unknown> = {};
    this.pos++;
    this.skipWs();
    if (t.charCodeAt(this.pos) === 125) {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.skipWs();
      if (t.charCodeAt(this.pos) !== 34) throw new JsonDecodeError('expected a string key', this.pos);
      const key = this.parseString();
      this.skipWs();
      if (t.charCodeAt(this.pos) !== 58) throw new JsonDecodeError("expected ':'", this.pos);
      this.pos++;
      this.skipWs();
      const value = this.parseValue(key);
      if (key === '__proto__')
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      else obj[key] = value;
      this.skipWs();
      const c = t.charCodeAt(this.pos);
      this.pos++;
      if (c === 44) continue;
      if (c === 125) return obj;
      throw new JsonDecodeError("expected ',' or '}'", this.pos - 1);
    }
  }

  private parseArray(): unknown[] {
    const t = this.text;
    const arr: unknown[] = [];
    this.pos++;
    this.skipWs();
    if (t.charCodeAt(this.pos) === 93) {
      this.pos++;
      return arr;
    }
    for (;;) {
      this.skipWs();
      arr.push(this.parseValue(null));
      this.skipWs();
      const c = t.charCodeAt(this.pos);
      this.pos++;
      if (c === 44) continue;
      if (c === 93) return arr;
      throw new JsonDecodeError("expected ',' or ']'", this.pos - 1);
    }
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) throw new JsonDecodeError('unterminated string', start);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c < 32) throw new JsonDecodeError('control character in string', i);
      i++;
    }
    this.pos = i + 1;
    if (!escaped) return t.slice(start + 1, i);
    try {
      return JSON.parse(t.slice(start, i + 1)) as string;
    } catch {
      throw new JsonDecodeError('invalid escape in string', start);
    }
  }

  private parseNumber(key: string | null): number | bigint {
    const t = this.text;
    const start = this.pos;
    let i = start;
    if (t.charCodeAt(i) === 45) i++;
    const intStart = i;
    while (i < t.length && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) i++;
    if (i === intStart) throw new JsonDecodeError('invalid number', start);
    if (t.charCodeAt(intStart) === 48 && i - intStart > 1) throw new JsonDecodeError('leading zero in number', start);
    let isInteger = true;
    if (t.charCodeAt(i) === 46) {
      isInteger = false;
      i++;
      const fracStart = i;
      while (i < t.length && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) i++;
      if (i === fracStart) throw new JsonDecodeError('invalid number', start);
    }
    const e = t.charCodeAt(i);
    if (e === 101 || e === 69) {
      isInteger = false;
      i++;
      const s = t.charCodeAt(i);
      if (s === 43 || s === 45) i++;
      const expStart = i;
      while (i < t.length && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) i++;
      if (i === expStart) throw new JsonDecodeError('invalid number', start);
    }
    this.pos = i;
    const lit = t.slice(start, i);
    if (isInteger) {
      if (this.int64(key)) return BigInt(lit);
      // Beyond 2^53 a double cannot hold the digits: keep them exact.
      if (i - intStart > 15) {
        const b = BigInt(lit);
        if (b > MAX_SAFE || b < -MAX_SAFE) return b;
      }
    }
    return Number(lit);
  }
}
