/**
 * The whole `levelflow run` job (simulator → levelSignals → Bronze + Gold Parquet + NDJSON + manifest) on a simulated
 * session of ≥ 10,000,000 events: events/s, event-time speed-up over real time, and peak RSS and heap use. The baseline, measured
 * in the same run, is the same session through the simulator alone (what producing the events costs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/common/config.js';
import { createLogger } from '../src/common/log.js';
import { runAllInOne } from '../src/pipelines/all-in-one.js';
import type { Progress } from '../src/pipelines/progress.js';
import { simulateMarket } from '../src/streams/sim.js';
import type { SimOptions } from '../src/streams/sim.js';
import type { BenchRow } from './types.js';

const SUITE = 'pipeline';

export async function runPipelineBenchmarks(opts: { events?: number } = {}): Promise<BenchRow[]> {
  const target = opts.events ?? Number(process.env['BENCH_PIPELINE_EVENTS'] ?? 10_000_000);
  // 30 prints/s + 300 book updates/s + 3 option prints/s ≈ 333 events per second of event time.
  const sim: SimOptions = {
    seed: 5,
    premarket: false,
    durationMinutes: Math.ceil(target / 333 / 60) + 1,
    tradeRatePerS: 30,
    bookEventRatePerS: 300,
    optionRatePerS: 3,
  };

  let n = 0;
  const g0 = performance.now();
  for (const _ of simulateMarket(sim)) n++;
  const genMs = performance.now() - g0;

  const root = mkdtempSync(path.join(tmpdir(), 'levelflow-bench-run-'));
  let peakRss = 0;
  let peakHeap = 0;
  const progress: Progress = {
    start() {},
    tick() {},
    stop() {},
  };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 200);
  try {
    const result = await runAllInOne({
      source: { kind: 'sim', sim },
      config: loadConfig({ env: {}, overrides: { DATA_ROOT: root } }),
      dataRoot: root,
      speed: 0,
      nats: false,
      s3: false,
      logger: createLogger('bench', 'warn'),
      progress,
    });
    const s = result.summary;
    const events = s.totalEvents;
    const eventSeconds = Number((s.lastTs ?? 0n) - (s.firstTs ?? 0n)) / 1e9;
    const rate = (events / result.wallMs) * 1000;
    const genRate = (n / genMs) * 1000;
    return [
      {
        suite: SUITE,
        name: 'simulator alone (baseline)',
        eventsPerSec: genRate,
        ratioToBaseline: 1,
        extra: `${n.toLocaleString('en-US')} events`,
      },
      {
        suite: SUITE,
        name: 'levelflow run (sim → signals → Bronze/Gold/NDJSON)',
        eventsPerSec: rate,
        ratioToBaseline: rate / genRate,
        extra:
          `${events.toLocaleString('en-US')} events, ${s.payloads.toLocaleString('en-US')} snaps in ${(result.wallMs / 1000).toFixed(0)} s; ` +
          `${(eventSeconds / (result.wallMs / 1000)).toFixed(0)}× real time; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, peak heap used ${(peakHeap / 2 ** 20).toFixed(0)} MiB; single run`,
      },
    ];
  } finally {
    clearInterval(sampler);
    rmSync(root, { recursive: true, force: true });
  }
}
