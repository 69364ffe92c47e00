import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  REF_SCORE_WEIGHTS,
  compositeScore,
  confidenceLevel,
  hedgeScore,
  levelNote,
  liquidityScore,
  scoreLevel,
  tapeScore,
  type BarrierScoreInput,
  type FuelScoreInput,
  type TapeScoreInput,
} from '../../../src/operators/physics/score.js';
import { BarrierState, FuelEffect } from '../../../src/operators/physics/types.js';

const barrier = (state: BarrierScoreInput['state'], delta_liq = 0, confidence = 0.8): BarrierScoreInput => ({
  state,
  delta_liq,
  confidence,
});
const fuel = (effect: FuelScoreInput['effect'], confidence = 0.8): FuelScoreInput => ({ effect, confidence });
const tape = (
  velocity = 0,
  imbalance = 0,
  sweep: TapeScoreInput['sweep'] = { detected: false, direction: null },
  confidence = 0.8,
): TapeScoreInput => ({ velocity, imbalance, sweep, confidence });
const FLAT = tape();
const REF = { weights: REF_SCORE_WEIGHTS };

describe('components (§8)', () => {
  it('S_L by barrier state; CONSUMED is 60 only below −F_thresh', () => {
    expect(liquidityScore(barrier('VACUUM'))).toBe(100);
    expect(liquidityScore(barrier('WEAK'))).toBe(75);
    expect(liquidityScore(barrier('CONSUMED', -250))).toBe(60);
    expect(liquidityScore(barrier('CONSUMED', -100))).toBe(50);
    expect(liquidityScore(barrier('CONSUMED', -101), { fThresh: 200 })).toBe(50);
    expect(liquidityScore(barrier('NEUTRAL'))).toBe(50);
    expect(liquidityScore(barrier('WALL'))).toBe(0);
    expect(liquidityScore(barrier('ABSORPTION'))).toBe(0);
  });

  it('S_H ignores direction (W-07)', () => {
    expect(hedgeScore(fuel('AMPLIFY'))).toBe(100);
    expect(hedgeScore(fuel('DAMPEN'))).toBe(0);
    expect(hedgeScore(fuel('NEUTRAL'))).toBe(50);
  });

  it('S_T: velocity −0.3, imbalance −0.5, DOWN → 15 + 12.5 = 27.5', () => {
    expect(tapeScore(tape(-0.3, -0.5), 'DOWN')).toBeCloseTo(27.5, 12);
    expect(tapeScore(tape(-0.3, -0.5), 'UP')).toBe(0);
  });

  it('S_T: aligned sweep → 100, opposite sweep with a flat tape → 0', () => {
    expect(tapeScore(tape(0, 0, { detected: true, direction: 'DOWN' }), 'DOWN')).toBe(100);
    expect(tapeScore(tape(0, 0, { detected: true, direction: 'UP' }), 'DOWN')).toBe(0);
    expect(tapeScore(tape(0, 0, { detected: false, direction: 'DOWN' }), 'DOWN')).toBe(0);
  });

  it('S_T is capped at 50 and the velocity norm comes from TAPE_VELOCITY_NORM', () => {
    expect(tapeScore(tape(3, 1), 'UP')).toBe(50);
    expect(tapeScore(tape(0.2, 0), 'UP')).toBeCloseTo(10, 12);
    expect(tapeScore(tape(0.2, 0), 'UP', { velocityNorm: 1 })).toBeCloseTo(5, 12);
  });
});

describe('composite worked examples (§8; seed weights, REF weights in brackets)', () => {
  const raw = (b: BarrierScoreInput, f: FuelScoreInput, t: TapeScoreInput, dir: 'UP' | 'DOWN', ref = false) =>
    scoreLevel(b, f, t, dir, ref ? REF : {}).raw_score;

  it('VACUUM + NEUTRAL + flat tape → 62.5 [60.0]', () => {
    expect(raw(barrier('VACUUM'), fuel('NEUTRAL'), FLAT, 'DOWN')).toBeCloseTo(62.5, 12);
    expect(raw(barrier('VACUUM'), fuel('NEUTRAL'), FLAT, 'DOWN', true)).toBeCloseTo(60, 12);
  });

  it('VACUUM + AMPLIFY + aligned sweep → 100', () => {
    const t = tape(0, 0, { detected: true, direction: 'DOWN' });
    expect(raw(barrier('VACUUM'), fuel('AMPLIFY'), t, 'DOWN')).toBeCloseTo(100, 12);
    expect(raw(barrier('VACUUM'), fuel('AMPLIFY'), t, 'DOWN', true)).toBe(100);
  });

  it('WALL + DAMPEN + flat → 0', () => {
    expect(raw(barrier('WALL'), fuel('DAMPEN'), FLAT, 'UP')).toBe(0);
  });

  it('CONSUMED (Δliq −250 → 60) + AMPLIFY + UP tape (v 0.2 → 10, imb 0.4 → 10) → 66.0 [50.0]', () => {
    const s = scoreLevel(barrier('CONSUMED', -250), fuel('AMPLIFY'), tape(0.2, 0.4), 'UP');
    expect(s.component_scores.liquidity_score).toBe(60);
    expect(s.component_scores.tape_score).toBeCloseTo(20, 12);
    expect(s.raw_score).toBeCloseTo(66, 12);
    expect(raw(barrier('CONSUMED', -250), fuel('AMPLIFY'), tape(0.2, 0.4), 'UP', true)).toBeCloseTo(50, 12);
  });

  it('neutral inputs → 40.0 [32.5]; confidence HIGH at 0.8 each', () => {
    const s = scoreLevel(barrier('NEUTRAL'), fuel('NEUTRAL'), FLAT, 'UP');
    expect(s.raw_score).toBeCloseTo(40, 12);
    expect(s.confidence).toBe('HIGH');
    expect(raw(barrier('NEUTRAL'), fuel('NEUTRAL'), FLAT, 'UP', true)).toBeCloseTo(32.5, 12);
  });

  it('confidence cuts: 0.9 → HIGH, 0.5 → MEDIUM, 0.2 → LOW; the mean of the three engines', () => {
    expect(confidenceLevel(0.9)).toBe('HIGH');
    expect(confidenceLevel(0.7)).toBe('HIGH');
    expect(confidenceLevel(0.5)).toBe('MEDIUM');
    expect(confidenceLevel(0.4)).toBe('MEDIUM');
    expect(confidenceLevel(0.2)).toBe('LOW');
    expect(confidenceLevel(0.5, { highCut: 0.5 })).toBe('HIGH');
    const s = scoreLevel(barrier('WALL', 0, 0.9), fuel('DAMPEN', 0.9), tape(0, 0, undefined, 0.9), 'UP');
    expect(s.confidence).toBe('HIGH');
    const low = scoreLevel(barrier('WALL', 0, 0.2), fuel('DAMPEN', 0.2), tape(0, 0, undefined, 0.2), 'UP');
    expect(low.confidence).toBe('LOW');
  });
});

describe('§16 end-to-end components', () => {
  it('ROUND_6870 SUPPORT: VACUUM, fuel NEUTRAL, imbalance −0.960784, velocity +0.245902 → 67.303922, LOW', () => {
    const s = scoreLevel(
      barrier('VACUUM', -251, 0.502),
      fuel('NEUTRAL', 0.204),
      tape(0.245902, -0.960784, { detected: false, direction: null }, 0),
      'DOWN',
    );
    expect(s.component_scores.tape_score).toBeCloseTo(24.0196, 4);
    expect(s.raw_score).toBeCloseTo(67.303922, 5);
    expect(s.confidence).toBe('LOW');
    expect(levelNote('VACUUM', 'NEUTRAL', false)).toBe('Vacuum');
  });

  it('PM_LOW SUPPORT: same barrier, no prints in band, velocity not aligned → 62.5', () => {
    const s = scoreLevel(barrier('VACUUM'), fuel('NEUTRAL'), tape(0.245902, 0), 'DOWN');
    expect(s.raw_score).toBeCloseTo(62.5, 12);
  });

  it('PM_HIGH RESISTANCE: WEAK, velocity aligned UP → 53.709017, "Monitoring"', () => {
    const s = scoreLevel(barrier('WEAK'), fuel('NEUTRAL'), tape(0.245902, 0), 'UP');
    expect(s.component_scores.tape_score).toBeCloseTo(12.2951, 4);
    expect(s.raw_score).toBeCloseTo(53.709017, 5);
    expect(levelNote('WEAK', 'NEUTRAL', false)).toBe('Monitoring');
  });
});

describe('note (§13 step 4.6)', () => {
  it('joins barrier, fuel and sweep parts with "; "', () => {
    expect(levelNote('WALL', 'DAMPEN', false)).toBe('Wall holding; dealers fade');
    expect(levelNote('CONSUMED', 'AMPLIFY', true)).toBe('Being consumed; dealers chase; sweep confirms');
    expect(levelNote('ABSORPTION', 'NEUTRAL', true)).toBe('sweep confirms');
    expect(levelNote('NEUTRAL', 'NEUTRAL', false)).toBe('Monitoring');
  });
});

describe('composite properties', () => {
  const weight = fc.double({ min: 0, max: 1, noNaN: true });
  test.prop([
    fc.constantFrom(...Object.values(BarrierState)),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.constantFrom(...Object.values(FuelEffect)),
    fc.double({ min: -1e3, max: 1e3, noNaN: true }),
    fc.double({ min: -1, max: 1, noNaN: true }),
    fc.boolean(),
    fc.constantFrom('UP' as const, 'DOWN' as const, null),
    fc.constantFrom('UP' as const, 'DOWN' as const),
    fc.record({ w_L: weight, w_H: weight, w_T: weight }),
  ])('raw score lies in [0, 100] and S_T in [0, 50] ∪ {100}', (state, dl, effect, v, imb, det, sdir, dir, weights) => {
    const t = tape(v, imb, { detected: det, direction: sdir });
    const s = scoreLevel(barrier(state, dl), fuel(effect), t, dir, { weights });
    expect(s.raw_score).toBeGreaterThanOrEqual(0);
    expect(s.raw_score).toBeLessThanOrEqual(100);
    const st = s.component_scores.tape_score;
    expect(st === 100 || (st >= 0 && st <= 50)).toBe(true);
    expect(compositeScore(s.component_scores, { weights })).toBe(s.raw_score);
  });
});
