/**
 * `levelSignals` — the level-signal service of ENGINES.md §13 as one operator: market events in, one
 * `levels.signals` payload (§14, key `es`) per snap out.
 *
 * ```
 * events:    -t-m-t--m-o--t---m-t--|        (canonical order, or disordered within the lateness)
 * snaps:     ------S0-------S1-----S2|      (every SNAP_INTERVAL_MS of event time; S_k sees every event ≤ T_k)
 * payloads:  ------P0-------P1-----P2|
 * ```
 *
 * Per event the engines update incrementally (market state, barrier, tape, option flows). Per snap `T_k`
 * (`now = T_k`, W-19): the level universe is built once (W-21), the active set is structural levels plus those within
 * `MONITOR_BAND` of spot (§13.2), and for each active level the barrier, tape, fuel and score are read at `now`,
 * smoothed per level id (§9), fed to that level's hold trigger (W-04, W-06), and placed against the universe for
 * runway (W-18) and confluence (W-23). Levels are sorted by distance, ties by universe order (§17.6).
 *
 * Departures from REF (each documented where it is implemented): W-04/05/06 in `HoldTrigger`; W-08 in `Ewma`;
 * W-19 `now = T_k`; W-20 the trading date is the New York date of `now`; W-28 payload key `es`; W-29 one injected
 * config; W-35 per-level state (touches, directions, smoothers) is dropped when the trading date changes.
 */
import { Observable } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import { CONFIG } from '../../common/config.js';
import type { Config } from '../../common/config.js';
import type { MarketEvent } from '../../common/event-types.js';
import type { LevelSignal, LevelSignalsPayload } from '../../common/payloads.js';
import { nyDate } from '../../common/time.js';
import { computeConfluenceBatch } from '../confluence.js';
import type { ConfluenceTarget } from '../confluence.js';
import { KeyedEwma } from '../ewma.js';
import { HoldTrigger } from '../hold-trigger.js';
import { ReorderBuffer } from '../reorder-buffer.js';
import type { ReorderStats } from '../reorder-buffer.js';
import { SnapGrid } from '../snap-grid.js';
import type { SnapGridStats } from '../snap-grid.js';
import { BarrierEngine } from './barrier.js';
import { FuelEngine, OptionFlowBook } from './fuel.js';
import type { FuelMetrics } from './fuel.js';
import { DirectionMemory, STRUCTURAL_KINDS, activeLevels, buildLevelUniverse } from './level-universe.js';
import { MarketState } from './market-state.js';
import { RunwayIndex, breakDirectionOf, runwayDirection } from './runway.js';
import { levelNote, scoreLevel } from './score.js';
import { TapeEngine } from './tape.js';
import type { Level } from './types.js';

const NS_PER_MS = 1_000_000n;

export interface LevelSignalsStats {
  events: number;
  snaps: number;
  /** Events older than the reorder watermark or the last snap: counted, not applied. */
  late: number;
}

export interface LevelSignalsOptions {
  /** The one configuration every engine reads (W-29); default `CONFIG`. */
  readonly config?: Config;
  /** 0DTE trading date; default the New York date of each snap. */
  readonly tradingDate?: string;
  /**
   * Pass events through a reorder buffer of `LATENESS_BUFFER_MS` first (default true). Turn it off only when the
   * input is already in canonical order (a merge of sorted files) to save its small cost.
   */
  readonly reorder?: boolean;
  /** Live mode: event-time clock ticks that advance the grid (and the reorder watermark) when the market is quiet. */
  readonly heartbeats?: Observable<bigint>;
  /** Counters, updated in place. */
  readonly stats?: LevelSignalsStats;
}

interface LevelFrame {
  readonly key: string;
  readonly universe: Level[];
  readonly active: Level[];
  readonly runways: RunwayIndex;
}

interface TouchState {
  count: number;
  active: boolean;
}

/**
 * The engines and per-level state behind `levelSignals`, without RxJS: feed events with `onEvent` in canonical
 * order, ask for a payload with `snap(now)` at increasing instants.
 */
export class LevelSignalEngine {
  readonly market: MarketState;
  readonly barrier: BarrierEngine;
  readonly tape: TapeEngine;
  readonly flows: OptionFlowBook;
  private readonly fuel: FuelEngine;
  private readonly trigger: HoldTrigger;
  private readonly directions = new DirectionMemory();
  private readonly touches = new Map<string, TouchState>();
  private readonly smoothScore: KeyedEwma;
  private readonly smoothDeltaLiq: KeyedEwma;
  private readonly smoothReplenish: KeyedEwma;
  private readonly smoothVelocity: KeyedEwma;
  private readonly smoothGamma: KeyedEwma;
  private readonly triggered = new Set<string>();
  private tracked = new Map<string, number>();
  private frame: LevelFrame | null = null;
  /** Fuel per level price, valid while no option print arrived (fuel reads nothing else). */
  private readonly fuelCache = new Map<number, FuelMetrics>();
  private flowVersion = 0;
  private fuelVersion = 0;
  private sessionDate: string | null = null;

  constructor(
    private readonly config: Config = CONFIG,
    private readonly fixedTradingDate: string | null = null,
  ) {
    const c = config;
    this.market = new MarketState({ config: c });
    this.barrier = new BarrierEngine({ config: c });
    this.tape = new TapeEngine({ config: c });
    this.flows = new OptionFlowBook({
      multiplier: c.OPTION_CONTRACT_MULTIPLIER,
      r: c.BLACK76_RISK_FREE_RATE,
      defaultVol: c.BLACK76_DEFAULT_VOL,
      expiryEt: c.OPTION_EXPIRY_ET,
      tradingSecondsPerYear: c.TRADING_SECONDS_PER_YEAR,
    });
    this.fuel = new FuelEngine({
      strikeRange: c.FUEL_STRIKE_RANGE,
      effectGamma: c.FUEL_EFFECT_GAMMA,
      wallGamma: c.FUEL_WALL_GAMMA,
      confidenceScale: c.FUEL_CONFIDENCE_SCALE,
      wallSearchRange: c.WALL_SEARCH_RANGE,
    });
    this.trigger = new HoldTrigger({
      breakThreshold: c.BREAK_SCORE_THRESHOLD,
      rejectThreshold: c.REJECT_SCORE_THRESHOLD,
      holdTimeS: c.TRIGGER_HOLD_TIME,
      releaseMargin: c.SIGNAL_RELEASE_MARGIN,
      contestedLow: c.CONTESTED_LOW,
      contestedHigh: c.CONTESTED_HIGH,
      contestedMinActivity: c.CONTESTED_MIN_ACTIVITY,
    });
    const smoother = (tauS: number) =>
      new KeyedEwma({ tauS, mode: c.EWMA_ALPHA_MODE, maxDtS: c.EWMA_MAX_DT_S, idleEvictS: 6.5 * 3600 });
    this.smoothScore = smoother(c.tau_score);
    this.smoothDeltaLiq = smoother(c.tau_delta_liq);
    this.smoothReplenish = smoother(c.tau_replenish);
    this.smoothVelocity = smoother(c.tau_velocity);
    this.smoothGamma = smoother(c.tau_dealer_gamma);
  }

  /** Apply one event (canonical order). */
  onEvent(e: MarketEvent): void {
    if ('option_symbol' in e) {
      this.flows.updateOptionTrade(e, this.market.spot());
      this.flowVersion++;
      return;
    }
    this.market.onEvent(e);
    this.barrier.onEvent(e);
    this.tape.onEvent(e);
  }

  /** The payload at snap instant `now` (ns); instants must not decrease. */
  snap(now: bigint): LevelSignalsPayload {
    const ts = Number(now / NS_PER_MS);
    const spot = this.market.spot();
    const quote = this.market.bidAsk();
    if (spot === null || quote === null) return { ts, es: { spot: null, bid: null, ask: null }, levels: [] };

    const c = this.config;
    const tradingDate = this.fixedTradingDate ?? nyDate(now);
    if (tradingDate !== this.sessionDate) this.newSession(tradingDate);
    this.flows.advanceTo(now);

    const { universe, active, runways } = this.levelFrame(spot, tradingDate);
    if (this.fuelVersion !== this.flowVersion) {
      this.fuelCache.clear();
      this.fuelVersion = this.flowVersion;
    }

    const approach = {
      UP: this.market.approach('UP', c.LOOKBACK_MINUTES),
      DOWN: this.market.approach('DOWN', c.LOOKBACK_MINUTES),
    };
    const velocity = this.tape.velocity(now);
    const velocitySmooth = (id: string) => this.smoothVelocity.update(id, velocity, now);

    const targets: ConfluenceTarget[] = [];
    const rows: { level: Level; order: number; signal: LevelSignal }[] = [];
    active.forEach((level, order) => {
      const distance = Math.abs(spot - level.price);
      const direction = this.directions.direction(level.id, spot, level.price);
      const breakDir = breakDirectionOf(direction);
      targets.push({ id: level.id, price: level.price, kind: level.kind, direction });

      const touching = distance <= c.TOUCH_BAND;
      let touch = this.touches.get(level.id);
      if (!touch) this.touches.set(level.id, (touch = { count: 0, active: false }));
      const prior = touch.count;
      if (touching && !touch.active) touch.count++;
      touch.active = touching;

      const barrier = this.barrier.metrics(level.id, direction, now);
      const tape = this.tape.metrics(level.id, now);
      let fuel = this.fuelCache.get(level.price);
      if (fuel === undefined) {
        fuel = this.fuel.compute(this.flows, level.price, tradingDate);
        this.fuelCache.set(level.price, fuel);
      }
      const score = scoreLevel(
        barrier,
        fuel,
        { velocity: tape.velocity, imbalance: tape.imbalance, sweep: tape.sweep, confidence: tape.confidence },
        breakDir,
        {
          weights: { w_L: c.w_L, w_H: c.w_H, w_T: c.w_T },
          fThresh: c.F_thresh,
          velocityNorm: c.TAPE_VELOCITY_NORM,
          highCut: c.CONFIDENCE_HIGH_CUT,
          mediumCut: c.CONFIDENCE_MEDIUM_CUT,
        },
      );
      const trig = this.trigger.update({
        key: level.id,
        ts_ns: now,
        score: score.raw_score,
        touching,
        consumed: barrier.state === 'CONSUMED',
        activity: tape.buy_vol + tape.sell_vol,
      });
      this.triggered.add(level.id);
      const runway = runways.runway(level, runwayDirection(direction, trig.signal));
      const ctx = approach[breakDir];

      rows.push({
        level,
        order,
        signal: {
          id: level.id,
          price: level.price,
          kind: level.kind,
          direction,
          distance,
          break_score_raw: score.raw_score,
          break_score_smooth: this.smoothScore.update(level.id, score.raw_score, now),
          signal: trig.signal,
          confidence: score.confidence,
          approach_velocity: ctx.velocity,
          approach_bars: ctx.bars,
          approach_distance: ctx.distance,
          prior_touches: prior,
          barrier: {
            state: barrier.state,
            delta_liq: barrier.delta_liq,
            delta_liq_smooth: this.smoothDeltaLiq.update(level.id, barrier.delta_liq, now),
            replenishment_ratio: barrier.replenishment_ratio,
            replenishment_ratio_smooth: this.smoothReplenish.update(level.id, barrier.replenishment_ratio, now),
            added: barrier.added_size,
            canceled: barrier.canceled_size,
            filled: barrier.filled_size,
            defending_quote: { price: barrier.defending_quote.price, size: barrier.defending_quote.size },
            churn: barrier.churn,
            depth_in_zone: barrier.depth_in_zone,
          },
          tape: {
            imbalance: tape.imbalance,
            buy_vol: tape.buy_vol,
            sell_vol: tape.sell_vol,
            velocity: tape.velocity,
            velocity_smooth: velocitySmooth(level.id),
            sweep: {
              detected: tape.sweep.detected,
              direction: tape.sweep.direction,
              notional: tape.sweep.notional,
              num_prints: tape.sweep.num_prints,
              window_ms: tape.sweep.window_ms,
            },
          },
          fuel: {
            effect: fuel.effect,
            net_dealer_gamma: fuel.net_dealer_gamma,
            net_dealer_gamma_smooth: this.smoothGamma.update(level.id, fuel.net_dealer_gamma, now),
            call_wall: fuel.call_wall?.strike ?? null,
            put_wall: fuel.put_wall?.strike ?? null,
            hvl: fuel.hvl,
          },
          runway: {
            direction: runway.direction,
            distance: runway.distance,
            next_obstacle: runway.next_obstacle
              ? { id: runway.next_obstacle.id, price: runway.next_obstacle.price }
              : null,
            quality: runway.quality,
          },
          confluence_count: 0,
          confluence_pressure: 0,
          confluence_alignment: 0,
          confluence_level: 0,
          confluence_level_name: 'UNDEFINED',
          note: levelNote(barrier.state, fuel.effect, tape.sweep.detected),
        },
      });
    });

    const confluence = computeConfluenceBatch(targets, universe, {
      band: c.CONFLUENCE_BAND,
      spot,
      deadband: c.CONFLUENCE_SMA_DEADBAND,
      pressureNorm: c.CONFLUENCE_PRESSURE_NORM,
    });
    rows.forEach((r, i) => {
      const cf = confluence[i]!;
      r.signal.confluence_count = cf.confluence_count;
      r.signal.confluence_pressure = cf.confluence_pressure;
      r.signal.confluence_alignment = cf.confluence_alignment;
      r.signal.confluence_level = cf.confluence_level;
      r.signal.confluence_level_name = cf.confluence_level_name;
    });
    rows.sort((a, b) => a.signal.distance - b.signal.distance || a.order - b.order);
    return { ts, es: { spot, bid: quote.bid, ask: quote.ask }, levels: rows.map((r) => r.signal) };
  }

  /**
   * The universe, active set and runway index for this snap. They depend only on spot, the session levels, the
   * traded strikes and the date, which most snaps share with the previous one, so they are rebuilt only when one of
   * those changed (the result is the same either way).
   */
  private levelFrame(spot: number, tradingDate: string): LevelFrame {
    const c = this.config;
    const m = this.market;
    const strikes = this.flows.strikeSummaries(spot, c.STRIKE_RANGE, tradingDate);
    let key = `${spot}|${m.premarketHigh()}|${m.premarketLow()}|${m.openingRangeHigh()}|${m.openingRangeLow()}|`;
    key += `${m.sma200()}|${m.sma400()}|${c.VWAP_LEVEL_ENABLED ? m.vwap() : ''}|${tradingDate}|`;
    for (const k of strikes) key += `${k.strike}${k.has_calls ? 'c' : ''}${k.has_puts ? 'p' : ''},`;
    if (this.frame !== null && this.frame.key === key) return this.frame;

    const universe = buildLevelUniverse(
      {
        spot,
        pmHigh: m.premarketHigh(),
        pmLow: m.premarketLow(),
        orHigh: m.openingRangeHigh(),
        orLow: m.openingRangeLow(),
        sma200: m.sma200(),
        sma400: m.sma400(),
        vwap: m.vwap(),
        strikes,
        tradingDate,
        hotzones: c.USER_HOTZONES,
      },
      {
        roundSpacing: c.ROUND_LEVELS_SPACING,
        strikeRange: c.STRIKE_RANGE,
        roundLevels: c.ROUND_LEVELS_ENABLED,
        wallLevels: c.WALL_LEVELS_ENABLED,
        vwapLevel: c.VWAP_LEVEL_ENABLED,
      },
    );
    const active = activeLevels(universe, spot, c.MONITOR_BAND);
    this.trackLevels(universe, spot);
    const activeIds = new Set(active.map((l) => l.id));
    for (const [id, t] of this.touches) if (!activeIds.has(id)) t.active = false;
    // A level that leaves the active set releases its trigger (W-06).
    for (const id of this.triggered) {
      if (!activeIds.has(id)) {
        this.trigger.forget(id);
        this.triggered.delete(id);
      }
    }
    this.frame = { key, universe, active, runways: new RunwayIndex(universe) };
    return this.frame;
  }

  /**
   * Keep the barrier and tape windows of every structural level and of every level within MONITOR_BAND + margin;
   * drop one only beyond MONITOR_BAND + 2 × margin. A level entering the window set is back-filled from the engines'
   * retained history once, not at every snap where price wobbles across the band edge.
   */
  private trackLevels(universe: readonly Level[], spot: number): void {
    const c = this.config;
    const near = c.MONITOR_BAND + c.LEVEL_TRACK_MARGIN;
    const far = c.MONITOR_BAND + 2 * c.LEVEL_TRACK_MARGIN;
    const keep = new Map<string, number>();
    for (const l of universe) {
      const d = Math.abs(spot - l.price);
      const tracked = this.tracked.get(l.id);
      if (STRUCTURAL_KINDS.has(l.kind) || d <= near || (tracked === l.price && d <= far)) keep.set(l.id, l.price);
    }
    for (const [id, price] of this.tracked) {
      if (keep.get(id) !== price) {
        this.barrier.untrack(id);
        this.tape.untrack(id);
      }
    }
    for (const [id, price] of keep) {
      if (this.tracked.get(id) !== price) {
        this.barrier.track(id, price);
        this.tape.track(id, price);
      }
    }
    this.tracked = keep;
  }

  /** A new trading date: per-level memory of the old session no longer applies (W-35). */
  private newSession(date: string): void {
    if (this.sessionDate !== null) {
      this.touches.clear();
      this.directions.clear();
      this.trigger.reset();
      this.triggered.clear();
    }
    this.sessionDate = date;
    this.frame = null;
    this.flowVersion++;
  }
}

/**
 * Market events → one `levels.signals` payload per snap. Completion emits the final snap (the first grid instant at
 * or after the last event); an error in the source is forwarded after nothing more is emitted.
 */
export function levelSignals(options: LevelSignalsOptions = {}): OperatorFunction<MarketEvent, LevelSignalsPayload> {
  const config = options.config ?? CONFIG;
  return (source) =>
    new Observable<LevelSignalsPayload>((subscriber) => {
      const stats: LevelSignalsStats = options.stats ?? { events: 0, snaps: 0, late: 0 };
      const engine = new LevelSignalEngine(config, options.tradingDate ?? null);
      const gridStats: SnapGridStats = { snaps: 0, late: 0 };
      const grid = new SnapGrid({
        intervalMs: config.SNAP_INTERVAL_MS,
        maxGapMs: config.SNAP_MAX_GAP_MS,
        stats: gridStats,
      });
      const reorderStats: ReorderStats = { released: 0, late: 0, buffered: 0 };
      const reorder =
        options.reorder === false
          ? null
          : new ReorderBuffer<MarketEvent>({ latenessMs: config.LATENESS_BUFFER_MS, stats: reorderStats });
      const emitSnap = (t: bigint) => {
        stats.snaps++;
        subscriber.next(engine.snap(t));
      };
      const apply = (e: MarketEvent) => {
        if (grid.event(e.ts_event_ns, emitSnap)) {
          stats.events++;
          engine.onEvent(e);
        } else {
          stats.late++;
        }
      };
      const accept = (e: MarketEvent) => {
        if (reorder) {
          if (!reorder.push(e, apply)) stats.late++;
        } else apply(e);
      };
      const beat = options.heartbeats?.subscribe({
        next: (h) => {
          // Events at or before the released watermark are all delivered; the grid may close snaps up to it.
          grid.heartbeat(reorder ? reorder.advanceTo(h, apply) : h, emitSnap);
        },
        error: (err: unknown) => subscriber.error(err),
      });
      const sub = source.subscribe({
        next: accept,
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          reorder?.flush(apply);
          grid.finish(emitSnap);
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        beat?.unsubscribe();
        reorder?.clear();
      };
    });
}
