/** get_input: NAME or [NAME, key/index...] (nested access, TOSCA 1.3). */
import type { PlanValue } from '../plan';
import { badArgs, FunctionEnv, IntrinsicFunction, Scope, Site } from './context';
import { walkPath } from './path';

export const getInput: IntrinsicFunction = {
  name: 'get_input',
  evaluate(args: unknown, _scope: Scope, env: FunctionEnv, site: Site): PlanValue {
    const list = Array.isArray(args) ? args : [args];
    const [name, ...rest] = list;
    if (typeof name !== 'string' || list.length === 0) throw badArgs(site, 'get_input', 'expects an input name');
    if (!rest.every((k) => typeof k === 'string' || typeof k === 'number')) throw badArgs(site, 'get_input', 'nested keys must be names or indexes');
    const value = env.inputValue(name, site);
    return rest.length ? walkPath(value, rest as (string | number)[], site, 'get_input') : value;
  },
};
