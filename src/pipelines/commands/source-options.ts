/**
 * The source options `run` and `ingest` share: `--dbn FILE…`, `--sim [--sim-seed N --sim-minutes M]`,
 * `--replay --from D [--to D]`. One definition so both commands accept and reject the same things.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { RunSource } from '../sources.js';
import { UsageError, finiteNumber, safeInt } from './common.js';

export interface SourceCliOptions {
  readonly dbn?: string[];
  readonly sim?: boolean;
  readonly simSeed?: number;
  readonly simMinutes?: number;
  readonly replay?: boolean;
  readonly from?: string;
  readonly to?: string;
}

export function addSourceOptions(command: Command): Command {
  return command
    .option('--dbn <FILE...>', 'Databento DBN files (plain or .zst), merged in event order')
    .option('--sim', "the simulator's seeded session")
    .option('--sim-seed <N>', 'simulator seed (default 42; implies --sim)', safeInt)
    .option('--sim-minutes <M>', 'simulated minutes after 09:25 ET (default 30; implies --sim)', finiteNumber)
    .option('--replay', 'replay the Bronze lake (with --from/--to)')
    .option('--from <DATE>', 'first date to replay, YYYY-MM-DD')
    .option('--to <DATE>', 'last date to replay, YYYY-MM-DD (default: --from)');
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function date(flag: string, value: string | undefined): string {
  if (value === undefined) throw new UsageError(`--replay needs ${flag} YYYY-MM-DD`);
  if (!DATE.test(value) || !Number.isFinite(Date.parse(`${value}T00:00:00Z`))) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a date YYYY-MM-DD`);
  }
  return value;
}

/** The chosen source; with none chosen, the simulator when `defaultToSim`, else a usage error. */
export function parseSource(o: SourceCliOptions, defaultToSim: boolean): RunSource {
  const sim = o.sim === true || o.simSeed !== undefined || o.simMinutes !== undefined;
  const chosen = [o.dbn !== undefined, sim, o.replay === true].filter(Boolean).length;
  if (chosen === 0 && !defaultToSim)
    throw new UsageError('choose a source: --dbn FILE…, --sim or --replay --from DATE');
  if (chosen > 1) throw new UsageError('choose one source: --dbn FILE…, --sim or --replay');
  if ((o.from !== undefined || o.to !== undefined) && !o.replay) throw new UsageError('--from/--to go with --replay');
  if (o.dbn !== undefined) {
    for (const f of o.dbn) if (!existsSync(f)) throw new UsageError(`--dbn ${f}: no such file`);
    return { kind: 'dbn', files: o.dbn };
  }
  if (o.replay) {
    const from = date('--from', o.from);
    const to = date('--to', o.to ?? o.from);
    if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
    return { kind: 'replay', from, to };
  }
  if (o.simMinutes !== undefined && !(o.simMinutes > 0 && o.simMinutes <= 1440)) {
    throw new UsageError('--sim-minutes must be in (0, 1440]');
  }
  return {
    kind: 'sim',
    sim: {
      ...(o.simSeed !== undefined ? { seed: o.simSeed } : {}),
      ...(o.simMinutes !== undefined ? { durationMinutes: o.simMinutes } : {}),
    },
  };
}
