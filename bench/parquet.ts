/**
 * Parquet lake writer throughput: rows/s from `append` (validation included) to committed, fsynced files, per schema.
 * Baseline: DuckDB alone writing the same number of rows of a one-column BIGINT table (appender + COPY to ZSTD
 * Parquet) in the same run, so the ratio shows what validation, staging 10–46 typed columns, the REQUIRED rewrite,
 * hashing and fsync cost on top of DuckDB's own floor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIGINT, DuckDBDataChunk, DuckDBInstance } from '@duckdb/node-api';
import { futuresTrade, mbp10, optionTrade } from '../src/common/event-types.js';
import type { LakeSchemaName } from '../src/common/lake-paths.js';
import { ParquetLakeWriter, toLevelSignalRows } from '../src/sinks/parquet.js';
import { type BenchRow, median } from './types.js';

const ROWS = 200_000;
const REPS = 3;
const T0 = 1_765_896_600_000_000_000n;

function inputs(schema: LakeSchemaName): unknown[] {
  const ts = (i: number) => T0 + BigInt(i) * 10_000_000n; // 200k rows over ~33 min: one hour partition
  switch (schema) {
    case 'futures.trades.v1':
      return Array.from({ length: ROWS }, (_, i) =>
        futuresTrade({
          ts_event_ns: ts(i),
          source: 'replay',
          symbol: 'ESZ5',
          price: 6870 + (i % 40) * 0.25,
          size: 1 + (i % 9),
          aggressor: ((i % 3) - 1) as -1 | 0 | 1,
          exchange: 'CME',
          conditions: null,
          seq: BigInt(i),
        }),
      );
    case 'futures.mbp10.v1':
      return Array.from({ length: ROWS }, (_, i) =>
        mbp10({
          ts_event_ns: ts(i),
          source: 'replay',
          symbol: 'ESZ5',
          levels: Array.from({ length: 10 }, (_, j) => ({
            bid_px: 6870 - j * 0.25,
            bid_sz: 10 + ((i + j) % 50),
            ask_px: 6870.25 + j * 0.25,
            ask_sz: 12 + ((i * 3 + j) % 50),
          })),
          seq: BigInt(i),
        }),
      );
    case 'options.trades.v1':
      return Array.from({ length: ROWS }, (_, i) =>
        optionTrade({
          ts_event_ns: ts(i),
          source: 'replay',
          underlying: 'ES',
          option_symbol: `E2AZ5 C${6800 + (i % 40) * 5}`,
          exp_date: '2025-12-16',
          strike: 6800 + (i % 40) * 5,
          right: i % 2 ? 'C' : 'P',
          price: 1 + (i % 20) * 0.25,
          size: 1 + (i % 5),
          opt_bid: 1,
          opt_ask: 1.25,
          aggressor: 1,
          seq: BigInt(i),
        }),
      );
    case 'levels.signals.v1': {
      const out: unknown[] = [];
      for (let i = 0; out.length < ROWS; i++)
        out.push(
          ...toLevelSignalRows({
            ts: 1_765_896_600_000 + i * 250,
            es: { spot: 6870.25, bid: 6870, ask: 6870.25 },
            levels: Array.from({ length: 10 }, (_, j) => ({
              id: `ROUND_${6820 + j * 10}`,
              kind: 'ROUND',
              price: 6820 + j * 10,
              direction: j < 5 ? 'SUPPORT' : 'RESISTANCE',
              distance: Math.abs(6870.25 - (6820 + j * 10)),
              break_score_raw: (i + j) % 100,
              break_score_smooth: (i * j) % 100,
              signal: 'NEUTRAL',
              confidence: 'LOW',
              barrier: { state: 'NEUTRAL', delta_liq: -5, replenishment_ratio: 1, added: 10, canceled: 5, filled: 2 },
              tape: { imbalance: 0.1, buy_vol: 20, sell_vol: 16, velocity: 0.3, sweep: { detected: false } },
              fuel: { effect: 'NEUTRAL', net_dealer_gamma: 1000, call_wall: 6900, put_wall: 6800, hvl: null },
              runway: { direction: 'UP', distance: 10, next_obstacle: { id: 'X', price: 6880 }, quality: 'CLEAR' },
              note: '',
            })),
          }),
        );
      return out.slice(0, ROWS);
    }
  }
}

async function writerRate(schema: LakeSchemaName, rows: readonly unknown[]): Promise<number> {
  const root = mkdtempSync(path.join(tmpdir(), 'lf-bench-parquet-'));
  try {
    const w = new ParquetLakeWriter({ dataRoot: root, intervalS: 0 });
    const t0 = performance.now();
    for (const r of rows) {
      if (!w.append(schema, r)) throw new Error(`bench row rejected for ${schema}`);
      await w.ready();
    }
    await w.close();
    return rows.length / ((performance.now() - t0) / 1000);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function baselineRate(): Promise<number> {
  const root = mkdtempSync(path.join(tmpdir(), 'lf-bench-duck-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const t0 = performance.now();
    await connection.run('CREATE OR REPLACE TEMP TABLE b (x BIGINT NOT NULL)');
    const appender = await connection.createAppender('b');
    for (let off = 0; off < ROWS; off += 2048) {
      const n = Math.min(2048, ROWS - off);
      const chunk = DuckDBDataChunk.create([BIGINT], n);
      const v = chunk.getColumnVector(0) as { setItem(i: number, v: bigint): void; flush(): void };
      for (let i = 0; i < n; i++) v.setItem(i, T0 + BigInt(off + i));
      v.flush();
      appender.appendDataChunk(chunk);
    }
    appender.closeSync();
    await connection.run(
      `COPY b TO '${path.join(root, 'b.parquet')}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3)`,
    );
    return ROWS / ((performance.now() - t0) / 1000);
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function runParquetBenchmarks(): Promise<BenchRow[]> {
  const schemas: LakeSchemaName[] = ['futures.trades.v1', 'futures.mbp10.v1', 'options.trades.v1', 'levels.signals.v1'];
  const data = new Map(schemas.map((s) => [s, inputs(s)]));
  await baselineRate(); // warm-up: load DuckDB and its Parquet writer once
  const base: number[] = [];
  const rates = new Map<LakeSchemaName, number[]>(schemas.map((s) => [s, []]));
  for (let rep = 0; rep < REPS; rep++) {
    base.push(await baselineRate());
    for (const s of schemas) rates.get(s)!.push(await writerRate(s, data.get(s)!));
  }
  const baseline = median(base);
  return [
    {
      suite: 'parquet',
      name: 'baseline: DuckDB 1-column BIGINT appender + COPY',
      eventsPerSec: baseline,
      ratioToBaseline: 1,
      extra: `${ROWS} rows, ZSTD 3`,
    },
    ...schemas.map((s) => {
      const rate = median(rates.get(s)!);
      return {
        suite: 'parquet',
        name: `ParquetLakeWriter ${s}`,
        eventsPerSec: rate,
        ratioToBaseline: rate / baseline,
        extra: `${ROWS} rows, validate → commit (fsync), ${s === 'futures.mbp10.v1' ? 'events flattened, ' : ''}batches of 100k`,
      };
    }),
  ];
}
