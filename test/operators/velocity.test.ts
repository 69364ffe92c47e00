import fc from 'fast-check';
import { from } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { OutOfOrderError } from '../../src/operators/event-time-window.js';
import { VelocityWindow, velocity, type VelocityPoint } from '../../src/operators/velocity.js';

const BASE = 1_770_000_000_000_000_000n;
const MS = 1_000_000n;
const S = 1_000_000_000n;

interface Print {
  ts_event_ns: bigint;
  price: number;
}
const print = (ms: number, price: number, extraNs = 0n): Print => ({
  ts_event_ns: BASE + BigInt(ms) * MS + extraNs,
  price,
});

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Brute-force centred OLS on `t = (ts − ts₀)/1e9`, two-pass means (ENGINES.md §5 step 3, W-16). */
function bruteSlope(prints: readonly Print[]): number {
  return brute(prints).slope;
}

/**
 * The slope and its natural scale √(Syy/Sxx), the largest slope the window's spreads allow. Near-zero slopes on a
 * window whose times spread over nanoseconds are ill-conditioned: any float computation (the oracle included) carries
 * rounding of order ε·√(Syy/Sxx) there, so the absolute allowance grows with that scale; for ordinary windows
 * (spread ≥ 1 ms) the 1e-9 floor dominates.
 */
function brute(prints: readonly Print[]): { slope: number; scale: number } {
  if (prints.length < 2) return { slope: 0, scale: 0 };
  const t0 = prints[0]!.ts_event_ns;
  const t = prints.map((p) => Number(p.ts_event_ns - t0) / 1e9);
  const p = prints.map((x) => x.price);
  const tm = t.reduce((a, b) => a + b, 0) / t.length;
  const pm = p.reduce((a, b) => a + b, 0) / p.length;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < t.length; i++) {
    sxx += (t[i]! - tm) * (t[i]! - tm);
    sxy += (t[i]! - tm) * (p[i]! - pm);
    syy += (p[i]! - pm) * (p[i]! - pm);
  }
  return sxx === 0 ? { slope: 0, scale: 0 } : { slope: sxy / sxx, scale: Math.sqrt(syy / sxx) };
}

function expectNear(got: number, want: { slope: number; scale: number }): void {
  expect(Math.abs(got - want.slope)).toBeLessThanOrEqual(1e-9 * Math.abs(want.slope) + 1e-9 + 1e-13 * want.scale);
}

describe('velocity — ENGINES.md §5 worked numbers', () => {
  it.each([
    ['rising', 0.5, 1.666667],
    ['falling', -0.5, -1.666667],
  ])('10 prints every 0.3 s %s 0.5 each → %f pt/s', (_name, step, want) => {
    const w = new VelocityWindow({ windowS: 3 });
    for (let i = 0; i < 10; i++) w.add(BASE + BigInt(i * 300) * MS, 6870 + step * i);
    expect(w.slopeAt(BASE + 2700n * MS)).toBeCloseTo(want, 6);
  });

  it('no prints, one print, or all at one instant → 0; a flat tape is exactly 0 (W-16)', () => {
    const w = new VelocityWindow({ windowS: 3 });
    expect(w.slopeAt(BASE)).toBe(0);
    w.add(BASE, 6870);
    expect(w.slopeAt(BASE)).toBe(0);
    w.add(BASE, 6871);
    expect(w.slopeAt(BASE)).toBe(0);
    const flat = new VelocityWindow({ windowS: 3 });
    for (let i = 0; i < 50; i++) flat.add(BASE + BigInt(i) * 37n * MS, 6870.25);
    expect(flat.slopeAt(BASE + 2n * S)).toBe(0);
  });
});

describe('velocity — marbles', () => {
  it('emits the slope at each input; a print exactly W_v old counts, 1 ns older does not', () => {
    const a = print(0, 6870);
    const b = print(300, 6870.5);
    const c = print(600, 6871);
    const d = print(3000, 6871); // a is exactly 3 s old: slope of a, b, c, d
    const e = print(3000, 6871, 1n); // a has left
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c-d-e-|', { a, b, c, d, e });
      const out = src.pipe(velocity({ windowS: 3 }));
      expectObservable(out).toBe('-A-B-C-D-E-|', {
        A: { ts_ns: a.ts_event_ns, slope: 0, count: 1 },
        B: { ts_ns: b.ts_event_ns, slope: expect.closeTo(bruteSlope([a, b]), 12), count: 2 },
        C: { ts_ns: c.ts_event_ns, slope: expect.closeTo(bruteSlope([a, b, c]), 12), count: 3 },
        D: { ts_ns: d.ts_event_ns, slope: expect.closeTo(bruteSlope([a, b, c, d]), 12), count: 4 },
        E: { ts_ns: e.ts_event_ns, slope: expect.closeTo(bruteSlope([b, c, d, e]), 12), count: 4 },
      });
      expectSubscriptions(src.subscriptions).toBe('^----------!');
    });
  });

  it('passes errors through, unsubscribes, and errors on a late print with outOfOrder: error', () => {
    const a = print(100, 6870);
    const late = print(50, 6869);
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold('-a-#', { a }).pipe(velocity())).toBe('-A-#', {
        A: { ts_ns: a.ts_event_ns, slope: 0, count: 1 },
      });
      const src = hot('-a-l-|', { a, l: late });
      expectObservable(src.pipe(velocity()), '^-!').toBe('-A-', { A: { ts_ns: a.ts_event_ns, slope: 0, count: 1 } });
      expectSubscriptions(src.subscriptions).toBe('^-!');
      expectObservable(cold('-a-l-|', { a, l: late }).pipe(velocity({ outOfOrder: 'error' }))).toBe(
        '-A-#',
        { A: { ts_ns: a.ts_event_ns, slope: 0, count: 1 } },
        new OutOfOrderError(late.ts_event_ns, a.ts_event_ns),
      );
      expectObservable(cold('-a-l-|', { a, l: late }).pipe(velocity())).toBe('-A---|', {
        A: { ts_ns: a.ts_event_ns, slope: 0, count: 1 },
      });
    });
  });
});

describe('velocity — property: equals brute-force centred OLS', () => {
  const W = 3n * S;
  const gap = fc.oneof(
    { weight: 3, arbitrary: fc.constant(0n) },
    { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 400n * MS }) },
    { weight: 1, arbitrary: fc.constantFrom(W, W + 1n, 1n) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 5n * S }) },
  );
  const move = fc.oneof(
    fc.integer({ min: -4, max: 4 }).map((k) => k * 0.25),
    fc.double({ min: -3, max: 3, noNaN: true }),
  );
  const seq = fc.array(fc.record({ gap, move }), { maxLength: 400, size: 'large' });

  it('within 1e-9 relative (+1e-9 absolute) at every input and at later snap instants', () => {
    fc.assert(
      fc.property(seq, fc.double({ min: 100, max: 20000, noNaN: true }), (raw, start) => {
        let ts = BASE;
        let px = start;
        const prints = raw.map((r) => ({ ts_event_ns: (ts += r.gap), price: (px += r.move) }));
        const got: VelocityPoint[] = [];
        from(prints)
          .pipe(velocity({ windowS: 3 }))
          .subscribe((v) => got.push(v));
        expect(got.length).toBe(prints.length);
        got.forEach((v, i) => {
          const now = prints[i]!.ts_event_ns;
          const win = prints.slice(0, i + 1).filter((p) => p.ts_event_ns >= now - W);
          expect(v.count).toBe(win.length);
          expectNear(v.slope, brute(win));
        });
        // Direct use at snap instants between prints (engines query at T_k without a new print).
        const w = new VelocityWindow({ windowS: 3 });
        let j = 0;
        for (let now = BASE; prints.length > 0 && now <= ts + W; now += 250n * MS) {
          while (j < prints.length && prints[j]!.ts_event_ns <= now) w.add(prints[j]!.ts_event_ns, prints[j++]!.price);
          expectNear(w.slopeAt(now), brute(prints.slice(0, j).filter((p) => p.ts_event_ns >= now - W)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
