/**
 * Compare our plan's node templates with tosca-parser's: names, types, and property values down to the
 * leaves, run-time references written the same way on both sides ({$ref, args}).
 */
import type { NodeSummary, PlanValue } from '../../tosca';
import type { OracleResult } from './oracle';

export interface Difference {
  /** Corpus-relative template path. */
  template: string;
  node: string;
  /** 'node' (present on one side only), 'type', or 'property'. */
  kind: 'node' | 'type' | 'property';
  /** Property path inside the node, dot-separated (empty for node/type). */
  path: string;
  ours: unknown;
  oracle: unknown;
}

/** Our references in the oracle's shape: {$ref: function, args: [...]}, with the node already resolved. */
export function normalise(v: PlanValue | undefined): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') {
    const r = v as Record<string, unknown>;
    if (r.$ref === 'get_attribute') {
      const a = v as { node: string; path: string[]; index?: number };
      return { $ref: 'get_attribute', args: [a.node, ...a.path, ...(a.index === undefined ? [] : [a.index])] };
    }
    if (r.$ref === 'get_operation_output') {
      const o = v as { node: string; interface: string; operation: string; output: string };
      return { $ref: 'get_operation_output', args: [o.node, o.interface, o.operation, o.output] };
    }
    if (typeof r.$ref === 'string') return { $ref: r.$ref, args: normalise(r.args as PlanValue[]) };
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x as PlanValue)]));
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function diffValues(ours: unknown, oracle: unknown, path: string, out: Array<{ path: string; ours: unknown; oracle: unknown }>): void {
  if (isPlainObject(ours) && isPlainObject(oracle) && !('$ref' in ours) && !('$ref' in oracle)) {
    for (const k of new Set([...Object.keys(ours), ...Object.keys(oracle)])) diffValues(ours[k], oracle[k], path ? `${path}.${k}` : k, out);
  } else if (Array.isArray(ours) && Array.isArray(oracle) && ours.length === oracle.length) {
    ours.forEach((x, i) => diffValues(x, oracle[i], `${path}.${i}`, out));
  } else if (JSON.stringify(ours) !== JSON.stringify(oracle)) {
    out.push({ path, ours, oracle });
  }
}

export function compareWithOracle(template: string, nodes: NodeSummary[], oracle: Extract<OracleResult, { ok: true }>): Difference[] {
  const diffs: Difference[] = [];
  const theirs = new Map(oracle.nodes.map((n) => [n.name, n]));
  const mine = new Map(nodes.map((n) => [n.name, n]));
  for (const name of new Set([...mine.keys(), ...theirs.keys()])) {
    const a = mine.get(name);
    const b = theirs.get(name);
    if (!a || !b) { diffs.push({ template, node: name, kind: 'node', path: '', ours: a?.type, oracle: b?.type }); continue; }
    if (a.type !== b.type) diffs.push({ template, node: name, kind: 'type', path: '', ours: a.type, oracle: b.type });
    const leaves: Array<{ path: string; ours: unknown; oracle: unknown }> = [];
    diffValues(normalise(a.properties), oracle.resolved[name] ?? {}, '', leaves);
    for (const l of leaves) diffs.push({ template, node: name, kind: 'property', ...l });
  }
  return diffs;
}
