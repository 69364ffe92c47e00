/**
 * The level universe (ENGINES.md §10), built once per snap from plain inputs (W-21), the active subset the
 * orchestrator evaluates (§13 step 2), and the SUPPORT/RESISTANCE role of a level (W-36).
 *
 * Generation order, which is also every later tie-break order: PM_HIGH, PM_LOW, OR_HIGH, OR_LOW, SMA_200, SMA_400,
 * ROUND (ascending), STRIKE (ascending), CALL_WALL, PUT_WALL, GAMMA_FLIP, VWAP, SESSION_HIGH, SESSION_LOW,
 * USER_HOTZONE (configured order). Then de-duplication by id: a later duplicate replaces the value, the first
 * position is kept (JS `Map.set`, as REF).
 *
 * Ids (W-33): `{KIND}_{price}` for ROUND (`ROUND_6870`), STRIKE (`STRIKE_6872.5`) and USER_HOTZONE (`HOTZONE_6872.5`);
 * the price is written without decimals when it is an integer, otherwise as the shortest decimal that reads back as
 * the same double — the exact tick for tick prices (6872.25 → `6872.25`). One-per-session kinds use the kind as id
 * (`PM_HIGH`, `VWAP`, `CALL_WALL`, …).
 *
 * Departures from REF:
 * - W-33: REF truncates prices in ids (`STRIKE_6872` for 6872.5, colliding with 6872) — parity `ids: 'truncate'`;
 *   REF takes STRIKE levels from every expiry, the port only from the trading date's (0DTE, the expiry Fuel reads) —
 *   parity `strikeExpiry: 'any'`.
 * - W-22: ROUND levels behind `ROUND_LEVELS_ENABLED` (default on, as REF emits them); CALL_WALL/PUT_WALL/GAMMA_FLIP
 *   behind `WALL_LEVELS_ENABLED` and VWAP behind `VWAP_LEVEL_ENABLED` (both default off; REF never emits them).
 *   SESSION_HIGH/LOW, also never emitted by REF, behind the `sessionLevels` option (default off).
 * - W-29: every range and flag is an option defaulting to CONFIG instead of a read of the global.
 */
import { CONFIG } from '../../common/config.js';
import { Direction, LevelKind, type Level, type LevelDirection, type StrikeSummary } from './types.js';

export interface UniverseInputs {
  /** Last ES trade price; null → empty universe. */
  readonly spot: number | null;
  readonly pmHigh: number | null;
  readonly pmLow: number | null;
  readonly orHigh: number | null;
  readonly orLow: number | null;
  readonly sma200: number | null;
  readonly sma400: number | null;
  readonly vwap?: number | null | undefined;
  readonly sessionHigh?: number | null | undefined;
  readonly sessionLow?: number | null | undefined;
  /** Dealer-gamma levels (from `FuelEngine.allWalls` and the HVL); used only with `wallLevels`. */
  readonly callWall?: number | null | undefined;
  readonly putWall?: number | null | undefined;
  readonly gammaFlip?: number | null | undefined;
  /** Strikes that traded, with their expiry (e.g. `OptionFlowBook.strikeSummaries`). */
  readonly strikes: readonly StrikeSummary[];
  /** 0DTE trading date 'YYYY-MM-DD' (New York date of event time, W-20). */
  readonly tradingDate: string;
  /** User hotzone prices (e.g. `CONFIG.USER_HOTZONES`). */
  readonly hotzones: readonly number[];
  /** Snap time, stamped as `valid_from_ns` on every level. */
  readonly nowNs?: bigint | undefined;
}

export interface UniverseOptions {
  /** Default `CONFIG.ROUND_LEVELS_SPACING`. */
  readonly roundSpacing?: number | undefined;
  /** ± points around spot for ROUND and STRIKE levels (default `CONFIG.STRIKE_RANGE`). */
  readonly strikeRange?: number | undefined;
  /** Default `CONFIG.ROUND_LEVELS_ENABLED`. */
  readonly roundLevels?: boolean | undefined;
  /** Default `CONFIG.WALL_LEVELS_ENABLED`. */
  readonly wallLevels?: boolean | undefined;
  /** Default `CONFIG.VWAP_LEVEL_ENABLED`. */
  readonly vwapLevel?: boolean | undefined;
  /** SESSION_HIGH / SESSION_LOW levels (default false). */
  readonly sessionLevels?: boolean | undefined;
  /** `'exact'` (default, W-33) or REF's `'truncate'`. */
  readonly ids?: 'exact' | 'truncate' | undefined;
  /** `'trading_date'` (default, W-33) or REF's `'any'`. */
  readonly strikeExpiry?: 'trading_date' | 'any' | undefined;
}

const DYNAMIC_KINDS: ReadonlySet<LevelKind> = new Set<LevelKind>([
  LevelKind.VWAP,
  LevelKind.SMA_200,
  LevelKind.SMA_400,
  LevelKind.CALL_WALL,
  LevelKind.PUT_WALL,
  LevelKind.GAMMA_FLIP,
]);

/** Kinds the orchestrator evaluates at any distance (§13 step 2). */
export const STRUCTURAL_KINDS: ReadonlySet<LevelKind> = new Set<LevelKind>([
  LevelKind.PM_HIGH,
  LevelKind.PM_LOW,
  LevelKind.OR_HIGH,
  LevelKind.OR_LOW,
  LevelKind.SMA_200,
  LevelKind.SMA_400,
  LevelKind.VWAP,
  LevelKind.CALL_WALL,
  LevelKind.PUT_WALL,
  LevelKind.GAMMA_FLIP,
]);

/** The price part of a level id (see the module comment). */
export function levelIdPrice(price: number, ids: 'exact' | 'truncate' = 'exact'): string {
  if (ids === 'truncate') return String(Math.trunc(price) + 0);
  // `+ 0` turns −0 into 0 so an id never reads "-0".
  return String(price + 0);
}

/** The universe at one snap, in generation order, de-duplicated by id. `[]` without a spot. */
export function buildLevelUniverse(inputs: UniverseInputs, options: UniverseOptions = {}): Level[] {
  const spot = inputs.spot;
  if (spot === null) return [];
  const spacing = options.roundSpacing ?? CONFIG.ROUND_LEVELS_SPACING;
  const range = options.strikeRange ?? CONFIG.STRIKE_RANGE;
  const ids = options.ids ?? 'exact';
  const byId = new Map<string, Level>();
  const add = (id: string, price: number | null | undefined, kind: LevelKind, metadata?: Record<string, unknown>) => {
    if (price === null || price === undefined || !Number.isFinite(price)) return;
    const level: {
      -readonly [K in keyof Level]: Level[K];
    } = { id, price, kind, dynamic: DYNAMIC_KINDS.has(kind) };
    if (metadata !== undefined) level.metadata = metadata;
    if (inputs.nowNs !== undefined) {
      level.valid_from_ns = inputs.nowNs;
      level.valid_to_ns = null;
    }
    byId.set(id, level);
  };

  add('PM_HIGH', inputs.pmHigh, LevelKind.PM_HIGH);
  add('PM_LOW', inputs.pmLow, LevelKind.PM_LOW);
  add('OR_HIGH', inputs.orHigh, LevelKind.OR_HIGH);
  add('OR_LOW', inputs.orLow, LevelKind.OR_LOW);
  add('SMA_200', inputs.sma200, LevelKind.SMA_200);
  add('SMA_400', inputs.sma400, LevelKind.SMA_400);

  if (options.roundLevels ?? CONFIG.ROUND_LEVELS_ENABLED) {
    const first = Math.trunc((spot - range) / spacing);
    const last = Math.trunc((spot + range) / spacing);
    // Integer steps, so a fractional spacing never accumulates float drift into the prices.
    for (let i = first; i <= last; i++) {
      const p = i * spacing;
      if (p > 0) add(`ROUND_${levelIdPrice(p, ids)}`, p, LevelKind.ROUND);
    }
  }

  const anyExpiry = options.strikeExpiry === 'any';
  const strikes = new Map<number, { has_calls: boolean; has_puts: boolean }>();
  for (const s of inputs.strikes) {
    if (!(anyExpiry || s.exp_date === inputs.tradingDate) || !(Math.abs(s.strike - spot) <= range)) continue;
    const m = strikes.get(s.strike) ?? { has_calls: false, has_puts: false };
    m.has_calls ||= s.has_calls;
    m.has_puts ||= s.has_puts;
    strikes.set(s.strike, m);
  }
  // §17.6: STRIKE levels by strike, not by arrival.
  for (const k of [...strikes.keys()].sort((a, b) => a - b)) {
    add(`STRIKE_${levelIdPrice(k, ids)}`, k, LevelKind.STRIKE, strikes.get(k));
  }

  if (options.wallLevels ?? CONFIG.WALL_LEVELS_ENABLED) {
    add('CALL_WALL', inputs.callWall, LevelKind.CALL_WALL);
    add('PUT_WALL', inputs.putWall, LevelKind.PUT_WALL);
    add('GAMMA_FLIP', inputs.gammaFlip, LevelKind.GAMMA_FLIP);
  }
  if (options.vwapLevel ?? CONFIG.VWAP_LEVEL_ENABLED) add('VWAP', inputs.vwap, LevelKind.VWAP);
  if (options.sessionLevels ?? false) {
    add('SESSION_HIGH', inputs.sessionHigh, LevelKind.SESSION_HIGH);
    add('SESSION_LOW', inputs.sessionLow, LevelKind.SESSION_LOW);
  }
  for (const p of inputs.hotzones) add(`HOTZONE_${levelIdPrice(p, ids)}`, p, LevelKind.USER_HOTZONE);

  return [...byId.values()];
}

/**
 * §13 step 2: structural kinds always, the others only within `monitorBand` of spot; structural (universe order)
 * then proximity (universe order).
 */
export function activeLevels(
  universe: readonly Level[],
  spot: number,
  monitorBand: number = CONFIG.MONITOR_BAND,
): Level[] {
  const structural: Level[] = [];
  const proximity: Level[] = [];
  for (const l of universe) {
    if (STRUCTURAL_KINDS.has(l.kind)) structural.push(l);
    else if (Math.abs(spot - l.price) <= monitorBand) proximity.push(l);
  }
  return structural.concat(proximity);
}

/**
 * SUPPORT/RESISTANCE per level with W-36 memory: spot above → SUPPORT, below → RESISTANCE, exactly at the level →
 * the level's previous role (first sighting: RESISTANCE, REF's answer). With sub-tick touch bands a tick-aligned
 * level is touched only at `spot == L`; REF would flip a support tested from above to RESISTANCE at the touch.
 */
export class DirectionMemory {
  private readonly last = new Map<string, LevelDirection>();

  direction(id: string, spot: number, price: number): LevelDirection {
    let d: LevelDirection;
    if (spot > price) d = Direction.SUPPORT;
    else if (spot < price) d = Direction.RESISTANCE;
    else d = this.last.get(id) ?? Direction.RESISTANCE;
    this.last.set(id, d);
    return d;
  }

  /** Drop a level's memory (e.g. when it leaves the universe for a session, W-35). */
  forget(id: string): void {
    this.last.delete(id);
  }

  clear(): void {
    this.last.clear();
  }

  get size(): number {
    return this.last.size;
  }
}
