/** The remove job (DELETE of VMs) and the removal step shared with deploy. */
import type { CloudCredential } from '../../../connectors/types';
import { CloudError } from '../../errors';
import { liveVms, type EngineContext } from '../context';
import type { JobHandler } from '../runner';
import { errorMessage, mapLimit } from '../util';
import { forgetAttempts } from './launch';

export interface RemovePayload {
  vmIds: string[];
  context?: boolean;
}

export interface RemovedVm {
  vmId: string;
  nodeName: string;
}

/**
 * Terminates and forgets the VMs. Returns those removed (for the next configuration) and one
 * message per VM that could not be removed (it stays, no longer marked for removal).
 */
export async function removeVmsStep(ctx: EngineContext, creds: CloudCredential[], infId: string, vmIds: string[]): Promise<{ removed: RemovedVm[]; errors: string[] }> {
  const errors: string[] = [];
  const removed: RemovedVm[] = [];
  await mapLimit(vmIds, ctx.tuning.vmConcurrency, async (id) => {
    const vm = await ctx.store.getVm(infId, id);
    if (!vm) return; // already gone: a resumed job
    ctx.configurator.vmRemoved?.(infId, id);
    try {
      if (vm.handle) await ctx.connector(creds, vm.cloudId).terminate(vm.handle, { releaseFloatingIps: false });
      removed.push({ vmId: id, nodeName: vm.nodeName });
    } catch (e) {
      errors.push(`Error removing VM ${id}: ${errorMessage(e)}`);
      await ctx.store.updateVm(infId, id, { removing: false });
    }
  });
  await ctx.store.deleteVms(infId, removed.map((r) => r.vmId));
  await forgetAttempts(ctx, infId, removed.map((r) => r.vmId));
  return { removed, errors };
}

export function removeJob(ctx: EngineContext): JobHandler {
  return async (job) => {
    const infId = job.infrastructureId;
    const p = job.payload as unknown as RemovePayload;
    const inf = await ctx.store.getInfrastructure(infId);
    if (!inf || inf.phase === 'deleting') return {};
    const { removed, errors } = await removeVmsStep(ctx, ctx.credentialsOf(inf), infId, p.vmIds);
    if (errors.length) throw new CloudError(errors.join('\n'));
    await ctx.log(infId, `Removed VM(s) ${p.vmIds.join(', ')}.`);
    const remaining = liveVms(await ctx.store.listVms(infId));
    const result = { removed: p.vmIds.length };
    if (p.context === false || remaining.length === 0) return { result };
    return { result, next: { infrastructureId: infId, kind: 'configure', payload: { removed } } };
  };
}
