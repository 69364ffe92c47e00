/** `levelflow config`: the effective configuration, secrets redacted. */
import type { Command } from 'commander';
import { CONFIG, redactConfig } from '../../common/config.js';
import { examples, writeOut } from './common.js';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('print the effective configuration as JSON (secrets redacted)')
    .addHelpText('after', examples('LEVELFLOW_CONFIG=my.json levelflow config', 'REPLAY_SPEED=0 levelflow config'))
    .action(async () => {
      await writeOut(JSON.stringify(redactConfig(CONFIG), null, 2) + '\n');
    });
}
