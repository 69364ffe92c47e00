import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DbnDecoder,
  DbnError,
  type DbnMetadata,
  type DbnRecord,
  type DecodeOptions,
} from '../../../src/streams/dbn/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** Sample files live in shared/, beside the repository (CI clones the repo with ../shared next to it). */
export const DATA_DIR = path.resolve(repoRoot, '../shared/data/dbn');

/** All 37 sample files, relative to DATA_DIR. */
export const SAMPLE_FILES: string[] = [
  ...readdirSync(DATA_DIR).filter((n) => n.includes('.dbn')),
  ...readdirSync(path.join(DATA_DIR, 'GLBX.MDP3')).map((n) => `GLBX.MDP3/${n}`),
].sort();

/** Fragments carry no version; the sample names say it (the unversioned `.dbn.frag.zst` holds 400-byte v2 records). */
export function fragmentVersion(name: string): 1 | 2 | 3 | undefined {
  if (!name.includes('.frag')) return undefined;
  if (name.includes('.v1.') || name.startsWith('multi-frame')) return 1;
  if (name.includes('.v3.')) return 3;
  return 2;
}

export function optsFor(name: string): DecodeOptions {
  const v = fragmentVersion(name);
  return v === undefined ? { name } : { name, fragmentVersion: v };
}

export function readSample(name: string): Uint8Array {
  return readFileSync(path.join(DATA_DIR, name));
}

/** Split bytes into chunks of the given sizes (cycled), to exercise records split across chunk boundaries. */
export function* chunked(bytes: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield bytes.subarray(pos, pos + n);
    pos += n;
  }
}

export interface DecodeOutcome {
  metadata: DbnMetadata | null;
  records: DbnRecord[];
  error: unknown;
}

/** Decode through the streaming API, collecting every record delivered before any error. */
export async function decodeStream(
  source: Iterable<Uint8Array> | Uint8Array,
  opts: DecodeOptions,
): Promise<DecodeOutcome> {
  const records: DbnRecord[] = [];
  let metadata: DbnMetadata | null = null;
  try {
    const dec = await DbnDecoder.open(source, opts);
    metadata = dec.metadata;
    for await (const r of dec) records.push(r);
    return { metadata, records, error: undefined };
  } catch (error) {
    return { metadata, records, error };
  }
}

/** bigint -> decimal string, recursively: the shape of the oracle's JSON. */
export function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export { DbnError };
