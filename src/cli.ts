/**
 * The `levelflow` command. Exit codes: 0 success, 1 failure, 2 bad usage or configuration.
 *
 * Each command lives in src/pipelines/commands/<name>.ts and registers itself here; errors come back to `main`, which
 * turns them into one line on stderr and the exit code.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from './common/config.js';
import { encodeJson } from './common/json.js';
import { CommandError, UsageError } from './pipelines/commands/common.js';
import { registerConfig } from './pipelines/commands/config.js';
import { registerDbn } from './pipelines/commands/dbn.js';
import { registerQuery } from './pipelines/commands/query.js';
import { registerCore } from './pipelines/commands/core.js';
import { registerIngest } from './pipelines/commands/ingest.js';
import { registerLake } from './pipelines/commands/lake.js';
import { registerRun } from './pipelines/commands/run.js';
import { registerRuns } from './pipelines/commands/runs.js';
import { registerSchemas } from './pipelines/commands/schemas.js';
import { registerSim } from './pipelines/commands/sim.js';

/** Commander's own messages (`error: unknown option '--x'`) reworded as one line naming the command's help. */
function oneLineErrors(command: Command, path: string): void {
  command.configureOutput({
    outputError: (text, write) => write(`levelflow: ${text.trim().replace(/^error: /, '')} (see '${path} --help')\n`),
  });
  for (const sub of command.commands) oneLineErrors(sub, `${path} ${sub.name()}`);
}

export function buildProgram(): Command {
  const program = new Command('levelflow')
    .description('Tells ES futures traders whether each nearby price level is about to BREAK or REJECT.')
    .exitOverride()
    .addHelpText('after', '\nExit codes: 0 success, 1 failure, 2 bad usage or configuration.');

  registerRun(program);
  registerIngest(program);
  registerCore(program);
  registerLake(program);
  registerConfig(program);
  registerSchemas(program);
  registerDbn(program);
  registerSim(program);
  registerQuery(program);
  registerRuns(program);

  oneLineErrors(program, 'levelflow');
  return program;
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof UsageError || err instanceof ConfigError) return 2;
  return 1;
}

async function main(argv: string[]): Promise<number> {
  // `levelflow dbn big.dbn | head`: the reader left, which is no failure of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const code = exitCodeOf(err);
    if (!(err instanceof CommanderError)) {
      const message = err instanceof Error ? err.message : encodeJson(err);
      // A user gets one line; a maintainer chasing an unexpected error asks for its stack with LOG_LEVEL=debug.
      const debug = /^(debug|trace)$/.test(process.env['LOG_LEVEL'] ?? '');
      const expected = err instanceof UsageError || err instanceof CommandError || err instanceof ConfigError;
      const text = debug && !expected && err instanceof Error ? (err.stack ?? message) : message.replaceAll('\n', ' ');
      process.stderr.write(`levelflow: ${text}\n`);
    }
    return code;
  }
}

process.exitCode = await main(process.argv);
