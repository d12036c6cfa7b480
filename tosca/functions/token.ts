/** token: [string, separators, index] → the index-th piece (any separator character splits). */
import type { PlanValue } from '../plan';
import { badArgs, FunctionEnv, IntrinsicFunction, isRuntimeValue, Scope, Site } from './context';

export const token: IntrinsicFunction = {
  name: 'token',
  evaluate(args: unknown, scope: Scope, env: FunctionEnv, site: Site): PlanValue {
    if (!Array.isArray(args) || args.length !== 3) throw badArgs(site, 'token', 'expects [string, separator, index]');
    const [, sep, index] = args;
    if (typeof sep !== 'string' || sep.length === 0) throw badArgs(site, 'token', 'the separator must be a non-empty string');
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw badArgs(site, 'token', 'the index must be a non-negative integer');
    const value = env.evaluate(args[0], scope, { file: site.file, path: [...site.path, 'token', 0] });
    if (isRuntimeValue(value)) return { $ref: 'token', args: [value, sep, index] };
    if (value !== null && typeof value === 'object') throw badArgs(site, 'token', 'the first argument must be a string');
    return splitToken(String(value ?? ''), sep, index);
  },
};

export function splitToken(s: string, sep: string, index: number): string | null {
  const parts = s.split(new RegExp(`[${sep.replace(/[\\\]^-]/g, '\\$&')}]`));
  return parts[index] ?? null;
}
