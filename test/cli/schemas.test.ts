/**
 * `levelflow` as a user runs it (child processes): help, exit codes and `schemas` (`config` is tested with CONFIG in
 * test/common/config.test.ts).
 *
 * Every child starts at once in `beforeAll` (a few at a time): a tsx start costs ~0.4 s of CPU, and running them
 * side by side keeps the file fast on two cores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunMode, RunStatus } from '../../src/common/run-manifest.js';
import { SchemaRegistry } from '../../src/common/schemas/index.js';
import { registerConfig } from '../../src/pipelines/commands/config.js';
import { registerDbn } from '../../src/pipelines/commands/dbn.js';
import { registerQuery } from '../../src/pipelines/commands/query.js';
import { registerRuns } from '../../src/pipelines/commands/runs.js';
import { registerSchemas } from '../../src/pipelines/commands/schemas.js';
import { registerSim } from '../../src/pipelines/commands/sim.js';
import { SIM_DEFAULTS } from '../../src/streams/sim.js';
import { execLimited, expectOneLine, repoRoot } from '../support/cli.js';
import type { CliRun } from '../support/cli.js';

const dataRoot = mkdtempSync(path.join(tmpdir(), 'levelflow-cli-schemas-'));
afterAll(() => rmSync(dataRoot, { recursive: true, force: true }));

function spawnCli(args: string[], options: { cwd?: string; entry?: string[] } = {}): Promise<CliRun> {
  const argv = [...(options.entry ?? ['--import', 'tsx', 'src/cli.ts']), ...args];
  return execLimited(process.execPath, argv, { dataRoot, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) });
}

let runs: Record<string, Promise<CliRun>>;

beforeAll(() => {
  runs = {
    help: spawnCli(['--help']),
    unknownCommand: spawnCli(['frobnicate']),
    unknownOption: spawnCli(['schemas', '--frobnicate']),
    npx: spawnCli(['levelflow', '--help'], {
      entry: [path.join(path.dirname(process.execPath), 'npx'), '--no-install'],
    }),
    bin: spawnCli(['--help'], { cwd: tmpdir(), entry: [path.join(repoRoot, 'bin', 'levelflow.js')] }),
    list: spawnCli(['schemas']),
    mbp10: spawnCli(['schemas', 'futures.mbp10.v1']),
    alias: spawnCli(['schemas', 'features.es_pipeline.v1']),
    json: spawnCli(['schemas', 'futures.trades.v1', '--json']),
    listJson: spawnCli(['schemas', '--json']),
    unknownSchema: spawnCli(['schemas', 'futures.quotes.v9']),
  };
});

/** The help a user sees for `path`, from the same registration functions src/cli.ts calls. */
function helpOf(...commandPath: string[]): string {
  const program = new Command('levelflow').exitOverride();
  for (const register of [registerConfig, registerSchemas, registerDbn, registerSim, registerQuery, registerRuns])
    register(program);
  let command = program;
  for (const name of commandPath) command = command.commands.find((c) => c.name() === name)!;
  let out = '';
  command.configureOutput({ writeOut: (s) => (out += s) });
  command.outputHelp();
  return out;
}

describe('levelflow (help and exit codes)', () => {
  it('--help lists every command and the exit codes', async () => {
    const r = await runs['help']!;
    expect(r.code).toBe(0);
    for (const name of ['config', 'schemas', 'dbn', 'sim', 'query', 'runs'])
      expect(r.stdout).toMatch(new RegExp(`\\n  ${name}\\b`));
    expect(r.stdout).toContain('Exit codes: 0 success, 1 failure, 2 bad usage or configuration.');
  });

  it('every command has --help with an example', () => {
    const commands = [
      ['config'],
      ['schemas'],
      ['dbn'],
      ['sim'],
      ['query'],
      ['runs'],
      ['runs', 'list'],
      ['runs', 'show'],
      ['runs', 'crashed'],
    ];
    for (const c of commands) expect(helpOf(...c), c.join(' ')).toMatch(/Examples?:\n {2}.*levelflow /);
    // Help spells out defaults and choices so that it loads no heavy module; they must stay the real ones.
    const sim = helpOf('sim').replace(/\s+/g, ' ');
    expect(sim).toContain(`PRNG seed; the same seed gives byte-identical events (default: ${SIM_DEFAULTS.seed})`);
    expect(sim).toContain(`minutes of event time (default: ${SIM_DEFAULTS.durationMinutes})`);
    expect(sim).toContain(`(default: ${SIM_DEFAULTS.start})`);
    expect(sim).toContain(`tick (default: ${SIM_DEFAULTS.startPrice})`);
    const list = helpOf('runs', 'list');
    for (const v of [...Object.values(RunMode), ...Object.values(RunStatus)]) expect(list).toContain(v);
  });

  it('an unknown command or option exits 2 with one line', async () => {
    const command = await runs['unknownCommand']!;
    expect(command.code).toBe(2);
    expectOneLine(command.stderr, /^levelflow: unknown command 'frobnicate' \(see 'levelflow --help'\)$/);
    const option = await runs['unknownOption']!;
    expect(option.code).toBe(2);
    expectOneLine(option.stderr, /^levelflow: unknown option '--frobnicate' \(see 'levelflow schemas --help'\)$/);
  });

  it('npx levelflow works from the repository, and bin/levelflow.js from any working directory', async () => {
    for (const r of [await runs['npx']!, await runs['bin']!]) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: levelflow/);
    }
  });
});

describe('levelflow schemas', () => {
  it('lists every registered schema with tier, version, column count and description', async () => {
    const r = await runs['list']!;
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SCHEMA\s+TIER\s+VERSION\s+COLUMNS\s+ALIASES\s+DESCRIPTION$/);
    const names = SchemaRegistry.listSchemas();
    expect(lines.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(names);
    expect(lines.find((l) => l.startsWith('futures.mbp10.v1 '))).toMatch(
      /^futures\.mbp10\.v1\s+bronze\s+1\s+46\s+ES futures top-10 book/,
    );
  });

  it("prints one schema's 46 columns as an aligned table", async () => {
    const r = await runs['mbp10']!;
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('futures.mbp10.v1 — bronze, version 1, 46 columns');
    const header = lines.findIndex((l) => /^\s*#\s+COLUMN\s+ARROW TYPE\s+NULLABLE$/.test(l));
    const rows = lines.slice(header + 2);
    expect(rows).toHaveLength(46);
    expect(rows[0]).toMatch(/^ 1 {2}ts_event_ns\s+Int64\s+no$/);
    expect(rows[45]).toMatch(/^46 {2}seq\s+Int64\s+yes$/);
    // Aligned: the type column starts at the same offset on every row.
    expect(new Set(rows.map((row) => row.search(/(Int|Float|Utf8|Bool)/))).size).toBe(1);
  });

  it('resolves an alias, and --json gives the columns with Arrow types', async () => {
    const alias = await runs['alias']!;
    expect(alias.code).toBe(0);
    expect(alias.stdout).toMatch(/^silver\.features\.es_pipeline\.v1 — silver, version 1, 182 columns/);
    const schema = JSON.parse((await runs['json']!).stdout);
    expect(schema).toMatchObject({ full_name: 'futures.trades.v1', tier: 'bronze', version: 1 });
    expect(schema.columns).toEqual(
      SchemaRegistry.columns('futures.trades.v1').map((c) => ({
        name: c.name,
        arrow_type: c.arrowType,
        nullable: c.nullable,
      })),
    );
    const all = (await runs['listJson']!).stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(all.map((s) => s.full_name)).toEqual(SchemaRegistry.listSchemas());
  });

  it('an unknown schema exits 2 listing the known names', async () => {
    const r = await runs['unknownSchema']!;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expectOneLine(
      r.stderr,
      /^levelflow: unknown schema "futures\.quotes\.v9"; known: .*futures\.trades\.v1.*levels\.signals\.v1/,
    );
  });
});
