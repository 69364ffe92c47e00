/**
 * Canonical market events (SEED.md §1, DATA.md §1). Plain objects on the hot path: an event carries exactly the
 * fields of its schema, so it serialises to the wire and to Parquet as is. Timestamps and `seq` are `bigint`
 * (epoch nanoseconds exceed 2^53). Validation lives in the schema registry, not here.
 */

/** Origin of an event; the string values are the wire values. */
export const EventSource = {
  DIRECT_FEED: 'direct_feed',
  REPLAY: 'replay',
  SIM: 'sim',
} as const;
export type EventSource = (typeof EventSource)[keyof typeof EventSource];
export const EVENT_SOURCES: readonly EventSource[] = Object.values(EventSource);

/** Initiating side of a print; integer wire values. */
export const Aggressor = {
  BUY: 1,
  SELL: -1,
  MID: 0,
} as const;
export type Aggressor = (typeof Aggressor)[keyof typeof Aggressor];

/** Fields every event carries. */
export interface EventEnvelope {
  /** Exchange/vendor event time, Unix ns UTC: the ordering key. */
  ts_event_ns: bigint;
  /** Receive time, Unix ns UTC (defaults to `ts_event_ns` when the input has none). */
  ts_recv_ns: bigint;
  source: EventSource;
}

/** An ES futures print (`futures.trades.v1`, subject `market.futures.trades`). */
export interface FuturesTrade extends EventEnvelope {
  symbol: string;
  price: number;
  size: number;
  aggressor: Aggressor;
  exchange: string | null;
  conditions: number[] | null;
  /** Vendor sequence; not unique (one packet may carry several prints). */
  seq: bigint | null;
}

/** One depth level of an MBP-10 image; `0` price and size mean an empty level. */
export interface BidAskLevel {
  bid_px: number;
  bid_sz: number;
  ask_px: number;
  ask_sz: number;
}

/** Top-10 book image after one book event (`futures.mbp10.v1`, subject `market.futures.mbp10`). */
export interface MBP10 extends EventEnvelope {
  symbol: string;
  /** Index 0 is the best level; at most 10. */
  levels: BidAskLevel[];
  is_snapshot: boolean;
  seq: bigint | null;
}

/** An ES option print (`options.trades.v1`, subject `market.options.trades`). */
export interface OptionTrade extends EventEnvelope {
  underlying: string;
  option_symbol: string;
  /** Expiry date `YYYY-MM-DD`. */
  exp_date: string;
  strike: number;
  right: 'C' | 'P';
  price: number;
  size: number;
  opt_bid: number | null;
  opt_ask: number | null;
  aggressor: Aggressor;
  conditions: number[] | null;
  seq: bigint | null;
}

export type MarketEvent = FuturesTrade | MBP10 | OptionTrade;

/** The kind of a market event, named after its Bronze schema. */
export type MarketEventKind = 'futures.trades' | 'futures.mbp10' | 'options.trades';

/*
 * Narrowing is structural, so an event needs no tag field that would leak onto the wire: `levels` exists only on
 * MBP10 and `option_symbol` only on OptionTrade. Each guard is one `in` check.
 */
export function isMbp10(e: MarketEvent): e is MBP10 {
  return 'levels' in e;
}
export function isOptionTrade(e: MarketEvent): e is OptionTrade {
  return 'option_symbol' in e;
}
export function isFuturesTrade(e: MarketEvent): e is FuturesTrade {
  return !('levels' in e) && !('option_symbol' in e);
}

export function eventKind(e: MarketEvent): MarketEventKind {
  if ('levels' in e) return 'futures.mbp10';
  if ('option_symbol' in e) return 'options.trades';
  return 'futures.trades';
}

/** Merge rank among events with equal timestamps (DATA.md §6.4): trade 0 < option 1 < mbp10 2. */
export function eventRank(e: MarketEvent): number {
  if ('levels' in e) return 2;
  if ('option_symbol' in e) return 1;
  return 0;
}

/**
 * Canonical order (ENGINES.md §17, DATA.md §6.4): `ts_event_ns`, then `ts_recv_ns`, then `seq` (a missing `seq` sorts
 * after any present one), then the kind rank. Equal results keep arrival order, so sort with a stable sort.
 */
export function compareEvents(a: MarketEvent, b: MarketEvent): number {
  if (a.ts_event_ns !== b.ts_event_ns) return a.ts_event_ns < b.ts_event_ns ? -1 : 1;
  if (a.ts_recv_ns !== b.ts_recv_ns) return a.ts_recv_ns < b.ts_recv_ns ? -1 : 1;
  if (a.seq !== b.seq) {
    if (a.seq === null) return 1;
    if (b.seq === null) return -1;
    return a.seq < b.seq ? -1 : 1;
  }
  return eventRank(a) - eventRank(b);
}

/** Map a vendor side to an aggressor: `B`/BUY → 1, `A`/SELL → −1, anything else → 0 (DATA.md §1.1). */
export function aggressorFromSide(side: string | number | null | undefined): Aggressor {
  switch (side) {
    case 'B':
    case 'BUY':
    case 'buy':
    case 1:
      return Aggressor.BUY;
    case 'A':
    case 'SELL':
    case 'sell':
    case -1:
      return Aggressor.SELL;
    default:
      return Aggressor.MID;
  }
}

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** Build a FuturesTrade with the schema's defaults (`ts_recv_ns` = `ts_event_ns`, aggressor MID, nulls). */
export function futuresTrade(
  f: Optional<FuturesTrade, 'ts_recv_ns' | 'aggressor' | 'exchange' | 'conditions' | 'seq'>,
): FuturesTrade {
  return {
    ts_event_ns: f.ts_event_ns,
    ts_recv_ns: f.ts_recv_ns ?? f.ts_event_ns,
    source: f.source,
    symbol: f.symbol,
    price: f.price,
    size: f.size,
    aggressor: f.aggressor ?? Aggressor.MID,
    exchange: f.exchange ?? null,
    conditions: f.conditions ?? null,
    seq: f.seq ?? null,
  };
}

/** Build an MBP10 with the schema's defaults (`is_snapshot` false, `seq` null). */
export function mbp10(f: Optional<MBP10, 'ts_recv_ns' | 'is_snapshot' | 'seq'>): MBP10 {
  return {
    ts_event_ns: f.ts_event_ns,
    ts_recv_ns: f.ts_recv_ns ?? f.ts_event_ns,
    source: f.source,
    symbol: f.symbol,
    levels: f.levels,
    is_snapshot: f.is_snapshot ?? false,
    seq: f.seq ?? null,
  };
}

/** Build an OptionTrade with the schema's defaults. */
export function optionTrade(
  f: Optional<OptionTrade, 'ts_recv_ns' | 'aggressor' | 'opt_bid' | 'opt_ask' | 'conditions' | 'seq'>,
): OptionTrade {
  return {
    ts_event_ns: f.ts_event_ns,
    ts_recv_ns: f.ts_recv_ns ?? f.ts_event_ns,
    source: f.source,
    underlying: f.underlying,
    option_symbol: f.option_symbol,
    exp_date: f.exp_date,
    strike: f.strike,
    right: f.right,
    price: f.price,
    size: f.size,
    opt_bid: f.opt_bid ?? null,
    opt_ask: f.opt_ask ?? null,
    aggressor: f.aggressor ?? Aggressor.MID,
    conditions: f.conditions ?? null,
    seq: f.seq ?? null,
  };
}

export const EMPTY_LEVEL: Readonly<BidAskLevel> = Object.freeze({ bid_px: 0, bid_sz: 0, ask_px: 0, ask_sz: 0 });
