import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { futuresTrade, mbp10, optionTrade } from '../../src/common/event-types.js';
import { SchemaRegistry } from '../../src/common/schemas/index.js';
import { LAKE_DATASETS, type LakeSchemaName, productRoot, utcDateHour } from '../../src/common/lake-paths.js';
import {
  type LakeManifest,
  type LevelSignalsPayload,
  ParquetLakeWriter,
  listPartFiles,
  toLevelSignalRows,
} from '../../src/sinks/parquet.js';
import { rowArbitrary } from '../common/schemas/arbitraries.js';

const SCHEMAS: LakeSchemaName[] = ['futures.trades.v1', 'futures.mbp10.v1', 'options.trades.v1', 'levels.signals.v1'];
const T0 = 1_765_896_600_000_000_000n; // 2025-12-16T14:50:00Z

let db: DuckDBInstance;
let conn: DuckDBConnection;
let root: string;

beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
});
afterAll(() => {
  conn.closeSync();
  db.closeSync();
});
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'lf-parquet-'));
  return () => rmSync(root, { recursive: true, force: true });
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

function allFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(path.sep).join('/')).sort();
}

const DUCK_TYPES: Record<string, string> = {
  Int8: 'TINYINT',
  Int16: 'SMALLINT',
  Int32: 'INTEGER',
  Int64: 'BIGINT',
  Float64: 'DOUBLE',
  Utf8: 'VARCHAR',
  Bool: 'BOOLEAN',
  DateDay: 'DATE',
  'List<Int16>': 'SMALLINT[]',
};

/** Physical type and logical annotation Parquet must carry for each Arrow type (DATA.md §2.9). */
const PARQUET_TYPES: Record<string, [physical: string | null, converted: string | null]> = {
  Int8: ['INT32', 'INT_8'],
  Int16: ['INT32', 'INT_16'],
  Int32: ['INT32', 'INT_32'],
  Int64: ['INT64', 'INT_64'],
  Float64: ['DOUBLE', null],
  Utf8: ['BYTE_ARRAY', 'UTF8'],
  Bool: ['BOOLEAN', null],
  DateDay: ['INT32', 'DATE'],
  'List<Int16>': [null, 'LIST'],
};

function sampleRows(schema: LakeSchemaName, n: number, seed: number): Record<string, unknown>[] {
  return fc.sample(rowArbitrary(SchemaRegistry.require(schema)), { numRuns: n, seed }).map((r, i) => {
    const row = { ...r };
    if ('symbol' in row) row.symbol = ['ESZ5', 'ESH6', 'ES.c.0', 'NQZ5'][i % 4];
    if ('underlying' in row) row.underlying = ['ES', 'NQ'][i % 2];
    // Random times over a century would make one file per row; a few hours keep several partitions per schema.
    if (i % 10 !== 0) row.ts_event_ns = T0 + BigInt(i % 3) * 3_600_000_000_000n + BigInt(i) * 1_000n;
    return row;
  });
}

function trade(i: number, extra: Partial<Parameters<typeof futuresTrade>[0]> = {}) {
  return futuresTrade({
    ts_event_ns: T0 + BigInt(i) * 1_000_000n,
    source: 'replay',
    symbol: 'ESZ5',
    price: 6870 + (i % 8) * 0.25,
    size: 1 + (i % 5),
    aggressor: ((i % 3) - 1) as -1 | 0 | 1,
    exchange: i % 2 ? 'CME' : null,
    conditions: i % 3 === 0 ? [i % 7, -3] : null,
    seq: i % 4 === 0 ? null : BigInt(1000 + i),
    ...extra,
  });
}

/** Canonical rows read back from files through DuckDB, dates as `YYYY-MM-DD`. */
async function readBack(schema: LakeSchemaName, files: readonly string[]): Promise<Record<string, unknown>[]> {
  const rs = SchemaRegistry.require(schema);
  const select = rs.columns
    .map((c) => (c.kind === 'date32' ? `strftime("${c.name}", '%Y-%m-%d') AS "${c.name}"` : `"${c.name}"`))
    .join(', ');
  const list = files.map((f) => `'${f}'`).join(', ');
  const raw = await rows(`SELECT ${select} FROM read_parquet([${list}], hive_partitioning=false)`);
  return SchemaRegistry.readRows(schema, raw) as Record<string, unknown>[];
}

function keyOf(row: Record<string, unknown>): string {
  return JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? '-0' : v));
}

describe('partition paths', () => {
  it('derives the product root from the contract', () => {
    expect(productRoot('ESZ5')).toBe('ES');
    expect(productRoot('ESH26')).toBe('ES');
    expect(productRoot('MESZ5')).toBe('MES');
    expect(productRoot('ES.c.0')).toBe('ES');
    expect(productRoot('ES')).toBe('ES');
  });

  it('takes date and hour from event time in UTC with bigint arithmetic', () => {
    // 2025-12-16T23:59:59.999999999Z: a float conversion rounds this into the next day.
    const last = 1_765_929_599_999_999_999n;
    expect(utcDateHour(last)).toEqual({ date: '2025-12-16', hour: '23' });
    expect(utcDateHour(last + 1n)).toEqual({ date: '2025-12-17', hour: '00' });
  });

  it('writes each row under its Hive partition, the last nanosecond of an hour staying in that hour', async () => {
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0 });
    w.append('futures.trades', trade(0, { ts_event_ns: 1_765_929_599_999_999_999n, symbol: 'ESH6' }));
    w.append('futures.trades', trade(1, { ts_event_ns: 1_765_929_600_000_000_000n, symbol: 'ESH6' }));
    w.append('futures.mbp10', mbp10({ ts_event_ns: T0, source: 'replay', symbol: 'ES.c.0', levels: [] }));
    w.append(
      'options.trades',
      optionTrade({
        ts_event_ns: T0,
        source: 'replay',
        underlying: 'ES',
        option_symbol: 'E2AZ5 C6870',
        exp_date: '2025-12-16',
        strike: 6870,
        right: 'C',
        price: 4.5,
        size: 2,
      }),
    );
    w.appendLevelSignals({ ts: 1_765_896_600_123, levels: [{ id: 'ROUND_6870', kind: 'ROUND', price: 6870 }] });
    const { files } = await w.close();
    const dirs = files.map((f) => path.dirname(f.relativePath)).sort();
    expect(dirs).toEqual([
      'bronze/futures/mbp10/symbol=ES/date=2025-12-16/hour=14',
      'bronze/futures/trades/symbol=ES/date=2025-12-16/hour=23',
      'bronze/futures/trades/symbol=ES/date=2025-12-17/hour=00',
      'bronze/options/trades/underlying=ES/date=2025-12-16/hour=14',
      'gold/levels/signals/underlying=ES/date=2025-12-16/hour=14',
    ]);
    for (const f of files) expect(path.basename(f.path)).toMatch(/^part-\d+-\d+-[0-9a-f]{12}\.parquet$/);
    // The contract stays in the row; only the directory uses the root.
    const back = await readBack(
      'futures.trades.v1',
      files.filter((f) => f.schema === 'futures.trades.v1').map((f) => f.path),
    );
    expect(back.map((r) => r.symbol)).toEqual(['ESH6', 'ESH6']);
  });

  it('rejects partition values that are not safe directory names', async () => {
    const invalid = vi.fn();
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0, onInvalid: invalid });
    expect(w.append('options.trades', { ...optionRow(0), underlying: '../x' })).toBe(false);
    expect(invalid).toHaveBeenCalledOnce();
    expect(String(invalid.mock.calls[0]![1])).toMatch(/partition value/);
    await w.close();
  });
});

function optionRow(i: number) {
  return optionTrade({
    ts_event_ns: T0 + BigInt(i) * 1000n,
    source: 'replay',
    underlying: 'ES',
    option_symbol: `E2AZ5 P68${String(i % 100).padStart(2, '0')}`,
    exp_date: '2025-12-16',
    strike: 6800 + (i % 100),
    right: i % 2 ? 'C' : 'P',
    price: (i % 50) * 0.25,
    size: 1 + (i % 9),
    opt_bid: i % 5 === 0 ? null : 1.25,
    opt_ask: i % 5 === 0 ? null : 1.5,
    aggressor: -1,
    conditions: i % 2 ? [1] : [],
    seq: BigInt(i),
  });
}

describe('file schema', () => {
  it.each(SCHEMAS)(
    '%s: Parquet columns, types, nullability, order and metadata are exactly the registry schema',
    async (schema) => {
      const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0 });
      for (const row of sampleRows(schema, 40, 7)) expect(w.append(schema, row)).toBe(true);
      const { files } = await w.close();
      expect(files.length).toBeGreaterThan(0);
      const info = SchemaRegistry.require(schema).columnInfo;
      for (const file of files) {
        const described = await rows(`DESCRIBE SELECT * FROM read_parquet('${file.path}', hive_partitioning=false)`);
        expect(described.map((d) => [d.column_name, d.column_type])).toEqual(
          info.map((c) => [c.name, DUCK_TYPES[c.arrowType]]),
        );
        const ps = await rows(
          `SELECT name, type, repetition_type, converted_type, num_children FROM parquet_schema('${file.path}')`,
        );
        // Depth-first: root, then each column; a list column is followed by its `list` group and `element`.
        const top: Record<string, unknown>[] = [];
        for (let i = 1; i < ps.length; i++) {
          top.push(ps[i]!);
          if (ps[i]!.converted_type === 'LIST') {
            expect(ps[i + 1]!.repetition_type).toBe('REPEATED');
            expect(ps[i + 2]).toMatchObject({ type: 'INT32', converted_type: 'INT_16', repetition_type: 'OPTIONAL' });
            i += 2;
          }
        }
        expect(top.map((p) => p.name)).toEqual(info.map((c) => c.name));
        for (const [k, c] of info.entries()) {
          const p = top[k]!;
          expect([c.name, p.repetition_type]).toEqual([c.name, c.nullable ? 'OPTIONAL' : 'REQUIRED']);
          const [physical, converted] = PARQUET_TYPES[c.arrowType]!;
          expect([c.name, p.type, p.converted_type]).toEqual([c.name, physical, converted]);
        }
        const kv = await rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file.path}')`);
        const meta = Object.fromEntries(kv.map((r) => [r.k, r.v]));
        const rs = SchemaRegistry.require(schema);
        expect(meta).toMatchObject({ schema_name: schema, tier: rs.tier, description: rs.description });
        const compression = await rows(`SELECT DISTINCT compression FROM parquet_metadata('${file.path}')`);
        expect(compression).toEqual([{ compression: 'ZSTD' }]);
      }
    },
  );
});

describe('round trip', () => {
  it.each(SCHEMAS)('%s: random rows read back equal to the input (bigints, lists, dates, nulls)', async (schema) => {
    const input = sampleRows(schema, 300, 42);
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0 });
    for (const row of input) expect(w.append(schema, row)).toBe(true);
    const { files } = await w.close();
    expect(files.reduce((n, f) => n + f.rows, 0)).toBe(input.length);
    const back = await readBack(
      schema,
      files.map((f) => f.path),
    );
    const expected = SchemaRegistry.readRows(schema, input) as Record<string, unknown>[];
    expect(back.map(keyOf).sort()).toEqual(expected.map(keyOf).sort());
  });

  it('orders each file by ts_event_ns, then seq (null last), then arrival', async () => {
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0 });
    const events = [
      trade(0, { ts_event_ns: T0 + 5n, seq: null, price: 1 }),
      trade(1, { ts_event_ns: T0 + 5n, seq: 7n, price: 2 }),
      trade(2, { ts_event_ns: T0 + 1n, seq: 9n, price: 3 }),
      trade(3, { ts_event_ns: T0 + 5n, seq: 7n, price: 4 }),
      trade(4, { ts_event_ns: T0 + 5n, seq: 3n, price: 5 }),
    ];
    for (const e of events) w.append('futures.trades.v1', e);
    const { files } = await w.close();
    expect(files).toHaveLength(1);
    const back = await readBack('futures.trades.v1', [files[0]!.path]);
    expect(back.map((r) => r.price)).toEqual([3, 5, 2, 4, 1]);
    expect(files[0]).toMatchObject({ rows: 5, firstTsNs: T0 + 1n, lastTsNs: T0 + 5n });
  });

  it('unflattens to the same MBP-10 book', async () => {
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0 });
    const levels = Array.from({ length: 10 }, (_, i) => ({
      bid_px: 6870 - i * 0.25,
      bid_sz: 10 + i,
      ask_px: 6870.25 + i * 0.25,
      ask_sz: 20 + i,
    }));
    w.append('futures.mbp10.v1', mbp10({ ts_event_ns: T0, source: 'replay', symbol: 'ESZ5', levels, seq: 5n }));
    const { files } = await w.close();
    const [row] = await readBack('futures.mbp10.v1', [files[0]!.path]);
    expect(row).toMatchObject({ bid_px_1: 6870, bid_sz_10: 19, ask_px_10: 6872.5, is_snapshot: false, seq: 5n });
  });
});

describe('atomic commit', () => {
  it('leaves no temp files, and a crash between write and rename leaves no *.parquet and loses no row', async () => {
    const seen: string[] = [];
    let crash = true;
    const w = new ParquetLakeWriter<number>({
      dataRoot: root,
      intervalS: 0,
      beforeRename: async (temp, final) => {
        seen.push(path.basename(temp));
        expect(path.basename(temp)).toMatch(/^\.part-.*\.parquet\..*\.tmp$/);
        expect(readFileSync(temp).subarray(0, 4).toString()).toBe('PAR1');
        expect(await listPartFiles(root)).toEqual([]);
        await expect(rows(`SELECT count(*) FROM read_parquet('${root}/**/*.parquet')`)).rejects.toThrow(
          /No files found/,
        );
        expect(final.endsWith('.parquet')).toBe(true);
        if (crash) throw new Error('simulated crash');
      },
    });
    for (let i = 0; i < 10; i++) w.appendWithToken('futures.trades', trade(i), i);
    await expect(w.flush()).rejects.toThrow('simulated crash');
    expect(seen).toHaveLength(1);
    expect(await listPartFiles(root)).toEqual([]);
    expect(w.buffered['futures.trades.v1']).toBe(10);
    crash = false;
    const { files, durableTokens } = await w.close();
    expect(files).toHaveLength(1);
    expect(files[0]!.rows).toBe(10);
    expect([...durableTokens].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(allFiles(root).filter((f) => path.basename(f).startsWith('.'))).toEqual([]);
  });
});

describe('idempotent names', () => {
  it('writing the same events twice, in two writers, gives the same names and byte-identical files', async () => {
    const events = Array.from({ length: 500 }, (_, i) =>
      trade(i * 7919, { ts_event_ns: T0 + BigInt(i) * 13_000_000_000n }),
    );
    const rootA = path.join(root, 'a');
    const rootB = path.join(root, 'b');
    const a = new ParquetLakeWriter({ dataRoot: rootA, intervalS: 0 });
    for (const e of events) a.append('futures.trades', e);
    const ra = await a.close();
    const b = new ParquetLakeWriter({ dataRoot: rootB, intervalS: 0 });
    // Another arrival order of the same rows: the file order (and so the content) is canonical.
    for (const e of [...events].reverse()) b.append('futures.trades', e);
    const rb = await b.close();
    expect(ra.files.length).toBeGreaterThan(1);
    expect(rb.files.map((f) => f.relativePath)).toEqual(ra.files.map((f) => f.relativePath));
    for (const f of ra.files)
      expect(readFileSync(path.join(rootB, f.relativePath)).equals(readFileSync(f.path))).toBe(true);

    // A retry into the same lake replaces the files instead of adding duplicates.
    const c = new ParquetLakeWriter({ dataRoot: rootA, intervalS: 0 });
    for (const e of events) c.append('futures.trades', e);
    await c.close();
    expect((await listPartFiles(rootA)).length).toBe(ra.files.length);
    const [{ n }] = (await rows(`SELECT count(*)::INT AS n FROM read_parquet('${rootA}/**/*.parquet')`)) as [
      { n: number },
    ];
    expect(n).toBe(events.length);
  });

  it('is deterministic across row groups, and different rows over the same span get another name', async () => {
    const n = 130_000; // > one DuckDB row group (122 880)
    const write = async (dir: string, bump: boolean, count: number) => {
      const w = new ParquetLakeWriter({ dataRoot: dir, intervalS: 0, maxRows: 1_000_000 });
      for (let i = 0; i < count; i++) w.append('futures.trades', trade(i, { price: bump && i === 77 ? 1 : 6870 }));
      return (await w.close()).files;
    };
    const [f1] = await write(path.join(root, 'x'), false, n);
    const [f2] = await write(path.join(root, 'y'), false, n);
    const groups = await rows(`SELECT DISTINCT row_group_id FROM parquet_metadata('${f1!.path}')`);
    expect(groups.length).toBe(2);
    expect(readFileSync(f1!.path).equals(readFileSync(f2!.path))).toBe(true);
    const [g1] = await write(path.join(root, 'u'), false, 100);
    const [g2] = await write(path.join(root, 'v'), true, 100);
    expect(path.basename(g2!.path)).not.toBe(path.basename(g1!.path));
    expect([g2!.firstTsNs, g2!.lastTsNs]).toEqual([g1!.firstTsNs, g1!.lastTsNs]);
  });
});

describe('validation and durability', () => {
  it('reports invalid records without writing them, and writes the valid ones of the same batch', async () => {
    const invalid: [unknown, Error, unknown][] = [];
    const w = new ParquetLakeWriter<string>({
      dataRoot: root,
      intervalS: 0,
      onInvalid: (record, error, info) => invalid.push([record, error, info]),
    });
    const bad = { ...trade(1), price: -1 };
    const outOfRange = { ...trade(2), ts_event_ns: 5n };
    const unknownKey = { ...trade(3), venue: 'X' };
    expect(w.appendWithToken('futures.trades', trade(0), 'm0')).toBe(true);
    expect(w.appendWithToken('futures.trades', bad, 'm1')).toBe(false);
    expect(w.appendWithToken('futures.trades', outOfRange, 'm2')).toBe(false);
    expect(w.appendWithToken('futures.trades', unknownKey, 'm3')).toBe(false);
    expect(w.appendWithToken('futures.trades', trade(4), 'm4')).toBe(true);
    expect(invalid.map(([r]) => r)).toEqual([bad, outOfRange, unknownKey]);
    expect(invalid[0]![1].message).toMatch(/price/);
    expect(invalid[1]![1].message).toMatch(/outside valid range/);
    expect(invalid[0]![2]).toEqual({ schema: 'futures.trades.v1', token: 'm1' });
    const { files, durableTokens } = await w.close();
    expect(files.map((f) => f.rows)).toEqual([2]);
    expect(durableTokens).toEqual(['m0', 'm4']);
    const back = await readBack('futures.trades.v1', [files[0]!.path]);
    expect(back.map((r) => r.ts_event_ns)).toEqual([trade(0).ts_event_ns, trade(4).ts_event_ns]);
  });

  it('reports a token durable only after every row appended with it is renamed into place', async () => {
    const durable: [string[], string][] = [];
    const w = new ParquetLakeWriter<string>({
      dataRoot: root,
      intervalS: 0,
      onDurable: (tokens, file) => {
        expect(readFileSync(file.path).subarray(-4).toString()).toBe('PAR1');
        durable.push([tokens, file.schema]);
      },
    });
    const payload: LevelSignalsPayload = {
      ts: 1_765_896_600_250,
      es: { spot: 6870.25, bid: 6870, ask: 6870.25 },
      levels: [
        { id: 'ROUND_6870', kind: 'ROUND', price: 6870 },
        { id: 'PM_LOW', kind: 'PM_LOW', price: 6869 },
      ],
    };
    expect(w.appendLevelSignals(payload, 'sig-1')).toBe(2);
    w.appendWithToken('futures.trades', trade(0), 't-1');
    w.appendWithToken('futures.trades', trade(1), 't-2');
    expect(durable).toEqual([]);
    const result = await w.flush();
    expect(durable).toEqual([
      [['t-1', 't-2'], 'futures.trades.v1'],
      [['sig-1'], 'levels.signals.v1'],
    ]);
    expect(result.durableTokens).toEqual(['t-1', 't-2', 'sig-1']);
    expect((await w.flush()).files).toEqual([]);
    await w.close();
  });

  it('records committed files and event counts in the run manifest', async () => {
    const calls: string[] = [];
    const manifest: LakeManifest = {
      trackBronzeFile: (p) => void calls.push(`bronze ${path.relative(root, p)}`),
      trackGoldFile: (p) => void calls.push(`gold ${path.relative(root, p)}`),
      updateEventCount: (s, n) => void calls.push(`count ${s} ${n}`),
    };
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0, manifest });
    for (let i = 0; i < 3; i++) w.append('futures.trades', trade(i));
    w.append('options.trades.v1', optionRow(1));
    w.appendLevelSignals({ ts: 1_765_896_600_000, levels: [{ id: 'A', kind: 'VWAP', price: 1 }] });
    const { files } = await w.close();
    expect(calls).toEqual([
      `bronze ${files[0]!.relativePath}`,
      'count futures.trades 3',
      `bronze ${files[1]!.relativePath}`,
      'count options.trades 1',
      `gold ${files[2]!.relativePath}`,
      'count levels.signals 1',
    ]);
  });
});

describe('micro-batches', () => {
  it('flushes a buffer that reaches maxRows, and ready() waits for it', async () => {
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0, maxRows: 100 });
    for (let i = 0; i < 250; i++) {
      w.append('futures.trades', trade(i));
      await w.ready();
    }
    expect(w.buffered['futures.trades.v1']).toBe(50);
    expect((await listPartFiles(root)).length).toBe(2);
    await w.close();
    expect((await listPartFiles(root)).length).toBe(3);
  });

  it('flushes rows that waited MICRO_BATCH_INTERVAL_S of wall time', async () => {
    let now = 0;
    const durable = vi.fn();
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0.02, now: () => now, onDurable: durable });
    w.appendWithToken('futures.trades', trade(0), 1);
    await new Promise((r) => setTimeout(r, 60));
    expect(durable).not.toHaveBeenCalled();
    now = 20;
    await vi.waitFor(() => expect(durable).toHaveBeenCalledOnce(), { timeout: 2000 });
    expect(durable.mock.calls[0]![0]).toEqual([1]);
    await w.close();
  });
});

describe('toLevelSignalRows', () => {
  it('maps a payload to one row per level (DATA.md §2.8)', () => {
    const payload: LevelSignalsPayload = {
      ts: 1_765_896_601_100,
      spy: { spot: 6870.25, bid: 6870, ask: 6870.25 },
      levels: [
        {
          id: 'ROUND_6870',
          kind: 'ROUND',
          price: 6870,
          direction: 'SUPPORT',
          distance: 0.25,
          break_score_raw: 88.5,
          break_score_smooth: 80.1,
          signal: 'BREAK',
          confidence: 'HIGH',
          barrier: { state: 'VACUUM', delta_liq: -251, replenishment_ratio: 0, added: 0, canceled: 150, filled: 101 },
          tape: {
            imbalance: -0.960784,
            buy_vol: 2,
            sell_vol: 100,
            velocity: 0.245902,
            sweep: { detected: true, direction: 'DOWN', notional: 500000 },
          },
          fuel: { effect: 'NEUTRAL', net_dealer_gamma: 0, call_wall: null, put_wall: 6850, hvl: null },
          runway: { direction: 'DOWN', distance: Infinity, next_obstacle: null, quality: 'CLEAR' },
          note: 'n',
        },
        { id: 'PM_HIGH', kind: 'PM_HIGH', price: 6880, runway: { next_obstacle: { id: 'X', price: 6890 } } },
      ],
    };
    const rows = toLevelSignalRows(payload);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      ts_event_ns: 1_765_896_601_100_000_000n,
      underlying: 'ES',
      spot: 6870.25,
      level_id: 'ROUND_6870',
      barrier_filled: 101,
      tape_sweep_detected: true,
      tape_sweep_notional: 500000,
      fuel_put_wall: 6850,
      runway_distance: null,
      runway_next_level_id: null,
    });
    expect(rows[1]).toMatchObject({
      tape_sweep_detected: false,
      runway_next_level_id: 'X',
      runway_next_level_price: 6890,
      signal: null,
    });
    for (const r of rows) expect(() => SchemaRegistry.validate('levels.signals.v1', r)).not.toThrow();
    expect(Object.keys(rows[0]!)).toEqual(SchemaRegistry.require('levels.signals.v1').columns.map((c) => c.name));
  });

  it('rejects a payload without ts, and the writer dead-letters it whole', async () => {
    expect(() => toLevelSignalRows({ levels: [] })).toThrow(/no ts/);
    const invalid = vi.fn();
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0, onInvalid: invalid });
    expect(w.appendLevelSignals({ levels: [{ id: 'A', kind: 'VWAP', price: 1 }] }, 'tok')).toBe(0);
    expect(invalid).toHaveBeenCalledWith(expect.anything(), expect.any(Error), {
      schema: 'levels.signals.v1',
      token: 'tok',
    });
    await w.close();
  });

  it('knows every lake dataset', () => {
    expect(Object.keys(LAKE_DATASETS).sort()).toEqual([...SCHEMAS].sort());
  });
});
