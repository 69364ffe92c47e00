/**
 * Structured logs (pino) to stderr, so stdout stays free for command output (NDJSON, tables). `LOG_LEVEL` sets the
 * level (default info); secrets never reach a log line because every logged config is the redacted view.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name, level, base: { service: name } }, pino.destination({ fd: 2, sync: false }));
}
