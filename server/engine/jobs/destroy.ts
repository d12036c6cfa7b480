/**
 * The destroy job: terminate every VM, let each cloud clean up what is left of the
 * infrastructure (keypair, security groups, VMs whose launch was never recorded), then forget it.
 * Idempotent: a resumed job finds fewer VMs; an infrastructure already gone is a success.
 */
import type { CloudCredential } from '../../../connectors/types';
import type { InfrastructurePhase } from '../../store/types';
import { CloudError } from '../../errors';
import type { EngineContext } from '../context';
import type { JobHandler } from '../runner';
import { errorMessage, mapLimit } from '../util';

export interface DestroyPayload {
  force: boolean;
  releaseFloatingIps: boolean;
  /** Phase to return to when the destroy fails without force. */
  previousPhase: InfrastructurePhase;
}

export function destroyJob(ctx: EngineContext): JobHandler {
  return async (job) => {
    const infId = job.infrastructureId;
    const p = job.payload as unknown as DestroyPayload;
    const inf = await ctx.store.getInfrastructure(infId);
    if (!inf) return {};
    let creds: CloudCredential[] = [];
    const errors: string[] = [];
    try {
      creds = ctx.credentialsOf(inf);
    } catch (e) {
      errors.push(errorMessage(e));
    }
    const opts = { releaseFloatingIps: p.releaseFloatingIps };
    const vms = await ctx.store.listVms(infId);
    const gone: string[] = [];
    await mapLimit(vms, ctx.tuning.vmConcurrency, async (vm) => {
      try {
        if (vm.handle) await ctx.connector(creds, vm.cloudId).terminate(vm.handle, opts);
        gone.push(vm.id);
      } catch (e) {
        errors.push(`VM ${vm.id}: ${errorMessage(e)}`);
      }
    });
    await ctx.store.deleteVms(infId, gone);
    for (const cloudId of new Set(vms.map((v) => v.cloudId))) {
      try {
        await ctx.connector(creds, cloudId).cleanup(infId, opts);
      } catch (e) {
        errors.push(`cloud "${cloudId}": ${errorMessage(e)}`);
      }
    }
    if (errors.length && !p.force) {
      await ctx.store.updateInfrastructure(infId, { phase: p.previousPhase });
      await ctx.log(infId, `Error destroying the infrastructure: ${errors.join('; ')}`);
      throw new CloudError(`Error destroying the infrastructure: ${errors.join('; ')}`);
    }
    if (errors.length) ctx.logger.warn({ inf: infId, errors }, 'destroy forced despite errors');
    await ctx.configurator.release?.(infId);
    await ctx.store.deleteInfrastructure(infId);
    return {};
  };
}
