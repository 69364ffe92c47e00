/**
 * The `levels.signals` payload (ENGINES.md §14 with the port's decisions; DATA.md §3.5): one message per snap,
 * key `es` for the quote (W-28; readers also accept the legacy `spy`). Each level maps one-to-one onto a
 * `levels.signals.v1` row. Numbers that have no value are `null`, never `Infinity`/`NaN`.
 */

export interface SignalQuote {
  spot: number | null;
  bid: number | null;
  ask: number | null;
}

export interface LevelSignal {
  id: string;
  price: number;
  kind: string;
  direction: 'SUPPORT' | 'RESISTANCE';
  distance: number;
  break_score_raw: number;
  break_score_smooth: number | null;
  signal: 'BREAK' | 'REJECT' | 'CONTESTED' | 'NEUTRAL';
  confidence: 'HIGH' | 'MEDIUM' | 'LOW';
  approach_velocity: number;
  approach_bars: number;
  approach_distance: number;
  prior_touches: number;
  barrier: {
    state: string;
    delta_liq: number;
    delta_liq_smooth: number | null;
    replenishment_ratio: number;
    replenishment_ratio_smooth: number | null;
    added: number;
    canceled: number;
    filled: number;
    defending_quote: { price: number; size: number };
    churn: number;
    depth_in_zone: number;
  };
  tape: {
    imbalance: number;
    buy_vol: number;
    sell_vol: number;
    velocity: number;
    velocity_smooth: number | null;
    sweep: { detected: boolean; direction: string; notional: number; num_prints: number; window_ms: number };
  };
  fuel: {
    effect: string;
    net_dealer_gamma: number;
    net_dealer_gamma_smooth: number | null;
    call_wall: number | null;
    put_wall: number | null;
    hvl: number | null;
  };
  runway: {
    direction: 'UP' | 'DOWN';
    distance: number | null;
    next_obstacle: { id: string; price: number } | null;
    quality: string;
  };
  confluence_count: number;
  confluence_pressure: number;
  confluence_alignment: -1 | 0 | 1;
  confluence_level: number;
  confluence_level_name: string;
  note: string;
}

export interface LevelSignalsPayload {
  /** Unix milliseconds of the snap instant (event time). */
  ts: number;
  es: SignalQuote;
  levels: LevelSignal[];
}
