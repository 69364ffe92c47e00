/**
 * KeyedEwma edges of the per-sample shortcuts: the remembered successor key (no map lookup), the reused α for a
 * repeated step, the int64-halves arithmetic with its BigInt tie-breaks, and the switch to BigInt times beyond int64.
 * Each is checked against the plain `Ewma` per key, which is the spec as written.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ewma, KeyedEwma, type EwmaMode } from '../../src/operators/ewma.js';

const BASE = 1_770_000_000_000_000_000n;
const S = 1_000_000_000n;
const INT64_MAX = 2n ** 63n - 1n;

interface Sample {
  key: string;
  ts: bigint;
  x: number;
}

/** One plain Ewma per key, replaced once the key's last counted sample is `idleNs` old at the newest time seen. */
function oracle(samples: readonly Sample[], tauS: number, mode: EwmaMode, idleNs: bigint | null): number[] {
  const per = new Map<string, Ewma>();
  let clock: bigint | null = null;
  return samples.map(({ key, ts, x }) => {
    if (clock === null || ts > clock) clock = ts;
    let e = per.get(key);
    const last = e?.lastTs;
    if (e === undefined || (idleNs !== null && last != null && clock - last >= idleNs)) {
      e = new Ewma({ tauS, mode });
      per.set(key, e);
    }
    return e.update(x, ts);
  });
}

function run(k: KeyedEwma, samples: readonly Sample[]): number[] {
  return samples.map(({ key, ts, x }) => k.update(key, x, ts));
}

describe('KeyedEwma — remembered successor key', () => {
  it('a key evicted mid-cycle comes back fresh, and the keys that preceded it still find their own state', () => {
    const k = new KeyedEwma({ tauS: 2, mode: 'half_life', idleEvictS: 10 });
    const samples: Sample[] = [];
    let t = 0;
    const at = (s: number) => BASE + BigInt(Math.round(s * 1e9));
    // A B C round-robin: every key remembers its successor.
    for (let i = 0; i < 30; i++) for (const key of ['A', 'B', 'C']) samples.push({ key, ts: at((t += 0.1)), x: i });
    // C falls silent for 20 s while A and B go on; a sweep drops C.
    for (let i = 0; i < 200; i++) for (const key of ['A', 'B']) samples.push({ key, ts: at((t += 0.05)), x: 100 + i });
    // C returns in its old place in the cycle, then in a new order.
    for (let i = 0; i < 10; i++) for (const key of ['A', 'B', 'C']) samples.push({ key, ts: at((t += 0.1)), x: -i });
    for (let i = 0; i < 10; i++) for (const key of ['C', 'A', 'B']) samples.push({ key, ts: at((t += 0.1)), x: 2 * i });
    const got = run(k, samples);
    expect(got).toEqual(oracle(samples, 2, 'half_life', 10n * S));
    expect(k.size).toBe(3);
  });

  it('a sweep forgets the successors of the keys it drops', () => {
    const k = new KeyedEwma({ tauS: 1, idleEvictS: 1 });
    const ms = (n: number) => BASE + BigInt(n) * 1_000_000n;
    // A then B: A remembers B. At 1.6 s the sweep drops B (idle 1.1 s); A comes next and must not reach the old B.
    const samples: Sample[] = [
      { key: 'A', ts: ms(0), x: 1 },
      { key: 'B', ts: ms(500), x: 2 },
      { key: 'A', ts: ms(900), x: 3 },
      { key: 'A', ts: ms(1600), x: 4 },
      { key: 'B', ts: ms(1700), x: 7 },
      { key: 'A', ts: ms(1800), x: 5 },
      { key: 'B', ts: ms(1900), x: 9 },
    ];
    const got = run(k, samples);
    expect(got).toEqual(oracle(samples, 1, 'half_life', S));
    expect(got[4]).toBe(7);
    expect(k.size).toBe(2);
    expect(k.get('B')).toBe(got[6]);
  });

  it('keys given as equal strings that are different objects are one key', () => {
    const k = new KeyedEwma({ tauS: 2 });
    const mk = (i: number) => ['L', String(i)].join('');
    for (let r = 0; r < 5; r++) for (let i = 0; i < 4; i++) k.update(mk(i), r * 10 + i, BASE + BigInt(r * 4 + i) * S);
    expect(k.size).toBe(4);
    const e = new Ewma({ tauS: 2 });
    let want = 0;
    for (let r = 0; r < 5; r++) want = e.update(r * 10 + 2, BASE + BigInt(r * 4 + 2) * S);
    expect(k.get('L2')).toBe(want);
  });
});

/** The value after `x1` then `x2` one step of `dtS` apart, as a plain Ewma gives it. */
function valueAfter(x1: number, x2: number, dtS: number, tauS: number): number {
  const e = new Ewma({ tauS });
  e.update(x1, BASE);
  return e.update(x2, BASE + BigInt(Math.round(dtS * 1e9)));
}

describe('KeyedEwma — α reused for a repeated step', () => {
  it('levels sampled on a common snap grid (one step for all keys) match independent Ewmas bit for bit', () => {
    for (const mode of ['half_life', 'time_constant'] as const) {
      const k = new KeyedEwma({ tauS: 1.5, mode, idleEvictS: 6.5 * 3600 });
      const samples: Sample[] = [];
      for (let snap = 0; snap < 200; snap++) {
        const ts = BASE + BigInt(snap) * 250_000_000n + (snap > 100 ? 3n : 0n);
        for (let i = 0; i < 12; i++) samples.push({ key: `L${i}`, ts, x: Math.sin(snap * 0.7 + i) * 100 });
      }
      expect(run(k, samples)).toEqual(oracle(samples, 1.5, mode, BigInt(6.5 * 3600) * S));
    }
  });

  it('steps past maxDtS share the capped α; a repeated step after a different one is not stale', () => {
    const k = new KeyedEwma({ tauS: 100, mode: 'half_life', maxDtS: 1 });
    const e = new Ewma({ tauS: 100, mode: 'half_life', maxDtS: 1 });
    const steps = [5n * S, 7n * S, S / 2n, 5n * S, S / 2n, S / 2n, 900n * S];
    let ts = BASE;
    k.update('A', 0, ts);
    e.update(0, ts);
    steps.forEach((dt, i) => {
      ts += dt;
      expect(k.update('A', i * 10, ts)).toBe(e.update(i * 10, ts));
    });
  });
});

describe('KeyedEwma — exact times', () => {
  it('an idle time that rounds onto idleEvictS (beyond 2^53 ns) is settled exactly', () => {
    // An idle limit above 2^54 ns is a multiple of 4, so one ns less rounds onto it.
    const idleS = (1.25 * 2 ** 54) / 1e9;
    const idleNs = BigInt(Math.round(idleS * 1e9));
    expect(Number(idleNs - 1n)).toBe(Number(idleNs));
    const k = new KeyedEwma({ tauS: 2, idleEvictS: idleS, maxDtS: 1 });
    k.update('A', 5, BASE);
    k.advance(BASE + idleNs - 1n);
    expect(k.get('A')).toBe(5);
    expect(k.evictIdle()).toBe(0);
    k.advance(BASE + idleNs);
    expect(k.get('A')).toBeUndefined();
  });

  it('a sweep falls due exactly sweepEveryNs after the last, also when the wait rounds onto it', () => {
    // idleEvictS above 2^55 ns: the half-period (the sweep interval) is a multiple of 4 above 2^54, so a wait one ns
    // either side of it rounds onto it.
    const idleNs = BigInt(Math.round(1.25 * 2 ** 55));
    const half = idleNs / 2n;
    expect([Number(half - 1n), Number(half + 1n)]).toEqual([Number(half), Number(half)]);
    const k = new KeyedEwma({ tauS: 2, idleEvictS: Number(idleNs) / 1e9 });
    expect(BigInt(Math.round((Number(idleNs) / 1e9) * 1e9))).toBe(idleNs);
    k.update('K', 1, BASE); // sweeps due every `half` from here
    k.advance(BASE + half + 1n); // due: swept (K idle half + 1 ns, kept)
    expect(k.size).toBe(1);
    k.advance(BASE + idleNs); // K idle exactly idleNs: gone for `get`; the next sweep is one ns away
    expect(k.get('K')).toBeUndefined();
    expect(k.size).toBe(1);
    k.advance(BASE + idleNs + 1n);
    expect(k.size).toBe(0);
  });

  it('times beyond int64 switch to BigInt arithmetic and keep the results of the spec', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.bigInt({ min: 0n, max: 40n * S }),
            x: fc.double({ min: -1e3, max: 1e3, noNaN: true }),
            key: fc.constantFrom('A', 'B', 'C'),
          }),
          { minLength: 1, maxLength: 80 },
        ),
        fc.bigInt({ min: INT64_MAX - 500n * S, max: INT64_MAX + 500n * S }),
        fc.constantFrom<EwmaMode>('half_life', 'time_constant'),
        fc.option(fc.constantFrom(5, 30)),
        (raw, start, mode, idle) => {
          let ts = start;
          const samples = raw.map((r) => ({ key: r.key, ts: (ts += r.gap), x: r.x }));
          const k = new KeyedEwma({ tauS: 3, mode, ...(idle === null ? {} : { idleEvictS: idle }) });
          expect(run(k, samples)).toEqual(oracle(samples, 3, mode, idle === null ? null : BigInt(idle) * S));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('advance beyond int64 carries every key over; clear goes back to the int64 path', () => {
    const k = new KeyedEwma({ tauS: 2, idleEvictS: 10 });
    const near = INT64_MAX - 4n * S;
    k.update('A', 10, near);
    k.update('B', 20, near + S);
    k.advance(INT64_MAX + 2n * S); // beyond int64: A idle 6 s, B 5 s
    expect([k.get('A'), k.get('B')]).toEqual([10, 20]);
    expect(k.update('A', 30, INT64_MAX + 3n * S)).toBe(valueAfter(10, 30, 7, 2));
    k.advance(INT64_MAX + 20n * S);
    expect(k.get('B')).toBeUndefined();
    k.clear();
    expect(k.size).toBe(0);
    expect(k.update('A', 1, BASE)).toBe(1);
    expect(k.update('A', 3, BASE + 2n * S)).toBe(valueAfter(1, 3, 2, 2));
  });

  it('negative times and steps across zero measure as the BigInt difference', () => {
    const samples: Sample[] = [-3n * S, -S, -1n, 0n, 1n, 2n * S, 2n ** 40n].map((ts, i) => ({ key: 'A', ts, x: i }));
    expect(run(new KeyedEwma({ tauS: 0.5 }), samples)).toEqual(oracle(samples, 0.5, 'half_life', null));
  });
});
