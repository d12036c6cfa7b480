/** Nested access into a resolved value (map keys, list indexes) shared by get_input and get_property. */
import type { PlanValue } from '../plan';
import { hasKey } from '../util';
import { badArgs, Site } from './context';

export function walkPath(value: PlanValue, keys: (string | number)[], site: Site, fn: string): PlanValue {
  let cur: PlanValue = value;
  for (const k of keys) {
    if (cur === null || cur === undefined) return null;
    if (typeof cur === 'object' && '$ref' in cur && typeof (cur as { $ref: unknown }).$ref === 'string') return cur; // run-time value
    if (Array.isArray(cur)) {
      const i = typeof k === 'number' ? k : Number(k);
      if (!Number.isInteger(i)) throw badArgs(site, fn, `index ${k} into a list must be an integer`);
      cur = cur[i] ?? null;
    } else if (typeof cur === 'object') {
      cur = hasKey(cur as Record<string, PlanValue>, String(k)) ? ((cur as Record<string, PlanValue>)[String(k)] ?? null) : null;
    } else throw badArgs(site, fn, `cannot look up ${k} in ${JSON.stringify(cur)}`);
  }
  return cur;
}
