/**
 * What every `levelflow` command shares: the usage error that maps to exit code 2, option parsers whose failures are
 * usage errors, stdout writes that respect backpressure, and aligned text tables.
 */
import { existsSync, statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/** Bad usage or configuration a user can fix: the CLI prints the message alone and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure worth one line on stderr without a stack trace (exit code 1): a missing file, bad SQL, an unknown run. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** Example lines for `--help`, in commander's "after" slot. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

export function nonNegativeInt(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('Must be a non-negative integer.');
  return n;
}

export function safeInt(value: string): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('Must be an integer.');
  return n;
}

export function finiteNumber(value: string): number {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('Must be a number.');
  return n;
}

/** A `--data-root` that does not exist is almost always a typo; an empty lake would hide it. */
export function existingDirectory(value: string): string {
  if (!existsSync(value) || !statSync(value).isDirectory()) throw new InvalidArgumentError('Not a directory.');
  return value;
}

/** One line for an fs error: `cannot open x.dbn: no such file or directory`. */
export function describeFsError(verb: string, file: string, err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent is not a directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
  };
  const reason = code === undefined ? undefined : reasons[code];
  return reason === undefined ? null : `cannot ${verb} ${file}: ${reason}`;
}

/**
 * Write to a stream, waiting for 'drain' when its buffer is full, so a big output piped into a slow reader stays in
 * bounded memory. A destroyed stream (EPIPE) resolves at once: the process-level handler ends the process.
 */
export async function writeOut(text: string, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (out.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
  });
}

/** Batches small lines into large writes; `flush()` at the end. */
export class LineWriter {
  private buf = '';
  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly threshold = 64 * 1024,
  ) {}

  async line(text: string): Promise<void> {
    this.buf += text + '\n';
    if (this.buf.length >= this.threshold) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buf === '') return;
    const text = this.buf;
    this.buf = '';
    await writeOut(text, this.out);
  }
}

export type Align = 'left' | 'right';

/**
 * Rows as an aligned text table: a header, a dashed rule, then the rows; columns two spaces apart, numbers
 * right-aligned, and no trailing spaces (so the output diffs and greps cleanly).
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const widths = headers.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), h.length));
  const last = headers.length - 1;
  const render = (cells: readonly string[]): string =>
    cells
      .map((c, i) => {
        const width = widths[i] ?? 0;
        if (align[i] === 'right') return c.padStart(width);
        return i === last ? c : c.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const lines = [render(headers), render(widths.map((w) => '-'.repeat(w))), ...rows.map(render)];
  return lines.join('\n') + '\n';
}

/** `1234567` → `1,234,567`, for summaries a person reads (tables keep raw digits so they stay machine-friendly). */
export function grouped(n: number | bigint): string {
  return n.toLocaleString('en-US');
}
