/**
 * TOSCA constraint clauses. Each returns a message when the value breaks it; comparisons run on
 * normalised values (scalar units in base units) so "1 GB" >= "512 MB" holds.
 */
import { hasKey, isRecord, text } from '../util';
import { linearRegex, UnsupportedRegexError } from '../regex';

export type Normalise = (v: unknown) => unknown;

type Check = (value: unknown, arg: unknown, norm: Normalise) => string | undefined;

const cmp = (a: unknown, b: unknown): number | undefined => {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
};

const ordered = (op: string, ok: (c: number) => boolean): Check => (value, arg, norm) => {
  const c = cmp(norm(value), norm(arg));
  return c === undefined || ok(c) ? undefined : `${show(value)} is not ${op} ${show(arg)}`;
};

const lengthOf = (v: unknown): number | undefined =>
  typeof v === 'string' || Array.isArray(v) ? v.length : isRecord(v) ? Object.keys(v).length : undefined;

const CHECKS: Record<string, Check> = {
  equal: (v, a, n) => (equalValues(n(v), n(a)) ? undefined : `${show(v)} is not equal to ${show(a)}`),
  greater_than: ordered('greater than', (c) => c > 0),
  greater_or_equal: ordered('greater than or equal to', (c) => c >= 0),
  less_than: ordered('less than', (c) => c < 0),
  less_or_equal: ordered('less than or equal to', (c) => c <= 0),
  in_range: (v, a, n) => {
    if (!Array.isArray(a) || a.length !== 2) return `in_range needs two bounds, got ${show(a)}`;
    const x = n(v);
    const lo = a[0] === 'UNBOUNDED' ? undefined : cmp(x, n(a[0]));
    const hi = a[1] === 'UNBOUNDED' ? undefined : cmp(x, n(a[1]));
    return (lo !== undefined && lo < 0) || (hi !== undefined && hi > 0) ? `${show(v)} is not in range [${text(a[0])}, ${text(a[1])}]` : undefined;
  },
  valid_values: (v, a, n) => {
    if (!Array.isArray(a)) return `valid_values needs a list, got ${show(a)}`;
    const x = n(v);
    return a.some((y) => equalValues(x, n(y))) ? undefined : `${show(v)} is not one of ${show(a)}`;
  },
  length: (v, a) => (lengthOf(v) === undefined || lengthOf(v) === toNum(a) ? undefined : `length of ${show(v)} is not ${text(a)}`),
  min_length: (v, a) => {
    const l = lengthOf(v);
    return l === undefined || l >= toNum(a) ? undefined : `length of ${show(v)} is less than ${text(a)}`;
  },
  max_length: (v, a) => {
    const l = lengthOf(v);
    return l === undefined || l <= toNum(a) ? undefined : `length of ${show(v)} is more than ${text(a)}`;
  },
  pattern: (v, a) => {
    if (typeof v !== 'string') return undefined;
    try {
      // linear time whatever the pattern: a template's pattern cannot stall the server
      return linearRegex(`^(?:${text(a)})$`).test(v) ? undefined : `${show(v)} does not match pattern ${show(a)}`;
    } catch (err) {
      if (err instanceof UnsupportedRegexError) return `invalid pattern ${show(a)}: ${err.message}`;
      throw err;
    }
  },
  schema: () => undefined,
};

export const CONSTRAINT_OPERATORS = new Set(Object.keys(CHECKS));

/** First violation message among `constraints`, or undefined. Unknown operators are reported too. */
export function checkConstraints(value: unknown, constraints: unknown[], norm: Normalise): string | undefined {
  for (const c of constraints) {
    if (!isRecord(c)) continue;
    for (const [op, arg] of Object.entries(c)) {
      const check = hasKey(CHECKS, op) ? CHECKS[op] : undefined;
      if (!check) return `unknown constraint operator ${op}`;
      const msg = check(value, arg, norm);
      if (msg) return `constraint ${op} violated: ${msg}`;
    }
  }
  return undefined;
}

function equalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' || typeof b === 'number') return text(a) === text(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

function toNum(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
}

function show(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v);
}
