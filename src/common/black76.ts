/**
 * Black-76 for options on futures (ENGINES.md §6.1, W-11): price, greeks, implied vol, time to expiry.
 *
 * Departures from REF, each with a parity option:
 * - Expiry is `OPTION_EXPIRY_ET` (16:00) New York time on `exp_date`, DST-correct (W-11). REF uses 21:00 UTC all
 *   year, which is 16:00 ET only in winter (in summer it is 17:00 ET, one hour too late). `expiry: 'utc_21'` restores it.
 * - The normal CDF is erfc-based (fdlibm, full double precision) everywhere. REF's live path uses `math.erf`
 *   (same accuracy), its batch path A&S 7.1.26 (error up to 1.5e-7); `cdf: 'abramowitz_stegun'` reproduces the latter.
 * - Degenerate prices: `T ≤ 0` → intrinsic, `σ ≤ 0` → discounted intrinsic. REF's private pricer reads d1 = d2 = 0
 *   there (a price of e^{−rT}(S−K)/2); it is unreachable from its IV solver, which clamps σ ≥ 0.01.
 * - `S ≤ 0` or `K ≤ 0` (not a market price) → price 0 and zero greeks instead of REF's d1 = d2 = 0 arithmetic.
 *
 * Greeks follow REF exactly otherwise: Γ and vega are discounted, vega is per vol point (/100), theta per trading day
 * (/252); `T ≤ 0` → Δ_C = [S > K], Δ_P = −[S < K]; `σ ≤ 0` → the same against K·e^{−rT}.
 */
import { CONFIG } from './config.js';
import { nyWallTimeToNs } from './time.js';
type OptionRight = 'C' | 'P';

export type NormCdfMethod = 'erfc' | 'abramowitz_stegun';

export interface Black76Options {
  /** Risk-free rate (default `CONFIG.BLACK76_RISK_FREE_RATE`). */
  readonly r?: number | undefined;
  /** Default `'erfc'`. */
  readonly cdf?: NormCdfMethod | undefined;
}

export interface Greeks {
  readonly price: number;
  readonly delta: number;
  readonly gamma: number;
  /** Per 1 vol point (σ + 0.01). */
  readonly vega: number;
  /** Per trading day (1/252 of a year). */
  readonly theta: number;
}

const INV_SQRT_2PI = 0.3989422804014327;
const TRADING_DAYS_PER_YEAR = 252;

export function normPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/**
 * Standard normal CDF as `erfc(−x/√2)/2`, so the lower tail is computed directly (no 1 − (1 − tiny) cancellation).
 */
export function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

// erfc from fdlibm s_erf.c — "Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at
// SunPro, a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this software is freely
// granted, provided that this notice is preserved." Rational approximations on [0, 0.84375), [0.84375, 1.25),
// [1.25, 1/0.35), [1/0.35, 28); relative error below 2^-57 on each, i.e. full double precision.
const ERX = 8.45062911510467529297e-1;
const PP = [
  1.28379167095512558561e-1, -3.2504210724700149937e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3,
  -2.37630166566501626084e-5,
];
const QQ = [
  3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4,
  -3.9602282787753681232e-6,
];
const PA = [
  -2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1,
  -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.166375594868790843e-3,
];
const QA = [
  1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1,
  1.36370839120290507362e-2, 1.1984499846799107417e-2,
];
const RA = [
  -9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1,
  -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592,
];
const SA = [
  1.96512716674392571292e1, 1.376577541435190426e2, 4.34565877475229228821e2, 6.45387271733267880336e2,
  4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2,
];
const RB = [
  -9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2,
  -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2,
];
const SB = [
  3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3,
  2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1,
];

/** c[0] + c[1]·s + c[2]·s² + … (Horner). */
function poly(c: readonly number[], s: number): number {
  let acc = 0;
  for (let i = c.length - 1; i >= 0; i--) acc = acc * s + c[i]!;
  return acc;
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/** Complementary error function, fdlibm's algorithm. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const neg = x < 0;
  const a = Math.abs(x);
  if (a < 0.84375) {
    if (a < 2 ** -56) return 1 - x;
    const z = x * x;
    const y = poly(PP, z) / (1 + z * poly(QQ, z));
    return a < 0.25 ? 1 - (x + x * y) : 0.5 - (x * y + (x - 0.5));
  }
  if (a < 1.25) {
    const s = a - 1;
    const pq = poly(PA, s) / (1 + s * poly(QA, s));
    return neg ? 1 + ERX + pq : 1 - ERX - pq;
  }
  if (a < 28) {
    if (neg && a > 6) return 2;
    const s = 1 / (a * a);
    const rs = a < 1 / 0.35 ? poly(RA, s) / (1 + s * poly(SA, s)) : poly(RB, s) / (1 + s * poly(SB, s));
    // z = a with the low 32 bits cleared, so z² is exact and exp(−a²) loses no precision to the square.
    F64[0] = a;
    U32[LOW_WORD] = 0;
    const z = F64[0]!;
    const r = Math.exp(-z * z - 0.5625) * Math.exp((z - a) * (z + a) + rs);
    return neg ? 2 - r / a : r / a;
  }
  return neg ? 2 : 0;
}

/** REF batch path: N(x) = (1 + erf(x/√2))/2 with the A&S 7.1.26 erf (|error| ≤ 1.5e-7). Parity only. */
export function normCdfAbramowitzStegun(x: number): number {
  const u = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * u);
  const poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  const erf = 1 - poly * Math.exp(-u * u);
  return 0.5 * (1 + (x < 0 ? -erf : erf));
}

function cdfOf(method: NormCdfMethod | undefined): (x: number) => number {
  return method === 'abramowitz_stegun' ? normCdfAbramowitzStegun : normCdf;
}

/** Black-76 premium of a European option on a future. */
export function black76Price(
  S: number,
  K: number,
  T: number,
  sigma: number,
  right: OptionRight,
  opts: Black76Options = {},
): number {
  return black76Greeks(S, K, T, sigma, right, opts).price;
}

/** Price and greeks in one pass (they share d1, d2 and the discount factor). */
export function black76Greeks(
  S: number,
  K: number,
  T: number,
  sigma: number,
  right: OptionRight,
  opts: Black76Options = {},
): Greeks {
  const r = opts.r ?? CONFIG.BLACK76_RISK_FREE_RATE;
  const isCall = right === 'C';
  if (!(S > 0 && K > 0)) return { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 };
  if (T <= 0) {
    const delta = isCall ? (S > K ? 1 : 0) : S < K ? -1 : 0;
    return { price: Math.max(isCall ? S - K : K - S, 0), delta, gamma: 0, vega: 0, theta: 0 };
  }
  const disc = Math.exp(-r * T);
  if (sigma <= 0) {
    const k = K * disc;
    const delta = isCall ? (S > k ? 1 : 0) : S < k ? -1 : 0;
    return { price: disc * Math.max(isCall ? S - K : K - S, 0), delta, gamma: 0, vega: 0, theta: 0 };
  }
  const N = cdfOf(opts.cdf);
  const sqrtT = Math.sqrt(T);
  const volT = sigma * sqrtT;
  const d1 = (Math.log(S / K) + 0.5 * sigma * sigma * T) / volT;
  const d2 = d1 - volT;
  const pdf = normPdf(d1);
  const price = isCall ? disc * (S * N(d1) - K * N(d2)) : disc * (K * N(-d2) - S * N(-d1));
  const delta = isCall ? disc * N(d1) : disc * (N(d1) - 1);
  const gamma = (disc * pdf) / (S * volT);
  const vega = (disc * S * pdf * sqrtT) / 100;
  const theta = ((-disc * S * pdf * sigma) / (2 * sqrtT) + r * price) / TRADING_DAYS_PER_YEAR;
  return { price, delta, gamma, vega, theta };
}

/**
 * Implied volatility by Newton's method, exactly REF's loop: σ₀ 0.3; at most 50 steps `σ −= (model − obs)/ν` with
 * ν = e^{−rT}·S·φ(d1)·√T (per unit σ); stop early when ν < 1e-10; clamp every step to [0.01, 5]; converged when a step
 * moves σ by less than 1e-6; otherwise the last σ. `null` when price, T, S or K is not positive.
 */
export function impliedVol(
  price: number,
  S: number,
  K: number,
  T: number,
  right: OptionRight,
  opts: Black76Options = {},
): number | null {
  if (!(price > 0 && T > 0 && S > 0 && K > 0)) return null;
  const r = opts.r ?? CONFIG.BLACK76_RISK_FREE_RATE;
  const disc = Math.exp(-r * T);
  const sqrtT = Math.sqrt(T);
  let sigma = 0.3;
  for (let i = 0; i < 50; i++) {
    const model = black76Price(S, K, T, sigma, right, opts);
    const d1 = (Math.log(S / K) + 0.5 * sigma * sigma * T) / (sigma * sqrtT);
    const nu = disc * S * normPdf(d1) * sqrtT;
    if (nu < 1e-10) break;
    const next = Math.min(5, Math.max(0.01, sigma - (model - price) / nu));
    if (Math.abs(next - sigma) < 1e-6) return next;
    sigma = next;
  }
  return sigma;
}

// ---------------------------------------------------------------------------------------------------------------
// Time to expiry
// ---------------------------------------------------------------------------------------------------------------

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HHMM_RE = /^(\d{2}):(\d{2})$/;

/** `'new_york'`: `OPTION_EXPIRY_ET` New York time (W-11). `'utc_21'`: REF's fixed 21:00 UTC. */
export type ExpiryConvention = 'new_york' | 'utc_21';

export interface ExpiryOptions {
  /** Default `'new_york'`. */
  readonly expiry?: ExpiryConvention | undefined;
  /** Wall-clock expiry in New York (default `CONFIG.OPTION_EXPIRY_ET`). */
  readonly expiryEt?: string | undefined;
  /** Default `CONFIG.TRADING_SECONDS_PER_YEAR` (252 × 6.5 h). */
  readonly tradingSecondsPerYear?: number | undefined;
}

/** Pure memo (every print of a day asks for the same expiry); bounded by clearing. */
const expiryCache = new Map<string, bigint>();

/** Expiry instant (ns) of options expiring on `exp_date`; New York time via `time.ts` (the runtime's tz database). */
export function expiryNs(expDate: string, opts: ExpiryOptions = {}): bigint {
  const utc21 = opts.expiry === 'utc_21';
  const hhmm = utc21 ? '21:00' : (opts.expiryEt ?? CONFIG.OPTION_EXPIRY_ET);
  const key = `${utc21 ? 'Z' : 'NY'} ${expDate} ${hhmm}`;
  let ns = expiryCache.get(key);
  if (ns === undefined) {
    if (utc21) {
      const dm = DATE_RE.exec(expDate);
      if (dm === null) throw new RangeError(`date must be YYYY-MM-DD, got ${JSON.stringify(expDate)}`);
      ns = BigInt(Date.UTC(Number(dm[1]), Number(dm[2]) - 1, Number(dm[3]), 21)) * 1_000_000n;
    } else {
      const tm = HHMM_RE.exec(hhmm);
      if (tm === null) throw new RangeError(`expiry time must be HH:MM, got ${JSON.stringify(hhmm)}`);
      ns = nyWallTimeToNs(expDate, Number(tm[1]) * 60 + Number(tm[2]));
    }
    if (expiryCache.size >= 1024) expiryCache.clear();
    expiryCache.set(key, ns);
  }
  return ns;
}

/** `T` in trading years from `tsNs` to the expiry of `exp_date`; 0 once expired. */
export function yearsToExpiry(tsNs: bigint, expDate: string, opts: ExpiryOptions = {}): number {
  const remaining = expiryNs(expDate, opts) - tsNs;
  if (remaining <= 0n) return 0;
  return Number(remaining) / 1e9 / (opts.tradingSecondsPerYear ?? CONFIG.TRADING_SECONDS_PER_YEAR);
}

export interface PrintGreeksOptions extends Black76Options, ExpiryOptions {
  /** Fallback σ when no IV can be implied (default `CONFIG.BLACK76_DEFAULT_VOL`). */
  readonly defaultVol?: number | undefined;
  /** Use this σ instead of implying one from the print (REF's `volatility` override). */
  readonly sigma?: number | undefined;
}

/** Greeks of one print plus the inputs that produced them. */
export interface PrintGreeks extends Greeks {
  readonly T: number;
  readonly sigma: number;
}

/** The print fields greeks depend on. */
export interface OptionPrint {
  readonly ts_event_ns: bigint;
  readonly exp_date: string;
  readonly strike: number;
  readonly right: OptionRight;
  readonly price: number;
}

/**
 * Greeks of an option print against the futures price at that moment (W-11: event-time spot, no look-ahead).
 * σ: explicit override, else implied from the print price when positive, else the default vol (REF order).
 */
export function greeksForPrint(print: OptionPrint, spot: number, opts: PrintGreeksOptions = {}): PrintGreeks {
  const T = yearsToExpiry(print.ts_event_ns, print.exp_date, opts);
  const sigma =
    opts.sigma ??
    (print.price > 0 ? impliedVol(print.price, spot, print.strike, T, print.right, opts) : null) ??
    opts.defaultVol ??
    CONFIG.BLACK76_DEFAULT_VOL;
  return { ...black76Greeks(spot, print.strike, T, sigma, print.right, opts), T, sigma };
}
