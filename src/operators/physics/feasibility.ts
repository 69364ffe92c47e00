/**
 * Feasibility gate (ENGINES.md §15): a soft prior on a break, as a bias added to the model's logit.
 *
 * The rules are REF's, kept as is and documented (W-25): `allow_break` and `allow_bounce` are always true (the
 * hard-mask branches of `applyFeasibility` are there for a caller that sets them), tape velocity is accepted but not
 * read, and with the default step 1.0 the bias reaches at most ±2, so the 2.5 cap never binds.
 *
 * 1. `tape = imbalance · (+1 UP | −1 DOWN)`.
 * 2. Barrier WALL/ABSORPTION ∧ fuel DAMPEN ∧ `tape < −gate` → −step.
 * 3. Barrier VACUUM/CONSUMED ∧ fuel AMPLIFY ∧ `tape > +gate` → +step.
 * 4. `|gamma| > gammaGate`: gamma < 0 ∧ AMPLIFY → +step; gamma > 0 ∧ DAMPEN → −step.
 * 5. Clamp to ±cap.
 */
import { CONFIG } from '../../common/config.js';
import {
  BarrierState,
  Direction,
  FuelEffect,
  type BarrierState as BarrierStateT,
  type BreakDirection,
  type FuelEffect as FuelEffectT,
} from './types.js';

export interface FeasibilityInput {
  readonly direction: BreakDirection;
  readonly barrier_state: BarrierStateT;
  readonly tape_imbalance: number;
  /** Accepted for interface parity; unused (W-25). */
  readonly tape_velocity?: number | undefined;
  readonly fuel_effect: FuelEffectT;
  /** Net dealer gamma near the level. */
  readonly gamma_exposure: number;
}

export interface FeasibilityMask {
  readonly allow_break: boolean;
  readonly allow_bounce: boolean;
  readonly break_logit_bias: number;
}

export interface FeasibilityOptions {
  /** Default `CONFIG.FEASIBILITY_TAPE_IMBALANCE`. */
  readonly tapeImbalance?: number | undefined;
  /** Default `CONFIG.FEASIBILITY_GAMMA_EXPOSURE`. */
  readonly gammaExposure?: number | undefined;
  /** Default `CONFIG.FEASIBILITY_LOGIT_STEP`. */
  readonly step?: number | undefined;
  /** Default `CONFIG.FEASIBILITY_LOGIT_CAP`. */
  readonly cap?: number | undefined;
}

export function feasibilityMask(input: FeasibilityInput, opts: FeasibilityOptions = {}): FeasibilityMask {
  const gate = opts.tapeImbalance ?? CONFIG.FEASIBILITY_TAPE_IMBALANCE;
  const gammaGate = opts.gammaExposure ?? CONFIG.FEASIBILITY_GAMMA_EXPOSURE;
  const step = opts.step ?? CONFIG.FEASIBILITY_LOGIT_STEP;
  const cap = opts.cap ?? CONFIG.FEASIBILITY_LOGIT_CAP;
  const tape = input.tape_imbalance * (input.direction === Direction.UP ? 1 : -1);
  const b = input.barrier_state;
  const f = input.fuel_effect;
  let bias = 0;
  if ((b === BarrierState.WALL || b === BarrierState.ABSORPTION) && f === FuelEffect.DAMPEN && tape < -gate) {
    bias -= step;
  }
  if ((b === BarrierState.VACUUM || b === BarrierState.CONSUMED) && f === FuelEffect.AMPLIFY && tape > gate) {
    bias += step;
  }
  const g = input.gamma_exposure;
  if (Math.abs(g) > gammaGate) {
    if (g < 0 && f === FuelEffect.AMPLIFY) bias += step;
    else if (g > 0 && f === FuelEffect.DAMPEN) bias -= step;
  }
  return { allow_break: true, allow_bounce: true, break_logit_bias: Math.min(cap, Math.max(-cap, bias)) };
}

/** Apply the mask to a break probability: hard masks first, then `σ(logit(p) + bias)`; p outside (0, 1) unchanged. */
export function applyFeasibility(mask: FeasibilityMask, p: number): number {
  if (!mask.allow_break && mask.allow_bounce) return 0;
  if (!mask.allow_bounce && mask.allow_break) return 1;
  if (!(p > 0 && p < 1)) return p;
  const z = Math.log(p / (1 - p)) + mask.break_logit_bias;
  return 1 / (1 + Math.exp(-z));
}
