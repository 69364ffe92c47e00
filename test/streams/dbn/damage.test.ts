/**
 * Damaged input: every complete record before the damage is delivered, then DbnError (file + offset); never a hang,
 * never another error, never a record invented from a truncated file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DbnDecoder, DbnError, decodeDbnBuffer, openDbnFile, type DbnRecord } from '../../../src/streams/dbn/index.js';
import { zstdDecompressSync } from '../../../src/streams/dbn/zstd.js';
import { SAMPLE_FILES, chunked, decodeStream, fragmentVersion, optsFor, readSample } from './helpers.js';

const samples = SAMPLE_FILES.map((name) => ({
  name,
  bytes: readSample(name),
  full: decodeDbnBuffer(readSample(name), optsFor(name)),
}));

function plainBytes(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const chunk of zstdDecompressSync(bytes)) parts.push(Uint8Array.from(chunk));
  return Buffer.concat(parts);
}

/** Offsets of the record length bytes in a plain stream. */
function recordStarts(plainStream: Uint8Array, name: string): number[] {
  let pos =
    fragmentVersion(name) === undefined
      ? 8 + new DataView(plainStream.buffer, plainStream.byteOffset).getUint32(4, true)
      : 0;
  const starts: number[] = [];
  while (pos < plainStream.length) {
    starts.push(pos);
    pos += plainStream[pos]! * 4;
  }
  return starts;
}

function expectOnlyDbnError(error: unknown): void {
  if (error !== undefined && !(error instanceof DbnError)) throw error;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'dbn-damage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('truncated files', () => {
  it('yield a prefix of the original records, then DbnError (fast-check, all samples)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: samples.length - 1 }).map((i) => samples[i]!),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
        async (s, frac, sizes) => {
          const cut = Math.floor(frac * s.bytes.length);
          const out = await decodeStream(chunked(s.bytes.subarray(0, cut), sizes), optsFor(s.name));
          expectOnlyDbnError(out.error);
          expect(out.records).toEqual(s.full.records.slice(0, out.records.length));
          if (out.error === undefined) {
            // Only a cut on a record (or frame) boundary can end cleanly, or nothing at all of a fragment.
            const boundaryPossible = !s.name.endsWith('.zst') || s.name.startsWith('multi-frame');
            expect(boundaryPossible || (cut === 0 && fragmentVersion(s.name) !== undefined)).toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('every cut of a plain file stops exactly at the last complete record', async () => {
    const s = samples.find((x) => x.name === 'test_data.mbp-10.v1.dbn')!;
    const starts = recordStarts(s.bytes, s.name);
    for (let cut = 0; cut < s.bytes.length; cut++) {
      const out = await decodeStream(s.bytes.subarray(0, cut), optsFor(s.name));
      const complete = starts.filter((st, i) => (starts[i + 1] ?? s.bytes.length) <= cut && st < cut).length;
      expect(out.records).toEqual(s.full.records.slice(0, complete));
      if (!starts.includes(cut) || cut < starts[0]!) expect(out.error).toBeInstanceOf(DbnError);
    }
  });

  it('names the file and the byte offset of the broken record', async () => {
    const bytes = readSample('test_data.trades.v1.dbn');
    const file = path.join(tmp, 'cut.dbn');
    writeFileSync(file, bytes.subarray(0, 206 + 48 + 20));
    const dec = await openDbnFile(file);
    const got: DbnRecord[] = [];
    const err = await (async () => {
      for await (const r of dec) got.push(r);
    })().catch((e: unknown) => e);
    expect(got).toHaveLength(1);
    expect(err).toBeInstanceOf(DbnError);
    expect(err).toMatchObject({ file, offset: 254, compressed: false });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('byte 254');
  });

  it('reports offsets in the decompressed stream for zstd files', async () => {
    const bytes = readSample('test_data.trades.v3.dbn.zst');
    const out = await decodeStream(bytes.subarray(0, bytes.length - 3), { name: 'x.zst' });
    expect(out.error).toBeInstanceOf(DbnError);
    expect(out.error).toMatchObject({ compressed: true });
    expect((out.error as Error).message).toContain('decompressed');
  });
});

describe('corrupt files', () => {
  it('bit flips: only DbnError, no hang (fast-check, all samples)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: samples.length - 1 }).map((i) => samples[i]!),
        fc.array(
          fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 7 })),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        async (s, flips) => {
          const b = Uint8Array.from(s.bytes);
          for (const [at, bit] of flips) b[Math.floor(at * b.length)]! ^= 1 << bit;
          const out = await decodeStream(chunked(b, [97]), optsFor(s.name));
          expectOnlyDbnError(out.error);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('mutated record length bytes: only DbnError, no hang, records before the damage intact', async () => {
    const plains = samples.map((s) => {
      const p = s.name.endsWith('.zst') ? plainBytes(s.bytes) : s.bytes;
      return { ...s, plain: p, starts: recordStarts(p, s.name) };
    });
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: plains.length - 1 }).map((i) => plains[i]!),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        async (s, which, len) => {
          const k = which % s.starts.length;
          const b = Uint8Array.from(s.plain);
          b[s.starts[k]!] = len;
          const out = await decodeStream(chunked(b, [33, 500]), optsFor(s.name));
          expectOnlyDbnError(out.error);
          expect(out.records.slice(0, k)).toEqual(s.full.records.slice(0, Math.min(k, out.records.length)));
          if (len * 4 < 16) expect(out.error).toBeInstanceOf(DbnError);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('rejects a stream that is neither DBN nor a declared fragment', async () => {
    const out = await decodeStream(readSample('test_data.definition.v1.dbn.frag'), { name: 'frag' });
    expect(out.error).toBeInstanceOf(DbnError);
    expect((out.error as Error).message).toMatch(/fragmentVersion/);
  });

  it('rejects unknown versions and empty input', async () => {
    const b = Uint8Array.from(readSample('test_data.trades.dbn'));
    b[3] = 4;
    expect((await decodeStream(b, {})).error).toBeInstanceOf(DbnError);
    expect((await decodeStream(new Uint8Array(0), {})).error).toBeInstanceOf(DbnError);
    const emptyFragment = await decodeStream(new Uint8Array(0), { fragmentVersion: 2 });
    expect(emptyFragment).toEqual({ metadata: null, records: [], error: undefined });
  });

  it('stops reading the source when the consumer stops early', async () => {
    let pulled = 0;
    const bytes = readSample('test_data.mbp-10.v1.dbn');
    async function* source(): AsyncGenerator<Uint8Array> {
      for (const c of chunked(bytes, [100])) {
        pulled++;
        yield c;
      }
    }
    const dec = await DbnDecoder.open(source(), {});
    for await (const _ of dec) break;
    expect(pulled).toBeLessThan(Math.ceil(bytes.length / 100));
  });
});
