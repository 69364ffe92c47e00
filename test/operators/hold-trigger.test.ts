import { fc, test } from '@fast-check/vitest';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  HoldTrigger,
  holdTrigger,
  isTouching,
  type HoldTriggerOptions,
  type HoldTriggerStats,
  type TriggerInput,
  type TriggerOutput,
  type TriggerSignal,
} from '../../src/operators/hold-trigger.js';

const BASE = 1_770_000_000_000_000_000n;
const SEC = 1_000_000_000n;

/** A sample of level `key` at `t` seconds after BASE (plus `extraNs`). */
function smp(score: number, t: number, more: Partial<TriggerInput> & { extraNs?: bigint } = {}): TriggerInput {
  const { extraNs = 0n, ...rest } = more;
  return { key: 'L1', ts_ns: BASE + BigInt(t) * SEC + extraNs, score, touching: false, ...rest };
}

function out(x: TriggerInput, signal: TriggerSignal, fired?: 'BREAK' | 'REJECT'): TriggerOutput {
  return fired === undefined ? { key: x.key, ts_ns: x.ts_ns, signal } : { key: x.key, ts_ns: x.ts_ns, signal, fired };
}

function run(inputs: readonly TriggerInput[], opts: HoldTriggerOptions = {}): TriggerOutput[] {
  const t = new HoldTrigger(opts);
  return inputs.map((x) => t.update(x));
}

const signals = (inputs: readonly TriggerInput[], opts: HoldTriggerOptions = {}): string[] =>
  run(inputs, opts).map((o) => (o.fired ? `${o.signal}!` : o.signal));

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('holdTrigger — marbles', () => {
  it('BREAK fires after 3 s held, holds through 75 (hysteresis), releases at 70 or below', () => {
    const a = smp(85, 0);
    const b = smp(85, 1);
    const c = smp(85, 4);
    const d = smp(75, 5);
    const e = smp(65, 6);
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c-d-e-|', { a, b, c, d, e });
      expectObservable(src.pipe(holdTrigger())).toBe('-A-B-C-D-E-|', {
        A: out(a, 'NEUTRAL'),
        B: out(b, 'NEUTRAL'),
        C: out(c, 'BREAK', 'BREAK'),
        D: out(d, 'BREAK'),
        E: out(e, 'NEUTRAL'),
      });
      expectSubscriptions(src.subscriptions).toBe('^----------!');
    });
  });

  it('flicker does not trigger: 85@0, 70@1, 85@2, 85@4 → NEUTRAL; 85@5 → BREAK (ENGINES §8)', () => {
    const xs = [smp(85, 0), smp(70, 1), smp(85, 2), smp(85, 4), smp(85, 5)];
    scheduler().run(({ cold, expectObservable }) => {
      const [a, b, c, d, e] = xs as [TriggerInput, TriggerInput, TriggerInput, TriggerInput, TriggerInput];
      const src = cold('-a-b-c-d-e-|', { a, b, c, d, e });
      expectObservable(src.pipe(holdTrigger())).toBe('-A-B-C-D-E-|', {
        A: out(xs[0]!, 'NEUTRAL'),
        B: out(xs[1]!, 'NEUTRAL'),
        C: out(xs[2]!, 'NEUTRAL'),
        D: out(xs[3]!, 'NEUTRAL'),
        E: out(xs[4]!, 'BREAK', 'BREAK'),
      });
    });
  });

  it('hold boundary: exactly 3 s fires, 3 s − 1 ns does not; keys are independent (W-04)', () => {
    const x0 = smp(85, 0, { key: 'X' });
    const y0 = smp(85, 0, { key: 'Y' });
    const y1 = smp(85, 2, { key: 'Y', extraNs: SEC - 1n });
    const x1 = smp(85, 3, { key: 'X' });
    const y2 = smp(85, 3, { key: 'Y' });
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-b-c-d-e-|', { a: x0, b: y0, c: y1, d: x1, e: y2 });
      expectObservable(src.pipe(holdTrigger())).toBe('-A-B-C-D-E-|', {
        A: out(x0, 'NEUTRAL'),
        B: out(y0, 'NEUTRAL'),
        C: out(y1, 'NEUTRAL'),
        D: out(x1, 'BREAK', 'BREAK'),
        E: out(y2, 'BREAK', 'BREAK'),
      });
    });
  });

  it('REJECT needs the touch: score 10 at distance 0.5 never rejects, at 0.02 rejects at 4 s (seed band 0.10)', () => {
    const far = [0, 4].map((t) => smp(10, t, { key: 'far', touching: isTouching(0.5) }));
    const near = [0, 4].map((t) => smp(10, t, { key: 'near', touching: isTouching(0.02) }));
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold<TriggerInput>('-a-b-c-d-|', { a: far[0]!, b: near[0]!, c: far[1]!, d: near[1]! });
      expectObservable(src.pipe(holdTrigger())).toBe('-A-B-C-D-|', {
        A: out(far[0]!, 'NEUTRAL'),
        B: out(near[0]!, 'NEUTRAL'),
        C: out(far[1]!, 'NEUTRAL'),
        D: out(near[1]!, 'REJECT', 'REJECT'),
      });
    });
  });

  it('a source error reaches the subscriber after the outputs already emitted', () => {
    const a = smp(85, 0);
    const b = smp(85, 3);
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-#', { a, b }, new Error('scores lost'));
      expectObservable(src.pipe(holdTrigger())).toBe(
        '-A-B-#',
        { A: out(a, 'NEUTRAL'), B: out(b, 'BREAK', 'BREAK') },
        new Error('scores lost'),
      );
      expectSubscriptions(src.subscriptions).toBe('^----!');
    });
  });

  it('unsubscribing unsubscribes the source', () => {
    const a = smp(85, 0);
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c-|', { a, b: smp(85, 1), c: smp(85, 4) });
      expectObservable(src.pipe(holdTrigger()), '^--!').toBe('-A-', { A: out(a, 'NEUTRAL') });
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
  });

  it('each subscription has its own state', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const a = smp(85, 0);
      const b = smp(85, 3);
      const src = cold('-a-b-|', { a, b });
      const op = src.pipe(holdTrigger());
      const expected = { A: out(a, 'NEUTRAL'), B: out(b, 'BREAK', 'BREAK') };
      expectObservable(op).toBe('-A-B-|', expected);
      expectObservable(op).toBe('-A-B-|', expected);
    });
  });
});

describe('holdTrigger — worked examples and decisions', () => {
  it('85 @0/1/4 s → N, N, BREAK (ENGINES §8)', () => {
    expect(signals([smp(85, 0), smp(85, 1), smp(85, 4)])).toEqual(['NEUTRAL', 'NEUTRAL', 'BREAK!']);
  });

  it('thresholds are strict: 80 never breaks, 20 never rejects', () => {
    expect(signals([smp(80, 0), smp(80, 5)])).toEqual(['NEUTRAL', 'NEUTRAL']);
    expect(signals([smp(20, 0, { touching: true }), smp(20, 5, { touching: true })])).toEqual(['NEUTRAL', 'NEUTRAL']);
  });

  it('losing the touch interrupts the REJECT timer', () => {
    const xs = [
      smp(10, 0, { touching: true }),
      smp(10, 1, { touching: false }),
      smp(10, 2, { touching: true }),
      smp(10, 4, { touching: true }),
      smp(10, 5, { touching: true }),
    ];
    expect(signals(xs)).toEqual(['NEUTRAL', 'NEUTRAL', 'NEUTRAL', 'NEUTRAL', 'REJECT!']);
  });

  it('W-05: score 50 + CONSUMED + activity 100000 is CONTESTED (the reference overwrote it with NEUTRAL)', () => {
    expect(signals([smp(50, 0, { consumed: true, activity: 100_000 })])).toEqual(['CONTESTED']);
  });

  it('W-05: CONTESTED is recomputed per sample, with closed score bounds and a strict activity floor', () => {
    const c = { consumed: true, activity: 501 };
    expect(
      signals([
        smp(30, 0, c),
        smp(70, 1, c),
        smp(29.9, 2, c),
        smp(70.1, 3, c),
        smp(50, 4, { consumed: true, activity: 500 }),
        smp(50, 5, { consumed: false, activity: 10_000 }),
        smp(50, 6, { activity: 10_000 }),
        smp(50, 7, c),
      ]),
    ).toEqual(['CONTESTED', 'CONTESTED', 'NEUTRAL', 'NEUTRAL', 'NEUTRAL', 'NEUTRAL', 'NEUTRAL', 'CONTESTED']);
  });

  it('W-05: an active BREAK is not replaced by CONTESTED', () => {
    const c = { consumed: true, activity: 10_000 };
    // a 20-point margin keeps BREAK on down to 61, inside the CONTESTED band
    expect(signals([smp(85, 0), smp(85, 3), smp(65, 4, c), smp(60, 5, c)], { releaseMargin: 20 })).toEqual([
      'NEUTRAL',
      'BREAK!',
      'BREAK',
      'CONTESTED',
    ]);
  });

  it('W-06: REJECT holds below 30 and releases at 30', () => {
    const t = { touching: true };
    expect(signals([smp(10, 0, t), smp(10, 3, t), smp(29, 4), smp(29.99, 5), smp(30, 6)])).toEqual([
      'NEUTRAL',
      'REJECT!',
      'REJECT',
      'REJECT',
      'NEUTRAL',
    ]);
  });

  it('W-06: a level leaving the active set releases its signal; back again, it starts fresh', () => {
    const xs = [smp(85, 0), smp(85, 3), smp(85, 4, { remove: true }), smp(85, 5), smp(85, 7), smp(85, 8)];
    expect(signals(xs)).toEqual(['NEUTRAL', 'BREAK!', 'NEUTRAL', 'NEUTRAL', 'NEUTRAL', 'BREAK!']);
    const t = new HoldTrigger();
    t.update(smp(85, 0));
    t.update(smp(85, 3));
    expect(t.signalOf('L1')).toBe('BREAK');
    expect(t.size).toBe(1);
    expect(t.forget('L1')).toBe(true);
    expect(t.size).toBe(0);
    expect(t.signalOf('L1')).toBe('NEUTRAL');
    expect(t.update(smp(85, 4))).toEqual(out(smp(85, 4), 'NEUTRAL'));
  });

  it('a BREAK that keeps holding after it fired does not fire again; after a release it can', () => {
    expect(signals([smp(85, 0), smp(85, 3), smp(85, 10), smp(60, 11), smp(85, 12), smp(85, 15)])).toEqual([
      'NEUTRAL',
      'BREAK!',
      'BREAK',
      'NEUTRAL',
      'NEUTRAL',
      'BREAK!',
    ]);
  });

  it('a sample older than the key’s last is ignored and counted: it neither interrupts nor fires', () => {
    const stats: HoldTriggerStats = { outOfOrder: 0 };
    const xs = [smp(85, 0), smp(85, 2), smp(50, 1), smp(85, 3)];
    expect(signals(xs, { stats })).toEqual(['NEUTRAL', 'NEUTRAL', 'NEUTRAL', 'BREAK!']);
    expect(stats.outOfOrder).toBe(1);
    // equal timestamps are samples like any other
    expect(signals([smp(85, 0), smp(85, 0), smp(70, 0), smp(85, 0), smp(85, 3)])).toEqual([
      'NEUTRAL',
      'NEUTRAL',
      'NEUTRAL',
      'NEUTRAL',
      'BREAK!',
    ]);
  });

  it('hold time 0 fires on the first sample meeting the condition', () => {
    expect(signals([smp(81, 0), smp(10, 1, { touching: true })], { holdTimeS: 0 })).toEqual(['BREAK!', 'REJECT!']);
  });

  it('touch band is closed: distance equal to the band touches', () => {
    expect(isTouching(0.1)).toBe(true);
    expect(isTouching(0.10000001)).toBe(false);
    expect(isTouching(2, 2)).toBe(true);
  });

  it('rejects invalid options when the operator is built', () => {
    expect(() => holdTrigger({ holdTimeS: -1 })).toThrow(RangeError);
    expect(() => holdTrigger({ breakThreshold: Number.NaN })).toThrow(/breakThreshold/);
    expect(() => holdTrigger({ breakThreshold: 20, rejectThreshold: 20 })).toThrow(/rejectThreshold/);
    expect(() => new HoldTrigger({ releaseMargin: -5 })).toThrow(/releaseMargin/);
  });
});

/*
 * Naive oracle: no state machine. For each sample it looks back through the key's accepted history (since its last
 * removal): a condition "held" at j if the run of consecutive samples meeting it that ends at j spans ≥ hold; the
 * active signal is that of the most recent held sample unless a later sample crossed its release threshold.
 */
interface Cfg {
  brk: number;
  rej: number;
  holdNs: bigint;
  margin: number;
}

function oracle(inputs: readonly TriggerInput[], cfg: Cfg): { outputs: TriggerOutput[]; outOfOrder: number } {
  const cond = (x: TriggerInput, s: 'BREAK' | 'REJECT'): boolean =>
    s === 'BREAK' ? x.score > cfg.brk : x.score < cfg.rej && x.touching;
  const held = (h: TriggerInput[], j: number, s: 'BREAK' | 'REJECT'): boolean => {
    if (!cond(h[j]!, s)) return false;
    let k = j;
    while (k > 0 && cond(h[k - 1]!, s)) k--;
    return h[j]!.ts_ns - h[k]!.ts_ns >= cfg.holdNs;
  };
  const released = (x: TriggerInput, s: 'BREAK' | 'REJECT'): boolean =>
    s === 'BREAK' ? x.score <= cfg.brk - cfg.margin : x.score >= cfg.rej + cfg.margin;
  const activeAt = (h: TriggerInput[], j: number): 'BREAK' | 'REJECT' | null => {
    for (let k = j; k >= 0; k--) {
      const s = held(h, k, 'BREAK') ? 'BREAK' : held(h, k, 'REJECT') ? 'REJECT' : null;
      if (s === null) continue;
      for (let m = k + 1; m <= j; m++) if (released(h[m]!, s)) return null;
      return s;
    }
    return null;
  };
  const history = new Map<string, TriggerInput[]>();
  const lastSignal = new Map<string, TriggerSignal>();
  const outputs: TriggerOutput[] = [];
  let outOfOrder = 0;
  for (const x of inputs) {
    if (x.remove) {
      history.delete(x.key);
      outputs.push(out(x, 'NEUTRAL'));
      continue;
    }
    const h = history.get(x.key) ?? [];
    if (h.some((p) => p.ts_ns > x.ts_ns)) {
      outOfOrder++;
      outputs.push(out(x, lastSignal.get(x.key)!));
      continue;
    }
    h.push(x);
    history.set(x.key, h);
    const j = h.length - 1;
    const active = activeAt(h, j);
    const prev = j > 0 ? activeAt(h, j - 1) : null;
    const contested =
      x.score >= 30 && x.score <= 70 && x.consumed === true && (x.activity ?? 0) > 500 ? 'CONTESTED' : 'NEUTRAL';
    const signal = active ?? contested;
    lastSignal.set(x.key, signal);
    const firedNow = active !== null && active !== prev && held(h, j, active);
    outputs.push(firedNow ? out(x, signal, active) : out(x, signal));
  }
  return { outputs, outOfOrder };
}

const sampleArb = fc.record({
  key: fc.constantFrom('A', 'B', 'C'),
  dtNs: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(0n, 1n, SEC / 2n, SEC - 1n, SEC, 3n * SEC - 1n, 3n * SEC) },
    { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 4n * SEC }) },
    { weight: 1, arbitrary: fc.bigInt({ min: -2n * SEC, max: -1n }) },
  ),
  score: fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(5, 10, 19.9, 20, 20.1, 29.9, 30, 50, 70, 70.1, 75, 79.9, 80, 80.1, 85, 95),
    },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 100, noNaN: true }) },
  ),
  touching: fc.boolean(),
  consumed: fc.option(fc.boolean(), { nil: undefined }),
  activity: fc.option(fc.constantFrom(0, 500, 501, 100_000), { nil: undefined }),
  remove: fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const configArb = fc.record({
  holdTimeS: fc.constantFrom(3, 3, 1, 0.5, 0),
  releaseMargin: fc.constantFrom(10, 10, 0, 5),
  thresholds: fc.constantFrom([80, 20] as const, [60, 40] as const),
});

describe('holdTrigger — property against a naive history-scanning oracle', () => {
  test.prop([fc.array(sampleArb, { maxLength: 60 }), configArb], { numRuns: 1000 })(
    'every output equals the oracle; out-of-order counts agree',
    (steps, cfg) => {
      let ts = BASE;
      const inputs: TriggerInput[] = steps.map((s) => {
        ts += s.dtNs;
        const x: TriggerInput = { key: s.key, ts_ns: ts, score: s.score, touching: s.touching };
        return { ...x, consumed: s.consumed, activity: s.activity, remove: s.remove };
      });
      const opts: HoldTriggerOptions = {
        holdTimeS: cfg.holdTimeS,
        releaseMargin: cfg.releaseMargin,
        breakThreshold: cfg.thresholds[0],
        rejectThreshold: cfg.thresholds[1],
        stats: { outOfOrder: 0 },
      };
      const src = new Subject<TriggerInput>();
      const got: TriggerOutput[] = [];
      src.pipe(holdTrigger(opts)).subscribe((o) => got.push(o));
      for (const x of inputs) src.next(x);
      src.complete();
      const expected = oracle(inputs, {
        brk: cfg.thresholds[0],
        rej: cfg.thresholds[1],
        holdNs: BigInt(Math.round(cfg.holdTimeS * 1e9)),
        margin: cfg.releaseMargin,
      });
      expect(got).toEqual(expected.outputs);
      expect(opts.stats!.outOfOrder).toBe(expected.outOfOrder);
    },
  );
});
