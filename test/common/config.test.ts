import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG,
  ConfigError,
  DEFAULTS,
  REDACTED,
  configHash,
  loadConfig,
  redactConfig,
  redactUrl,
} from '../../src/common/config.js';
import type { Config } from '../../src/common/config.js';

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'levelflow-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('defaults', () => {
  it('has the seed values', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({
      W_b: 240,
      W_t: 60,
      W_g: 60,
      W_v: 3,
      W_wall: 300,
      MONITOR_BAND: 0.25,
      TOUCH_BAND: 0.1,
      CONFLUENCE_BAND: 0.2,
      BARRIER_ZONE_ES_TICKS: 8,
      R_vac: 0.3,
      R_wall: 1.5,
      F_thresh: 100,
      TAPE_BAND: 0.5,
      SWEEP_MIN_NOTIONAL: 500000,
      SWEEP_MAX_GAP_MS: 100,
      SWEEP_MIN_VENUES: 1,
      w_L: 0.45,
      w_H: 0.35,
      w_T: 0.2,
      BREAK_SCORE_THRESHOLD: 80,
      REJECT_SCORE_THRESHOLD: 20,
      TRIGGER_HOLD_TIME: 3,
      FEASIBILITY_LOGIT_STEP: 1,
      FEASIBILITY_LOGIT_CAP: 2.5,
      tau_score: 2,
      tau_velocity: 1.5,
      tau_delta_liq: 3,
      tau_dealer_gamma: 5,
      CONFIRMATION_WINDOW_SECONDS: 240,
      CONFIRMATION_WINDOWS_MULTI: [120, 240, 480],
      SNAP_INTERVAL_MS: 250,
      NATS_URL: 'nats://localhost:4222',
      REPLAY_SPEED: 1,
      DATA_ROOT: './data/lake',
      MICRO_BATCH_INTERVAL_S: 5,
      LATENESS_BUFFER_MS: 500,
    });
    expect(c).toEqual(DEFAULTS);
  });
  it('has the ENGINES.md §1.1–1.2 parameters named', () => {
    expect(DEFAULTS).toMatchObject({
      FEASIBILITY_TAPE_IMBALANCE: 0.2,
      FEASIBILITY_GAMMA_EXPOSURE: 50000,
      tau_replenish: 3,
      FUEL_STRIKE_RANGE: 15,
      OPTION_CONTRACT_MULTIPLIER: 50,
      STRIKE_RANGE: 50,
      ROUND_LEVELS_SPACING: 10,
      LOOKBACK_MINUTES: 10,
      ATR_WINDOW_MINUTES: 14,
      SMA_SLOPE_WINDOW_MINUTES: 20,
      SMA_SLOPE_SHORT_BARS: 5,
      BARRIER_FILL_TOLERANCE: 1,
      BARRIER_WEAK_DEPTH: 50,
      BARRIER_ABSORPTION_RATIO: 1,
      BARRIER_CONFIDENCE_SCALE: 500,
      TAPE_CONFIDENCE_SCALE: 500,
      ES_CONTRACT_MULTIPLIER: 50,
      TAPE_MIN_NEAR_LEVEL_PRINTS: 3,
      SWEEP_MIN_PRINTS: 2,
      FUEL_EFFECT_GAMMA: 10000,
      FUEL_WALL_GAMMA: 50000,
      FUEL_CONFIDENCE_SCALE: 1000,
      WALL_SEARCH_RANGE: 10,
      TAPE_VELOCITY_NORM: 0.5,
      CONTESTED_LOW: 30,
      CONTESTED_HIGH: 70,
      CONFIDENCE_HIGH_CUT: 0.7,
      CONFIDENCE_MEDIUM_CUT: 0.4,
      EWMA_MAX_DT_S: 600,
      CONFLUENCE_SMA_DEADBAND: 0.05,
      BLACK76_RISK_FREE_RATE: 0.045,
      BLACK76_DEFAULT_VOL: 0.2,
      TRADING_SECONDS_PER_YEAR: 5896800,
    });
  });
});

describe('overrides', () => {
  it('reads the deployment keys from the environment', () => {
    const c = loadConfig({
      env: {
        NATS_URL: 'nats://a:4222',
        S3_ENDPOINT: 'http://s3:9000',
        S3_BUCKET: 'b',
        S3_ACCESS_KEY: 'AK',
        S3_SECRET_KEY: 'SK',
        REPLAY_SPEED: '2.5',
        DATA_ROOT: '/tmp/lake',
        USE_S3: 'true',
      },
    });
    expect(c).toMatchObject({
      NATS_URL: 'nats://a:4222',
      S3_ENDPOINT: 'http://s3:9000',
      S3_BUCKET: 'b',
      S3_ACCESS_KEY: 'AK',
      S3_SECRET_KEY: 'SK',
      REPLAY_SPEED: 2.5,
      DATA_ROOT: '/tmp/lake',
      USE_S3: true,
    });
  });
  it('reads any parameter from the LEVELFLOW_CONFIG file, with the environment winning', () => {
    const file = configFile({ W_b: 120, w_L: 0.5, REPLAY_SPEED: 3 });
    const c = loadConfig({ env: { LEVELFLOW_CONFIG: file, REPLAY_SPEED: '0' } });
    expect(c.W_b).toBe(120);
    expect(c.w_L).toBe(0.5);
    expect(c.REPLAY_SPEED).toBe(0);
  });
  it('ignores engine parameters in the environment (only the file may change them)', () => {
    expect(loadConfig({ env: { W_b: '-1' } }).W_b).toBe(240);
  });
});

describe('validation', () => {
  const cases: [string, () => Config, RegExp][] = [
    [
      'a negative window',
      () => loadConfig({ env: { LEVELFLOW_CONFIG: configFile({ W_b: -5 }) } }),
      /W_b=-5 .*greater than 0/,
    ],
    [
      'a weight that is not a number',
      () => loadConfig({ env: { LEVELFLOW_CONFIG: configFile({ w_L: 'heavy' }) } }),
      /w_L="heavy" .*must be a number/,
    ],
    [
      'an unknown key in the file',
      () => loadConfig({ env: { LEVELFLOW_CONFIG: configFile({ W_bb: 1 }) } }),
      /W_bb=1 .*unknown configuration key/,
    ],
    [
      'REPLAY_SPEED=fast',
      () => loadConfig({ env: { REPLAY_SPEED: 'fast' } }),
      /REPLAY_SPEED="fast" \(env REPLAY_SPEED\): must be a number/,
    ],
    ['a boolean that is not one', () => loadConfig({ env: { USE_S3: 'maybe' } }), /USE_S3="maybe".*true or false/],
    [
      'thresholds in the wrong order',
      () => loadConfig({ env: { LEVELFLOW_CONFIG: configFile({ REJECT_SCORE_THRESHOLD: 90 }) } }),
      /REJECT_SCORE_THRESHOLD=90 .*below BREAK_SCORE_THRESHOLD/,
    ],
    ['a file that is not JSON', () => loadConfig({ env: { LEVELFLOW_CONFIG: configFile('{oops') } }), /not valid JSON/],
    [
      'a missing file',
      () => loadConfig({ env: { LEVELFLOW_CONFIG: '/nonexistent/levelflow.json' } }),
      /cannot read file/,
    ],
  ];
  for (const [what, load, message] of cases) {
    it(`rejects ${what} naming key, value and rule`, () => {
      let error: unknown;
      try {
        load();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(message);
      expect((error as ConfigError).message).not.toContain('\n');
    });
  }

  it('never prints a secret in an error', () => {
    const file = configFile({ S3_SECRET_KEY: 42 });
    expect(() => loadConfig({ env: { LEVELFLOW_CONFIG: file } })).toThrow(/S3_SECRET_KEY=\*\*\*redacted\*\*\*/);
  });

  it('stops the program with exit code 2 and one line, no stack trace', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'config'], {
      env: { ...process.env, REPLAY_SPEED: 'fast' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'levelflow: invalid configuration: REPLAY_SPEED="fast" (env REPLAY_SPEED): must be a number',
    ]);
  });
});

describe('immutability, hash and redaction', () => {
  it('CONFIG is deeply frozen: writes throw', () => {
    expect(() => {
      (CONFIG as { W_b: number }).W_b = 1;
    }).toThrow(TypeError);
    expect(() => {
      (CONFIG.CONFIRMATION_WINDOWS_MULTI as number[]).push(1);
    }).toThrow(TypeError);
    expect(() => {
      (CONFIG as Record<string, unknown>)['NEW'] = 1;
    }).toThrow(TypeError);
  });
  it('configHash is stable, sha256, and ignores host and secret keys', () => {
    const a = loadConfig({ env: {} });
    const b = loadConfig({ env: { NATS_URL: 'nats://elsewhere:4222', DATA_ROOT: '/x', S3_SECRET_KEY: 's' } });
    expect(configHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(configHash(a)).toBe(configHash(b));
    const c = loadConfig({ env: { LEVELFLOW_CONFIG: configFile({ W_b: 241 }) } });
    expect(configHash(c)).not.toBe(configHash(a));
  });
  it('redacts S3 keys, tokens and URL passwords', () => {
    const c = loadConfig({
      env: { S3_ACCESS_KEY: 'AKIA', S3_SECRET_KEY: 'shh', NATS_URL: 'nats://user:pw@host:4222', NATS_TOKEN: 't0k' },
    });
    const r = redactConfig(c);
    expect(r['S3_ACCESS_KEY']).toBe(REDACTED);
    expect(r['S3_SECRET_KEY']).toBe(REDACTED);
    expect(r['NATS_TOKEN']).toBe(REDACTED);
    expect(r['NATS_URL']).toBe(`nats://user:${REDACTED}@host:4222`);
    expect(JSON.stringify(r)).not.toMatch(/AKIA|shh|t0k|:pw@/);
    expect(redactUrl('nats://tok@host')).toBe(`nats://${REDACTED}@host`);
    expect(redactUrl('nats://host:4222')).toBe('nats://host:4222');
  });
  it('the CLI prints the effective configuration redacted', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'config'], {
      env: { ...process.env, S3_SECRET_KEY: 'topsecret', REPLAY_SPEED: '4' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const printed = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(printed['S3_SECRET_KEY']).toBe(REDACTED);
    expect(printed['REPLAY_SPEED']).toBe(4);
    expect(r.stdout).not.toContain('topsecret');
  });
});
