/** What an intrinsic function may ask of the template it is evaluated in. */
import type { ToscaError } from '../errors';
import type { PlanValue } from '../plan';
import type { ServiceTemplate } from '../template/model';
import type { SourceFile, YamlPath } from '../yaml/source';

/** The entities SELF/SOURCE/TARGET stand for where the function is written. */
export interface Scope {
  self?: string;
  source?: string;
  target?: string;
}

/** Where the function call is written (its map, e.g. `...properties.x`). */
export interface Site {
  file: SourceFile;
  path: YamlPath;
}

export type Lookup = { found: false } | { found: true; value: PlanValue };

export interface FunctionEnv {
  readonly template: ServiceTemplate;
  inputValue(name: string, site: Site): PlanValue;
  nodeProperty(node: string, name: string): Lookup;
  capabilityProperty(node: string, capability: string, name: string): Lookup;
  relationshipProperty(source: string, target: string, name: string): Lookup;
  /** Next node on the HostedOn chain, if any. */
  hostOf(node: string): string | undefined;
  evaluate(value: unknown, scope: Scope, site: Site): PlanValue;
}

export interface IntrinsicFunction {
  readonly name: string;
  evaluate(args: unknown, scope: Scope, env: FunctionEnv, site: Site): PlanValue;
}

export function badArgs(site: Site, fn: string, detail: string): ToscaError {
  return site.file.error('bad-function', `${fn}: ${detail}`, [...site.path, fn]);
}

/** Resolve SELF/SOURCE/TARGET/a node name to a node template name (HOST is handled by the callers). */
export function entityNode(entity: unknown, scope: Scope, env: FunctionEnv, site: Site, fn: string): string {
  if (typeof entity !== 'string') throw badArgs(site, fn, `the first argument must be a node name or SELF/SOURCE/TARGET/HOST, got ${JSON.stringify(entity)}`);
  const pick = (v: string | undefined, what: string): string => {
    if (v === undefined) throw badArgs(site, fn, `${what} is not defined here`);
    return v;
  };
  if (entity === 'SELF') return pick(scope.self, 'SELF');
  if (entity === 'SOURCE') return pick(scope.source, 'SOURCE');
  if (entity === 'TARGET') return pick(scope.target, 'TARGET');
  if (!env.template.nodes.has(entity)) {
    throw site.file.error('unknown-node', `${fn}: unknown node ${entity}`, [...site.path, fn]);
  }
  return entity;
}

/** The HostedOn chain from a node upward (not including the node itself). */
export function hostChain(node: string, env: FunctionEnv): string[] {
  const out: string[] = [];
  let cur = env.hostOf(node);
  while (cur !== undefined && !out.includes(cur) && cur !== node) {
    out.push(cur);
    cur = env.hostOf(cur);
  }
  return out;
}

export function isRuntimeValue(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(isRuntimeValue);
  const rec = v as Record<string, unknown>;
  if (typeof rec.$ref === 'string') return true;
  return Object.values(rec).some(isRuntimeValue);
}
