/**
 * `levelflow dbn` and `levelflow sim` as a user runs them (child processes): NDJSON out, damaged and missing files,
 * bad options, a closed pipe, and a simulated session exported to DBN and read back.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJson } from '../../src/common/json.js';
import { printDbn } from '../../src/streams/dbn/index.js';
import { simulateMarket } from '../../src/streams/sim.js';
import { execLimited, expectOneLine, repoRoot, runCli } from '../support/cli.js';
import type { CliRun } from '../support/cli.js';

const dbnDir = path.resolve(repoRoot, '../shared/data/dbn');
const work = mkdtempSync(path.join(tmpdir(), 'levelflow-cli-dbn-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const exported = path.join(work, 'out', 'x.dbn.zst');
const damaged = path.join(work, 'damaged.mbp-10.dbn');
const SIM_OPTS = [
  '--seed',
  '7',
  '--minutes',
  '1',
  '--no-premarket',
  '--start',
  '2025-12-17T15:00:00Z',
  '--price',
  '6000',
];

const lake = (): string => path.join(work, 'lake');
const run = (file: string, args: string[]): Promise<CliRun> =>
  execLimited(file, args, { dataRoot: lake(), maxBuffer: 256 << 20 });
const cli = (...args: string[]): Promise<CliRun> => runCli(args, { dataRoot: lake(), maxBuffer: 256 << 20 });

const lines = (text: string): Record<string, unknown>[] =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let runs: Record<string, Promise<CliRun>>;

// Every child starts here, a few at a time; each test awaits the ones it checks.
beforeAll(() => {
  const whole = readFileSync(path.join(dbnDir, 'test_data.mbp-10.dbn'));
  writeFileSync(damaged, whole.subarray(0, whole.length - 50));
  const exportRun = cli('sim', '--minutes', '1', '--out', exported);
  runs = {
    trades: cli('dbn', path.join(dbnDir, 'test_data.trades.dbn')),
    limited: cli('dbn', path.join(dbnDir, 'test_data.mbp-10.dbn'), '--limit', '1'),
    fragment: cli(
      'dbn',
      path.join(dbnDir, 'test_data.definition.v3.dbn.frag'),
      '--fragment-version',
      '3',
      '--limit',
      '2',
    ),
    noVersion: cli('dbn', path.join(dbnDir, 'test_data.definition.v3.dbn.frag')),
    broken: cli('dbn', damaged),
    missing: cli('dbn', path.join(work, 'nope.dbn')),
    badLimit: cli('dbn', path.join(dbnDir, 'test_data.trades.dbn'), '--limit', 'ten'),
    badVersion: cli('dbn', path.join(dbnDir, 'test_data.trades.dbn'), '--fragment-version', '4'),
    noFile: cli('dbn'),
    export: exportRun,
    readBack: exportRun.then(() => cli('dbn', exported, '--limit', '3')),
    pipe: exportRun.then(() =>
      run('bash', [
        '-c',
        `"${process.execPath}" --import tsx src/cli.ts dbn "${exported}" | head -n 1; echo "status=\${PIPESTATUS[0]}" >&2`,
      ]),
    ),
    ndjson: cli('sim', ...SIM_OPTS),
    badMinutes: cli('sim', '--minutes', '0'),
    badStart: cli('sim', '--start', 'yesterday'),
    badSeed: cli('sim', '--seed', '1.5'),
    badOut: cli('sim', '--out', path.join(work, 'bad', 'x.txt')),
  };
});

describe('levelflow dbn', () => {
  it('prints the metadata and every record of a real file as NDJSON', async () => {
    const r = await runs['trades']!;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const [meta, ...records] = lines(r.stdout);
    expect(meta).toMatchObject({ kind: 'metadata', dataset: 'GLBX.MDP3', schema: 'trades', symbols: ['ESH1'] });
    expect(records.length).toBeGreaterThan(0);
    expect(records[0]).toMatchObject({
      kind: 'trade',
      instrument_id: 5482,
      price: '3720250000000',
      price_dec: '3720.250000000',
    });
    for (const rec of records) expect(rec['kind']).toBe('trade');
  });

  it('--limit and --fragment-version', async () => {
    const limited = await runs['limited']!;
    expect(limited.code).toBe(0);
    expect(lines(limited.stdout).map((l) => l['kind'])).toEqual(['metadata', 'mbp10']);
    const fragment = await runs['fragment']!;
    expect(fragment.code).toBe(0);
    expect(lines(fragment.stdout).map((l) => l['kind'])).toEqual(['metadata', 'definition', 'definition']);
    expect(lines(fragment.stdout)[0]).toEqual({ kind: 'metadata', fragment: true, version: 3 });
    const noVersion = await runs['noVersion']!;
    expect(noVersion.code).toBe(1);
    expectOneLine(noVersion.stderr, /^levelflow: .*not a DBN stream.*use --fragment-version 1\|2\|3/);
  });

  it('a damaged file prints the good records, then the error naming file and offset (exit 1)', async () => {
    const broken = await runs['broken']!;
    let intact = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        intact += chunk.toString();
        done();
      },
    });
    await printDbn(path.join(dbnDir, 'test_data.mbp-10.dbn'), sink);
    const good = lines(intact);
    expect(broken.code).toBe(1);
    const got = lines(broken.stdout);
    expect(got.length).toBe(good.length - 1);
    expect(got).toEqual(good.slice(0, got.length));
    expectOneLine(broken.stderr, new RegExp(`^levelflow: ${damaged.replaceAll('.', '\\.')}: truncated .*at byte \\d+`));
  });

  it('a missing file exits 1 with a clear message; bad options exit 2', async () => {
    const missing = await runs['missing']!;
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expectOneLine(missing.stderr, /^levelflow: cannot read .*nope\.dbn: no such file or directory$/);
    const checks: [string, RegExp][] = [
      ['badLimit', /--limit <N>.*'ten' is invalid/],
      ['badVersion', /Allowed choices are 1, 2, 3/],
      ['noFile', /missing required argument 'FILE'/],
    ];
    for (const [key, pattern] of checks) {
      const r = await runs[key]!;
      expect(r.code, key).toBe(2);
      expectOneLine(r.stderr, pattern);
    }
  });
});

describe('levelflow sim', () => {
  it('--out exports the session through the DBN encoder with a one-line summary on stderr', async () => {
    const r = await runs['export']!;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const expected = [...simulateMarket({ durationMinutes: 1 })];
    const n = (f: (e: (typeof expected)[number]) => boolean): string =>
      expected.filter(f).length.toLocaleString('en-US');
    expectOneLine(
      r.stderr,
      new RegExp(
        `^levelflow sim: ${expected.length.toLocaleString('en-US')} events ` +
          `\\(futures\\.trades ${n((e) => !('levels' in e) && !('option_symbol' in e))}, ` +
          `futures\\.mbp10 ${n((e) => 'levels' in e)}, options\\.trades ${n((e) => 'option_symbol' in e)}\\) ` +
          `as [\\d,]+ DBN records, ${statSync(exported).size.toLocaleString('en-US')} bytes → ${exported.replaceAll('.', '\\.')}$`,
      ),
    );
    // Written under a temporary name and renamed: nothing else is left beside it.
    expect(readdirSync(path.dirname(exported))).toEqual(['x.dbn.zst']);
  });

  it('the exported file reads back with levelflow dbn', async () => {
    const r = await runs['readBack']!;
    expect(r.code).toBe(0);
    const [meta, ...records] = lines(r.stdout);
    expect(meta).toMatchObject({ kind: 'metadata', version: 3, dataset: 'GLBX.MDP3' });
    expect(meta!['symbols']).toContain('ESH6');
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({ kind: 'trade', instrument_id: 1, price_dec: '6870.250000000', side: 'B' });
  });

  it('levelflow dbn into a pipe closed early (| head) ends quietly', async () => {
    const r = await runs['pipe']!;
    expect(lines(r.stdout)[0]).toMatchObject({ kind: 'metadata' });
    expect(r.stderr).toBe('status=0\n');
  });

  it('without --out prints the events as lossless NDJSON, identical to the simulator', async () => {
    const r = await runs['ndjson']!;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const expected = [
      ...simulateMarket({
        seed: 7,
        durationMinutes: 1,
        premarket: false,
        start: '2025-12-17T15:00:00Z',
        startPrice: 6000,
      }),
    ];
    expect(r.stdout).toBe(expected.map((e) => encodeJson(e) + '\n').join(''));
    // Nanoseconds as bare integers with every digit, not rounded doubles.
    expect(r.stdout).toMatch(/^\{"ts_event_ns":\d{19},/);
  });

  it('bad values exit 2 with one line and write nothing', async () => {
    const checks: [string, RegExp][] = [
      ['badMinutes', /^levelflow: --minutes 0 must be in/],
      ['badStart', /^levelflow: --start "yesterday" is not an ISO-8601/],
      ['badSeed', /--seed <N>.*'1\.5' is invalid/],
      ['badOut', /must end in \.dbn or \.dbn\.zst/],
    ];
    for (const [key, pattern] of checks) {
      const r = await runs[key]!;
      expect(r.code, key).toBe(2);
      expect(r.stdout).toBe('');
      expectOneLine(r.stderr, pattern);
    }
    expect(existsSync(path.join(work, 'bad'))).toBe(false);
  });
});
