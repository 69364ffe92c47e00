/**
 * `npm run bench [-- --suite NAME …]`: runs the benchmark suites, prints a table, and rewrites BENCHMARKS.md from the
 * stored figures of every suite (bench/results.json).
 * Figures are medians; each suite measures its own baseline in the same run, so ratios survive a noisy machine.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { BenchRow } from './types.js';

type Suite = { name: string; run: () => Promise<BenchRow[]> };
type StoredSuite = { when: string; machine: string; rows: BenchRow[] };

const SUITES: Suite[] = [
  { name: 'operators', run: async () => (await import('./operators.js')).runOperatorBenchmarks() },
  { name: 'decode', run: async () => (await import('./decode.js')).runDecodeBenchmarks() },
  { name: 'parquet', run: async () => (await import('./parquet.js')).runParquetBenchmarks() },
  { name: 'engines', run: async () => (await import('./engines.js')).runEngineBenchmarks() },
  { name: 'bus', run: async () => (await import('./bus.js')).runBusBenchmarks() },
  { name: 'pipeline', run: async () => (await import('./pipeline.js')).runPipelineBenchmarks() },
];

function parseArgs(argv: string[]): { suites: Set<string> | null; out: string | null } {
  const suites = new Set<string>();
  let out: string | null = 'BENCHMARKS.md';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--suite' && argv[i + 1]) suites.add(argv[++i]!);
    else if (argv[i] === '--no-write') out = null;
  }
  return { suites: suites.size > 0 ? suites : null, out };
}

function fmtRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k/s` : `${n.toFixed(0)} /s`;
}

const { suites, out } = parseArgs(process.argv.slice(2));
const rows: BenchRow[] = [];
for (const suite of SUITES) {
  if (suites && !suites.has(suite.name)) continue;
  process.stderr.write(`bench: running suite ${suite.name}…\n`);
  const r = await suite.run();
  rows.push(...r);
  console.table(r.map((x) => ({ ...x, rate: fmtRate(x.eventsPerSec), ratioToBaseline: x.ratioToBaseline.toFixed(3) })));
}

if (out) {
  // Each suite's last figures are kept in bench/results.json, so `--suite X` refreshes X and keeps the others.
  const store = 'bench/results.json';
  const previous: Record<string, StoredSuite> = existsSync(store)
    ? (JSON.parse(readFileSync(store, 'utf8')) as Record<string, StoredSuite>)
    : {};
  const machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const suite of SUITES) {
    const r = rows.filter((x) => x.suite === suite.name);
    if (r.length > 0) previous[suite.name] = { when, machine, rows: r };
  }
  writeFileSync(store, JSON.stringify(previous, null, 2) + '\n');
  const lines = [
    '# Benchmarks',
    '',
    'Produced by `npm run bench` (one suite: `npm run bench -- --suite NAME`). Rates are medians of repeated runs; the',
    'ratio compares each figure with the baseline measured in the same run of the same suite, so it survives a noisy',
    'shared machine better than the absolute rate.',
    '',
  ];
  for (const suite of SUITES) {
    const stored = previous[suite.name];
    if (!stored) continue;
    lines.push(`## ${suite.name}`, '', `${stored.when} — ${stored.machine}`, '');
    lines.push('| benchmark | median rate | ratio to baseline | notes |', '|---|---:|---:|---|');
    for (const r of stored.rows) {
      lines.push(`| ${r.name} | ${fmtRate(r.eventsPerSec)} | ${r.ratioToBaseline.toFixed(3)} | ${r.extra ?? ''} |`);
    }
    lines.push('');
  }
  writeFileSync(out, lines.join('\n'));
  process.stderr.write(`bench: wrote ${out}\n`);
}
