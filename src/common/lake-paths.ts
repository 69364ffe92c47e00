/**
 * Lake layout (DATA.md §5.1): where each schema's files live, the Hive partition of a row, and the names of part files.
 * Shared by the Parquet writer and the Bronze replay reader so both agree on every path.
 */
import path from 'node:path';

/** The schemas that have a streaming home in the lake. */
export type LakeSchemaName = 'futures.trades.v1' | 'futures.mbp10.v1' | 'options.trades.v1' | 'levels.signals.v1';

export interface LakeDataset {
  readonly schema: LakeSchemaName;
  readonly tier: 'bronze' | 'gold';
  /** Directory under DATA_ROOT, `/`-separated. */
  readonly dir: string;
  /** Hive key of the first partition level. */
  readonly key: 'symbol' | 'underlying';
  /** Row column whose value (through `partitionValueOf`) names the first partition level. */
  readonly column: 'symbol' | 'underlying';
}

export const LAKE_DATASETS: Readonly<Record<LakeSchemaName, LakeDataset>> = {
  'futures.trades.v1': {
    schema: 'futures.trades.v1',
    tier: 'bronze',
    dir: 'bronze/futures/trades',
    key: 'symbol',
    column: 'symbol',
  },
  'futures.mbp10.v1': {
    schema: 'futures.mbp10.v1',
    tier: 'bronze',
    dir: 'bronze/futures/mbp10',
    key: 'symbol',
    column: 'symbol',
  },
  'options.trades.v1': {
    schema: 'options.trades.v1',
    tier: 'bronze',
    dir: 'bronze/options/trades',
    key: 'underlying',
    column: 'underlying',
  },
  'levels.signals.v1': {
    schema: 'levels.signals.v1',
    tier: 'gold',
    dir: 'gold/levels/signals',
    key: 'underlying',
    column: 'underlying',
  },
};

export function isLakeSchema(name: string): name is LakeSchemaName {
  return Object.hasOwn(LAKE_DATASETS, name);
}

const CONTRACT = /^([A-Z0-9]+?)[FGHJKMNQUVXZ]\d{1,2}$/;
const PARTITION_VALUE = /^[A-Za-z0-9._-]+$/;

/**
 * Product root of a futures symbol: `ESZ5` → `ES`, `ESZ25` → `ES`; a symbol that is not a contract keeps the text
 * before its first `.` (`ES.c.0` → `ES`, `ES` → `ES`). Readers look under the root, so streamed and batch Bronze agree.
 */
export function productRoot(symbol: string): string {
  const m = CONTRACT.exec(symbol);
  if (m) return m[1]!;
  const dot = symbol.indexOf('.');
  return dot < 0 ? symbol : symbol.slice(0, dot);
}

/** Throws unless `value` is safe as a Hive directory value (no separators, `=`, spaces or `..` tricks). */
export function assertPartitionValue(key: string, value: string): string {
  if (!PARTITION_VALUE.test(value) || value === '.' || value === '..')
    throw new Error(`partition value ${key}=${JSON.stringify(value)} must match [A-Za-z0-9._-]+`);
  return value;
}

const NS_PER_DAY = 86_400_000_000_000n;
const NS_PER_HOUR = 3_600_000_000_000n;

/**
 * UTC date and two-digit hour of an event time. Bigint division, because converting ~1.8e18 ns to a float first can
 * round the last nanoseconds of an hour into the next one.
 */
export function utcDateHour(tsNs: bigint): { date: string; hour: string } {
  let days = tsNs / NS_PER_DAY;
  let rem = tsNs % NS_PER_DAY;
  if (rem < 0n) {
    days -= 1n;
    rem += NS_PER_DAY;
  }
  const d = Number(days);
  // Rows arrive in runs of one day; formatting a date is the costly part of partitioning, so remember the last one.
  if (d !== lastDay) {
    lastDay = d;
    lastDate = new Date(d * 86_400_000).toISOString().slice(0, 10);
  }
  return { date: lastDate, hour: HOURS[Number(rem / NS_PER_HOUR)]! };
}

const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
let lastDay = Number.NaN;
let lastDate = '';

/** The value of the first partition level for a (validated) row of the dataset. */
export function partitionValueOf(dataset: LakeDataset, row: Readonly<Record<string, unknown>>): string {
  const raw = String(row[dataset.column]);
  return assertPartitionValue(dataset.key, dataset.key === 'symbol' ? productRoot(raw) : raw);
}

export interface Partition {
  readonly key: string;
  readonly value: string;
  readonly date: string;
  readonly hour: string;
}

/** `{dir}/{key}={value}/date={date}/hour={hour}`, relative to DATA_ROOT, `/`-separated. */
export function partitionPath(dataset: LakeDataset, p: Partition): string {
  return `${dataset.dir}/${p.key}=${p.value}/date=${p.date}/hour=${p.hour}`;
}

/** Absolute directory of a dataset's first partition level (`…/symbol=ES`). */
export function datasetRoot(dataRoot: string, dataset: LakeDataset, value: string): string {
  return path.join(dataRoot, ...dataset.dir.split('/'), `${dataset.key}=${assertPartitionValue(dataset.key, value)}`);
}

/**
 * Idempotent part-file name: `part-{firstTsNs}-{lastTsNs}-{digest}.parquet`, where the digest is the first 12 hex
 * digits of the SHA-256 of the file's rows (canonical values, in file order; the writer hashes its column buffers,
 * sinks/parquet/columns.ts). The same input rows always get the same name, so a retry after a crash replaces its
 * earlier file instead of adding a duplicate; different rows over the same time span get a different name.
 */
export function partFileName(firstTsNs: bigint, lastTsNs: bigint, digest: string): string {
  return `part-${firstTsNs}-${lastTsNs}-${digest.slice(0, 12)}.parquet`;
}

/** Temporary sibling of a part file: dot-prefixed and not ending in `.parquet`, so no glob of readers matches it. */
export function tempFileName(finalName: string, unique: string): string {
  return `.${finalName}.${unique}.tmp`;
}
