/** String enums of the Silver and Gold schemas (DATA.md §2.6, §2.8); the values are the wire values. */

export const LEVEL_KINDS = [
  'PM_HIGH',
  'PM_LOW',
  'OR_HIGH',
  'OR_LOW',
  'SMA_200',
  'SMA_400',
  'STRIKE',
  'VWAP',
  'ROUND',
  'SESSION_HIGH',
  'SESSION_LOW',
  'CALL_WALL',
  'PUT_WALL',
  'GAMMA_FLIP',
  'USER_HOTZONE',
] as const;
export type LevelKind = (typeof LEVEL_KINDS)[number];

/** Integer codes of the level kinds the Silver pipeline emits (`level_kind` column). */
export const LEVEL_KIND_CODES = { PM_HIGH: 0, PM_LOW: 1, OR_HIGH: 2, OR_LOW: 3, SMA_200: 6, SMA_400: 12 } as const;

export const OUTCOME_LABELS = ['BOUNCE', 'BREAK', 'CHOP', 'UNDEFINED'] as const;
export type OutcomeLabel = (typeof OUTCOME_LABELS)[number];

export const BARRIER_STATES = ['VACUUM', 'WALL', 'ABSORPTION', 'CONSUMED', 'WEAK', 'NEUTRAL'] as const;
export type BarrierState = (typeof BARRIER_STATES)[number];

export const DIRECTIONS = ['UP', 'DOWN', 'SUPPORT', 'RESISTANCE'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const SIGNALS = ['BREAK', 'REJECT', 'CONTESTED', 'NEUTRAL'] as const;
export type Signal = (typeof SIGNALS)[number];

export const CONFIDENCES = ['HIGH', 'MEDIUM', 'LOW'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

export const FUEL_EFFECTS = ['AMPLIFY', 'DAMPEN', 'NEUTRAL'] as const;
export type FuelEffect = (typeof FUEL_EFFECTS)[number];

export const RUNWAY_QUALITIES = ['CLEAR', 'OBSTRUCTED'] as const;
export type RunwayQuality = (typeof RUNWAY_QUALITIES)[number];
