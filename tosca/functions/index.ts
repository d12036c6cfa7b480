/** Walks a value and evaluates every intrinsic function in it. */
import type { PlanValue } from '../plan';
import { concat } from './concat';
import { badArgs, FunctionEnv, IntrinsicFunction, Scope, Site } from './context';
import { getArtifact } from './get-artifact';
import { getAttribute } from './get-attribute';
import { getInput } from './get-input';
import { getOperationOutput } from './get-operation-output';
import { getProperty } from './get-property';
import { join } from './join';
import { functionName } from './names';
import { token } from './token';

const FUNCTIONS = new Map<string, IntrinsicFunction>(
  [getInput, getProperty, getAttribute, concat, join, token, getArtifact, getOperationOutput].map((f) => [f.name, f]),
);

export function evaluateFunctions(value: unknown, scope: Scope, env: FunctionEnv, site: Site): PlanValue {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') return value as PlanValue;
  const fn = functionName(value);
  if (fn !== undefined) {
    const impl = FUNCTIONS.get(fn);
    if (!impl) throw badArgs(site, fn, 'is not supported');
    return impl.evaluate((value as Record<string, unknown>)[fn], scope, env, site);
  }
  // containers are copied (plans must not share objects with cached type definitions); a child's
  // site is only built when the child can hold a function
  if (Array.isArray(value)) {
    const out: PlanValue[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      out[i] = v !== null && typeof v === 'object' ? evaluateFunctions(v, scope, env, { file: site.file, path: [...site.path, i] }) : (v ?? null);
    }
    return out;
  }
  const rec = value as Record<string, unknown>;
  const out: Record<string, PlanValue> = {};
  for (const k in rec) {
    const v = rec[k];
    out[k] = v !== null && typeof v === 'object' ? evaluateFunctions(v, scope, env, { file: site.file, path: [...site.path, k] }) : ((v ?? null) as PlanValue);
  }
  return out;
}
