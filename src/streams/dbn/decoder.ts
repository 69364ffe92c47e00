/**
 * Streaming DBN reader (spec/DBN.md §2–§4): plain or zstd, versions 1–3, with metadata or as a header-less fragment.
 *
 * Bytes are pulled chunk by chunk and never gathered: each chunk is decoded in place through a DataView (records
 * may start at any offset), and only a record split across two chunks is stitched, in a fixed 1 KiB carry buffer.
 * Memory therefore depends on the chunk size, not on the file size.
 *
 * Damage handling: every complete record before the damage is delivered, then a DbnError names the source and the
 * offset in the DBN stream (see DbnError).
 */
import { createReadStream } from 'node:fs';
import { MAX_RECORD_LEN, PRELUDE_LEN, RECORD_HEADER_LEN, type DbnVersion } from './constants.js';
import { DbnError } from './errors.js';
import { MetadataFormatError, parseMetadata, readPrelude, startsWithDbnMagic, type DbnMetadata } from './metadata.js';
import { RecordReader, type DbnRecord } from './records.js';
import { ZstdError, isZstd, zstdDecompress, zstdDecompressSync } from './zstd.js';

/** Anything that yields bytes: a Buffer, an array of chunks, a Node Readable, an async generator. */
export type ByteSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface DecodeOptions {
  /**
   * DBN version of a header-less fragment (`.dbn.frag`). Used only when the stream does not start with the "DBN"
   * prelude; without it such a stream is rejected.
   */
  fragmentVersion?: DbnVersion;
  /** Whether the fragment's records carry a trailing ts_out (metadata says so for non-fragments). */
  fragmentTsOut?: boolean;
  /** Name used in errors; openDbnFile sets it to the path. */
  name?: string;
}

const EMPTY = new Uint8Array(0);
/** Records per batch: small enough that a batch dies in the young generation, large enough to amortise awaits. */
const BATCH = 256;

/** Read chunk size for files: big enough that per-chunk costs are noise, small enough to stay cache-friendly. */
const FILE_CHUNK = 1 << 20;

/**
 * The synchronous core: feed chunks, collect records. A `push` that hits damage first appends every complete
 * record before it to `out`, then throws.
 */
class DbnParser {
  metadata: DbnMetadata | null = null;
  /** Records of types this reader does not decode, skipped by their length. */
  skipped = 0;
  private reader: RecordReader | null = null;
  private head: Uint8Array[] = [];
  private headLen = 0;
  /** Stream offset of byte 0 of the chunk being parsed. */
  private base = 0;
  private readonly carry = new Uint8Array(MAX_RECORD_LEN);
  private readonly carryDv = new DataView(this.carry.buffer);
  private carryLen = 0;
  private carryStart = 0;
  /** The chunk being decoded and the position of its next record. */
  private b: Uint8Array = EMPTY;
  private dv: DataView = new DataView(EMPTY.buffer);
  private pos = 0;

  constructor(
    private readonly name: string,
    private readonly compressed: boolean,
    private readonly opts: DecodeOptions,
  ) {}

  get started(): boolean {
    return this.reader !== null;
  }

  /** Decode all of `chunk` (the synchronous whole-buffer path). */
  push(chunk: Uint8Array, out: DbnRecord[]): void {
    this.feed(chunk, out);
    this.drain(out, Infinity);
  }

  /**
   * Take the next chunk; its records are then decoded by `drain`. The previous chunk must be drained. A record
   * completed from the carry buffer goes to `out` at once.
   */
  feed(chunk: Uint8Array, out: DbnRecord[]): void {
    if (chunk.length === 0) return;
    if (this.reader === null) {
      const rest = this.pushHead(chunk);
      if (rest === null) return;
      chunk = rest;
    }
    this.b = chunk;
    this.dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.length);
    this.pos = 0;
    if (this.carryLen > 0) this.completeCarry(out);
  }

  /** Whether the current chunk still holds undecoded bytes. */
  get hasMore(): boolean {
    return this.pos < this.b.length;
  }

  end(): void {
    if (this.reader === null) {
      if (this.headLen === 0 && this.opts.fragmentVersion !== undefined) return;
      throw this.error(
        this.headLen === 0 ? 'empty stream: no DBN metadata' : `truncated inside the metadata (${this.headLen} bytes)`,
        this.headLen,
      );
    }
    if (this.carryLen > 0) {
      const size = this.carry[0]! * 4;
      throw this.error(`truncated record: ${this.carryLen} of ${size} bytes present`, this.carryStart);
    }
  }

  error(reason: string, offset: number, cause?: unknown): DbnError {
    return new DbnError(reason, this.name, offset, this.compressed, cause === undefined ? undefined : { cause });
  }

  get offset(): number {
    return this.base;
  }

  /** Gather the prelude and metadata; returns the bytes after them once complete, else null. */
  private pushHead(chunk: Uint8Array): Uint8Array | null {
    // A copy: chunk memory may be reused by the source (zstd output) once the next chunk is requested.
    this.head.push(Uint8Array.from(chunk));
    this.headLen += chunk.length;
    if (this.headLen < PRELUDE_LEN) return null;
    let head = this.joinHead();
    if (!startsWithDbnMagic(head)) {
      const version = this.opts.fragmentVersion;
      if (version === undefined) {
        throw this.error('not a DBN stream (no "DBN" prelude); for a header-less fragment pass fragmentVersion', 0);
      }
      this.startRecords(version, this.opts.fragmentTsOut ?? false, 0);
      return head;
    }
    let total: number;
    try {
      total = PRELUDE_LEN + readPrelude(head).length;
      if (head.length < total) return null;
      this.metadata = parseMetadata(head.subarray(0, total));
    } catch (err) {
      if (err instanceof MetadataFormatError) throw this.error(`bad metadata: ${err.message}`, err.offset);
      throw err;
    }
    head = head.subarray(total);
    this.startRecords(this.metadata.version, this.metadata.ts_out, total);
    return head;
  }

  private joinHead(): Uint8Array {
    if (this.head.length > 1) this.head = [Buffer.concat(this.head)];
    return this.head[0]!;
  }

  private startRecords(version: DbnVersion, tsOut: boolean, base: number): void {
    this.reader = new RecordReader(version, tsOut);
    this.head = [];
    this.base = base;
  }

  private completeCarry(out: DbnRecord[]): void {
    const b = this.b;
    const size = this.carry[0]! * 4;
    const take = Math.min(size - this.carryLen, b.length);
    this.carry.set(b.subarray(0, take), this.carryLen);
    this.carryLen += take;
    this.pos = take;
    if (this.carryLen < size) {
      this.endChunk();
      return;
    }
    this.carryLen = 0;
    this.readOne(this.carryDv, 0, size, this.carryStart, out);
    if (this.pos === b.length) this.endChunk();
  }

  /**
   * Decode records of the current chunk into `out` until it holds `max` records or the chunk is used up; a
   * partial record at the end goes to the carry buffer. Batches stay small so records die young in the GC.
   */
  drain(out: DbnRecord[], max: number): void {
    const reader = this.reader;
    if (reader === null) return;
    const need = reader.need;
    const b = this.b;
    const dv = this.dv;
    const len = b.length;
    let pos = this.pos;
    try {
      while (pos < len && out.length < max) {
        const size = b[pos]! * 4;
        if (size < RECORD_HEADER_LEN) {
          throw this.error(`record length ${size} bytes is below the 16-byte header`, this.base + pos);
        }
        if (len - pos < size) {
          this.carry.set(b.subarray(pos), 0);
          this.carryLen = len - pos;
          this.carryStart = this.base + pos;
          pos = len;
          break;
        }
        const rtype = b[pos + 1]!;
        const n = need[rtype]!;
        if (n === 0) this.skipped++;
        else if (size < n) throw this.error(`record of rtype ${rtype} is ${size} bytes, needs ${n}`, this.base + pos);
        else out.push(reader.read(dv, pos, size, rtype));
        pos += size;
      }
    } finally {
      this.pos = pos;
    }
    if (pos === len) this.endChunk();
  }

  private endChunk(): void {
    this.base += this.b.length;
    this.b = EMPTY;
    this.pos = 0;
  }

  private readOne(dv: DataView, pos: number, size: number, offset: number, out: DbnRecord[]): void {
    const rtype = dv.getUint8(pos + 1);
    const n = this.reader!.need[rtype]!;
    if (n === 0) this.skipped++;
    else if (size < n) throw this.error(`record of rtype ${rtype} is ${size} bytes, needs ${n}`, offset);
    else out.push(this.reader!.read(dv, pos, size, rtype));
  }
}

async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  for await (const chunk of source as AsyncIterable<unknown>) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('DBN source must yield bytes (Uint8Array/Buffer)');
    yield chunk;
  }
}

/** Pull chunks until at least `n` bytes are seen (or the input ends), and hand them back with the rest. */
async function peek(
  it: AsyncIterator<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array[]; first: Uint8Array; done: boolean }> {
  const head: Uint8Array[] = [];
  let len = 0;
  while (len < n) {
    const r = await it.next();
    if (r.done) return { head, first: Buffer.concat(head), done: true };
    head.push(r.value);
    len += r.value.length;
  }
  return { head, first: head.length === 1 ? head[0]! : Buffer.concat(head), done: false };
}

async function* resume(head: Uint8Array[], it: AsyncIterator<Uint8Array>, done: boolean): AsyncGenerator<Uint8Array> {
  yield* head;
  if (done) return;
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    yield r.value;
  }
}

/**
 * A DBN stream being read. Create with `DbnDecoder.open` (or `openDbnFile`); the metadata is then available, and
 * the records are read once, either one by one (`for await (const r of decoder)`) or in batches (`batches()`, the
 * faster path: one array per decoded chunk).
 */
export class DbnDecoder implements AsyncIterable<DbnRecord> {
  private consumed = false;
  private ended = false;

  private constructor(
    private readonly parser: DbnParser,
    private readonly chunks: AsyncGenerator<Uint8Array>,
    private readonly compressed: boolean,
    private pending: DbnRecord[],
    private pendingError: DbnError | null,
  ) {}

  /** Start reading `source`: detects zstd, reads the metadata (unless the stream is a fragment). */
  static async open(source: ByteSource, opts: DecodeOptions = {}): Promise<DbnDecoder> {
    const name = opts.name ?? '<stream>';
    const raw = chunksOf(source);
    const { head, first, done } = await peek(raw, 4);
    const compressed = isZstd(first);
    const bytes = resume(head, raw, done);
    const parser = new DbnParser(name, compressed, opts);
    const decoder = new DbnDecoder(parser, compressed ? zstdDecompress(bytes) : bytes, compressed, [], null);
    await decoder.readUntilStarted();
    return decoder;
  }

  /** The stream's metadata; null for a fragment. */
  get metadata(): DbnMetadata | null {
    return this.parser.metadata;
  }

  /** Whether the input is zstd-compressed (error offsets then count decompressed bytes). */
  get isCompressed(): boolean {
    return this.compressed;
  }

  /** Records skipped because this reader does not decode their rtype. */
  get skippedRecords(): number {
    return this.parser.skipped;
  }

  /** Records in decode order, one array per input chunk; throws DbnError after the last good batch. */
  async *batches(): AsyncGenerator<DbnRecord[]> {
    if (this.consumed) throw new Error('DbnDecoder records can be read only once');
    this.consumed = true;
    try {
      if (this.pending.length > 0) yield this.pending;
      this.pending = [];
      if (this.pendingError) throw this.pendingError;
      while (!this.ended) {
        const out: DbnRecord[] = [];
        const err = await this.step(out);
        if (out.length > 0) yield out;
        if (err) throw err;
        if (err === undefined) this.ended = true;
      }
    } finally {
      await this.chunks.return(undefined);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<DbnRecord> {
    const batches = this.batches();
    let batch: DbnRecord[] = [];
    let i = 0;
    return {
      next: async (): Promise<IteratorResult<DbnRecord>> => {
        while (i >= batch.length) {
          const r = await batches.next();
          if (r.done) return { done: true, value: undefined };
          batch = r.value;
          i = 0;
        }
        return { done: false, value: batch[i++]! };
      },
      return: async (): Promise<IteratorResult<DbnRecord>> => {
        await batches.return(undefined);
        return { done: true, value: undefined };
      },
    };
  }

  /** Stop reading and release the source (closes the file). */
  async close(): Promise<void> {
    await this.chunks.return(undefined);
  }

  /** Read until the metadata is parsed, keeping any records decoded on the way. */
  private async readUntilStarted(): Promise<void> {
    while (!this.parser.started) {
      const err = await this.step(this.pending);
      if (err === null) continue;
      if (err === undefined) {
        this.ended = true;
        return;
      }
      if (!this.parser.started) {
        await this.chunks.return(undefined);
        throw err;
      }
      this.pendingError = err;
      return;
    }
  }

  /** Decode up to one batch into `out`: null = more to come, undefined = clean end, DbnError = damage. */
  private async step(out: DbnRecord[]): Promise<DbnError | null | undefined> {
    const parser = this.parser;
    try {
      if (!parser.hasMore) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await this.chunks.next();
        } catch (err) {
          if (!(err instanceof ZstdError)) throw err;
          return parser.error(`${err.message} (compressed byte ${err.compressedOffset})`, parser.offset, err);
        }
        if (r.done) {
          parser.end();
          return undefined;
        }
        parser.feed(r.value, out);
      }
      parser.drain(out, BATCH);
      return null;
    } catch (err) {
      if (err instanceof DbnError) return err;
      throw err;
    }
  }
}

/** Open a DBN file (plain or zstd) for streaming. */
export function openDbnFile(path: string, opts: DecodeOptions = {}): Promise<DbnDecoder> {
  return DbnDecoder.open(createReadStream(path, { highWaterMark: FILE_CHUNK }), { name: path, ...opts });
}

/**
 * Decode a whole in-memory DBN stream (plain or zstd) synchronously. For data already in memory (tests, small
 * files); files should go through openDbnFile, which streams. Throws DbnError on damage (no partial result).
 */
export function decodeDbnBuffer(
  bytes: Uint8Array,
  opts: DecodeOptions = {},
): { metadata: DbnMetadata | null; records: DbnRecord[] } {
  const compressed = isZstd(bytes);
  const parser = new DbnParser(opts.name ?? '<buffer>', compressed, opts);
  const records: DbnRecord[] = [];
  try {
    for (const chunk of compressed ? zstdDecompressSync(bytes) : [bytes]) parser.push(chunk, records);
  } catch (err) {
    if (err instanceof ZstdError) throw parser.error(err.message, parser.offset, err);
    throw err;
  }
  parser.end();
  return { metadata: parser.metadata, records };
}
