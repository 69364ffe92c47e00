/**
 * `levelflow query` (child processes) and the lake views of src/pipelines/query.ts (in process): an empty lake, a lake
 * written by ParquetLakeWriter, output formats, bad SQL and bad options.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckTypeSql } from '../../src/common/duckdb.js';
import { EventSource, futuresTrade, mbp10, optionTrade } from '../../src/common/event-types.js';
import { decodeJson } from '../../src/common/json.js';
import { SchemaRegistry } from '../../src/common/schemas/index.js';
import { openLakeDb, queryLake } from '../../src/pipelines/query.js';
import { ParquetLakeWriter } from '../../src/sinks/parquet.js';
import { expectOneLine, runCli } from '../support/cli.js';
import type { CliRun } from '../support/cli.js';

const emptyLake = mkdtempSync(path.join(tmpdir(), 'levelflow-cli-query-empty-'));
const lake = mkdtempSync(path.join(tmpdir(), 'levelflow-cli-query-'));
afterAll(() => {
  rmSync(emptyLake, { recursive: true, force: true });
  rmSync(lake, { recursive: true, force: true });
});

function cli(dataRoot: string, ...args: string[]): Promise<CliRun> {
  return runCli(['query', ...args], { dataRoot });
}

const VIEWS = ['futures_trades', 'futures_mbp10', 'options_trades', 'levels_signals'] as const;
const SCHEMA_OF = {
  futures_trades: 'futures.trades.v1',
  futures_mbp10: 'futures.mbp10.v1',
  options_trades: 'options.trades.v1',
  levels_signals: 'levels.signals.v1',
} as const;

// 2025-12-16 14:30:00 UTC plus odd nanoseconds: a double would round these.
const T0 = 1_765_895_400_000_000_001n;

beforeAll(async () => {
  const writer = new ParquetLakeWriter({ dataRoot: lake, intervalS: 0 });
  const src = EventSource.REPLAY;
  writer.append(
    'futures.trades.v1',
    futuresTrade({
      ts_event_ns: T0,
      source: src,
      symbol: 'ESZ5',
      price: 6870.25,
      size: 3,
      aggressor: 1,
      seq: 9_007_199_254_740_993n,
    }),
  );
  writer.append(
    'futures.trades.v1',
    futuresTrade({ ts_event_ns: T0 + 1n, source: src, symbol: 'ESZ5', price: 6870.5, size: 2, aggressor: -1 }),
  );
  writer.append(
    'futures.trades.v1',
    futuresTrade({ ts_event_ns: T0 + 3_600_000_000_000n, source: src, symbol: 'ESH6', price: 6880, size: 1 }),
  );
  writer.append(
    'futures.mbp10.v1',
    mbp10({
      ts_event_ns: T0,
      source: src,
      symbol: 'ESZ5',
      levels: [{ bid_px: 6870, bid_sz: 10, ask_px: 6870.25, ask_sz: 12 }],
    }),
  );
  writer.append(
    'options.trades.v1',
    optionTrade({
      ts_event_ns: T0,
      source: src,
      underlying: 'ES',
      option_symbol: 'ESZ5 C6900',
      exp_date: '2025-12-16',
      strike: 6900,
      right: 'C',
      price: 4.5,
      size: 1,
    }),
  );
  await writer.close();
  // Every child starts here, a few at a time; each test awaits the ones it checks.
  runs = {
    empty: cli(emptyLake, `SELECT ${VIEWS.map((v) => `(SELECT count(*) FROM ${v}) AS ${v}`).join(', ')}`, '--json'),
    table: cli(
      emptyLake,
      'SELECT symbol, ts_event_ns, price, size, date, hour FROM futures_trades ORDER BY ts_event_ns',
      '--data-root',
      lake,
    ),
    json: cli(lake, 'SELECT ts_event_ns, symbol, seq, conditions FROM futures_trades ORDER BY 1', '--json'),
    csv: cli(lake, 'SELECT option_symbol, strike, \'a,"b"\' AS quoted, NULL AS nothing FROM options_trades', '--csv'),
    limited: cli(lake, 'SELECT * FROM futures_mbp10, range(10)', '--limit', '2', '--json'),
    syntax: cli(lake, 'SELEC 1'),
    table404: cli(lake, 'SELECT * FROM futures_quotes'),
    both: cli(lake, 'SELECT 1', '--json', '--csv'),
    root: cli(lake, 'SELECT 1', '--data-root', path.join(lake, 'nope')),
  };
});

let runs: Record<string, Promise<CliRun>>;

describe('lake views (in process)', () => {
  it('an empty lake has every view, typed from the registry, with no rows', async () => {
    const db = await openLakeDb(emptyLake);
    try {
      expect(db.views.map((v) => [v.name, v.files])).toEqual(VIEWS.map((v) => [v, 0]));
      for (const view of VIEWS) {
        const described = (await db.connection.runAndReadAll(`DESCRIBE ${view}`)).getRowObjectsJS();
        const columns = SchemaRegistry.require(SCHEMA_OF[view]).columns;
        expect(described.map((r) => [r['column_name'], r['column_type']])).toEqual([
          ...columns.map((c) => [c.name, duckTypeSql(c.kind)]),
          ['date', 'DATE'],
          ['hour', 'INTEGER'],
        ]);
      }
    } finally {
      db.close();
    }
  });

  it('a written lake: real contract in symbol, partition date/hour, exact bigints; refresh sees new datasets', async () => {
    const result = await queryLake(
      lake,
      'SELECT ts_event_ns, symbol, seq, date, hour FROM futures_trades ORDER BY ts_event_ns',
    );
    expect(result.truncated).toBe(false);
    expect(result.rows).toEqual([
      [T0, 'ESZ5', 9_007_199_254_740_993n, '2025-12-16', 14],
      [T0 + 1n, 'ESZ5', null, '2025-12-16', 14],
      [T0 + 3_600_000_000_000n, 'ESH6', null, '2025-12-16', 15],
    ]);
    const db = await openLakeDb(lake);
    try {
      expect(db.views.find((v) => v.name === 'levels_signals')?.files).toBe(0);
      expect(db.views.find((v) => v.name === 'futures_trades')?.files).toBe(2);
      await db.refresh();
      expect(db.views.map((v) => v.name)).toEqual([...VIEWS]);
    } finally {
      db.close();
    }
  });
});

describe('levelflow query', () => {
  it('on an empty lake every view exists with count 0', async () => {
    const r = await runs['empty']!;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ futures_trades: 0, futures_mbp10: 0, options_trades: 0, levels_signals: 0 });
  });

  it('prints an aligned table with exact integers and a row count (--data-root over DATA_ROOT)', async () => {
    const r = await runs['table']!;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'symbol          ts_event_ns    price  size  date        hour',
        '------  -------------------  -------  ----  ----------  ----',
        `ESZ5    ${T0}  6870.25     3  2025-12-16    14`,
        `ESZ5    ${T0 + 1n}   6870.5     2  2025-12-16    14`,
        `ESH6    ${T0 + 3_600_000_000_000n}     6880     1  2025-12-16    15`,
        '(3 rows)',
        '',
      ].join('\n'),
    );
  });

  it('--json is lossless NDJSON and --csv has a header; --limit cuts the output', async () => {
    const json = await runs['json']!;
    expect(json.code).toBe(0);
    const rows = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => decodeJson(l, { int64Keys: new Set(['seq']) }));
    expect(rows[0]).toEqual({ ts_event_ns: T0, symbol: 'ESZ5', seq: 9_007_199_254_740_993n, conditions: null });
    expect(json.stdout).toContain(`"ts_event_ns":${T0},`);
    const csv = await runs['csv']!;
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe('option_symbol,strike,quoted,nothing\nESZ5 C6900,6900,"a,""b""",\n');
    const limited = await runs['limited']!;
    expect(limited.code).toBe(0);
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(limited.stderr).toBe('levelflow query: output limited to 2 rows (--limit)\n');
  });

  it('bad SQL exits 1 with DuckDB’s message on one line; bad options exit 2', async () => {
    const syntax = await runs['syntax']!;
    expect(syntax.code).toBe(1);
    expectOneLine(syntax.stderr, /^levelflow: Parser Error: syntax error at or near "SELEC"$/);
    const table = await runs['table404']!;
    expect(table.code).toBe(1);
    expectOneLine(table.stderr, /^levelflow: Catalog Error: Table with name futures_quotes does not exist!/);
    const both = await runs['both']!;
    expect(both.code).toBe(2);
    expectOneLine(both.stderr, /'--json' cannot be used with option '--csv'/);
    const root = await runs['root']!;
    expect(root.code).toBe(2);
    expectOneLine(root.stderr, /--data-root <DIR>.*is invalid\. Not a directory\./);
  });
});
