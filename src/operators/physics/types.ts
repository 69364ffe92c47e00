/**
 * Enums and shapes shared by the physics engines (ENGINES.md §4–§15). The enum objects are built from the schema
 * registry's value lists (DATA.md §2.8), so the engines and the Gold schema cannot drift apart.
 */
import {
  BARRIER_STATES,
  CONFIDENCES,
  DIRECTIONS,
  FUEL_EFFECTS,
  LEVEL_KINDS,
  RUNWAY_QUALITIES,
  SIGNALS,
} from '../../common/schemas/enums.js';
import type * as Schema from '../../common/schemas/enums.js';

/** `['A', 'B']` → `{ A: 'A', B: 'B' }`, frozen: named constants for a list of wire values. */
function named<const L extends readonly string[]>(values: L): { readonly [K in L[number]]: K } {
  return Object.freeze(Object.fromEntries(values.map((v) => [v, v]))) as { readonly [K in L[number]]: K };
}

export const LevelKind = named(LEVEL_KINDS);
export type LevelKind = Schema.LevelKind;

export const BarrierState = named(BARRIER_STATES);
export type BarrierState = Schema.BarrierState;

/** All four wire values; the narrower `BreakDirection` and `LevelDirection` are what engines actually take. */
export const Direction = named(DIRECTIONS);
export type Direction = Schema.Direction;
/** Direction of price travel (break direction, runway direction, sweep direction). */
export type BreakDirection = typeof Direction.UP | typeof Direction.DOWN;
/** Role of a level relative to spot. */
export type LevelDirection = typeof Direction.SUPPORT | typeof Direction.RESISTANCE;

export const Signal = named(SIGNALS);
export type Signal = Schema.Signal;

export const Confidence = named(CONFIDENCES);
export type Confidence = Schema.Confidence;

export const FuelEffect = named(FUEL_EFFECTS);
export type FuelEffect = Schema.FuelEffect;

export const RunwayQuality = named(RUNWAY_QUALITIES);
export type RunwayQuality = Schema.RunwayQuality;

/** Option right as on the wire. */
export type OptionRight = 'C' | 'P';

/**
 * A price level. Identity (equality, hashing, de-duplication) is by `id` alone.
 * `valid_from_ns` is the snap the universe was built at; `valid_to_ns` is always null (open-ended) as in REF.
 */
export interface Level {
  readonly id: string;
  readonly price: number;
  readonly kind: LevelKind;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly valid_from_ns?: bigint;
  readonly valid_to_ns?: bigint | null;
  /** Price moves during the session (VWAP, SMA_*, walls, gamma flip). */
  readonly dynamic: boolean;
}

/** Which rights traded at one strike of one expiry: the input of STRIKE levels (§10). */
export interface StrikeSummary {
  readonly strike: number;
  readonly exp_date: string;
  readonly has_calls: boolean;
  readonly has_puts: boolean;
}
