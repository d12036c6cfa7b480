/**
 * Every node and input a function names must exist: checked once over the whole template before any
 * evaluation, so a fragment (a template that relies on a parent) fails on its first foreign name.
 */
import { functionName } from '../functions/names';
import { isRecord } from '../util';
import type { SourceFile } from '../yaml/source';
import type { ServiceTemplate } from './model';

const ENTITY_FUNCTIONS = new Set(['get_attribute', 'get_property', 'get_operation_output', 'get_artifact']);
const KEYWORDS = new Set(['SELF', 'SOURCE', 'TARGET', 'HOST']);

export function checkReferences(st: ServiceTemplate): void {
  for (const file of st.topologyFiles) {
    const doc = file.value;
    if (!isRecord(doc) || !isRecord(doc.topology_template)) continue;
    // policies are left out: their properties are read only where the plan needs them (as IM does)
    for (const [k, v] of Object.entries(doc.topology_template)) {
      if (k !== 'policies') walk(st, file, v, ['topology_template', k]);
    }
  }
}

/** `path` is a stack shared by the whole walk; it is copied only into an error. */
function walk(st: ServiceTemplate, file: SourceFile, v: unknown, path: (string | number)[]): void {
  if (v === null || typeof v !== 'object') return;
  const fn = functionName(v);
  if (fn !== undefined) {
    const args = (v as Record<string, unknown>)[fn];
    if (ENTITY_FUNCTIONS.has(fn) && Array.isArray(args) && typeof args[0] === 'string') {
      const entity = args[0];
      if (!KEYWORDS.has(entity) && !st.nodes.has(entity)) {
        throw file.error('unknown-node', `${fn}: unknown node ${entity}`, [...path, fn]);
      }
    }
    if (fn === 'get_input') {
      const name = Array.isArray(args) ? args[0] : args;
      if (typeof name === 'string' && !st.inputs.has(name)) {
        throw file.error('unknown-input', `get_input: undefined input ${name}`, [...path, fn]);
      }
    }
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      walk(st, file, v[i], path);
      path.pop();
    }
  } else {
    const rec = v as Record<string, unknown>;
    for (const k in rec) {
      path.push(k);
      walk(st, file, rec[k], path);
      path.pop();
    }
  }
}
