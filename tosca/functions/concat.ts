/** concat: [value, ...] → string, or a DeferredFunction while some part is only known at run time. */
import type { PlanValue } from '../plan';
import { badArgs, FunctionEnv, IntrinsicFunction, isRuntimeValue, Scope, Site } from './context';

export const concat: IntrinsicFunction = {
  name: 'concat',
  evaluate(args: unknown, scope: Scope, env: FunctionEnv, site: Site): PlanValue {
    if (!Array.isArray(args) || args.length < 1) throw badArgs(site, 'concat', 'expects a list of values');
    const parts = args.map((a, i) => env.evaluate(a, scope, { file: site.file, path: [...site.path, 'concat', i] }));
    if (parts.some(isRuntimeValue)) return { $ref: 'concat', args: parts };
    parts.forEach((p) => {
      if (p !== null && typeof p === 'object') throw badArgs(site, 'concat', 'arguments must be strings or numbers');
    });
    return parts.map((p) => (p === null ? '' : String(p))).join('');
  },
};
