/**
 * get_attribute: kept as a typed reference resolved at run time. IM's list-index form
 * ([front, public_address, 0]) puts the trailing integer in `index`.
 */
import type { AttributeRef, PlanValue } from '../plan';
import { badArgs, entityNode, FunctionEnv, hostChain, IntrinsicFunction, Scope, Site } from './context';

export const getAttribute: IntrinsicFunction = {
  name: 'get_attribute',
  evaluate(args: unknown, scope: Scope, env: FunctionEnv, site: Site): PlanValue {
    if (!Array.isArray(args) || args.length < 2) throw badArgs(site, 'get_attribute', 'expects [entity, attribute, ...]');
    const [entity, ...keys] = args;
    if (typeof keys[0] !== 'string' || !keys.every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isInteger(k)))) {
      throw badArgs(site, 'get_attribute', 'expects an attribute name, then names or integer indexes');
    }
    let node: string;
    if (entity === 'HOST') {
      const self = entityNode('SELF', scope, env, site, 'get_attribute');
      const chain = hostChain(self, env);
      if (chain.length === 0) throw badArgs(site, 'get_attribute', `HOST used on ${self}, which is not hosted on anything`);
      const attr = keys[0];
      node = chain.find((n) => env.template.nodes.get(n)!.type.attributes.has(attr)) ?? chain[chain.length - 1];
    } else node = entityNode(entity, scope, env, site, 'get_attribute');
    const path = keys.map(String);
    const ref: AttributeRef = { $ref: 'get_attribute', node, path };
    // SELF/HOST/SOURCE/TARGET read the running instance's own value; a named node reads all its instances
    if (entity === 'SELF' || entity === 'HOST' || entity === 'SOURCE' || entity === 'TARGET') ref.keyword = entity;
    const last = keys[keys.length - 1];
    if (typeof last === 'number' && keys.length >= 2) {
      ref.index = last;
      ref.path = path.slice(0, -1);
    }
    return ref;
  },
};
