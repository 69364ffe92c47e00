/** `levelflow query "SQL"`: DuckDB SQL over the lake views of src/pipelines/query.ts. */
import { Option, type Command } from 'commander';
import { CONFIG } from '../../common/config.js';
import { encodeJson } from '../../common/json.js';
import type { QueryColumn, QueryValue } from '../query.js';
import {
  type Align,
  CommandError,
  LineWriter,
  examples,
  existingDirectory,
  formatTable,
  nonNegativeInt,
  writeOut,
} from './common.js';

interface QueryOptions {
  readonly json?: boolean;
  readonly csv?: boolean;
  readonly dataRoot?: string;
  readonly limit?: number;
}

/** Right-aligned columns; timestamps are among them because they print as integer nanoseconds. */
const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL|TIMESTAMP)/;

function isNumeric(column: QueryColumn): boolean {
  return NUMERIC.test(column.type) && !column.type.endsWith(']');
}

/**
 * One line per row whatever the data: control characters in text are escaped, and nested values print as their
 * lossless JSON so a list or struct stays one readable cell.
 */
function cellText(v: QueryValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string')
    return v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t');
  if (typeof v === 'object') return encodeJson(v);
  return String(v);
}

function csvField(v: QueryValue): string {
  if (v === null) return '';
  const text = typeof v === 'object' ? encodeJson(v) : typeof v === 'number' && !Number.isFinite(v) ? '' : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function rowObject(columns: readonly QueryColumn[], row: readonly QueryValue[]): Record<string, QueryValue> {
  const o: Record<string, QueryValue> = {};
  columns.forEach((c, i) => (o[c.name] = row[i] ?? null));
  return o;
}

/** DuckDB messages carry a caret diagram over several lines; the CLI promises one line. */
export function oneLineSqlError(message: string): string {
  const lines = message.split('\n').map((l) => l.trim());
  const kept: string[] = [];
  for (const line of lines) {
    if (line.startsWith('LINE ')) break;
    if (line !== '') kept.push(line);
  }
  return (kept.join(' ') || message.replaceAll('\n', ' ')).replace(/^Failed to extract statements: /, '');
}

async function queryCommand(sql: string, opts: QueryOptions): Promise<void> {
  // DuckDB's native module is loaded on use, so that other commands start fast.
  const { collect, openLakeDb, streamQuery } = await import('../query.js');
  let db;
  try {
    db = await openLakeDb(opts.dataRoot ?? CONFIG.DATA_ROOT);
  } catch (err) {
    // A damaged or foreign Parquet file in the lake fails the view, before any SQL of the user's runs.
    throw new CommandError(`cannot open the lake: ${oneLineSqlError((err as Error).message)}`, { cause: err });
  }
  try {
    let stream;
    try {
      stream = await streamQuery(db.connection, sql);
    } catch (err) {
      throw new CommandError(oneLineSqlError((err as Error).message), { cause: err });
    }
    const limit = opts.limit ?? Infinity;
    const { columns } = stream;
    if (opts.json || opts.csv) {
      const writer = new LineWriter();
      if (opts.csv) await writer.line(columns.map((c) => csvField(c.name)).join(','));
      let n = 0;
      let truncated = false;
      try {
        outer: for await (const batch of stream.batches) {
          for (const row of batch) {
            if (n >= limit) {
              truncated = true;
              break outer;
            }
            n++;
            await writer.line(opts.csv ? row.map(csvField).join(',') : encodeJson(rowObject(columns, row)));
          }
        }
      } catch (err) {
        await writer.flush();
        throw new CommandError(oneLineSqlError((err as Error).message), { cause: err });
      }
      await writer.flush();
      if (truncated) process.stderr.write(`levelflow query: output limited to ${limit} rows (--limit)\n`);
      return;
    }
    let result;
    try {
      result = await collect(stream, limit);
    } catch (err) {
      throw new CommandError(oneLineSqlError((err as Error).message), { cause: err });
    }
    const align: Align[] = columns.map((c) => (isNumeric(c) ? 'right' : 'left'));
    const table =
      columns.length === 0
        ? ''
        : formatTable(
            columns.map((c) => c.name),
            result.rows.map((r) => r.map(cellText)),
            align,
          );
    const n = result.rows.length;
    const footer = result.truncated
      ? `(first ${n} rows shown; more not shown, see --limit)`
      : `(${n} row${n === 1 ? '' : 's'})`;
    await writeOut(`${table}${footer}\n`);
  } finally {
    db.close();
  }
}

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description(
      'run DuckDB SQL over the Parquet lake (views futures_trades, futures_mbp10, options_trades, levels_signals)',
    )
    .argument('SQL', 'one SQL statement (the last result is printed when there are several)')
    .addOption(
      new Option('--json', 'NDJSON, one object per row; 64-bit integers and ns timestamps as bare integers').conflicts(
        'csv',
      ),
    )
    .addOption(new Option('--csv', 'CSV with a header row').conflicts('json'))
    .option('--data-root <DIR>', 'lake root (default: DATA_ROOT)', existingDirectory)
    .option('--limit <N>', 'print at most N rows', nonNegativeInt)
    .addHelpText(
      'after',
      "\nEach view has its schema's columns (`levelflow schemas NAME`) plus `date` and `hour` from the partition\n" +
        'directories; `symbol` is the real contract (ESZ5). A dataset with no file yet is an empty view.\n' +
        'Timestamps print as integer nanoseconds since the epoch; a table ends with its row count.\n' +
        examples(
          'levelflow query "SELECT symbol, count(*) AS trades, sum(size) AS volume FROM futures_trades GROUP BY 1"',
          'levelflow query "SELECT * FROM levels_signals WHERE signal IS NOT NULL" --json | jq .',
          'levelflow query "SELECT date, hour, count(*) FROM futures_mbp10 GROUP BY ALL ORDER BY ALL" --csv',
        ),
    )
    .action(async (sql: string, opts: QueryOptions) => {
      await queryCommand(sql, opts);
    });
}
