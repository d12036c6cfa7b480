/** The adapter for a policy's LRMS. */
import type { ElasticPolicy } from '../policy';
import { genericAdapter } from './generic';
import { htcondor } from './htcondor';
import { kubernetesAdapter } from './kubernetes';
import { slurm } from './slurm';
import type { LrmsAdapter } from './types';

export * from './types';

/** undefined when the policy names no way to read the LRMS (generic without probe_command). */
export function adapterFor(p: ElasticPolicy): LrmsAdapter | undefined {
  if (p.probe_command) return genericAdapter(p.probe_command);
  if (p.lrms === 'htcondor') return htcondor;
  if (p.lrms === 'kubernetes') return kubernetesAdapter(p.drain_timeout_s);
  if (p.lrms === 'slurm') return slurm;
  return undefined;
}
