/**
 * The `levelflow` command. Exit codes: 0 success, 1 failure, 2 bad usage or configuration.
 */
import { Command, CommanderError } from 'commander';
import { CONFIG, redactConfig } from './common/config.js';
import { encodeJson } from './common/json.js';

export function buildProgram(): Command {
  const program = new Command('levelflow')
    .description('Tells ES futures traders whether each nearby price level is about to BREAK or REJECT.')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('config')
    .description('print the effective configuration as JSON (secrets redacted)')
    .addHelpText('after', '\nExample:\n  LEVELFLOW_CONFIG=my.json levelflow config')
    .action(() => {
      process.stdout.write(JSON.stringify(redactConfig(CONFIG), null, 2) + '\n');
    });

  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`levelflow: ${err instanceof Error ? err.message : encodeJson(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
