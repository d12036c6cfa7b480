/** join: [[value, ...], delimiter?] → string (TOSCA 1.3), deferred while a part is a run-time value. */
import type { PlanValue } from '../plan';
import { functionName } from './names';
import { badArgs, FunctionEnv, IntrinsicFunction, isRuntimeValue, Scope, Site } from './context';

export const join: IntrinsicFunction = {
  name: 'join',
  evaluate(args: unknown, scope: Scope, env: FunctionEnv, site: Site): PlanValue {
    if (!Array.isArray(args) || args.length < 1 || args.length > 2 || (!Array.isArray(args[0]) && functionName(args[0]) === undefined)) {
      throw badArgs(site, 'join', 'expects [[value, ...], delimiter?]');
    }
    if (args.length === 2 && typeof args[1] !== 'string') throw badArgs(site, 'join', 'the delimiter must be a string');
    const list = env.evaluate(args[0], scope, { file: site.file, path: [...site.path, 'join', 0] });
    const delim = (args[1] as string | undefined) ?? '';
    if (isRuntimeValue(list)) return { $ref: 'join', args: [list, delim] };
    if (!Array.isArray(list)) throw badArgs(site, 'join', 'the first argument must be a list');
    if (list.some((p) => p !== null && typeof p === 'object')) throw badArgs(site, 'join', 'list items must be strings or numbers');
    return list.map((p) => (p === null ? '' : String(p))).join(delim);
  },
};
