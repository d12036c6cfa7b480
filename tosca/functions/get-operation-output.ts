/** get_operation_output: [entity, interface, operation, output], a run-time reference. */
import type { PlanValue } from '../plan';
import { badArgs, entityNode, FunctionEnv, IntrinsicFunction, Scope, Site } from './context';

export const getOperationOutput: IntrinsicFunction = {
  name: 'get_operation_output',
  evaluate(args: unknown, scope: Scope, env: FunctionEnv, site: Site): PlanValue {
    if (!Array.isArray(args) || args.length !== 4 || !args.every((a) => typeof a === 'string')) {
      throw badArgs(site, 'get_operation_output', 'expects [entity, interface, operation, output_name]');
    }
    const [entity, iface, operation, output] = args as string[];
    const node = entityNode(entity, scope, env, site, 'get_operation_output');
    return { $ref: 'get_operation_output', node, interface: iface, operation, output };
  },
};
