/**
 * The market-event sources a job can read — the seeded simulator, Databento DBN files, or the Bronze lake — as
 * pulled batches in canonical order, unpaced (jobs apply `paced` once, whatever the source).
 */
import type { Config } from '../common/config.js';
import type { MarketEvent } from '../common/event-types.js';
import { nyDate, nyWallTimeToNs } from '../common/time.js';
import { dbnEvents } from '../streams/dbn-events.js';
import { replayBronze } from '../streams/replay.js';
import { SIM_DEFAULTS, simulateMarket } from '../streams/sim.js';
import type { SimOptions } from '../streams/sim.js';

export type RunSource =
  | { readonly kind: 'sim'; readonly sim: SimOptions }
  | { readonly kind: 'dbn'; readonly files: readonly string[] }
  | { readonly kind: 'replay'; readonly from: string; readonly to: string };

const SIM_BATCH = 4096;

/** Batches of a synchronous iterable, yielding to the event loop between them so signals and acks get through. */
async function* batched<T>(items: Iterable<T>, size = SIM_BATCH): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The source's events in canonical order, unpaced. */
export function marketBatches(
  source: RunSource,
  config: Config,
  dataRoot: string,
): AsyncIterable<readonly MarketEvent[]> {
  switch (source.kind) {
    case 'sim':
      return batched(simulateMarket(source.sim));
    case 'dbn':
      return dbnEvents(source.files, { allContracts: config.REPLAY_ALL_CONTRACTS });
    case 'replay':
      // Pacing is applied once, by `paced`, for every kind of source.
      return replayBronze({ dataRoot, from: source.from, to: source.to, speed: 0 });
  }
}

/** The event-time span the source will cover, when it is known up front (for progress). */
export function sourceSpan(source: RunSource, config: Config): [bigint, bigint] | null {
  if (source.kind === 'sim') {
    const s = source.sim.start ?? SIM_DEFAULTS.start;
    const start = typeof s === 'bigint' ? s : BigInt(Date.parse(s)) * 1_000_000n;
    const minutes = source.sim.durationMinutes ?? SIM_DEFAULTS.durationMinutes;
    const end = start + BigInt(Math.round(minutes * 60_000)) * 1_000_000n;
    if (!(source.sim.premarket ?? SIM_DEFAULTS.premarket)) return [start, end];
    const pm = nyWallTimeToNs(nyDate(start), config.PREMARKET_START_HOUR * 60 + config.PREMARKET_START_MINUTE);
    return [pm < start ? pm : start, end];
  }
  if (source.kind === 'replay') {
    return [
      BigInt(Date.parse(`${source.from}T00:00:00Z`)) * 1_000_000n,
      BigInt(Date.parse(`${source.to}T24:00:00Z`)) * 1_000_000n,
    ];
  }
  return null;
}
