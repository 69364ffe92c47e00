/**
 * `levelflow sim`: the seeded ES session of src/streams/sim.ts, as lossless NDJSON on stdout or exported to a file
 * (DBN through the encoder, so it reads back with `levelflow dbn` and `levelflow run --dbn`).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { eventKind, type MarketEvent, type MarketEventKind } from '../../common/event-types.js';
import { encodeJson } from '../../common/json.js';
import type { SimOptions } from '../../streams/sim.js';
import {
  CommandError,
  LineWriter,
  UsageError,
  describeFsError,
  examples,
  finiteNumber,
  grouped,
  safeInt,
} from './common.js';

interface SimCliOptions {
  readonly seed?: number;
  readonly minutes?: number;
  readonly start?: string;
  readonly price?: number;
  readonly symbol?: string;
  readonly episodes: boolean;
  readonly premarket: boolean;
  readonly out?: string;
  readonly ndjson?: boolean;
}

const KINDS: readonly MarketEventKind[] = ['futures.trades', 'futures.mbp10', 'options.trades'];

/** Progress runs to this many steps; a DBN export spends the first half simulating, the second encoding. */
const STEPS = 1000;
/** Redraw no more often than every this many events: a redraw costs more than simulating a few thousand events. */
const TICK = 4096;

function isoInstant(value: string): string {
  if (!Number.isFinite(Date.parse(value)))
    throw new UsageError(`--start ${JSON.stringify(value)} is not an ISO-8601 instant`);
  return value;
}

// The simulator pulls in RxJS; loaded on use so that other commands start fast.
const simModule = () => import('../../streams/sim.js');

/**
 * The simulator's options, defaults from SIM_DEFAULTS. Checked here, before any output, so a bad value is a usage
 * error (exit 2) and not a half-written file.
 */
async function simOptions(o: SimCliOptions): Promise<SimOptions> {
  const { SIM_DEFAULTS, simulateMarket } = await simModule();
  const minutes = o.minutes ?? SIM_DEFAULTS.durationMinutes;
  const price = o.price ?? SIM_DEFAULTS.startPrice;
  if (!(minutes > 0 && minutes <= 1440)) throw new UsageError(`--minutes ${minutes} must be in (0, 1440]`);
  if (!(price >= 100)) throw new UsageError(`--price ${price} must be at least 100`);
  const opts: SimOptions = {
    seed: o.seed ?? SIM_DEFAULTS.seed,
    start: isoInstant(o.start ?? SIM_DEFAULTS.start),
    durationMinutes: minutes,
    startPrice: price,
    episodes: o.episodes,
    premarket: o.premarket,
    ...(o.symbol !== undefined ? { symbol: o.symbol } : {}),
  };
  try {
    simulateMarket(opts);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  return opts;
}

type OutFormat = 'dbn' | 'ndjson';

function outFormat(file: string, ndjson: boolean): OutFormat {
  if (ndjson || /\.(nd)?jsonl?$/i.test(file)) return 'ndjson';
  if (/\.dbn(\.zst)?$/.test(file)) return 'dbn';
  throw new UsageError(`--out ${JSON.stringify(file)} must end in .dbn or .dbn.zst (or .ndjson, or pass --ndjson)`);
}

/** A bar on stderr when it is a terminal; a no-op otherwise, so logs and pipes get no control characters. */
class Progress {
  private constructor(private readonly bar: SingleBar | null) {}

  static async create(enabled: boolean): Promise<Progress> {
    if (!enabled) return new Progress(null);
    const { SingleBar } = await import('cli-progress');
    const bar = new SingleBar({
      format: 'sim |{bar}| {percentage}% | {events} events | {phase}',
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
    });
    bar.start(STEPS, 0, { events: '0', phase: 'simulating' });
    return new Progress(bar);
  }

  update(fraction: number, events: number, phase: string): void {
    this.bar?.update(Math.round(Math.min(1, Math.max(0, fraction)) * STEPS), { events: grouped(events), phase });
  }

  stop(): void {
    this.bar?.stop();
  }
}

/**
 * The session's events, counted per kind, reporting how far through the session they are. The fraction follows event
 * time from `--start`, where the dense part begins (the premarket before it is sparse): the length of the session is
 * known up front, its event count is not.
 */
function* tracked(
  session: Iterable<MarketEvent>,
  opts: SimOptions,
  counts: Map<MarketEventKind, number>,
  onTick: (fractionOfSession: number, n: number) => void,
): Generator<MarketEvent> {
  const startNs = BigInt(Date.parse(String(opts.start))) * 1_000_000n;
  const spanNs = Number(BigInt(Math.round((opts.durationMinutes ?? 1) * 60e9)));
  let n = 0;
  for (const e of session) {
    const kind = eventKind(e);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    if (++n % TICK === 0) onTick(Number(e.ts_event_ns - startNs) / spanNs, n);
    yield e;
  }
}

async function exportSession(opts: SimOptions, file: string, format: OutFormat): Promise<void> {
  const [{ simulateMarket }, { writeEventsAsDbn }] = await Promise.all([
    simModule(),
    import('../../streams/market-to-dbn.js'),
  ]);
  const session = simulateMarket(opts);
  const target = path.resolve(file);
  // Written under a temporary name and renamed when complete, so an interrupted export never looks like a session.
  const temp = path.join(path.dirname(target), `.tmp-${process.pid}-${path.basename(target)}`);
  const progress = await Progress.create(process.stderr.isTTY === true);
  const counts = new Map<MarketEventKind, number>();
  let bytes: number;
  let what: string;
  try {
    await mkdir(path.dirname(target), { recursive: true });
    if (format === 'dbn') {
      let pass = 0;
      let total = 0;
      // writeEventsAsDbn reads the session twice: once for the symbol mappings of the metadata, once to encode.
      const result = await writeEventsAsDbn(temp, () => {
        const p = ++pass;
        const passCounts = p === 1 ? counts : new Map<MarketEventKind, number>();
        return tracked(session, opts, passCounts, (fraction, n) => {
          if (p === 1) {
            total = n;
            progress.update(fraction / 2, n, 'simulating');
          } else progress.update(0.5 + n / Math.max(total, 1) / 2, n, 'encoding');
        });
      });
      bytes = result.bytes;
      what = `${grouped(result.records)} DBN records`;
    } else {
      const stream = createWriteStream(temp);
      const failed = new Promise<never>((_, reject) => stream.once('error', reject));
      const writer = new LineWriter(stream);
      const write = async (): Promise<void> => {
        for (const e of tracked(session, opts, counts, (fraction, n) => progress.update(fraction, n, 'writing'))) {
          await writer.line(encodeJson(e));
        }
        await writer.flush();
        await new Promise<void>((resolve, reject) =>
          stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
      };
      await Promise.race([write(), failed]);
      bytes = stream.bytesWritten;
      what = 'NDJSON';
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    const line = describeFsError('write', file, err);
    if (line !== null) throw new CommandError(line, { cause: err });
    throw err;
  } finally {
    progress.stop();
  }
  const events = [...counts.values()].reduce((a, b) => a + b, 0);
  const perKind = KINDS.map((k) => `${k} ${grouped(counts.get(k) ?? 0)}`).join(', ');
  process.stderr.write(
    `levelflow sim: ${grouped(events)} events (${perKind}) as ${what}, ${grouped(bytes)} bytes → ${target}\n`,
  );
}

async function printSession(opts: SimOptions): Promise<void> {
  const { simulateMarket } = await simModule();
  const writer = new LineWriter();
  for (const e of simulateMarket(opts)) await writer.line(encodeJson(e));
  await writer.flush();
}

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('simulate a seeded ES session (book, trades, 0DTE options, scripted episodes): NDJSON or a DBN file')
    // The defaults are SIM_DEFAULTS, spelled out so that `--help` need not load the simulator; a test keeps them equal.
    .option('--seed <N>', 'PRNG seed; the same seed gives byte-identical events (default: 42)', safeInt)
    .option('--minutes <M>', 'session length after --start, in minutes of event time (default: 30)', finiteNumber)
    .option('--start <ISO>', 'session start, an ISO-8601 instant (default: 2025-12-16T14:25:00Z)')
    .option('--price <P>', 'ES price at --start, rounded to the 0.25 tick (default: 6870)', finiteNumber)
    .option('--symbol <SYM>', 'futures contract (default: the front month of the session date, e.g. ESH6)')
    .option('--no-episodes', 'no scripted episodes (VACUUM, WALL, CONSUMED, WEAK) at the levels')
    .option('--no-premarket', 'skip the sparse 04:00 ET premarket before --start')
    .option('--out <FILE>', 'write to FILE instead of stdout: .dbn, .dbn.zst (zstd) or .ndjson')
    .option('--ndjson', 'write lossless NDJSON (bare-integer nanoseconds), also to --out whatever its name')
    .addHelpText(
      'after',
      "\nWithout --out the events go to stdout as NDJSON, one event per line with exactly its schema's fields.\n" +
        'With --out a one-line summary (events per kind, bytes, path) goes to stderr.\n' +
        examples(
          'levelflow sim --minutes 5 --out session.dbn.zst && levelflow dbn session.dbn.zst --limit 3',
          'levelflow sim --seed 7 --minutes 1 --no-premarket | head -3',
        ),
    )
    .action(async (o: SimCliOptions) => {
      const opts = await simOptions(o);
      if (o.out !== undefined) await exportSession(opts, o.out, outFormat(o.out, o.ndjson === true));
      else await printSession(opts);
    });
}
