/**
 * DBN decoding throughput: a generated MBP-10 file (plain and zstd, written with the DBN encoder to the temp dir),
 * decoded to record objects, next to the cost of merely reading the same file (the baseline, same run).
 * Peak RSS is sampled during each run: it must stay flat whatever the file size, since the decoder streams.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RType, openDbnFile, writeDbnFile, type Mbp10Msg, type MetadataInput } from '../src/streams/dbn/index.js';
import { median, type BenchRow } from './types.js';

const SUITE = 'decode';
const RUNS = 3;
const CHUNK = 1 << 20;

const META: MetadataInput = {
  dataset: 'GLBX.MDP3',
  schema: 'mbp-10',
  start: 1609113600000000000n,
  end: 1609200000000000000n,
  limit: 0n,
  stype_in: 'raw_symbol',
  stype_out: 'instrument_id',
  ts_out: false,
  symbols: ['ESH1'],
  partial: [],
  not_found: [],
  mappings: [{ raw_symbol: 'ESH1', intervals: [{ start_date: 20201228, end_date: 20201229, symbol: '5482' }] }],
};

/** A plausible ES book walk: prices move by ticks, sizes and counts vary, so zstd sees realistic entropy. */
function* mbp10Records(n: number): Generator<Mbp10Msg> {
  const tick = 250_000_000n;
  let mid = 3720_000_000_000n;
  let ts = META.start;
  let seed = 12345;
  const rnd = (m: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % m;
  };
  for (let i = 0; i < n; i++) {
    if (rnd(10) === 0) mid += BigInt(rnd(3) - 1) * tick;
    ts += BigInt(1000 + rnd(500_000));
    const levels = Array.from({ length: 10 }, (_, k) => ({
      bid_px: mid - BigInt(k + 1) * tick,
      ask_px: mid + BigInt(k) * tick,
      bid_sz: 1 + rnd(60),
      ask_sz: 1 + rnd(60),
      bid_ct: 1 + rnd(30),
      ask_ct: 1 + rnd(30),
    }));
    yield {
      kind: 'mbp10',
      rtype: RType.MBP_10,
      publisher_id: 1,
      instrument_id: 5482,
      ts_event: ts,
      price: levels[0]!.bid_px,
      size: 1 + rnd(20),
      action: 'ACMT'[rnd(4)]!,
      side: 'AB'[rnd(2)]!,
      flags: 128,
      depth: rnd(10),
      ts_recv: ts + 300_000n,
      ts_in_delta: 20_000 + rnd(10_000),
      sequence: i,
      levels,
    };
  }
}

interface Sample {
  seconds: number;
  count: number;
  peakRss: number;
}

async function measure(fn: (sampleRss: () => void) => Promise<number>): Promise<Sample> {
  let peakRss = process.memoryUsage.rss();
  const sampleRss = (): void => {
    const r = process.memoryUsage.rss();
    if (r > peakRss) peakRss = r;
  };
  const t0 = process.hrtime.bigint();
  const count = await fn(sampleRss);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  sampleRss();
  return { seconds, count, peakRss };
}

async function readOnly(file: string, sampleRss: () => void): Promise<number> {
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
    bytes += (chunk as Buffer).length;
    sampleRss();
  }
  return bytes;
}

async function decodeBatches(file: string, sampleRss: () => void): Promise<number> {
  const dec = await openDbnFile(file);
  let n = 0;
  for await (const batch of dec.batches()) {
    n += batch.length;
    sampleRss();
  }
  return n;
}

async function decodeEach(file: string, sampleRss: () => void): Promise<number> {
  const dec = await openDbnFile(file);
  let n = 0;
  for await (const rec of dec) {
    if (rec.kind === 'mbp10' && ++n % 4096 === 0) sampleRss();
  }
  return n;
}

const mb = (b: number): string => `${(b / 1e6).toFixed(0)} MB`;

export async function runDecodeBenchmarks(opts: { records?: number } = {}): Promise<BenchRow[]> {
  const records = opts.records ?? 5_000_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'levelflow-bench-dbn-'));
  try {
    const plain = path.join(dir, 'mbp10.dbn');
    const zst = path.join(dir, 'mbp10.dbn.zst');
    await writeDbnFile(plain, META, mbp10Records(records));
    await writeDbnFile(zst, META, mbp10Records(records), { compression: 'zstd' });
    const plainBytes = statSync(plain).size;
    const zstBytes = statSync(zst).size;

    const cases: { name: string; file: string; bytes: number; run: (f: string, s: () => void) => Promise<number> }[] = [
      { name: 'read plain file (baseline)', file: plain, bytes: plainBytes, run: readOnly },
      { name: 'decode plain, batches()', file: plain, bytes: plainBytes, run: decodeBatches },
      { name: 'decode plain, for await per record', file: plain, bytes: plainBytes, run: decodeEach },
      { name: 'read zstd file', file: zst, bytes: zstBytes, run: readOnly },
      { name: 'decode zstd, batches()', file: zst, bytes: zstBytes, run: decodeBatches },
    ];
    const rows: BenchRow[] = [];
    let baseline = 0;
    for (const c of cases) {
      const samples: Sample[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await measure((s) => c.run(c.file, s)));
      const decoded = c.run !== readOnly;
      if (decoded && samples.some((s) => s.count !== records)) {
        throw new Error(`${c.name}: decoded ${samples.map((s) => s.count).join('/')} records, wrote ${records}`);
      }
      const eventsPerSec = median(samples.map((s) => records / s.seconds));
      const bytesPerSec = median(samples.map((s) => c.bytes / s.seconds));
      if (baseline === 0) baseline = eventsPerSec;
      rows.push({
        suite: SUITE,
        name: `${c.name}: ${records.toLocaleString('en-US')} MBP-10`,
        eventsPerSec,
        ratioToBaseline: eventsPerSec / baseline,
        extra:
          `${mb(c.bytes)} file, ${(bytesPerSec / 1e6).toFixed(0)} MB/s of file, ` +
          `peak RSS ${mb(Math.max(...samples.map((s) => s.peakRss)))}`,
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
