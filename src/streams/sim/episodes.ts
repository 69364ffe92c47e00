/**
 * Scripted episodes: what each one does at its level, when, and what the physics engines of ENGINES.md §4–§8 (with the
 * §18 decisions W-01/W-02/W-03/W-31) should read there. Times are seconds after the session start.
 */

export type SimEpisodeKind = 'WALL' | 'ABSORPTION' | 'VACUUM' | 'CONSUMED' | 'WEAK';
export type SimDirection = 'SUPPORT' | 'RESISTANCE';

/** One episode of a custom schedule. */
export interface SimEpisodeSpec {
  kind: SimEpisodeKind;
  /** Level price, on the 0.25 tick (ROUND levels are multiples of 10). */
  level: number;
  /** RESISTANCE: price approaches from below (the asks defend); SUPPORT: from above (the bids defend). */
  direction: SimDirection;
  /** Seconds after the session start when the approach begins. */
  at_s: number;
}

/** What the engines should read at `evaluate_ns` for this level. */
export interface SimEpisodeExpectation {
  barrier: SimEpisodeKind;
  fuel?: 'AMPLIFY' | 'DAMPEN';
  sweep?: 'UP' | 'DOWN';
  signal?: 'BREAK' | 'REJECT';
}

/** A scheduled episode with absolute event times. */
export interface SimEpisode {
  kind: SimEpisodeKind;
  level: number;
  direction: SimDirection;
  /** Approach begins (price starts heading for the level). */
  approach_ns: bigint;
  /** Scripted phase at the level: touch, hold, grind or hover. */
  start_ns: bigint;
  end_ns: bigint;
  /** An instant inside the scripted phase, late enough for EWMA lag plus the 3 s trigger hold. */
  evaluate_ns: bigint;
  expected: SimEpisodeExpectation;
}

export interface EpisodeTemplate {
  /** Seconds of approach before the scripted phase. */
  approach: number;
  /** Seconds of the scripted phase. */
  script: number;
  /** Seconds after the scripted phase during which price leaves the level. */
  exit: number;
  /** Seconds after the approach start at which `expected` holds. */
  evaluateAt: number;
  /** Where the approach parks the mid, in points from the level against the direction of attack. */
  park: number;
  /** Where the anchor sits during the scripted phase, if not at `park`. */
  hover?: number;
  /** Where price goes after the scripted phase, in points from the level along the direction of attack. */
  exitTo: number;
  expected: (up: boolean) => SimEpisodeExpectation;
}

export const EPISODE_TEMPLATES: Readonly<Record<SimEpisodeKind, EpisodeTemplate>> = {
  // Bids (for a SUPPORT) stack and refill while sellers print at the level; dealers long gamma; price bounces.
  WALL: {
    approach: 100,
    script: 30,
    exit: 60,
    evaluateAt: 127,
    park: 0.375,
    exitTo: -6,
    expected: () => ({ barrier: 'WALL', fuel: 'DAMPEN', signal: 'REJECT' }),
  },
  // Buyers lift the offer at the level and it refills about as fast: heavy two-way churn, net depth flat to up.
  ABSORPTION: {
    approach: 90,
    script: 60,
    exit: 40,
    evaluateAt: 146,
    park: 0.375,
    exitTo: -3,
    expected: () => ({ barrier: 'ABSORPTION' }),
  },
  // The defending side is pulled, dealers are short gamma, a one-sided sweep prints at the level, then price breaks.
  VACUUM: {
    approach: 120,
    script: 40,
    exit: 60,
    evaluateAt: 157,
    park: 0.375,
    exitTo: 6,
    expected: (up) => ({ barrier: 'VACUUM', fuel: 'AMPLIFY', sweep: up ? 'UP' : 'DOWN', signal: 'BREAK' }),
  },
  // Thick resting size inside the zone is eaten by prints one level at a time; nobody cancels or refills.
  CONSUMED: {
    approach: 80,
    script: 70,
    exit: 50,
    evaluateAt: 148,
    park: 2.375,
    exitTo: 3,
    expected: () => ({ barrier: 'CONSUMED' }),
  },
  // Price creeps into a thin pocket of depth and hovers just short of the level; little is added or removed.
  WEAK: {
    approach: 70,
    script: 70,
    exit: 60,
    evaluateAt: 136,
    park: 3.375,
    hover: 0.375,
    exitTo: -4,
    expected: () => ({ barrier: 'WEAK' }),
  },
};

export function episodeSpan(kind: SimEpisodeKind): number {
  const t = EPISODE_TEMPLATES[kind];
  return t.approach + t.script + t.exit;
}

/** The default schedule around `round0`, the ROUND level nearest the start price: a trending morning up 30 points. */
export function defaultEpisodeSpecs(round0: number): SimEpisodeSpec[] {
  return [
    { kind: 'WALL', level: round0 - 10, direction: 'SUPPORT', at_s: 150 },
    { kind: 'ABSORPTION', level: round0, direction: 'RESISTANCE', at_s: 360 },
    { kind: 'VACUUM', level: round0 + 10, direction: 'RESISTANCE', at_s: 570 },
    { kind: 'CONSUMED', level: round0 + 20, direction: 'RESISTANCE', at_s: 810 },
    { kind: 'WEAK', level: round0 + 30, direction: 'RESISTANCE', at_s: 1030 },
  ];
}
