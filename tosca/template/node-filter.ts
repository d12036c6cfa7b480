/**
 * node_filter on a requirement without a named node: the candidate node templates whose written
 * property and capability values meet the filter's clauses (values computed by functions count as a
 * match; they are only known later).
 */
import { functionName } from '../functions/names';
import { checkConstraints } from '../types/constraints';
import { parseScalar } from '../types/scalar';
import { asRecord, isRecord } from '../util';
import type { NodeTemplate } from './model';

const norm = (v: unknown): unknown => parseScalar(v, 'size') ?? (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);

function clausesOf(filter: unknown): [string, unknown][] {
  // 1.x writes a list of { name: clause(s) }; tolerate a map too
  const entries: [string, unknown][] = [];
  if (Array.isArray(filter)) for (const item of filter) entries.push(...Object.entries(asRecord(item)));
  else entries.push(...Object.entries(asRecord(filter)));
  return entries;
}

function meets(values: Record<string, unknown>, filter: unknown): boolean {
  for (const [name, clause] of clausesOf(filter)) {
    const v = values[name];
    if (v === undefined) return false;
    if (functionName(v) !== undefined) continue;
    const constraints = Array.isArray(clause) ? clause : isRecord(clause) ? [clause] : [{ equal: clause }];
    if (checkConstraints(v, constraints, norm) !== undefined) return false;
  }
  return true;
}

export function matchesNodeFilter(node: NodeTemplate, filter: unknown): boolean {
  const f = asRecord(filter);
  if (!meets(node.properties, f.properties)) return false;
  for (const [cap, capFilter] of clausesOf(f.capabilities)) {
    const values = { ...(node.type.capabilities.get(cap)?.properties ?? {}), ...(node.capabilities[cap] ?? {}) };
    if (!meets(values, asRecord(capFilter).properties)) return false;
  }
  return true;
}
