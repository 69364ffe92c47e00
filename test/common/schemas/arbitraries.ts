/**
 * fast-check arbitraries derived from column specs: a random row of any schema follows the same definition that
 * builds its zod model and Arrow schema, so a new column or rule is covered without touching the tests.
 */
import fc from 'fast-check';
import { type ColumnSpec, type RowSchema, numericBounds } from '../../../src/common/schemas/index.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function valueArbitrary(spec: ColumnSpec): fc.Arbitrary<unknown> {
  const { rules } = spec;
  if (rules.values) return fc.constantFrom(...rules.values);
  const { min, max, minExclusive } = numericBounds(spec);
  switch (spec.kind) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int16_list': {
      const int = fc.integer({ min: Number(min) + (minExclusive ? 1 : 0), max: Number(max) });
      return spec.kind === 'int16_list' ? fc.array(int, { maxLength: 6 }) : int;
    }
    case 'float64':
      return fc
        .double({
          noNaN: true,
          noDefaultInfinity: true,
          ...(min === undefined ? {} : { min: Number(min), minExcluded: minExclusive }),
          ...(max === undefined ? {} : { max: Number(max) }),
        })
        .map((x) => (Object.is(x, -0) ? 0 : x));
    case 'int64':
    case 'int64big':
    case 'epoch_ns':
    case 'timestamp_ns': {
      const big = fc.bigInt({ min: BigInt(min!) + (minExclusive ? 1n : 0n), max: BigInt(max!) });
      // Counts are canonically a number while they fit one.
      return spec.kind === 'int64' ? big.map((b) => (b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b)) : big;
    }
    case 'utf8':
      if (rules.pattern) return fc.stringMatching(rules.pattern);
      return fc.string({
        // zod counts UTF-16 code units, fast-check counts graphemes: keep bounded strings ASCII.
        unit: rules.maxLength === undefined ? 'grapheme' : 'grapheme-ascii',
        minLength: rules.minLength ?? 0,
        ...(rules.maxLength === undefined ? {} : { maxLength: rules.maxLength }),
      });
    case 'bool':
      return fc.boolean();
    case 'date32':
      return fc
        .date({
          min: new Date(typeof rules.min === 'string' ? rules.min : '1900-01-01'),
          max: new Date(typeof rules.max === 'string' ? rules.max : '2199-12-31'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString().slice(0, 10));
  }
}

export function columnArbitrary(spec: ColumnSpec): fc.Arbitrary<unknown> {
  const value = valueArbitrary(spec);
  return spec.nullable ? fc.option(value, { nil: null, freq: 4 }) : value;
}

/** Random canonical rows of a schema: every column present, in schema order. */
export function rowArbitrary(schema: Pick<RowSchema, 'columns'>): fc.Arbitrary<Record<string, unknown>> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const c of schema.columns) shape[c.name] = columnArbitrary(c);
  return fc.record(shape);
}

/** A value of the wrong type for a column, never accepted by lenient coercion. */
export function wrongValue(spec: ColumnSpec): unknown {
  switch (spec.kind) {
    case 'utf8':
      return 42;
    case 'bool':
      return 'yes';
    case 'date32':
      return '2024-13-45';
    case 'int16_list':
      return 'not-a-list';
    default:
      return 'abc';
  }
}
