/**
 * CONFIG — the single source of truth for every tunable parameter (SEED.md §2, ENGINES.md §1, DATA.md §0).
 *
 * Layers, later wins: the defaults below ← an optional JSON file named by `LEVELFLOW_CONFIG` (any key) ← the environment
 * (only the deployment keys in `ENV_KEYS`). The result is validated with zod, deeply frozen and exported as `CONFIG`.
 * An invalid value stops the program at start with exit code 2 and one line naming the key, the value and the rule.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const positive = () => z.number().finite().positive();
const nonNegative = () => z.number().finite().nonnegative();
const weight = () => z.number().finite().min(0).max(1);
const score = () => z.number().finite().min(0).max(100);
const count = () => z.number().int().nonnegative();

/**
 * Every parameter with its default and rule. Names are the seed's (snake/camel mix included): they are requirements.
 * Reference magic numbers (ENGINES.md §1.2, W-30) are named here with the reference's defaults unless §18 decides otherwise.
 */
const ConfigObject = z
  .object({
    // Physics windows (seconds)
    W_b: positive().default(240.0),
    W_t: positive().default(60.0),
    W_g: positive().default(60.0),
    W_v: positive().default(3.0),
    W_wall: positive().default(300.0),

    // Monitoring bands (ES points) and barrier zone
    MONITOR_BAND: nonNegative().default(0.25),
    TOUCH_BAND: nonNegative().default(0.1),
    CONFLUENCE_BAND: positive().default(0.2),
    BARRIER_ZONE_ES_TICKS: count().default(8),
    ES_TICK_SIZE: positive().default(0.25),

    // Barrier thresholds and constants
    R_vac: nonNegative().default(0.3),
    R_wall: nonNegative().default(1.5),
    F_thresh: positive().default(100),
    BARRIER_FILL_TOLERANCE: nonNegative().default(1),
    BARRIER_WEAK_DEPTH: nonNegative().default(50),
    BARRIER_ABSORPTION_RATIO: nonNegative().default(1.0),
    BARRIER_CONFIDENCE_SCALE: positive().default(500),

    // Tape thresholds and constants
    TAPE_BAND: nonNegative().default(0.5),
    SWEEP_MIN_NOTIONAL: nonNegative().default(500_000.0),
    SWEEP_MAX_GAP_MS: nonNegative().default(100),
    SWEEP_MIN_VENUES: count().default(1),
    SWEEP_MIN_PRINTS: z.number().int().min(1).default(2),
    TAPE_MIN_NEAR_LEVEL_PRINTS: count().default(3),
    TAPE_CONFIDENCE_SCALE: positive().default(500),
    TAPE_VELOCITY_NORM: positive().default(0.5),
    ES_CONTRACT_MULTIPLIER: positive().default(50.0),

    // Fuel (dealer gamma)
    FUEL_STRIKE_RANGE: nonNegative().default(15.0),
    FUEL_EFFECT_GAMMA: nonNegative().default(10_000),
    FUEL_WALL_GAMMA: nonNegative().default(50_000),
    FUEL_CONFIDENCE_SCALE: positive().default(1000),
    WALL_SEARCH_RANGE: nonNegative().default(10.0),
    OPTION_CONTRACT_MULTIPLIER: positive().default(50.0),

    // Greeks (Black-76)
    BLACK76_RISK_FREE_RATE: z.number().finite().default(0.045),
    BLACK76_DEFAULT_VOL: positive().default(0.2),
    TRADING_SECONDS_PER_YEAR: positive().default(5_896_800),
    OPTION_EXPIRY_ET: z
      .string()
      .regex(/^\d{2}:\d{2}$/, 'must be HH:MM')
      .default('16:00'),

    // Score weights and trigger
    w_L: weight().default(0.45),
    w_H: weight().default(0.35),
    w_T: weight().default(0.2),
    BREAK_SCORE_THRESHOLD: score().default(80.0),
    REJECT_SCORE_THRESHOLD: score().default(20.0),
    TRIGGER_HOLD_TIME: nonNegative().default(3.0),
    SIGNAL_RELEASE_MARGIN: score().default(10.0),
    CONTESTED_LOW: score().default(30.0),
    CONTESTED_HIGH: score().default(70.0),
    CONTESTED_MIN_ACTIVITY: nonNegative().default(500),
    CONFIDENCE_HIGH_CUT: weight().default(0.7),
    CONFIDENCE_MEDIUM_CUT: weight().default(0.4),

    // Feasibility priors
    FEASIBILITY_LOGIT_STEP: nonNegative().default(1.0),
    FEASIBILITY_LOGIT_CAP: nonNegative().default(2.5),
    FEASIBILITY_TAPE_IMBALANCE: weight().default(0.2),
    FEASIBILITY_GAMMA_EXPOSURE: nonNegative().default(50_000),

    // Smoothing: EWMA half-lives (seconds); 'time_constant' reproduces the reference's 1 − e^(−dt/τ) (W-08)
    tau_score: positive().default(2.0),
    tau_velocity: positive().default(1.5),
    tau_delta_liq: positive().default(3.0),
    tau_dealer_gamma: positive().default(5.0),
    tau_replenish: positive().default(3.0),
    EWMA_ALPHA_MODE: z.enum(['half_life', 'time_constant']).default('half_life'),
    EWMA_MAX_DT_S: positive().default(600),

    // Level universe, runway, confluence
    STRIKE_RANGE: nonNegative().default(50.0),
    ROUND_LEVELS_SPACING: positive().default(10.0),
    ROUND_LEVELS_ENABLED: z.boolean().default(true),
    WALL_LEVELS_ENABLED: z.boolean().default(false),
    VWAP_LEVEL_ENABLED: z.boolean().default(false),
    USER_HOTZONES: z.array(positive()).default([]),
    // Engines keep a level's windows from MONITOR_BAND + margin and drop them beyond MONITOR_BAND + 2 × margin, so
    // price oscillating at the band edge does not rebuild them at every snap.
    LEVEL_TRACK_MARGIN: nonNegative().default(2.0),
    CONFLUENCE_SMA_DEADBAND: nonNegative().default(0.05),
    CONFLUENCE_PRESSURE_NORM: positive().default(4.0),
    LOOKBACK_MINUTES: z.number().int().positive().default(10),
    ATR_WINDOW_MINUTES: z.number().int().positive().default(14),
    SMA_SLOPE_WINDOW_MINUTES: z.number().int().positive().default(20),
    SMA_SLOPE_SHORT_BARS: z.number().int().positive().default(5),
    PREMARKET_START_HOUR: z.number().int().min(0).max(23).default(4),
    PREMARKET_START_MINUTE: z.number().int().min(0).max(59).default(0),

    // Outcome labelling
    CONFIRMATION_WINDOW_SECONDS: positive().default(240.0),
    CONFIRMATION_WINDOWS_MULTI: z.array(positive()).default([120.0, 240.0, 480.0]),

    // Event-time cadence
    SNAP_INTERVAL_MS: z.number().int().positive().default(250),
    LATENESS_BUFFER_MS: nonNegative().default(500),
    SNAP_MAX_GAP_MS: nonNegative().default(60_000),

    // Lake
    DATA_ROOT: z.string().min(1).default('./data/lake'),
    MICRO_BATCH_INTERVAL_S: positive().default(5.0),
    MICRO_BATCH_MAX_ROWS: z.number().int().positive().default(100_000),

    // NATS
    NATS_URL: z.string().min(1).default('nats://localhost:4222'),
    NATS_TOKEN: z.string().nullable().default(null),
    NATS_CREDS_FILE: z.string().nullable().default(null),
    NATS_TLS_CA: z.string().nullable().default(null),

    // S3 mirror
    USE_S3: z.boolean().default(false),
    S3_ENDPOINT: z.string().default('http://localhost:9000'),
    S3_BUCKET: z.string().default('spymaster-lake'),
    S3_ACCESS_KEY: z.string().nullable().default(null),
    S3_SECRET_KEY: z.string().nullable().default(null),

    // Replay
    REPLAY_SPEED: nonNegative().default(1.0),
    REPLAY_ALL_CONTRACTS: z.boolean().default(false),
  })
  .strict();

export const ConfigSchema = ConfigObject.superRefine((c, ctx) => {
  if (c.REJECT_SCORE_THRESHOLD >= c.BREAK_SCORE_THRESHOLD) {
    ctx.addIssue({
      code: 'custom',
      path: ['REJECT_SCORE_THRESHOLD'],
      message: `must be below BREAK_SCORE_THRESHOLD (${c.BREAK_SCORE_THRESHOLD})`,
    });
  }
  if (c.CONTESTED_LOW > c.CONTESTED_HIGH) {
    ctx.addIssue({ code: 'custom', path: ['CONTESTED_LOW'], message: `must not exceed CONTESTED_HIGH` });
  }
});

export type Config = Readonly<z.output<typeof ConfigSchema>>;
export type ConfigKey = keyof Config;

/** Deployment keys that the environment may override (secrets only ever come from here or the file). */
export const ENV_KEYS = [
  'NATS_URL',
  'NATS_TOKEN',
  'NATS_CREDS_FILE',
  'NATS_TLS_CA',
  'S3_ENDPOINT',
  'S3_BUCKET',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'USE_S3',
  'REPLAY_SPEED',
  'REPLAY_ALL_CONTRACTS',
  'DATA_ROOT',
] as const satisfies readonly ConfigKey[];

/** Keys that describe the host rather than the computation: excluded from `configHash` (DATA.md §4.3). */
const HOST_KEYS: ReadonlySet<string> = new Set<ConfigKey>([
  'DATA_ROOT',
  'NATS_URL',
  'NATS_TOKEN',
  'NATS_CREDS_FILE',
  'NATS_TLS_CA',
  'USE_S3',
  'S3_ENDPOINT',
  'S3_BUCKET',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
]);

const SECRET_KEY = /SECRET|PASSWORD|TOKEN|ACCESS_KEY/;
export const REDACTED = '***redacted***';

/** A configuration problem a user can fix; the CLI prints `message` alone and exits with code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly rule: string,
    readonly origin: string,
  ) {
    super(`invalid configuration: ${key}=${showValue(key, value)} (${origin}): ${rule}`);
  }
}

function showValue(key: string, value: unknown): string {
  if (SECRET_KEY.test(key) && value !== null && value !== undefined) return REDACTED;
  if (value === undefined) return '<missing>';
  return typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
}

/** Every key at its default; also tells how an environment string of a key is parsed. */
export const DEFAULTS: Config = deepFreeze(ConfigObject.parse({}));

/** Convert an environment string to the key's type; the zod rules then judge the value itself. */
function fromEnv(key: string, raw: string): unknown {
  const dflt = (DEFAULTS as Record<string, unknown>)[key];
  if (typeof dflt === 'number') {
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(n)) throw new ConfigError(key, raw, 'must be a number', `env ${key}`);
    return n;
  }
  if (typeof dflt === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
    throw new ConfigError(key, raw, 'must be true or false', `env ${key}`);
  }
  return raw;
}

export interface LoadConfigOptions {
  /** Environment to read (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Explicit overrides applied last (tests, CLI flags). */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** Build, validate and deep-freeze a configuration. Throws `ConfigError` on the first invalid value. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};

  const file = env['LEVELFLOW_CONFIG'];
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(
        'LEVELFLOW_CONFIG',
        file,
        `cannot read file: ${(err as Error).message}`,
        'env LEVELFLOW_CONFIG',
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(
        'LEVELFLOW_CONFIG',
        file,
        `not valid JSON: ${(err as Error).message}`,
        'env LEVELFLOW_CONFIG',
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError('LEVELFLOW_CONFIG', file, 'must contain a JSON object', 'env LEVELFLOW_CONFIG');
    }
    for (const [k, v] of Object.entries(parsed)) {
      raw[k] = v;
      origin[k] = `file ${file}`;
    }
  }
  for (const key of ENV_KEYS) {
    const v = env[key];
    if (v !== undefined) {
      raw[key] = fromEnv(key, v);
      origin[key] = `env ${key}`;
    }
  }
  for (const [k, v] of Object.entries(options.overrides ?? {})) {
    raw[k] = v;
    origin[k] = 'override';
  }

  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      throw new ConfigError(key, raw[key], 'unknown configuration key', origin[key] ?? 'input');
    }
    const key = String(issue.path[0] ?? '<root>');
    throw new ConfigError(key, raw[key], describeIssue(issue), origin[key] ?? 'default');
  }
  return deepFreeze(result.data);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${issue.expected === 'number' ? 'a number' : `of type ${issue.expected}`}`;
    case 'too_small':
      if (issue.origin === 'number') {
        return issue.minimum === 0 && !issue.inclusive
          ? 'must be greater than 0'
          : `must be ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}`;
      }
      return issue.message;
    case 'too_big':
      return issue.origin === 'number'
        ? `must be ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`
        : issue.message;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Freeze an object graph so any later assignment throws (ESM code runs in strict mode). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Replace secrets (S3 keys, tokens, passwords, credentials inside URLs) for logs and manifests. */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (SECRET_KEY.test(k) && v !== null) out[k] = REDACTED;
    else if (typeof v === 'string') out[k] = redactUrl(v);
    else out[k] = v;
  }
  return out;
}

/** `nats://user:pw@host` → `nats://user:***redacted***@host`; anything that is not such a URL is returned as is. */
export function redactUrl(text: string): string {
  return text.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^/@:]*)(?::([^/@]*))?@/i,
    (_m, scheme: string, user: string, pw?: string) =>
      pw === undefined ? `${scheme}${REDACTED}@` : `${scheme}${user}:${REDACTED}@`,
  );
}

/** JSON with object keys sorted recursively: the canonical form that `configHash` digests. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 of the canonical JSON of every computational key (host and secret keys excluded), lowercase hex. */
export function configHash(config: Config): string {
  const subset: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!HOST_KEYS.has(k)) subset[k] = v;
  return createHash('sha256').update(canonicalJson(subset)).digest('hex');
}

function loadProcessConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`levelflow: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** The process-wide configuration: defaults ← `LEVELFLOW_CONFIG` file ← environment. Deeply frozen. */
export const CONFIG: Config = loadProcessConfig();
