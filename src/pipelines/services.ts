/**
 * What the NATS services (`ingest`, `core`, `lake`) share: a pino logger, a run manifest that ends COMPLETED,
 * STOPPED or CRASHED, a bus whose connection changes are logged, and a graceful shutdown.
 *
 * Shutdown differs from `installLifecycleHooks` (which exits with 128 + the signal number at once) on purpose: a
 * service asked to stop by SIGINT/SIGTERM is a normal end for a supervisor (systemd, Kubernetes), so the first signal
 * only tells the service body to stop — it stops pulling, drains its in-flight publishes or flushes its files — and
 * the process exits 0 with the run STOPPED. A second signal exits at once (130/143), leaving the run `started` for
 * `levelflow runs crashed` to report, exactly like a kill.
 */
import { constants as osConstants } from 'node:os';
import { NATSBus, connectionSettings } from '../common/bus.js';
import { redactUrl } from '../common/config.js';
import type { Config } from '../common/config.js';
import { createLogger } from '../common/log.js';
import type { Logger } from '../common/log.js';
import { RunManifestManager } from '../common/run-manifest.js';
import type { RunMode, RunStatus } from '../common/run-manifest.js';
import type { JetStreamPublisher } from '../sinks/nats.js';
import { CommandError } from './commands/common.js';

/**
 * Attempts per publish before a service gives up: with the publisher's backoff (250 ms doubling, capped at 5 s) this
 * rides out a NATS outage of about five minutes; the bus itself reconnects forever.
 */
export const SERVICE_PUBLISH_RETRIES = 64;

/** Wall-clock interval of a service's status log line. */
export const STATUS_EVERY_MS = 10_000;

export interface ServiceContext {
  readonly name: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly manifest: RunManifestManager;
  readonly runId: string;
  /** Resolves with the signal when SIGINT or SIGTERM asks the service to stop. */
  readonly stopRequested: Promise<NodeJS.Signals>;
}

export interface ServiceOptions {
  /** `ingest`, `core`, `lake`: the logger's name and the manifest's owner. */
  readonly name: string;
  readonly mode: RunMode;
  readonly config: Config;
  /** Lake root that holds `_meta/runs` (default the config's `DATA_ROOT`). */
  readonly dataRoot?: string;
  /** Default: a pino logger named `levelflow-{name}` on stderr. */
  readonly logger?: Logger;
  /**
   * The CLI's setting: once the body has finished, exit even if a library still holds a handle (never in-process
   * callers such as tests).
   */
  readonly exitWhenDone?: boolean;
}

/** How a service body ended; a thrown error marks the run CRASHED instead. */
export type ServiceOutcome = typeof RunStatus.COMPLETED | typeof RunStatus.STOPPED;

/**
 * Run a service body under a run manifest and the signal handling above. Resolves when the body has finished (the
 * caller returns and the process exits 0); rejects with the body's error after marking the run CRASHED.
 */
export async function runService(
  options: ServiceOptions,
  body: (ctx: ServiceContext) => Promise<ServiceOutcome>,
): Promise<void> {
  const logger = options.logger ?? createLogger(`levelflow-${options.name}`);
  const manifest = new RunManifestManager(options.dataRoot ?? options.config.DATA_ROOT, options.mode, {
    config: options.config,
    logger,
  });
  const runId = manifest.startRun();
  logger.info({ runId, mode: options.mode, dataRoot: manifest.dataRoot, pid: process.pid }, `${options.name} started`);

  let requestStop: (signal: NodeJS.Signals) => void = () => undefined;
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => (requestStop = resolve));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without a clean shutdown');
      process.exit(128 + (osConstants.signals[signal] ?? 0));
    }
    stopping = true;
    logger.info({ signal }, `${options.name} stopping`);
    requestStop(signal);
  };
  const onCrash = (err: unknown): void => {
    manifest.markCrashed(describe(err));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtExceptionMonitor', onCrash);
  try {
    const outcome = await body({ name: options.name, config: options.config, logger, manifest, runId, stopRequested });
    manifest.completeRun(outcome);
    logger.info({ runId, status: outcome }, `${options.name} ${outcome}`);
  } catch (err) {
    manifest.markCrashed(describe(err));
    logger.error({ runId, err: err instanceof Error ? err.message : String(err) }, `${options.name} failed`);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtExceptionMonitor', onCrash);
    // The body closed what it opened; should a library keep a handle alive anyway, a finished service must still
    // exit. Unref'd, so it never delays an exit that happens on its own; process.exit() keeps process.exitCode.
    if (options.exitWhenDone) setTimeout(() => process.exit(), 5_000).unref();
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/**
 * A connected bus whose state changes (disconnect, reconnect) go to the service log. A server that cannot be reached
 * at start is a one-line failure (exit 1); once connected, the bus reconnects forever.
 */
export async function connectServiceBus(ctx: ServiceContext): Promise<NATSBus> {
  const settings = connectionSettings(ctx.config);
  const bus = new NATSBus(settings, { logger: ctx.logger, runId: ctx.runId });
  try {
    await bus.connect();
  } catch (err) {
    const where = settings.servers.map(redactUrl).join(',');
    throw new CommandError(`cannot use NATS at ${where}: ${(err as Error).message}`, { cause: err });
  }
  return bus;
}

/**
 * Resolves once nothing is in flight and every publish's own continuation (counting, acking what it covered) has
 * run: those are promise reactions queued after the publisher went idle, and a macrotask turn runs them all first.
 */
export async function drainPublisher(publisher: JetStreamPublisher): Promise<void> {
  await publisher.drain();
  await new Promise((resolve) => setImmediate(resolve));
}

/** Calls `log` every `everyMs` until the returned function is called. */
export function every(everyMs: number, log: () => void): () => void {
  const timer = setInterval(log, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
