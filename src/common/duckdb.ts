/**
 * DuckDB helpers shared by the lake writer, the replay reader and `levelflow query`: the DuckDB type of each registry
 * column kind, and SQL quoting.
 */
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DOUBLE,
  type DuckDBType,
  INTEGER,
  LIST,
  SMALLINT,
  TIMESTAMP_NS,
  TINYINT,
  VARCHAR,
} from '@duckdb/node-api';
import type { ColumnKind } from './schemas/index.js';

export function duckType(kind: ColumnKind): DuckDBType {
  switch (kind) {
    case 'int8':
      return TINYINT;
    case 'int16':
      return SMALLINT;
    case 'int32':
      return INTEGER;
    case 'int64':
    case 'int64big':
    case 'epoch_ns':
      return BIGINT;
    case 'timestamp_ns':
      return TIMESTAMP_NS;
    case 'float64':
      return DOUBLE;
    case 'utf8':
      return VARCHAR;
    case 'bool':
      return BOOLEAN;
    case 'date32':
      return DATE;
    case 'int16_list':
      return LIST(SMALLINT);
  }
}

/** SQL type text of a column, as in `CREATE TABLE`. */
export function duckTypeSql(kind: ColumnKind): string {
  return duckType(kind).toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
