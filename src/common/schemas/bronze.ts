/**
 * Bronze schemas (DATA.md §2.2–2.4): the market events as they land in the lake, one row per event, MBP-10 flattened
 * to 46 columns.
 */
import { type BidAskLevel, EMPTY_LEVEL, EVENT_SOURCES, type MBP10 } from '../event-types.js';
import { col } from './define.js';
import { type RowType, defineSchema } from './schema.js';

/** Every Bronze row starts with the event envelope. */
const ENVELOPE = [
  col.epochNs('ts_event_ns'),
  col.epochNs('ts_recv_ns'),
  col.utf8('source').oneOf(EVENT_SOURCES),
] as const;

const AGGRESSOR = col.int8('aggressor').oneOf([-1, 0, 1]).default(0);

const FUTURES_TRADE_COLUMNS = [
  ...ENVELOPE,
  col.utf8('symbol').length(1, 20),
  col.float64('price').gt(0),
  col.int32('size').min(1),
  AGGRESSOR,
  // A shared type map of the reference says int16; the schema's utf8 is authoritative (DATA.md §2.2).
  col.utf8('exchange').nullable(),
  col.int16List('conditions').nullable(),
  col.int64big('seq').nullable().nonNegative(),
] as const;

export const FUTURES_TRADES_V1 = defineSchema({
  name: 'futures.trades',
  version: 1,
  tier: 'bronze',
  description: 'ES futures trades (time and sales), one row per print',
  columns: FUTURES_TRADE_COLUMNS,
});
export type FuturesTradeRow = RowType<typeof FUTURES_TRADES_V1>;

/**
 * The seed's versioning example (SEED.md "Schema Versioning Contract"): v1 plus one optional column. It is not part of
 * the default registry; it shows that a v2 reader reads v1 data by filling the new column with null.
 */
export const FUTURES_TRADES_V2 = defineSchema({
  name: 'futures.trades',
  version: 2,
  tier: 'bronze',
  description: 'ES futures trades with the venue timestamp (versioning example)',
  columns: [...FUTURES_TRADE_COLUMNS, col.epochNs('venue_timestamp_ns').nullable()],
});
export type FuturesTradeV2Row = RowType<typeof FUTURES_TRADES_V2>;

/** Book depth of an MBP-10 image. */
export const MBP10_DEPTH = 10;
const LEVEL_NUMBERS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
type LevelNumber = (typeof LEVEL_NUMBERS)[number];

export const FUTURES_MBP10_V1 = defineSchema({
  name: 'futures.mbp10',
  version: 1,
  tier: 'bronze',
  description: 'ES futures top-10 book image after each book event, levels flattened to columns',
  columns: [
    ...ENVELOPE,
    col.utf8('symbol').length(1, 20),
    ...LEVEL_NUMBERS.flatMap((i) => [col.float64(`bid_px_${i}`).nonNegative(), col.int32(`bid_sz_${i}`).nonNegative()]),
    ...LEVEL_NUMBERS.flatMap((i) => [col.float64(`ask_px_${i}`).nonNegative(), col.int32(`ask_sz_${i}`).nonNegative()]),
    col.bool('is_snapshot').default(false),
    col.int64big('seq').nullable().nonNegative(),
  ],
});
export type Mbp10Row = RowType<typeof FUTURES_MBP10_V1>;
export type Mbp10LevelColumns = Pick<Mbp10Row, `${'bid' | 'ask'}_${'px' | 'sz'}_${LevelNumber}`>;

/** `[px, sz]` column names of each level, per side. */
const LEVEL_KEYS = {
  bid: LEVEL_NUMBERS.map((i) => [`bid_px_${i}`, `bid_sz_${i}`] as const),
  ask: LEVEL_NUMBERS.map((i) => [`ask_px_${i}`, `ask_sz_${i}`] as const),
};

/*
 * Flattening runs once per book event (tens of millions a day), so the row is built as one generated object literal:
 * 46 properties added one by one push V8 into dictionary mode, which measured over 100× slower than the literal.
 */
const LEVEL_LOCALS = LEVEL_NUMBERS.map((i) => `const l${i} = levels[${i - 1}] ?? EMPTY;`).join(' ');
const LEVEL_FIELDS = (['bid', 'ask'] as const)
  .flatMap((side) => LEVEL_NUMBERS.map((i) => `${side}_px_${i}: l${i}.${side}_px, ${side}_sz_${i}: l${i}.${side}_sz`))
  .join(', ');
const compile = <F>(params: string, body: string): F =>
  new Function('EMPTY', `return function (${params}) { ${body} };`)(EMPTY_LEVEL) as F;

/** The 40 level columns of up to ten levels (index 0 = best); absent levels are zero, levels past ten are dropped. */
export const fromLevels: (levels: readonly BidAskLevel[]) => Mbp10LevelColumns = compile(
  'levels',
  `${LEVEL_LOCALS} return { ${LEVEL_FIELDS} };`,
);

/**
 * An MBP10 event as its Bronze row. Events decoded from the wire may lack the defaulted fields; they get the
 * defaults of DATA.md §5.2 (`ts_recv_ns` = `ts_event_ns`, `is_snapshot` false, `seq` null).
 */
export const flattenMbp10: (event: MBP10) => Mbp10Row = compile(
  'e',
  `const levels = e.levels; ${LEVEL_LOCALS}
   return { ts_event_ns: e.ts_event_ns, ts_recv_ns: e.ts_recv_ns ?? e.ts_event_ns, source: e.source,
            symbol: e.symbol, ${LEVEL_FIELDS}, is_snapshot: e.is_snapshot ?? false, seq: e.seq ?? null };`,
);

/**
 * A Bronze row back as an MBP10 event. Trailing empty levels (all four values zero) are the padding added at rest and
 * are dropped, so `unflattenMbp10(flattenMbp10(e))` gives `e` back for any event whose deepest level is not empty.
 */
export function unflattenMbp10(row: Mbp10Row): MBP10 {
  const levels: BidAskLevel[] = LEVEL_NUMBERS.map((_, i) => ({
    bid_px: row[LEVEL_KEYS.bid[i]![0]],
    bid_sz: row[LEVEL_KEYS.bid[i]![1]],
    ask_px: row[LEVEL_KEYS.ask[i]![0]],
    ask_sz: row[LEVEL_KEYS.ask[i]![1]],
  }));
  while (levels.length > 0) {
    const last = levels[levels.length - 1]!;
    if (last.bid_px !== 0 || last.bid_sz !== 0 || last.ask_px !== 0 || last.ask_sz !== 0) break;
    levels.pop();
  }
  return {
    ts_event_ns: row.ts_event_ns,
    ts_recv_ns: row.ts_recv_ns,
    source: row.source,
    symbol: row.symbol,
    levels,
    is_snapshot: row.is_snapshot,
    seq: row.seq,
  };
}

function sideLevels(row: Mbp10Row, side: 'bid' | 'ask'): [px: number, sz: number][] {
  const out: [number, number][] = [];
  for (const [pxKey, szKey] of LEVEL_KEYS[side]) {
    const px = row[pxKey];
    const sz = row[szKey];
    if (px > 0 || sz > 0) out.push([px, sz]);
  }
  return out;
}

/** `[px, sz]` of the non-empty bid levels (px > 0 or sz > 0), best first. */
export function bidLevels(row: Mbp10Row): [px: number, sz: number][] {
  return sideLevels(row, 'bid');
}

/** `[px, sz]` of the non-empty ask levels (px > 0 or sz > 0), best first. */
export function askLevels(row: Mbp10Row): [px: number, sz: number][] {
  return sideLevels(row, 'ask');
}

export const OPTION_TRADE_COLUMNS = [
  ...ENVELOPE,
  col.utf8('underlying').length(1, 10),
  col.utf8('option_symbol').length(1),
  col.date32('exp_date').min('2000-01-01'),
  col.float64('strike').gt(0),
  col.utf8('right').oneOf(['C', 'P']),
  col.float64('price').nonNegative(),
  col.int32('size').min(1),
  col.float64('opt_bid').nullable().nonNegative(),
  col.float64('opt_ask').nullable().nonNegative(),
  AGGRESSOR,
  col.int16List('conditions').nullable(),
  col.int64big('seq').nullable().nonNegative(),
] as const;

export const OPTIONS_TRADES_V1 = defineSchema({
  name: 'options.trades',
  version: 1,
  tier: 'bronze',
  description: 'ES option trades (0DTE), one row per print',
  columns: OPTION_TRADE_COLUMNS,
});
export type OptionTradeRow = RowType<typeof OPTIONS_TRADES_V1>;
