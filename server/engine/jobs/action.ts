/** The start/stop/reboot job, for a whole infrastructure or some of its VMs. */
import type { VmState } from '../../../connectors/types';
import { CloudError } from '../../errors';
import { liveVms, type EngineContext } from '../context';
import type { JobHandler } from '../runner';
import { errorMessage } from '../util';
import { settleBounded } from '../../../lib/async';
import { waitForVms } from './observe';

export type VmAction = 'start' | 'stop' | 'reboot';

export interface ActionPayload {
  action: VmAction;
  vmIds?: string[];
}

const settledAfter: Record<VmAction, (s: VmState) => boolean> = {
  start: (s) => s === 'running',
  stop: (s) => s === 'stopped' || s === 'off',
  reboot: (s) => s === 'running',
};

export function actionJob(ctx: EngineContext): JobHandler {
  return async (job, signal) => {
    const infId = job.infrastructureId;
    const p = job.payload as unknown as ActionPayload;
    const inf = await ctx.store.getInfrastructure(infId);
    if (!inf || inf.phase === 'deleting') return {};
    const creds = ctx.credentialsOf(inf);
    const vms = liveVms(await ctx.store.listVms(infId)).filter((v) => v.handle && (!p.vmIds || p.vmIds.includes(v.id)));
    const errors: string[] = [];
    await settleBounded(vms, ctx.tuning.vmConcurrency, async (vm) => {
      try {
        await ctx.connector(creds, vm.cloudId)[p.action](vm.handle!);
      } catch (e) {
        errors.push(`VM ${vm.id}: ${errorMessage(e)}`);
      }
    });
    await waitForVms(ctx, creds, infId, vms.map((v) => v.id), settledAfter[p.action], signal);
    if (errors.length) throw new CloudError(`Error in ${p.action} operation: ${errors.join('; ')}`);
    return {};
  };
}
