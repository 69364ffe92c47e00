/**
 * Zstandard framing for DBN streams (spec/DBN.md §2), on the native `zstd-napi` binding.
 *
 * Decompression drives libzstd's streaming API directly rather than a Node Transform, so the DBN reader pulls
 * decompressed bytes only as fast as it decodes them (no stream buffering between the two) and frame handling is
 * libzstd's own: concatenated frames and skippable frames need no code here.
 */
import binding from 'zstd-napi/binding.js';
import { ZSTD_MAGIC, ZSTD_SKIPPABLE_MAGIC, ZSTD_SKIPPABLE_MAGIC_MASK } from './constants.js';

/** Output chunk size: large enough that per-chunk overhead vanishes next to record decoding. */
const OUT_CHUNK = 1 << 20;

/** True when the bytes start with a zstd frame or a zstd skippable frame. */
export function isZstd(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const magic = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  return magic === ZSTD_MAGIC || (magic & ZSTD_SKIPPABLE_MAGIC_MASK) >>> 0 === ZSTD_SKIPPABLE_MAGIC;
}

/** Thrown for undecodable or truncated zstd input; `compressedOffset` is how far into the compressed input. */
export class ZstdError extends Error {
  constructor(
    message: string,
    readonly compressedOffset: number,
  ) {
    super(message);
  }
}

/**
 * Incremental decompressor; `inFrame` tells whether the input so far stops inside a frame. One output buffer is
 * reused for every chunk: allocating a fresh megabyte per chunk costs more in GC than decompressing it.
 */
class ZstdInflater {
  private readonly dctx = new binding.DCtx();
  private readonly dst = Buffer.allocUnsafe(OUT_CHUNK);
  inFrame = false;
  consumed = 0;

  /** Decompress `src` completely; each yielded chunk is valid only until the next one is requested. */
  *write(src: Uint8Array): Generator<Uint8Array> {
    const dst = this.dst;
    for (;;) {
      let ret: number, produced: number, consumed: number;
      try {
        [ret, produced, consumed] = this.dctx.decompressStream(dst, src);
      } catch (err) {
        throw new ZstdError(`zstd: ${err instanceof Error ? err.message : String(err)}`, this.consumed);
      }
      this.consumed += consumed;
      src = src.subarray(consumed);
      if (produced > 0) yield dst.subarray(0, produced);
      // libzstd may hold more output than fit in dst; only an unfilled dst proves it has flushed everything.
      if (src.length === 0 && (produced < dst.length || ret === 0)) {
        this.inFrame = ret !== 0;
        return;
      }
      if (produced === 0 && consumed === 0) throw new ZstdError('zstd: decoder made no progress', this.consumed);
    }
  }

  end(): void {
    if (this.inFrame) throw new ZstdError('zstd: input ends inside a frame (truncated)', this.consumed);
  }
}

/**
 * Decompress a stream of zstd frames chunk by chunk. A yielded chunk is overwritten by the next one: consume or
 * copy it before asking for more. Throws ZstdError for corrupt data and when the input ends inside a frame.
 */
export async function* zstdDecompress(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const z = new ZstdInflater();
  for await (const chunk of chunks) yield* z.write(chunk);
  z.end();
}

/** Synchronous zstdDecompress over one in-memory buffer (same chunk reuse). */
export function* zstdDecompressSync(data: Uint8Array): Generator<Uint8Array> {
  const z = new ZstdInflater();
  yield* z.write(data);
  z.end();
}

/** Streaming compressor writing one zstd frame; `write` returns the compressed bytes ready so far. */
export class ZstdCompressor {
  private readonly cctx = new binding.CCtx();

  constructor(level = 3) {
    this.cctx.setParameter(binding.CParameter.compressionLevel, level);
  }

  /** Feed `src`; with `end` the frame is closed and everything is flushed. */
  write(src: Uint8Array, end = false): Uint8Array[] {
    const out: Uint8Array[] = [];
    const op = end ? binding.EndDirective.end : binding.EndDirective.continue;
    let s = src;
    for (;;) {
      const dst = Buffer.allocUnsafe(OUT_CHUNK);
      const [remaining, produced, consumed] = this.cctx.compressStream2(dst, s, op);
      s = s.subarray(consumed);
      if (produced > 0) out.push(dst.subarray(0, produced));
      if (end ? remaining === 0 : s.length === 0) return out;
    }
  }
}
