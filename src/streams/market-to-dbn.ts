/**
 * Market events → DBN records, so a simulated or recorded stream can be exported as a Databento file
 * (`levelflow sim --out FILE.dbn.zst`) and read back by the same decoder the real files go through.
 *
 * One mixed-schema DBN v3 stream: an instrument definition precedes the first print of each option; futures and
 * options get instrument ids in order of first appearance, and the metadata maps every symbol to its id for the
 * whole session. Prices are fixed-point 1e-9; an empty MBP level is written with the undefined price.
 */
import { nyWallTimeToNs } from '../common/time.js';
import { CONFIG } from '../common/config.js';
import type { MarketEvent } from '../common/event-types.js';
import { RType, UNDEF_PRICE, writeDbnFile } from './dbn/index.js';
import type { BidAskPair, EncodableRecord, InstrumentDefMsg, MetadataInput } from './dbn/index.js';

const GLBX_PUBLISHER = 1;
const PRICE_SCALE = 1e9;

function px(p: number): bigint {
  return BigInt(Math.round(p * PRICE_SCALE));
}

function side(aggressor: number): string {
  return aggressor === 1 ? 'B' : aggressor === -1 ? 'A' : 'N';
}

const EMPTY_PAIR: BidAskPair = { bid_px: UNDEF_PRICE, ask_px: UNDEF_PRICE, bid_sz: 0, ask_sz: 0, bid_ct: 0, ask_ct: 0 };

/** UTC date of an instant (plus `days`) as the YYYYMMDD number DBN mappings use. */
function yyyymmdd(ns: bigint, days = 0): number {
  const ms = Number(ns / 1_000_000n) + days * 86_400_000;
  return Number(new Date(ms).toISOString().slice(0, 10).replaceAll('-', ''));
}

/** Assigns instrument ids and emits the DBN records of each event (a definition before an option's first print). */
export class DbnRecordMapper {
  readonly ids = new Map<string, number>();
  private nextId = 1;

  private idOf(symbol: string): [number, boolean] {
    const known = this.ids.get(symbol);
    if (known !== undefined) return [known, false];
    const id = this.nextId++;
    this.ids.set(symbol, id);
    return [id, true];
  }

  *records(e: MarketEvent): Generator<EncodableRecord> {
    const header = { publisher_id: GLBX_PUBLISHER, ts_event: e.ts_event_ns };
    const market = {
      flags: 0,
      depth: 0,
      ts_recv: e.ts_recv_ns,
      ts_in_delta: 0,
      sequence: Number((e.seq ?? 0n) & 0xffffffffn),
    };
    if ('levels' in e) {
      const [id] = this.idOf(e.symbol);
      const levels: BidAskPair[] = [];
      for (let i = 0; i < 10; i++) {
        const l = e.levels[i];
        levels.push(
          l
            ? {
                bid_px: l.bid_px > 0 ? px(l.bid_px) : UNDEF_PRICE,
                ask_px: l.ask_px > 0 ? px(l.ask_px) : UNDEF_PRICE,
                bid_sz: l.bid_sz,
                ask_sz: l.ask_sz,
                bid_ct: l.bid_sz > 0 ? 1 : 0,
                ask_ct: l.ask_sz > 0 ? 1 : 0,
              }
            : EMPTY_PAIR,
        );
      }
      const top = e.levels[0];
      yield {
        kind: 'mbp10',
        rtype: RType.MBP_10,
        instrument_id: id,
        ...header,
        ...market,
        price: top && top.bid_px > 0 ? px(top.bid_px) : UNDEF_PRICE,
        size: 0,
        action: 'M',
        side: 'N',
        levels,
      };
      return;
    }
    let id: number;
    if ('option_symbol' in e) {
      let fresh: boolean;
      [id, fresh] = this.idOf(e.option_symbol);
      if (fresh) yield this.definition(id, e.option_symbol, e.strike, e.right, e.exp_date, e.ts_event_ns);
    } else {
      [id] = this.idOf(e.symbol);
    }
    yield {
      kind: 'trade',
      rtype: RType.MBP_0,
      instrument_id: id,
      ...header,
      ...market,
      price: px(e.price),
      size: e.size,
      action: 'T',
      side: side(e.aggressor),
    };
  }

  private definition(
    id: number,
    symbol: string,
    strike: number,
    right: 'C' | 'P',
    expDate: string,
    ts: bigint,
  ): InstrumentDefMsg {
    const [eh, em] = CONFIG.OPTION_EXPIRY_ET.split(':').map(Number) as [number, number];
    const underlying = symbol.split(' ')[0] ?? '';
    // The encoder fills every field not named here with the DBN v3 "undefined" value.
    return {
      kind: 'definition',
      rtype: RType.INSTRUMENT_DEF,
      publisher_id: GLBX_PUBLISHER,
      instrument_id: id,
      ts_event: ts,
      ts_recv: ts,
      raw_symbol: symbol,
      instrument_class: right,
      strike_price: px(strike),
      expiration: nyWallTimeToNs(expDate, eh * 60 + em),
      underlying,
      asset: 'ES',
      exchange: 'XCME',
      currency: 'USD',
      min_price_increment: px(0.05),
      display_factor: 1_000_000_000n,
      unit_of_measure: 'IPNT',
      unit_of_measure_qty: px(CONFIG.OPTION_CONTRACT_MULTIPLIER),
    } as unknown as InstrumentDefMsg;
  }
}

/**
 * Write events (in canonical order) to one DBN v3 file, zstd when the name ends in `.zst`. The metadata's symbol
 * mappings need every symbol, so the events are iterated twice (the simulator regenerates them cheaply).
 */
export async function writeEventsAsDbn(
  path: string,
  events: () => Iterable<MarketEvent>,
  options: { dataset?: string } = {},
): Promise<{ records: number; bytes: number }> {
  const mapper = new DbnRecordMapper();
  let first: bigint | null = null;
  let last = 0n;
  for (const e of events()) {
    for (const _ of mapper.records(e)) void _;
    first ??= e.ts_event_ns;
    last = e.ts_event_ns;
  }
  const start = first ?? 0n;
  const meta: MetadataInput = {
    dataset: options.dataset ?? 'GLBX.MDP3',
    schema: null,
    start,
    end: last + 1n,
    limit: 0n,
    stype_in: 'raw_symbol',
    stype_out: 'instrument_id',
    ts_out: false,
    symbols: [...mapper.ids.keys()],
    partial: [],
    not_found: [],
    mappings: [...mapper.ids].map(([sym, id]) => ({
      raw_symbol: sym,
      intervals: [{ start_date: yyyymmdd(start), end_date: yyyymmdd(last, 1), symbol: String(id) }],
    })),
  };
  const writer = new DbnRecordMapper();
  function* all(): Generator<EncodableRecord> {
    for (const e of events()) yield* writer.records(e);
  }
  return writeDbnFile(path, meta, all(), { compression: path.endsWith('.zst') ? 'zstd' : 'none' });
}
