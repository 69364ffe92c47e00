/**
 * DuckDB (1.5.x) writes every Parquet column as OPTIONAL, even from a NOT NULL table, while DATA.md §2.9 requires
 * non-null columns to be REQUIRED so that readers (pyarrow, Spark) see the registry's nullability. This module turns
 * named top-level OPTIONAL primitive columns of a finished file into REQUIRED columns.
 *
 * That is more than a footer edit: an OPTIONAL column stores a definition level per value in every data page and a
 * REQUIRED one stores none, so each data page of such a column is decompressed, its definition levels are dropped
 * (after checking they are all "present"), and it is compressed again. Dictionary pages, other columns and bloom
 * filters are copied byte for byte; page indexes, whose offsets would go stale, are dropped (they are optional and
 * DuckDB does not write them by default).
 */
import { compress, decompress } from 'zstd-napi';
import { T, type TList, type TStruct, ThriftReader, ThriftWriter, deleteField, field, setField } from './thrift.js';

const MAGIC = Buffer.from('PAR1');
const ZSTD_LEVEL = 3;

const Codec = { UNCOMPRESSED: 0, ZSTD: 6 } as const;
const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2, DATA_PAGE_V2: 3 } as const;
const Repetition = { REQUIRED: 0, OPTIONAL: 1 } as const;
const RLE = 3;

function i64(s: TStruct, id: number): number | undefined {
  const v = field(s, id);
  return v === undefined ? undefined : Number(v as bigint);
}

function unpack(codec: number, data: Uint8Array, size: number): Uint8Array {
  if (codec === Codec.UNCOMPRESSED) return data;
  if (codec === Codec.ZSTD) {
    const out = decompress(data);
    if (out.length !== size) throw new Error(`parquet: page decompressed to ${out.length} bytes, header says ${size}`);
    return out;
  }
  throw new Error(`parquet: codec ${codec} not supported when making columns REQUIRED`);
}

function pack(codec: number, data: Uint8Array): Uint8Array {
  return codec === Codec.ZSTD ? compress(data, { compressionLevel: ZSTD_LEVEL }) : data;
}

/**
 * Checks that an RLE/bit-packed hybrid run of definition levels (bit width 1) says "present" for all `count` values,
 * else throws: a null in a column about to become REQUIRED would otherwise turn into a made-up value.
 */
function checkAllPresent(levels: Uint8Array, count: number): void {
  let pos = 0;
  let seen = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = levels[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  };
  while (seen < count && pos < levels.length) {
    const header = varint();
    if ((header & 1) === 0) {
      const run = header / 2;
      if (levels[pos++] !== 1) throw new Error('parquet: null value in a column declared non-null');
      seen += run;
    } else {
      const values = Math.floor(header / 2) * 8;
      const bytes = values / 8;
      for (let i = 0; i < bytes; i++) {
        const take = Math.min(8, count - seen - i * 8);
        if (take <= 0) break;
        const mask = (1 << take) - 1;
        if ((levels[pos + i]! & mask) !== mask) throw new Error('parquet: null value in a column declared non-null');
      }
      pos += bytes;
      seen += values;
    }
  }
  if (seen < count) throw new Error('parquet: definition levels shorter than the page');
}

/** A data page of a column without definition levels; returns the new header and payload. */
function stripPage(header: TStruct, payload: Uint8Array, codec: number): [TStruct, Uint8Array] {
  const type = field(header, 1) as number;
  const uncompressedSize = field(header, 2) as number;
  if (type === PageType.DATA_PAGE) {
    const dph = field(header, 5) as TStruct;
    const numValues = field(dph, 1) as number;
    if (field(dph, 3) !== RLE) throw new Error('parquet: definition levels are not RLE-encoded');
    const raw = unpack(codec, payload, uncompressedSize);
    const len = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).readUInt32LE(0);
    checkAllPresent(raw.subarray(4, 4 + len), numValues);
    const values = raw.subarray(4 + len);
    const packed = pack(codec, values);
    setField(header, 2, T.I32, values.length);
    setField(header, 3, T.I32, packed.length);
    deleteField(header, 4);
    return [header, packed];
  }
  if (type === PageType.DATA_PAGE_V2) {
    const h2 = field(header, 8) as TStruct;
    if ((field(h2, 2) as number) !== 0) throw new Error('parquet: null value in a column declared non-null');
    const defLen = field(h2, 5) as number;
    if ((field(h2, 6) as number) !== 0) throw new Error('parquet: repetition levels in a top-level column');
    setField(h2, 5, T.I32, 0);
    setField(header, 2, T.I32, uncompressedSize - defLen);
    setField(header, 3, T.I32, payload.length - defLen);
    deleteField(header, 4);
    return [header, payload.subarray(defLen)];
  }
  return [header, payload];
}

interface Chunk {
  start: number;
  length: number;
  meta: TStruct;
  chunk: TStruct;
  required: boolean;
}

/**
 * The bytes of `file` with the named top-level columns REQUIRED. Columns already REQUIRED, nested columns and unknown
 * names are left alone. Throws if a named column holds a null.
 */
export function makeColumnsRequired(file: Uint8Array, names: ReadonlySet<string>): Uint8Array {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 12 || !buf.subarray(0, 4).equals(MAGIC) || !buf.subarray(buf.length - 4).equals(MAGIC))
    throw new Error('parquet: not a Parquet file');
  const metaLen = buf.readUInt32LE(buf.length - 8);
  const meta = new ThriftReader(buf.subarray(buf.length - 8 - metaLen, buf.length - 8)).struct();
  if (field(meta, 8) !== undefined) throw new Error('parquet: encrypted footers are not supported');

  const schema = (field(meta, 2) as TList).items as TStruct[];
  const toRequire = new Set<string>();
  let child = 1;
  const rootChildren = (field(schema[0]!, 5) as number | undefined) ?? 0;
  for (let k = 0; k < rootChildren; k++) {
    const el = schema[child]!;
    const name = Buffer.from(field(el, 4) as Uint8Array).toString('utf8');
    const nested = ((field(el, 5) as number | undefined) ?? 0) > 0;
    if (!nested && names.has(name) && field(el, 3) === Repetition.OPTIONAL) {
      setField(el, 3, T.I32, Repetition.REQUIRED);
      toRequire.add(name);
    }
    child += 1 + subtreeSize(schema, child);
  }

  const rowGroups = (field(meta, 4) as TList).items as TStruct[];
  const parts: Uint8Array[] = [MAGIC];
  let offset = MAGIC.length;
  const blooms: { meta: TStruct; bytes: Uint8Array }[] = [];
  for (const rg of rowGroups) {
    const chunks: Chunk[] = ((field(rg, 1) as TList).items as TStruct[]).map((cc) => {
      const md = field(cc, 3) as TStruct;
      const path = (field(md, 3) as TList).items as Uint8Array[];
      const start = Math.min(i64(md, 11) ?? Infinity, i64(md, 9)!);
      return {
        start,
        length: i64(md, 7)!,
        meta: md,
        chunk: cc,
        required: path.length === 1 && toRequire.has(Buffer.from(path[0]!).toString('utf8')),
      };
    });
    let rgUncompressed = 0;
    let rgCompressed = 0;
    const rgStart = offset;
    for (const c of chunks) {
      const md = c.meta;
      const codec = field(md, 4) as number;
      const chunkStart = offset;
      let uncompressed = 0;
      let dataPageOffset: number | undefined;
      let dictOffset: number | undefined;
      let pos = c.start;
      const end = c.start + c.length;
      while (pos < end) {
        const headerStart = pos;
        const reader = new ThriftReader(buf, pos);
        let header = reader.struct();
        const headerEnd = reader.pos;
        const type = field(header, 1) as number;
        let payload: Uint8Array = buf.subarray(headerEnd, headerEnd + (field(header, 3) as number));
        pos = headerEnd + payload.length;
        let headerBytes: Uint8Array = buf.subarray(headerStart, headerEnd);
        if (c.required && type !== PageType.DICTIONARY_PAGE) {
          [header, payload] = stripPage(header, payload, codec);
          headerBytes = new ThriftWriter().struct(header).bytes();
        }
        if (type === PageType.DICTIONARY_PAGE) dictOffset ??= offset;
        else dataPageOffset ??= offset;
        parts.push(headerBytes, payload);
        offset += headerBytes.length + payload.length;
        uncompressed += headerBytes.length + (field(header, 2) as number);
      }
      setField(md, 6, T.I64, BigInt(uncompressed));
      setField(md, 7, T.I64, BigInt(offset - chunkStart));
      setField(md, 9, T.I64, BigInt(dataPageOffset ?? chunkStart));
      if (dictOffset !== undefined) setField(md, 11, T.I64, BigInt(dictOffset));
      deleteField(md, 10);
      if (c.required) {
        const size = field(md, 16) as TStruct | undefined;
        if (size) deleteField(size, 3);
      }
      const bloomAt = i64(md, 14);
      if (bloomAt !== undefined) blooms.push({ meta: md, bytes: bloomBytes(buf, bloomAt, i64(md, 15)) });
      for (const id of [4, 5, 6, 7]) deleteField(c.chunk, id);
      if (field(c.chunk, 2) !== undefined) setField(c.chunk, 2, T.I64, BigInt(chunkStart));
      rgUncompressed += uncompressed;
      rgCompressed += offset - chunkStart;
    }
    setField(rg, 2, T.I64, BigInt(rgUncompressed));
    if (field(rg, 5) !== undefined) setField(rg, 5, T.I64, BigInt(rgStart));
    if (field(rg, 6) !== undefined) setField(rg, 6, T.I64, BigInt(rgCompressed));
  }
  for (const b of blooms) {
    setField(b.meta, 14, T.I64, BigInt(offset));
    parts.push(b.bytes);
    offset += b.bytes.length;
  }
  const footer = new ThriftWriter().struct(meta).bytes();
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(footer.length, 0);
  parts.push(footer, tail, MAGIC);
  return Buffer.concat(parts);
}

/** Number of schema elements below `index` (its whole subtree, depth-first). */
function subtreeSize(schema: TStruct[], index: number): number {
  const n = (field(schema[index]!, 5) as number | undefined) ?? 0;
  let size = 0;
  let next = index + 1;
  for (let k = 0; k < n; k++) {
    const s = 1 + subtreeSize(schema, next);
    size += s;
    next += s;
  }
  return size;
}

function bloomBytes(buf: Buffer, at: number, length: number | undefined): Uint8Array {
  if (length !== undefined) return buf.subarray(at, at + length);
  const reader = new ThriftReader(buf, at);
  const header = reader.struct();
  return buf.subarray(at, reader.pos + (field(header, 1) as number));
}
