/**
 * get_property: [entity, (capability | requirement)?, property, nested...]. HOST walks up the HostedOn
 * chain to the first node that has the property; a requirement name goes to that requirement's target.
 */
import type { PlanValue } from '../plan';
import { hasKey } from '../util';
import { badArgs, entityNode, FunctionEnv, hostChain, IntrinsicFunction, Lookup, Scope, Site } from './context';
import { walkPath } from './path';

function lookupOn(node: string, args: (string | number)[], env: FunctionEnv): { value: PlanValue; rest: (string | number)[] } | undefined {
  const [a, b, ...more] = args;
  const nt = env.template.nodes.get(node);
  if (!nt) return undefined;
  const direct = env.nodeProperty(node, String(a));
  if (direct.found) return { value: direct.value, rest: args.slice(1) };
  if (b === undefined) return undefined;
  if (nt.type.capabilities.has(String(a)) || hasKey(nt.capabilities, String(a))) {
    const c = env.capabilityProperty(node, String(a), String(b));
    if (c.found) return { value: c.value, rest: more };
  }
  const req = nt.requirements.find((r) => r.name === String(a));
  if (req?.target !== undefined) {
    const target = req.target;
    const onTarget = lookupOn(target, [b, ...more], env);
    if (onTarget) return onTarget;
    // [SELF, req, prop]: a property of some capability of the target (INDIGO's [SELF, wn, max_instances])
    const tt = env.template.nodes.get(target)!;
    const capNames = new Set([...tt.type.capabilities.keys(), ...Object.keys(tt.capabilities)]);
    for (const cap of capNames) {
      const c: Lookup = env.capabilityProperty(target, cap, String(b));
      if (c.found) return { value: c.value, rest: more };
    }
    const rel = env.relationshipProperty(node, target, String(b));
    if (rel.found) return { value: rel.value, rest: more };
  }
  return undefined;
}

export const getProperty: IntrinsicFunction = {
  name: 'get_property',
  evaluate(args: unknown, scope: Scope, env: FunctionEnv, site: Site): PlanValue {
    if (!Array.isArray(args) || args.length < 2) throw badArgs(site, 'get_property', 'expects [entity, property, ...]');
    const [entity, ...keys] = args;
    if (!keys.every((k) => typeof k === 'string' || typeof k === 'number')) {
      throw badArgs(site, 'get_property', 'property names must be strings or indexes');
    }
    const path = keys as (string | number)[];
    if (entity === 'SOURCE' || entity === 'TARGET') {
      const node = entityNode(entity, scope, env, site, 'get_property');
      const hit = lookupOn(node, path, env);
      if (hit) return walkPath(hit.value, hit.rest, site, 'get_property');
      throw badArgs(site, 'get_property', `property ${path.join('.')} not found on ${node}`);
    }
    if (entity === 'HOST') {
      const self = entityNode('SELF', scope, env, site, 'get_property');
      for (const host of hostChain(self, env)) {
        const hit = lookupOn(host, path, env);
        if (hit) return walkPath(hit.value, hit.rest, site, 'get_property');
      }
      throw badArgs(site, 'get_property', `no host of ${self} has property ${path.join('.')}`);
    }
    const node = entityNode(entity, scope, env, site, 'get_property');
    const hit = lookupOn(node, path, env);
    if (hit) return walkPath(hit.value, hit.rest, site, 'get_property');
    // a relationship's own property, from inside its interface
    if (entity === 'SELF' && scope.source !== undefined && scope.target !== undefined) {
      const rel = env.relationshipProperty(scope.source, scope.target, String(path[0]));
      if (rel.found) return walkPath(rel.value, path.slice(1), site, 'get_property');
    }
    throw badArgs(site, 'get_property', `property ${path.join('.')} not found on node ${node}`);
  },
};
