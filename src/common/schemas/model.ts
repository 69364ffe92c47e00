/**
 * zod row models derived from column specs (DATA.md §2.11). Input is lenient where the wire is loose — numeric
 * strings become numbers (`"5"` → 5), decimal strings and safe integers become `bigint` in int64 columns, a `Date`
 * becomes `YYYY-MM-DD` — and output is canonical: every column present in schema order, missing nullable columns
 * null, int64 counts a number while safe. Unknown keys are rejected.
 */
import { z } from 'zod';
import { type ColumnSpec, TIMESTAMP_MAX_NS, TIMESTAMP_MIN_NS, numericBounds } from './define.js';

export interface ValidationIssue {
  /** Dotted path of the offending field (`conditions.2`); empty for the row itself. */
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** A row (or a table's column set) that does not match its schema. */
export class SchemaValidationError extends Error {
  override readonly name = 'SchemaValidationError';
  /** `summary` replaces the per-issue listing in the message (column-set reports have their own). */
  constructor(
    readonly schema: string,
    readonly issues: readonly ValidationIssue[],
    summary?: string,
  ) {
    super(
      `${schema}: ${
        summary ??
        'invalid row: ' + issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')
      }`,
    );
  }
}

const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const INTEGER = /^[-+]?\d+$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function toNumber(v: unknown): unknown {
  if (typeof v === 'string' && DECIMAL.test(v)) return Number(v);
  if (typeof v === 'bigint') return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
  return v;
}

/** Doubles may arrive as big integer literals (the JSON decoder keeps digits beyond 2^53 as bigint). */
function toDouble(v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : toNumber(v);
}

/** A number that is not a safe integer stays a number, so the model reports it instead of storing rounded digits. */
function toBigInt(v: unknown): unknown {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && INTEGER.test(v)) return BigInt(v);
  return v;
}

function toDateString(v: unknown): unknown {
  return v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString().slice(0, 10) : v;
}

function canonicalCount(v: bigint): number | bigint {
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

function rangeMessage(spec: ColumnSpec): (iss: { input?: unknown }) => string {
  const value = (iss: { input?: unknown }) => `${spec.name}=${String(iss.input)}`;
  if (spec.kind === 'epoch_ns' || spec.kind === 'timestamp_ns')
    return (iss) =>
      `${value(iss)} outside valid range [${TIMESTAMP_MIN_NS}, ${TIMESTAMP_MAX_NS}] (2000-01-01..2100-01-01 in ns)`;
  const { min, max, minExclusive } = numericBounds(spec);
  if (min === undefined) return (iss) => `${value(iss)} must be <= ${String(max)}`;
  if (max === undefined) return (iss) => `${value(iss)} must be ${minExclusive ? '>' : '>='} ${String(min)}`;
  return (iss) => `${value(iss)} outside valid range ${minExclusive ? '(' : '['}${String(min)}, ${String(max)}]`;
}

function numberModel(spec: ColumnSpec, base: z.ZodNumber): z.ZodType {
  if (spec.rules.values) return z.literal(spec.rules.values as readonly number[]);
  const { min, max, minExclusive } = numericBounds(spec);
  const error = rangeMessage(spec);
  let m = base;
  if (min !== undefined) m = minExclusive ? m.gt(Number(min), { error }) : m.gte(Number(min), { error });
  if (max !== undefined) m = m.lte(Number(max), { error });
  return m;
}

/** Every int64 kind has a storage range, so both bounds are always set. */
function bigintModel(spec: ColumnSpec): z.ZodBigInt {
  const { min, max, minExclusive } = numericBounds(spec);
  const error = rangeMessage(spec);
  const lo = BigInt(min!);
  const m = minExclusive ? z.bigint().gt(lo, { error }) : z.bigint().gte(lo, { error });
  return m.lte(BigInt(max!), { error });
}

function stringModel(spec: ColumnSpec): z.ZodType {
  const { rules } = spec;
  if (rules.values) return z.enum(rules.values as readonly string[] as [string, ...string[]]);
  let m = z.string();
  if (rules.minLength !== undefined) m = m.min(rules.minLength);
  if (rules.maxLength !== undefined) m = m.max(rules.maxLength);
  if (rules.pattern) m = m.regex(rules.pattern);
  return m;
}

function dateModel(spec: ColumnSpec): z.ZodType {
  const { min, max } = spec.rules;
  let m: z.ZodType<string> = z.iso.date();
  if (typeof min === 'string') m = m.refine((s) => s >= min, { error: `${spec.name} before ${min}` });
  if (typeof max === 'string') m = m.refine((s) => s <= max, { error: `${spec.name} after ${max}` });
  return m;
}

/** The model of one column value, without nullability. */
function valueModel(spec: ColumnSpec): z.ZodType {
  switch (spec.kind) {
    case 'int8':
    case 'int16':
    case 'int32':
      return z.preprocess(toNumber, numberModel(spec, z.int()));
    case 'float64':
      return z.preprocess(toDouble, numberModel(spec, z.number()));
    case 'int64':
      return z.preprocess(toBigInt, bigintModel(spec)).transform(canonicalCount);
    case 'int64big':
    case 'epoch_ns':
    case 'timestamp_ns':
      return z.preprocess(toBigInt, bigintModel(spec));
    case 'utf8':
      return stringModel(spec);
    case 'bool':
      return z.boolean();
    case 'date32':
      return z.preprocess(toDateString, dateModel(spec));
    case 'int16_list':
      return z.array(z.preprocess(toNumber, numberModel(spec, z.int())));
  }
}

export function columnModel(spec: ColumnSpec): z.ZodType {
  const value = valueModel(spec);
  if (spec.nullable) return value.nullable().default(null);
  return spec.default === undefined ? value : value.default(spec.default as never);
}

/** The strict row model of a column list; output keys follow the column order. */
export function rowModel(columns: readonly ColumnSpec[]): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const c of columns) shape[c.name] = columnModel(c);
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}

/**
 * zod issues as flat `{path, code, message}`. An unknown-keys issue becomes one issue per key, and a required column
 * absent from the row says so, so that every message names the column at fault.
 */
export function toIssues(error: z.ZodError, input: unknown): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: path === '' ? key : `${path}.${key}`, code: issue.code, message: `unknown column ${key}` });
    } else if (issue.path.length === 1 && isMissing(input, path)) {
      out.push({ path, code: 'missing_column', message: `required column ${path} is missing` });
    } else {
      out.push({ path, code: issue.code, message: issue.message });
    }
  }
  return out;
}

function isMissing(input: unknown, key: string): boolean {
  return typeof input === 'object' && input !== null && (input as Record<string, unknown>)[key] === undefined;
}

/** Marks a value the fast path does not accept as is. */
const REJECT = Symbol('reject');
type Check = (v: unknown) => unknown;

/** The checks of the kinds the generated fast path does not inline (rare on the hot path). */
function closureCheck(spec: ColumnSpec): Check {
  const { rules } = spec;
  const { min, max, minExclusive } = numericBounds(spec);
  const inBounds = (v: number) =>
    (min === undefined || (minExclusive ? v > min : v >= min)) && (max === undefined || v <= max);
  if (spec.kind === 'date32') {
    const lo = typeof rules.min === 'string' ? rules.min : '';
    const hi = typeof rules.max === 'string' ? rules.max : '\uffff';
    return (v) => (typeof v === 'string' && z.core.regexes.date.test(v) && v >= lo && v <= hi ? v : REJECT);
  }
  return (v) => {
    if (!Array.isArray(v)) return REJECT;
    for (const x of v as unknown[]) if (typeof x !== 'number' || !Number.isInteger(x) || !inBounds(x)) return REJECT;
    return v.slice();
  };
}

/** A bound as a bigint when it is an integer, so that comparing a bigint with it does not mix types. */
function bigBound(b: number | bigint | undefined): number | bigint | undefined {
  return typeof b === 'number' && Number.isInteger(b) ? BigInt(b) : b;
}

/**
 * A bound as a number, for comparing safe integers: exact, because a bigint bound beyond ±2^53 rounds to a number
 * beyond every safe integer on the same side.
 */
function numberBound(b: number | bigint | undefined): number | undefined {
  return b === undefined ? undefined : Number(b);
}

/**
 * Statements that check `v${i}` (not undefined/null unless the column is non-null without default) and leave its
 * canonical value in it, or return undefined. Constants are read from `K[i]`, set up once per function.
 */
function checkCode(spec: ColumnSpec, i: number, consts: Record<string, unknown>[]): string {
  const v = `v${i}`;
  const k: Record<string, unknown> = {};
  consts[i] = k;
  const reject = `return undefined;`;
  const bounds = (lo: unknown, hi: unknown, exclusive: boolean, name = '') => {
    const parts: string[] = [];
    if (lo !== undefined) {
      k[`${name}lo`] = lo;
      parts.push(exclusive ? `${v} > ${name}lo${i}` : `${v} >= ${name}lo${i}`);
    }
    if (hi !== undefined) {
      k[`${name}hi`] = hi;
      parts.push(`${v} <= ${name}hi${i}`);
    }
    return parts.length === 0 ? 'true' : parts.join(' && ');
  };
  const { rules } = spec;
  const { min, max, minExclusive } = numericBounds(spec);
  switch (spec.kind) {
    case 'int8':
    case 'int16':
    case 'int32': {
      if (rules.values) {
        k.set = new Set<unknown>(rules.values);
        return `if (typeof ${v} !== 'number' || !Number.isInteger(${v}) || !set${i}.has(${v})) ${reject}`;
      }
      return `if (typeof ${v} !== 'number' || !Number.isInteger(${v}) || !(${bounds(min, max, minExclusive)})) ${reject}`;
    }
    case 'float64':
      return `if (typeof ${v} !== 'number' || !Number.isFinite(${v}) || !(${bounds(min, max, minExclusive)})) ${reject}`;
    case 'int64': {
      const numeric = bounds(numberBound(min), numberBound(max), minExclusive);
      const big = bounds(bigBound(min), bigBound(max), minExclusive, 'big');
      k.canonicalCount = canonicalCount;
      return `if (typeof ${v} === 'number') { if (!Number.isSafeInteger(${v}) || !(${numeric})) ${reject} }
        else if (typeof ${v} === 'bigint' && ${big}) ${v} = canonicalCount${i}(${v});
        else ${reject}`;
    }
    case 'int64big':
    case 'epoch_ns':
    case 'timestamp_ns':
      return `if (typeof ${v} !== 'bigint' || !(${bounds(bigBound(min), bigBound(max), minExclusive)})) ${reject}`;
    case 'utf8': {
      if (rules.values) {
        k.set = new Set<unknown>(rules.values);
        return `if (!set${i}.has(${v})) ${reject}`;
      }
      const parts = [`typeof ${v} === 'string'`];
      if (rules.minLength !== undefined) parts.push(`${v}.length >= ${rules.minLength}`);
      if (rules.maxLength !== undefined) parts.push(`${v}.length <= ${rules.maxLength}`);
      if (rules.pattern) {
        k.re = rules.pattern;
        parts.push(`re${i}.test(${v})`);
      }
      return `if (!(${parts.join(' && ')})) ${reject}`;
    }
    case 'bool':
      return `if (typeof ${v} !== 'boolean') ${reject}`;
    case 'date32':
    case 'int16_list':
      k.check = closureCheck(spec);
      return `${v} = check${i}(${v}); if (${v} === REJECT) ${reject}`;
  }
}

/**
 * A compiled acceptor for rows that are already canonical — what producers on the hot path send. It returns the
 * canonical row, or undefined whenever anything needs coercion or is wrong, and the zod model then decides and
 * explains. It accepts only what the model accepts, with the same output (property-tested).
 *
 * The row is read and written through generated code with literal property names: rows have up to 182 columns, and
 * an object built by keyed stores that wide falls into V8's slow dictionary mode, which made this several times
 * slower than the checks themselves. The checks are generated inline too, each comparing with constants of the one
 * type its values have: shared check closures compared numbers with number and bigint bounds at the same site, which
 * cost more than everything else. Names come from our own definitions and are embedded as JSON string literals.
 */
export function fastPath(columns: readonly ColumnSpec[]): (row: unknown) => Record<string, unknown> | undefined {
  const consts: Record<string, unknown>[] = [];
  const lines = columns.map((c, i) => {
    const key = JSON.stringify(c.name);
    const check = checkCode(c, i, consts);
    const read = `let v${i} = input[${key}]; if (v${i} !== undefined || hasOwn(input, ${key})) present++;`;
    if (c.nullable) return `${read} if (v${i} === null || v${i} === undefined) v${i} = null; else { ${check} }`;
    if (c.default !== undefined) {
      consts[i]!.fallback = c.default;
      return `${read} if (v${i} === undefined) v${i} = fallback${i}; else { ${check} }`;
    }
    return `${read} ${check}`;
  });
  const locals = consts.flatMap((k, i) => Object.keys(k).map((name) => `const ${name}${i} = K[${i}].${name};`));
  const literal = columns.map((c, i) => `${JSON.stringify(c.name)}: v${i}`).join(', ');
  const body = `
    ${locals.join('\n')}
    return function acceptCanonical(input) {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
      let present = 0;
      ${lines.join('\n')}
      let keys = 0;
      for (const _ in input) keys++;
      return keys === present ? { ${literal} } : undefined;
    };`;
  return new Function('K', 'REJECT', 'hasOwn', body)(consts, REJECT, Object.hasOwn) as (
    row: unknown,
  ) => Record<string, unknown> | undefined;
}
