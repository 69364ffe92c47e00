/** `levelflow schemas [NAME]`: the registered schemas, or one schema's columns. */
import type { Command } from 'commander';
import { encodeJson } from '../../common/json.js';
import type { SchemaRegistry as Registry } from '../../common/schemas/index.js';
import { UsageError, examples, formatTable, writeOut } from './common.js';

// Loaded on use: zod and apache-arrow would otherwise slow every other command's start.
async function registry(): Promise<typeof Registry> {
  return (await import('../../common/schemas/index.js')).SchemaRegistry;
}

interface SchemasOptions {
  readonly json?: boolean;
}

function summary(SchemaRegistry: typeof Registry, fullName: string) {
  const schema = SchemaRegistry.require(fullName);
  return {
    full_name: schema.fullName,
    name: schema.name,
    tier: schema.tier,
    version: schema.version,
    columns: schema.columnInfo.length,
    aliases: [...schema.aliases],
    description: schema.description,
  };
}

async function listSchemas(opts: SchemasOptions): Promise<void> {
  const SchemaRegistry = await registry();
  const all = SchemaRegistry.listSchemas().map((name) => summary(SchemaRegistry, name));
  if (opts.json) {
    await writeOut(all.map((s) => encodeJson(s) + '\n').join(''));
    return;
  }
  const rows = all.map((s) => [
    s.full_name,
    s.tier,
    String(s.version),
    String(s.columns),
    s.aliases.join(', '),
    s.description,
  ]);
  await writeOut(
    formatTable(['SCHEMA', 'TIER', 'VERSION', 'COLUMNS', 'ALIASES', 'DESCRIPTION'], rows, [
      'left',
      'left',
      'right',
      'right',
    ]),
  );
}

async function showSchema(name: string, opts: SchemasOptions): Promise<void> {
  const SchemaRegistry = await registry();
  const schema = SchemaRegistry.get(name);
  if (schema === undefined) {
    const known = SchemaRegistry.listSchemas().flatMap((n) => [n, ...SchemaRegistry.require(n).aliases]);
    throw new UsageError(`unknown schema ${JSON.stringify(name)}; known: ${known.join(', ')}`);
  }
  const columns = schema.columnInfo.map((c) => ({ name: c.name, arrow_type: c.arrowType, nullable: c.nullable }));
  if (opts.json) {
    await writeOut(encodeJson({ ...summary(SchemaRegistry, schema.fullName), columns }) + '\n');
    return;
  }
  const head =
    `${schema.fullName} — ${schema.tier}, version ${schema.version}, ${columns.length} columns` +
    `${schema.aliases.length > 0 ? ` (alias ${schema.aliases.join(', ')})` : ''}\n${schema.description}\n\n`;
  const rows = columns.map((c, i) => [String(i + 1), c.name, c.arrow_type, c.nullable ? 'yes' : 'no']);
  await writeOut(head + formatTable(['#', 'COLUMN', 'ARROW TYPE', 'NULLABLE'], rows, ['right']));
}

export function registerSchemas(program: Command): void {
  program
    .command('schemas')
    .description("list the registered schemas, or one schema's columns (name, Arrow type, nullable)")
    .argument('[NAME]', 'full schema name or alias, e.g. futures.trades.v1')
    .option('--json', 'machine output: one JSON object per schema (NDJSON), or the schema with its columns')
    .addHelpText(
      'after',
      examples('levelflow schemas', 'levelflow schemas futures.mbp10.v1', 'levelflow schemas levels.signals.v1 --json'),
    )
    .action(async (name: string | undefined, opts: SchemasOptions) => {
      if (name === undefined) await listSchemas(opts);
      else await showSchema(name, opts);
    });
}
