/**
 * Enums and shapes shared by the physics engines (ENGINES.md §4–§15). The string values are the wire values of
 * DATA.md §2.8; `satisfies` ties each object to the schema registry's enum so the two cannot drift apart.
 */
import type * as Schema from '../../common/schemas/enums.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

export const LevelKind = {
  PM_HIGH: 'PM_HIGH',
  PM_LOW: 'PM_LOW',
  OR_HIGH: 'OR_HIGH',
  OR_LOW: 'OR_LOW',
  SMA_200: 'SMA_200',
  SMA_400: 'SMA_400',
  STRIKE: 'STRIKE',
  VWAP: 'VWAP',
  ROUND: 'ROUND',
  SESSION_HIGH: 'SESSION_HIGH',
  SESSION_LOW: 'SESSION_LOW',
  CALL_WALL: 'CALL_WALL',
  PUT_WALL: 'PUT_WALL',
  GAMMA_FLIP: 'GAMMA_FLIP',
  USER_HOTZONE: 'USER_HOTZONE',
} as const;
export type LevelKind = (typeof LevelKind)[keyof typeof LevelKind];

export const BarrierState = {
  VACUUM: 'VACUUM',
  WALL: 'WALL',
  ABSORPTION: 'ABSORPTION',
  CONSUMED: 'CONSUMED',
  WEAK: 'WEAK',
  NEUTRAL: 'NEUTRAL',
} as const;
export type BarrierState = (typeof BarrierState)[keyof typeof BarrierState];

/** All four wire values; the narrower `BreakDirection` and `LevelDirection` are what engines actually take. */
export const Direction = {
  UP: 'UP',
  DOWN: 'DOWN',
  SUPPORT: 'SUPPORT',
  RESISTANCE: 'RESISTANCE',
} as const;
export type Direction = (typeof Direction)[keyof typeof Direction];
/** Direction of price travel (break direction, runway direction, sweep direction). */
export type BreakDirection = typeof Direction.UP | typeof Direction.DOWN;
/** Role of a level relative to spot. */
export type LevelDirection = typeof Direction.SUPPORT | typeof Direction.RESISTANCE;

export const Signal = {
  BREAK: 'BREAK',
  REJECT: 'REJECT',
  CONTESTED: 'CONTESTED',
  NEUTRAL: 'NEUTRAL',
} as const;
export type Signal = (typeof Signal)[keyof typeof Signal];

export const Confidence = {
  HIGH: 'HIGH',
  MEDIUM: 'MEDIUM',
  LOW: 'LOW',
} as const;
export type Confidence = (typeof Confidence)[keyof typeof Confidence];

export const FuelEffect = {
  AMPLIFY: 'AMPLIFY',
  DAMPEN: 'DAMPEN',
  NEUTRAL: 'NEUTRAL',
} as const;
export type FuelEffect = (typeof FuelEffect)[keyof typeof FuelEffect];

export const RunwayQuality = {
  CLEAR: 'CLEAR',
  OBSTRUCTED: 'OBSTRUCTED',
} as const;
export type RunwayQuality = (typeof RunwayQuality)[keyof typeof RunwayQuality];

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

/** Compile-time only: fails to type-check if a schema enum of DATA.md §2.8 gains or loses a value. */
export type SchemaEnumsInSync = [
  Assert<Same<LevelKind, Schema.LevelKind>>,
  Assert<Same<BarrierState, Schema.BarrierState>>,
  Assert<Same<Direction, Schema.Direction>>,
  Assert<Same<Signal, Schema.Signal>>,
  Assert<Same<Confidence, Schema.Confidence>>,
  Assert<Same<FuelEffect, Schema.FuelEffect>>,
  Assert<Same<RunwayQuality, Schema.RunwayQuality>>,
];
