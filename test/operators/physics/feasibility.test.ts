import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  applyFeasibility,
  feasibilityMask,
  type FeasibilityInput,
} from '../../../src/operators/physics/feasibility.js';
import { BarrierState, FuelEffect } from '../../../src/operators/physics/types.js';

const input = (over: Partial<FeasibilityInput>): FeasibilityInput => ({
  direction: 'UP',
  barrier_state: 'NEUTRAL',
  tape_imbalance: 0,
  fuel_effect: 'NEUTRAL',
  gamma_exposure: 0,
  ...over,
});

describe('FeasibilityGate worked examples (§15)', () => {
  it('DOWN, VACUUM, imbalance −0.5, AMPLIFY, gamma −80000 → +2.0; p 0.5 → 0.880797, p 0.3 → 0.760004', () => {
    const m = feasibilityMask(
      input({
        direction: 'DOWN',
        barrier_state: 'VACUUM',
        tape_imbalance: -0.5,
        fuel_effect: 'AMPLIFY',
        gamma_exposure: -80000,
      }),
    );
    expect(m).toEqual({ allow_break: true, allow_bounce: true, break_logit_bias: 2 });
    expect(applyFeasibility(m, 0.5)).toBeCloseTo(0.880797, 6);
    expect(applyFeasibility(m, 0.3)).toBeCloseTo(0.760004, 6);
  });

  it('UP, WALL, imbalance −0.3, DAMPEN, gamma +60000 → −2.0', () => {
    const m = feasibilityMask(
      input({ barrier_state: 'WALL', tape_imbalance: -0.3, fuel_effect: 'DAMPEN', gamma_exposure: 60000 }),
    );
    expect(m.break_logit_bias).toBe(-2);
  });

  it('UP, VACUUM, imbalance +0.1 (below the 0.20 gate), AMPLIFY, gamma −80000 → +1.0', () => {
    const m = feasibilityMask(
      input({ barrier_state: 'VACUUM', tape_imbalance: 0.1, fuel_effect: 'AMPLIFY', gamma_exposure: -80000 }),
    );
    expect(m.break_logit_bias).toBe(1);
  });
});

describe('FeasibilityGate rules', () => {
  it('gates are strict: imbalance exactly 0.20 and |gamma| exactly 50000 add nothing', () => {
    const m = feasibilityMask(
      input({ barrier_state: 'CONSUMED', tape_imbalance: 0.2, fuel_effect: 'AMPLIFY', gamma_exposure: -50000 }),
    );
    expect(m.break_logit_bias).toBe(0);
  });

  it('ABSORPTION counts like WALL, CONSUMED like VACUUM; velocity is ignored (W-25)', () => {
    expect(
      feasibilityMask(input({ barrier_state: 'ABSORPTION', tape_imbalance: -0.5, fuel_effect: 'DAMPEN' }))
        .break_logit_bias,
    ).toBe(-1);
    expect(
      feasibilityMask(
        input({ barrier_state: 'CONSUMED', tape_imbalance: 0.5, fuel_effect: 'AMPLIFY', tape_velocity: -9 }),
      ).break_logit_bias,
    ).toBe(1);
  });

  it('the cap clamps when the step is large (unreachable with step 1.0, W-25)', () => {
    const strong = input({
      barrier_state: 'VACUUM',
      tape_imbalance: 0.9,
      fuel_effect: 'AMPLIFY',
      gamma_exposure: -1e6,
    });
    expect(feasibilityMask(strong, { step: 2 }).break_logit_bias).toBe(2.5);
    expect(feasibilityMask(strong, { step: 2, cap: 10 }).break_logit_bias).toBe(4);
  });

  it('apply: p outside (0, 1) unchanged; hard masks win', () => {
    const m = { allow_break: true, allow_bounce: true, break_logit_bias: 2 };
    expect(applyFeasibility(m, 0)).toBe(0);
    expect(applyFeasibility(m, 1)).toBe(1);
    expect(applyFeasibility({ ...m, allow_break: false }, 0.7)).toBe(0);
    expect(applyFeasibility({ ...m, allow_bounce: false }, 0.2)).toBe(1);
    expect(applyFeasibility({ ...m, break_logit_bias: 0 }, 0.37)).toBeCloseTo(0.37, 14);
  });

  test.prop([
    fc.constantFrom('UP' as const, 'DOWN' as const),
    fc.constantFrom(...Object.values(BarrierState)),
    fc.double({ min: -1, max: 1, noNaN: true }),
    fc.constantFrom(...Object.values(FuelEffect)),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.double({ min: 0.001, max: 0.999, noNaN: true }),
  ])(
    'bias ∈ [−2, 2] with the defaults; apply is monotone in the bias',
    (direction, barrier_state, imb, fuel_effect, gamma, p) => {
      const m = feasibilityMask({ direction, barrier_state, tape_imbalance: imb, fuel_effect, gamma_exposure: gamma });
      expect(Math.abs(m.break_logit_bias)).toBeLessThanOrEqual(2);
      const q = applyFeasibility(m, p);
      if (m.break_logit_bias > 0) expect(q).toBeGreaterThan(p - 1e-12);
      if (m.break_logit_bias < 0) expect(q).toBeLessThan(p + 1e-12);
    },
  );
});
