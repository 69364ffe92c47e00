/** `levelflow dbn FILE`: a Databento DBN file's metadata and records as NDJSON (format: src/streams/dbn/print.ts). */
import { Option, type Command } from 'commander';
import type { DbnVersion } from '../../streams/dbn/index.js';
import { CommandError, describeFsError, examples, nonNegativeInt } from './common.js';

interface DbnOptions {
  readonly limit?: number;
  readonly fragmentVersion?: string;
}

export async function dbnCommand(file: string, opts: DbnOptions): Promise<void> {
  const { DbnError, printDbn } = await import('../../streams/dbn/index.js');
  try {
    await printDbn(file, process.stdout, {
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.fragmentVersion !== undefined ? { fragmentVersion: Number(opts.fragmentVersion) as DbnVersion } : {}),
    });
  } catch (err) {
    if (err instanceof DbnError) {
      // The decoder speaks to API callers; on the command line the knob is the option.
      throw new CommandError(err.message.replace('pass fragmentVersion', 'use --fragment-version 1|2|3'), {
        cause: err,
      });
    }
    const line = describeFsError('read', file, err);
    if (line !== null) throw new CommandError(line, { cause: err });
    throw err;
  }
}

export function registerDbn(program: Command): void {
  program
    .command('dbn')
    .description("print a DBN file's metadata and records as NDJSON (plain or zstd, DBN v1–v3)")
    .argument('FILE', 'a .dbn or .dbn.zst file, or a header-less fragment with --fragment-version')
    .option('--limit <N>', 'print at most N records (the metadata line is always printed)', nonNegativeInt)
    .addOption(
      new Option('--fragment-version <V>', 'read a header-less fragment written with this DBN version').choices([
        '1',
        '2',
        '3',
      ]),
    )
    .addHelpText(
      'after',
      '\nOutput: line 1 is the metadata, then one record per line; prices are raw integer strings plus a 9-digit\n' +
        '`<field>_dec` decimal, timestamps are integer ns strings. A damaged file prints every good record, then\n' +
        'the error on stderr (exit 1).\n' +
        examples(
          'levelflow dbn ../shared/data/dbn/test_data.trades.dbn',
          'levelflow dbn session.dbn.zst --limit 5 | jq .',
          'levelflow dbn ../shared/data/dbn/test_data.definition.v3.dbn.frag --fragment-version 3',
        ),
    )
    .action(async (file: string, opts: DbnOptions) => {
      await dbnCommand(file, opts);
    });
}
