import fc from 'fast-check';
import { from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  Ewma,
  KeyedEwma,
  ewma,
  ewmaAlpha,
  keyedEwma,
  type EwmaMode,
  type EwmaPoint,
  type KeyedEwmaPoint,
  type TimedValue,
} from '../../src/operators/ewma.js';

const BASE = 1_770_000_000_000_000_000n;
const S = 1_000_000_000n;
const sec = (s: number): bigint => BASE + BigInt(Math.round(s * 1e9));
const sample = (s: number, value: number): TimedValue => ({ ts_event_ns: sec(s), value });

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Round the values so marble comparisons can use the spec's six decimals. */
const mapRound = map((p: EwmaPoint): EwmaPoint => ({ ts_ns: p.ts_ns, value: Math.round(p.value * 1e6) / 1e6 }));

// ENGINES.md §9 worked samples: τ 2 s; 50@0, 100@0.25, 100@0.5, 100@2.5, 0@2.5.
const WORKED = [sample(0, 50), sample(0.25, 100), sample(0.5, 100), sample(2.5, 100), sample(2.5, 0)];

describe('EWMA — ENGINES.md §9 worked numbers', () => {
  it.each([
    ['time_constant', [50, 55.875155, 61.059961, 85.67476, 85.67476]],
    ['half_life', [50, 54.149798, 57.955179, 78.97759, 78.97759]],
  ] as const)('%s: τ 2 s gives the spec sequence (the same-ts sample is dropped)', (mode, expected) => {
    const e = new Ewma({ tauS: 2, mode });
    const got = WORKED.map((s) => e.update(s.value, s.ts_event_ns));
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it.each([
    [2.0, 0.117503, 0.082996],
    [1.5, 0.153518, 0.109101],
    [3.0, 0.079956, 0.056126],
    [5.0, 0.048771, 0.034064],
  ])('α at dt 0.25 s, τ %f → %f (time constant) / %f (half-life)', (tau, tc, hl) => {
    expect(ewmaAlpha(0.25, tau, 'time_constant')).toBeCloseTo(tc, 6);
    expect(ewmaAlpha(0.25, tau, 'half_life')).toBeCloseTo(hl, 6);
  });

  it('half-life means half-way after τ; α is clamped to [0, 1]; dt is capped at maxDtS', () => {
    expect(ewmaAlpha(2, 2, 'half_life')).toBeCloseTo(0.5, 15);
    expect(ewmaAlpha(-1, 2, 'half_life')).toBe(0);
    expect(ewmaAlpha(1e6, 2, 'time_constant')).toBe(1);
    const capped = new Ewma({ tauS: 1000, mode: 'half_life', maxDtS: 1 });
    capped.update(0, sec(0));
    expect(capped.update(100, sec(5000))).toBeCloseTo(100 * ewmaAlpha(1, 1000, 'half_life'), 12);
  });

  it('rejects τ ≤ 0 and an unknown mode', () => {
    expect(() => new Ewma({ tauS: 0 })).toThrow(RangeError);
    expect(() => ewma({ mode: 'linear' as EwmaMode })).toThrow(RangeError);
    expect(() => new KeyedEwma({ idleEvictS: 0 })).toThrow(RangeError);
  });
});

describe('ewma — marbles', () => {
  it('emits the smoothed value per input, in order, and completes with the source', () => {
    const [a, b, c, d, e] = WORKED;
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c-d-e-|', { a, b, c, d, e });
      expectObservable(src.pipe(ewma({ tauS: 2, mode: 'time_constant' }), mapRound)).toBe('-A-B-C-D-E-|', {
        A: { ts_ns: a!.ts_event_ns, value: 50 },
        B: { ts_ns: b!.ts_event_ns, value: 55.875155 },
        C: { ts_ns: c!.ts_event_ns, value: 61.059961 },
        D: { ts_ns: d!.ts_event_ns, value: 85.67476 },
        E: { ts_ns: e!.ts_event_ns, value: 85.67476 },
      });
      expectSubscriptions(src.subscriptions).toBe('^----------!');
    });
  });

  it('passes errors through and unsubscribes from the source', () => {
    const [a, b] = WORKED;
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold('-a-#', { a }).pipe(ewma({ tauS: 2 }))).toBe('-A-#', {
        A: { ts_ns: a!.ts_event_ns, value: 50 },
      });
      const src = hot('-a-b-a-|', { a, b });
      expectObservable(src.pipe(ewma({ tauS: 2, mode: 'time_constant' }), mapRound), '^--!').toBe('-A-', {
        A: { ts_ns: a!.ts_event_ns, value: 50 },
      });
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
  });

  it('reads custom value and time selectors', () => {
    const out: number[] = [];
    from([
      { t: sec(0), px: 10 },
      { t: sec(2), px: 20 },
    ])
      .pipe(ewma({ tauS: 2, mode: 'half_life', value: (x) => x.px, time: (x) => x.t }))
      .subscribe((p) => out.push(p.value));
    expect(out).toEqual([10, 15]);
  });
});

describe('keyedEwma — marbles', () => {
  it('smooths each key on its own and restarts a key idle for idleEvictS', () => {
    const a = { key: 'A', ts_event_ns: sec(0), value: 50 };
    const b = { key: 'B', ts_event_ns: sec(0), value: 10 };
    const c = { key: 'A', ts_event_ns: sec(0.25), value: 100 };
    const d = { key: 'A', ts_event_ns: sec(20), value: 0 };
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-b-c-d-|', { a, b, c, d });
      const op = keyedEwma<typeof a>({ key: (x) => x.key, tauS: 2, mode: 'time_constant', idleEvictS: 10 });
      expectObservable(src.pipe(op)).toBe('-A-B-C-D-|', {
        A: { key: 'A', ts_ns: a.ts_event_ns, value: 50 },
        B: { key: 'B', ts_ns: b.ts_event_ns, value: 10 },
        C: { key: 'A', ts_ns: c.ts_event_ns, value: 50 + ewmaAlpha(0.25, 2, 'time_constant') * 50 },
        D: { key: 'A', ts_ns: d.ts_event_ns, value: 0 },
      });
    });
  });
});

describe('KeyedEwma — eviction', () => {
  it('forgets idle keys exactly at idleEvictS and reclaims them with a sweep', () => {
    const k = new KeyedEwma({ tauS: 2, idleEvictS: 10 });
    k.update('A', 1, sec(0));
    k.update('B', 2, sec(5));
    k.advance(sec(10) - 1n);
    expect(k.get('A')).toBe(1);
    k.advance(sec(10));
    expect(k.get('A')).toBeUndefined();
    expect(k.get('B')).toBe(2);
    expect(k.size).toBe(1); // the sweep due at 10 s reclaimed A
    k.advance(sec(14));
    expect([k.size, k.get('B')]).toEqual([1, 2]);
    k.advance(sec(16));
    expect(k.size).toBe(0);
  });

  it('keeps memory bounded over many short-lived keys', () => {
    const k = new KeyedEwma({ tauS: 2, idleEvictS: 1 });
    for (let i = 0; i < 10_000; i++) k.update(`L${i}`, i, BASE + BigInt(i) * 10_000_000n);
    // Keys live at most 1 s plus one half-second sweep period: 150 keys at 100 samples/s.
    expect(k.size).toBeLessThanOrEqual(150);
  });
});

describe('EWMA — properties', () => {
  const step = fc.record({
    gap: fc.oneof(
      { weight: 2, arbitrary: fc.constant(0n) },
      { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 5n * S }) },
      { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2000n * S }) },
    ),
    x: fc.double({ min: -1e4, max: 1e4, noNaN: true }),
    key: fc.constantFrom('A', 'B', 'C'),
  });
  const steps = fc.array(step, { maxLength: 200, size: 'large' });
  const mode = fc.constantFrom<EwmaMode>('half_life', 'time_constant');
  const tau = fc.double({ min: 0.05, max: 20, noNaN: true });

  /** The spec as written, with Math.pow for the half-life. */
  function reference(xs: { ts: bigint; x: number }[], tauS: number, m: EwmaMode): number[] {
    const out: number[] = [];
    let v: number | null = null;
    let last = 0n;
    for (const { ts, x } of xs) {
      if (v === null) {
        v = x;
        last = ts;
      } else if (ts > last) {
        const dt = Math.min(Number(ts - last) / 1e9, 600);
        let a = m === 'half_life' ? 1 - Math.pow(2, -dt / tauS) : 1 - Math.exp(-dt / tauS);
        a = Math.min(1, Math.max(0, a));
        v = a * x + (1 - a) * v;
        last = ts;
      }
      out.push(v);
    }
    return out;
  }

  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

  it('equals a straightforward recomputation, stays within the inputs, is constant on constant input', () => {
    fc.assert(
      fc.property(steps, tau, mode, (raw, tauS, m) => {
        let ts = BASE;
        const xs = raw.map((r) => ({ ts: (ts += r.gap), x: r.x }));
        const got: number[] = [];
        from(xs.map((s) => ({ ts_event_ns: s.ts, value: s.x })))
          .pipe(ewma({ tauS, mode: m, maxDtS: 600 }))
          .subscribe((p) => got.push(p.value));
        const want = reference(xs, tauS, m);
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => expect(close(g, want[i]!)).toBe(true));
        let lo = Infinity;
        let hi = -Infinity;
        got.forEach((g, i) => {
          lo = Math.min(lo, xs[i]!.x);
          hi = Math.max(hi, xs[i]!.x);
          expect(g).toBeGreaterThanOrEqual(lo - 1e-9 * Math.abs(lo));
          expect(g).toBeLessThanOrEqual(hi + 1e-9 * Math.abs(hi));
        });
        const c = new Ewma({ tauS, mode: m });
        for (const s of xs) expect(c.update(7.25, s.ts)).toBe(7.25);
      }),
      { numRuns: 300 },
    );
  });

  it('keyed EWMA equals independent per-key EWMAs (with and without idle eviction)', () => {
    fc.assert(
      fc.property(steps, tau, mode, fc.option(fc.constantFrom(1, 3, 30)), (raw, tauS, m, idle) => {
        let ts = BASE;
        const xs = raw.map((r) => ({ key: r.key, ts_event_ns: (ts += r.gap), value: r.x }));
        const got: KeyedEwmaPoint[] = [];
        from(xs)
          .pipe(keyedEwma({ key: (x) => x.key, tauS, mode: m, ...(idle === null ? {} : { idleEvictS: idle }) }))
          .subscribe((p) => got.push(p));
        // Oracle: one plain Ewma per key, replaced when the key's last counted sample is idle seconds old.
        const per = new Map<string, Ewma>();
        xs.forEach((s, i) => {
          let e = per.get(s.key);
          const lastTs = e?.lastTs;
          if (e === undefined || (idle !== null && lastTs != null && s.ts_event_ns - lastTs >= BigInt(idle) * S)) {
            e = new Ewma({ tauS, mode: m });
            per.set(s.key, e);
          }
          const want = e.update(s.value, s.ts_event_ns);
          expect(got[i]).toEqual({ key: s.key, ts_ns: s.ts_event_ns, value: want });
        });
      }),
      { numRuns: 300 },
    );
  });
});
