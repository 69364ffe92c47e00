/**
 * Run the real `levelflow` CLI as a child process. Children run a few at a time: a tsx start costs ~0.4 s of CPU,
 * and running them side by side keeps test files fast on a 2-core machine.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Lake root for the child (`DATA_ROOT`). */
  readonly dataRoot: string;
  readonly cwd?: string;
  readonly maxBuffer?: number;
}

const MAX_CHILDREN = 4;
let running = 0;
const waiting: (() => void)[] = [];

/** Run `file argv…` with `DATA_ROOT` set and no `LEVELFLOW_CONFIG`, at most four at a time. */
export function execLimited(file: string, argv: readonly string[], options: ExecOptions): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_ROOT: options.dataRoot };
  delete env['LEVELFLOW_CONFIG'];
  return new Promise((resolve) => {
    const start = (): void => {
      running++;
      execFile(
        file,
        argv,
        { cwd: options.cwd ?? repoRoot, env, maxBuffer: options.maxBuffer ?? 64 << 20 },
        (err, stdout, stderr) => {
          running--;
          waiting.shift()?.();
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
        },
      );
    };
    if (running < MAX_CHILDREN) start();
    else waiting.push(start);
  });
}

/** `levelflow args…` through tsx. */
export function runCli(args: readonly string[], options: ExecOptions): Promise<CliRun> {
  return execLimited(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], options);
}

/** A usage error or failure is one line naming the problem, never a stack trace. */
export function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr.trimEnd()).toMatch(pattern);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}
