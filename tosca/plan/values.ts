/** Reading plan-ready scalars out of resolved property values (which may be refs or IM's constraint clauses). */
import type { PlanValue } from '../plan';
import { isRecord } from '../util';

/** IM lets capability values be clauses ({ equal: x }, { greater_or_equal: 2 }): take the value they name. */
export function unwrapClause(v: PlanValue | undefined): PlanValue | undefined {
  if (!isRecord(v) || '$ref' in v) return v;
  const keys = Object.keys(v);
  if (keys.length !== 1) return v;
  const arg = (v as Record<string, PlanValue>)[keys[0]];
  switch (keys[0]) {
    case 'equal':
    case 'greater_or_equal':
    case 'greater_than':
    case 'less_or_equal':
    case 'less_than':
      return arg;
    case 'valid_values':
    case 'in_range':
      return Array.isArray(arg) ? arg[0] : arg;
    default:
      return v;
  }
}

export function num(v: PlanValue | undefined): number | undefined {
  const x = unwrapClause(v);
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  if (typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x))) return Number(x);
  return undefined;
}

export function str(v: PlanValue | undefined): string | undefined {
  const x = unwrapClause(v);
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return undefined;
}

export function bool(v: PlanValue | undefined): boolean | undefined {
  const x = unwrapClause(v);
  if (typeof x === 'boolean') return x;
  if (typeof x === 'string' && /^(true|false)$/i.test(x)) return x.toLowerCase() === 'true';
  return undefined;
}
