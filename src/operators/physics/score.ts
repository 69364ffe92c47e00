/**
 * Score components, composite and confidence (ENGINES.md §8), and the level note (§13 step 4.6). The trigger that
 * turns the composite into BREAK/REJECT lives in `operators/hold-trigger.ts`.
 *
 * - S_L (liquidity): VACUUM 100, WEAK 75, CONSUMED 60 when `delta_liq < −F_thresh` else 50, NEUTRAL 50, WALL and
 *   ABSORPTION 0.
 * - S_H (hedging): AMPLIFY 100, DAMPEN 0, NEUTRAL 50. Direction is ignored on purpose (W-07): dealers short gamma
 *   chase price whichever way it breaks, so short gamma fuels a break up as much as a break down.
 * - S_T (tape): a sweep in the break direction → 100; otherwise `25·min(1, |velocity|/norm)` if velocity points the
 *   break way plus `25·|imbalance|` if imbalance does, capped at 50.
 * - Composite: `clamp(w_L·S_L + w_H·S_H + w_T·S_T, 0, 100)`; weights default to the seed's 0.45/0.35/0.20, REF's
 *   code uses 0.55/0.10/0.35 (`REF_SCORE_WEIGHTS`).
 * - Confidence: mean of the three engines' confidences; `≥ high` HIGH, `≥ medium` MEDIUM, else LOW.
 *
 * Departure from REF: the velocity norm is `CONFIG.TAPE_VELOCITY_NORM` (REF hard-codes the same 0.5, W-30).
 */
import { CONFIG } from '../../common/config.js';
import {
  BarrierState,
  Confidence,
  Direction,
  FuelEffect,
  type BreakDirection,
  type BarrierState as BarrierStateT,
  type FuelEffect as FuelEffectT,
} from './types.js';

/** What the score reads from the barrier engine (§4). */
export interface BarrierScoreInput {
  readonly state: BarrierStateT;
  readonly delta_liq: number;
  readonly confidence: number;
}

/** What the score reads from the fuel engine (§7). */
export interface FuelScoreInput {
  readonly effect: FuelEffectT;
  readonly confidence: number;
}

/** What the score reads from the tape engine (§5). */
export interface TapeScoreInput {
  /** Points per second. */
  readonly velocity: number;
  /** (buy − sell)/(buy + sell), in [−1, 1]. */
  readonly imbalance: number;
  readonly sweep: { readonly detected: boolean; readonly direction: string | null };
  readonly confidence: number;
}

export interface ScoreWeights {
  readonly w_L: number;
  readonly w_H: number;
  readonly w_T: number;
}

/** Weights of the reference code (the seed's are the default). */
export const REF_SCORE_WEIGHTS: ScoreWeights = Object.freeze({ w_L: 0.55, w_H: 0.1, w_T: 0.35 });

export interface ScoreOptions {
  /** Default `CONFIG.w_L / w_H / w_T`. */
  readonly weights?: ScoreWeights | undefined;
  /** Net-liquidity threshold for CONSUMED (default `CONFIG.F_thresh`). */
  readonly fThresh?: number | undefined;
  /** Velocity (pt/s) worth the full 25 points (default `CONFIG.TAPE_VELOCITY_NORM`). */
  readonly velocityNorm?: number | undefined;
  /** Default `CONFIG.CONFIDENCE_HIGH_CUT`. */
  readonly highCut?: number | undefined;
  /** Default `CONFIG.CONFIDENCE_MEDIUM_CUT`. */
  readonly mediumCut?: number | undefined;
}

export interface ComponentScores {
  readonly liquidity_score: number;
  readonly hedge_score: number;
  readonly tape_score: number;
}

/** §8 `CompositeScore` without the trigger's `signal`. */
export interface LevelScore {
  readonly raw_score: number;
  readonly component_scores: ComponentScores;
  readonly confidence: Confidence;
}

export function liquidityScore(barrier: BarrierScoreInput, opts: ScoreOptions = {}): number {
  switch (barrier.state) {
    case BarrierState.VACUUM:
      return 100;
    case BarrierState.WEAK:
      return 75;
    case BarrierState.CONSUMED:
      return barrier.delta_liq < -(opts.fThresh ?? CONFIG.F_thresh) ? 60 : 50;
    case BarrierState.NEUTRAL:
      return 50;
    case BarrierState.WALL:
    case BarrierState.ABSORPTION:
      return 0;
  }
}

export function hedgeScore(fuel: FuelScoreInput): number {
  switch (fuel.effect) {
    case FuelEffect.AMPLIFY:
      return 100;
    case FuelEffect.DAMPEN:
      return 0;
    case FuelEffect.NEUTRAL:
      return 50;
  }
}

export function tapeScore(tape: TapeScoreInput, breakDirection: BreakDirection, opts: ScoreOptions = {}): number {
  if (tape.sweep.detected && tape.sweep.direction === breakDirection) return 100;
  const up = breakDirection === Direction.UP;
  let score = 0;
  if (up ? tape.velocity > 0 : tape.velocity < 0) {
    score += 25 * Math.min(1, Math.abs(tape.velocity) / (opts.velocityNorm ?? CONFIG.TAPE_VELOCITY_NORM));
  }
  if (up ? tape.imbalance > 0 : tape.imbalance < 0) score += 25 * Math.abs(tape.imbalance);
  return Math.min(50, score);
}

export function componentScores(
  barrier: BarrierScoreInput,
  fuel: FuelScoreInput,
  tape: TapeScoreInput,
  breakDirection: BreakDirection,
  opts: ScoreOptions = {},
): ComponentScores {
  return {
    liquidity_score: liquidityScore(barrier, opts),
    hedge_score: hedgeScore(fuel),
    tape_score: tapeScore(tape, breakDirection, opts),
  };
}

/** Weighted sum clamped to [0, 100]. A NaN component yields NaN (surfaced, not hidden; serialised as null). */
export function compositeScore(c: ComponentScores, opts: ScoreOptions = {}): number {
  const w = opts.weights ?? CONFIG;
  const raw = w.w_L * c.liquidity_score + w.w_H * c.hedge_score + w.w_T * c.tape_score;
  return raw < 0 ? 0 : raw > 100 ? 100 : raw;
}

/** Bucket a mean confidence in [0, 1]. */
export function confidenceLevel(mean: number, opts: ScoreOptions = {}): Confidence {
  if (mean >= (opts.highCut ?? CONFIG.CONFIDENCE_HIGH_CUT)) return Confidence.HIGH;
  if (mean >= (opts.mediumCut ?? CONFIG.CONFIDENCE_MEDIUM_CUT)) return Confidence.MEDIUM;
  return Confidence.LOW;
}

/** Components, composite and confidence of one level at one snap. */
export function scoreLevel(
  barrier: BarrierScoreInput,
  fuel: FuelScoreInput,
  tape: TapeScoreInput,
  breakDirection: BreakDirection,
  opts: ScoreOptions = {},
): LevelScore {
  const components = componentScores(barrier, fuel, tape, breakDirection, opts);
  return {
    raw_score: compositeScore(components, opts),
    component_scores: components,
    confidence: confidenceLevel((barrier.confidence + fuel.confidence + tape.confidence) / 3, opts),
  };
}

/** §13 step 4.6: what a trader reads next to the score. */
export function levelNote(barrierState: BarrierStateT, fuelEffect: FuelEffectT, sweepDetected: boolean): string {
  const parts: string[] = [];
  if (barrierState === BarrierState.VACUUM) parts.push('Vacuum');
  else if (barrierState === BarrierState.WALL) parts.push('Wall holding');
  else if (barrierState === BarrierState.CONSUMED) parts.push('Being consumed');
  if (fuelEffect === FuelEffect.AMPLIFY) parts.push('dealers chase');
  else if (fuelEffect === FuelEffect.DAMPEN) parts.push('dealers fade');
  if (sweepDetected) parts.push('sweep confirms');
  return parts.length === 0 ? 'Monitoring' : parts.join('; ');
}
