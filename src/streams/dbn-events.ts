/**
 * Databento DBN files → market events (DATA.md §6.1–6.3).
 *
 * - Trades of a futures contract → `FuturesTrade` (price ÷ 1e9, side B/A/N → aggressor 1/−1/0, exchange `CME`,
 *   sequence → `seq`); MBP-10 → `MBP10` (first ten levels, the undefined price becomes an empty `0/0` level);
 *   trades of an option instrument → `OptionTrade` (strike, right, expiry and underlying from the instrument
 *   definition, never parsed from the symbol). Source `replay`.
 * - Symbols come from the metadata's symbol mappings (honouring their date ranges, since ids are reused) and from
 *   in-stream symbol-mapping records; an unknown id becomes `{root}_{id}`.
 * - One front-month contract per trading date (§6.3): a pre-scan of the trade files counts RTH activity per contract
 *   and date; futures events of any other contract are dropped, options must belong to the selected contract and, in
 *   v1, expire on the session date (0DTE).
 * - Each file is one pulled source; several files are merged in canonical order by `mergeByEventTime`.
 */
import { createReadStream } from 'node:fs';
import { nyDate } from '../common/time.js';
import { Aggressor, EventSource } from '../common/event-types.js';
import type { BidAskLevel, FuturesTrade, MarketEvent, MBP10, OptionTrade } from '../common/event-types.js';
import { ES_OUTRIGHT, FrontMonthSelector } from './contract.js';
import type { DateSelection } from './contract.js';
import { DbnDecoder, UNDEF_PRICE, UNDEF_TIMESTAMP } from './dbn/index.js';
import type { BidAskPair, DbnMetadata, DbnRecord, InstrumentDefMsg, TradeMsg } from './dbn/index.js';
import { mergeByEventTime } from './merge.js';

const PRICE_SCALE = 1e9;

/** What levelflow needs to know about an instrument, from its definition record. */
export interface Instrument {
  readonly instrument_id: number;
  readonly raw_symbol: string;
  readonly kind: 'future' | 'option' | 'other';
  /** Underlying contract of an option (e.g. `ESH1`). */
  readonly underlying: string | null;
  readonly strike: number | null;
  readonly right: 'C' | 'P' | null;
  /** Expiry date in New York, `YYYY-MM-DD`. */
  readonly exp_date: string | null;
}

export function instrumentFromDefinition(d: InstrumentDefMsg): Instrument {
  const cls = d.instrument_class;
  const isOption = cls === 'C' || cls === 'P';
  return {
    instrument_id: d.instrument_id,
    raw_symbol: d.raw_symbol,
    kind: isOption ? 'option' : cls === 'F' ? 'future' : 'other',
    underlying: isOption ? d.underlying || null : null,
    strike: isOption && d.strike_price !== UNDEF_PRICE ? Number(d.strike_price) / PRICE_SCALE : null,
    right: isOption ? cls : null,
    exp_date: d.expiration !== UNDEF_TIMESTAMP ? nyDate(d.expiration) : null,
  };
}

/** Instrument id → symbol over time, from metadata mappings and in-stream symbol-mapping records. */
export class SymbolTable {
  /** id → intervals `[startDate, endDate)` as YYYYMMDD numbers. */
  private readonly byId = new Map<number, { start: number; end: number; symbol: string }[]>();

  addMetadata(meta: DbnMetadata | null): void {
    if (!meta) return;
    for (const m of meta.mappings) {
      for (const iv of m.intervals) {
        const id = Number.parseInt(iv.symbol, 10);
        if (!Number.isSafeInteger(id)) continue;
        this.add(id, iv.start_date, iv.end_date, m.raw_symbol);
      }
    }
  }

  add(id: number, start: number, end: number, symbol: string): void {
    let list = this.byId.get(id);
    if (!list) this.byId.set(id, (list = []));
    list.push({ start, end, symbol });
  }

  /** The symbol of `id` on the UTC date of `ts` (DBN mapping dates are UTC days). */
  resolve(id: number, ts: bigint): string | null {
    const list = this.byId.get(id);
    if (!list) return null;
    if (list.length === 1) return list[0]!.symbol;
    const day = Number(new Date(Number(ts / 1_000_000n)).toISOString().slice(0, 10).replaceAll('-', ''));
    for (const iv of list) if (day >= iv.start && day < iv.end) return iv.symbol;
    return list[list.length - 1]!.symbol;
  }
}

export interface DbnEventOptions {
  /** Product root of the futures (default `ES`). */
  readonly root?: string;
  /** Keep every outright contract instead of one front month per date (REPLAY_ALL_CONTRACTS). */
  readonly allContracts?: boolean;
  /** Keep only options expiring on the session date (default true, v1). */
  readonly zeroDteOnly?: boolean;
  /** Inclusive event-time bounds. */
  readonly startNs?: bigint;
  readonly endNs?: bigint;
  /** Receives each date's contract choice. */
  readonly onSelection?: (s: DateSelection) => void;
}

function aggressor(side: string): Aggressor {
  return side === 'B' ? Aggressor.BUY : side === 'A' ? Aggressor.SELL : Aggressor.MID;
}

function level(p: BidAskPair): BidAskLevel {
  const bidUndef = p.bid_px === UNDEF_PRICE;
  const askUndef = p.ask_px === UNDEF_PRICE;
  return {
    bid_px: bidUndef ? 0 : Number(p.bid_px) / PRICE_SCALE,
    bid_sz: bidUndef ? 0 : p.bid_sz,
    ask_px: askUndef ? 0 : Number(p.ask_px) / PRICE_SCALE,
    ask_sz: askUndef ? 0 : p.ask_sz,
  };
}

/**
 * Maps decoded records to events, applying symbology, instrument definitions and the contract choice. One instance
 * is shared by all files of a replay so definitions from one file serve option trades in another.
 */
export class DbnEventMapper {
  readonly symbols = new SymbolTable();
  readonly instruments = new Map<number, Instrument>();
  private readonly selections = new Map<string, DateSelection>();
  private readonly root: string;
  dropped = 0;

  constructor(
    private readonly selector: FrontMonthSelector | null,
    private readonly options: DbnEventOptions = {},
  ) {
    this.root = options.root ?? 'ES';
  }

  private selection(date: string): DateSelection | null {
    if (!this.selector) return null;
    let s = this.selections.get(date);
    if (!s) {
      s = this.selector.select(date);
      this.selections.set(date, s);
      this.options.onSelection?.(s);
    }
    return s;
  }

  private symbolOf(id: number, ts: bigint): string {
    return this.instruments.get(id)?.raw_symbol ?? this.symbols.resolve(id, ts) ?? `${this.root}_${id}`;
  }

  private isSelectedFuture(symbol: string, ts: bigint): boolean {
    if (!ES_OUTRIGHT.test(symbol) || !symbol.startsWith(this.root)) return false;
    const s = this.selection(nyDate(ts));
    return s === null || s.contract === symbol;
  }

  private inRange(ts: bigint): boolean {
    return (
      (this.options.startNs === undefined || ts >= this.options.startNs) &&
      (this.options.endNs === undefined || ts <= this.options.endNs)
    );
  }

  /** Append the events of `records` to `out`. */
  map(records: readonly DbnRecord[], out: MarketEvent[]): void {
    for (const r of records) {
      switch (r.kind) {
        case 'definition':
          this.instruments.set(r.instrument_id, instrumentFromDefinition(r));
          break;
        case 'symbol_mapping':
          this.symbols.add(r.instrument_id, 0, 99_999_999, r.stype_out_symbol);
          break;
        case 'trade': {
          if (!this.inRange(r.ts_event)) break;
          const inst = this.instruments.get(r.instrument_id);
          if (inst?.kind === 'option') {
            const o = this.option(r, inst);
            if (o) out.push(o);
            else this.dropped++;
            break;
          }
          const symbol = this.symbolOf(r.instrument_id, r.ts_event);
          if (!this.isSelectedFuture(symbol, r.ts_event)) {
            this.dropped++;
            break;
          }
          out.push(this.trade(r, symbol));
          break;
        }
        case 'mbp10': {
          if (!this.inRange(r.ts_event)) break;
          const symbol = this.symbolOf(r.instrument_id, r.ts_event);
          if (!this.isSelectedFuture(symbol, r.ts_event)) {
            this.dropped++;
            break;
          }
          const e: MBP10 = {
            ts_event_ns: r.ts_event,
            ts_recv_ns: r.ts_recv,
            source: EventSource.REPLAY,
            symbol,
            levels: r.levels.slice(0, 10).map(level),
            is_snapshot: false,
            seq: BigInt(r.sequence),
          };
          out.push(e);
          break;
        }
        default:
          break;
      }
    }
  }

  private trade(r: TradeMsg, symbol: string): FuturesTrade {
    return {
      ts_event_ns: r.ts_event,
      ts_recv_ns: r.ts_recv,
      source: EventSource.REPLAY,
      symbol,
      price: Number(r.price) / PRICE_SCALE,
      size: r.size,
      aggressor: aggressor(r.side),
      exchange: 'CME',
      conditions: null,
      seq: BigInt(r.sequence),
    };
  }

  private option(r: TradeMsg, inst: Instrument): OptionTrade | null {
    if (inst.strike === null || inst.right === null || inst.exp_date === null || inst.underlying === null) return null;
    const date = nyDate(r.ts_event);
    if ((this.options.zeroDteOnly ?? true) && inst.exp_date !== date) return null;
    const s = this.options.allContracts ? null : this.selection(date);
    if (s !== null && s.contract !== inst.underlying) return null;
    return {
      ts_event_ns: r.ts_event,
      ts_recv_ns: r.ts_recv,
      source: EventSource.REPLAY,
      underlying: this.root,
      option_symbol: inst.raw_symbol,
      exp_date: inst.exp_date,
      strike: inst.strike,
      right: inst.right,
      price: Number(r.price) / PRICE_SCALE,
      size: r.size,
      opt_bid: null,
      opt_ask: null,
      aggressor: aggressor(r.side),
      conditions: null,
      seq: BigInt(r.sequence),
    };
  }
}

async function openFile(path: string): Promise<DbnDecoder> {
  return DbnDecoder.open(createReadStream(path, { highWaterMark: 1 << 20 }), { name: path });
}

/**
 * Events of several DBN files in canonical order. Files are read twice: a pre-scan of trades for the contract choice
 * and definitions for the instrument table, then the streaming pass. Memory is bounded by one batch per file.
 */
export async function* dbnEvents(
  paths: readonly string[],
  options: DbnEventOptions = {},
): AsyncGenerator<MarketEvent[], void, undefined> {
  const selector = options.allContracts ? null : new FrontMonthSelector({ root: options.root ?? 'ES' });
  const mapper = new DbnEventMapper(selector, options);
  for (const path of paths) {
    const dec = await openFile(path);
    mapper.symbols.addMetadata(dec.metadata);
    const schema = dec.metadata?.schema;
    if (schema !== 'trades' && schema !== 'definition' && schema !== null && schema !== undefined) {
      await dec.close();
      continue;
    }
    for await (const batch of dec.batches()) {
      for (const r of batch) {
        if (r.kind === 'definition') mapper.instruments.set(r.instrument_id, instrumentFromDefinition(r));
        else if (r.kind === 'trade' && selector) {
          const inst = mapper.instruments.get(r.instrument_id);
          if (inst?.kind !== 'option') {
            selector.observe(mapper.symbols.resolve(r.instrument_id, r.ts_event) ?? '', r.ts_event, r.size);
          }
        }
      }
    }
  }
  const sources = await Promise.all(
    paths.map(async (path) => {
      const dec = await openFile(path);
      return (async function* () {
        for await (const batch of dec.batches()) {
          const out: MarketEvent[] = [];
          mapper.map(batch, out);
          if (out.length > 0) yield out;
        }
      })();
    }),
  );
  yield* mergeByEventTime<MarketEvent>(sources);
}
