/** Run-time resolution of plan values: references are looked up in the running infrastructure. */
import type { AttributeRef, OperationOutputRef, PlanValue } from './plan';
import { splitToken } from './functions/token';
import { isRecord } from './util';

/**
 * Replace every reference in `value` with what `lookup` says. For IM's list-index form the lookup gets
 * the ref (with `index`); if it answers with the whole list, the item at `index` is taken here.
 */
export function evaluateValue(
  value: PlanValue,
  lookup: (ref: AttributeRef) => unknown,
  outputs: (ref: OperationOutputRef) => unknown = () => null,
): unknown {
  if (Array.isArray(value)) return value.map((v) => evaluateValue(v, lookup, outputs));
  if (!isRecord(value)) return value;
  const ref = (value as { $ref?: unknown }).$ref;
  if (ref === 'get_attribute') {
    const r = value as unknown as AttributeRef;
    const got = lookup(r);
    return r.index !== undefined && Array.isArray(got) ? (got[r.index] ?? null) : got;
  }
  if (ref === 'get_operation_output') return outputs(value as unknown as OperationOutputRef);
  if (ref === 'concat' || ref === 'join' || ref === 'token') {
    const args = ((value as { args: PlanValue[] }).args ?? []).map((a) => evaluateValue(a, lookup, outputs));
    const text = (x: unknown): string => (x === null || x === undefined ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x));
    if (ref === 'concat') return args.map(text).join('');
    if (ref === 'join') return (Array.isArray(args[0]) ? args[0] : [args[0]]).map(text).join(text(args[1]));
    return splitToken(text(args[0]), text(args[1]) || ' ', Number(args[2]));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = evaluateValue(v as PlanValue, lookup, outputs);
  return out;
}
