/**
 * get_artifact: [entity, artifact, location?, remove?]. Evaluates to where the artifact comes from (its
 * file/URL as written); deployment location is the configurator's business.
 */
import type { PlanValue } from '../plan';
import { asRecord, hasKey } from '../util';
import { badArgs, entityNode, FunctionEnv, IntrinsicFunction, Scope, Site } from './context';

export const getArtifact: IntrinsicFunction = {
  name: 'get_artifact',
  evaluate(args: unknown, scope: Scope, env: FunctionEnv, site: Site): PlanValue {
    if (!Array.isArray(args) || args.length < 2 || args.length > 4 || typeof args[1] !== 'string') {
      throw badArgs(site, 'get_artifact', 'expects [entity, artifact_name, location?, remove?]');
    }
    const node = entityNode(args[0], scope, env, site, 'get_artifact');
    const artifacts = env.template.nodes.get(node)!.artifacts;
    const artifact = hasKey(artifacts, args[1]) ? artifacts[args[1]] : undefined;
    if (artifact === undefined) throw badArgs(site, 'get_artifact', `node ${node} has no artifact ${args[1]}`);
    const file = typeof artifact === 'string' ? artifact : asRecord(artifact).file;
    return typeof file === 'string' ? file : null;
  },
};
