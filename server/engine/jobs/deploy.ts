/**
 * The deploy job (create and add resources): remove the VMs the request dropped (the rest are
 * re-configured without them first, see remove.ts), launch every VM row without a cloud handle
 * (with its recorded clientToken, so a resumed job never launches a second copy), wait until they
 * leave `pending`, then hand over to the configure job. One that removes nothing runs even while a
 * configure job of its infrastructure runs or waits (store/types.ts startsDuringConfigure).
 */
import type { EngineContext } from '../context';
import type { JobHandler } from '../runner';
import { errorMessage } from '../util';
import { throwIfAborted } from '../../../lib/sleep';
import { waitForVms } from './observe';
import { shrinkStep } from './remove';
import type { ConfigurePayload } from './configure';
import { launchVms, relaunchAfterBootFailure, type LaunchFailure } from './launch';

export type { LaunchFailure } from './launch';

export interface DeployPayload {
  /** VMs this job deploys; every VM without a handle when undefined. */
  vmIds?: string[];
  /** VMs to remove first (add-resources with lower counts or removal_list). */
  removeVmIds?: string[];
  /** Run the configure job afterwards (IM's `context` flag). */
  context?: boolean;
}

export function deployJob(ctx: EngineContext): JobHandler {
  const run = deploy(ctx);
  return async (job, signal) => {
    try {
      return await run(job, signal);
    } catch (e) {
      if (signal.aborted) throw e;
      // An unexpected failure must not leave VMs pending for ever.
      const infId = job.infrastructureId;
      await ctx.log(infId, `Error deploying the infrastructure: ${errorMessage(e)}`);
      for (const vm of await ctx.store.listVms(infId)) {
        if (!vm.removing && vm.state === 'pending') await ctx.store.updateVm(infId, vm.id, { state: 'failed' });
      }
      const inf = await ctx.store.getInfrastructure(infId);
      if (inf && inf.phase !== 'deleting') await ctx.store.updateInfrastructure(infId, { phase: 'failed' });
      throw e;
    }
  };
}

function deploy(ctx: EngineContext): JobHandler {
  return async (job, signal) => {
    const infId = job.infrastructureId;
    const p = job.payload as DeployPayload;
    const inf = await ctx.store.getInfrastructure(infId);
    if (!inf || inf.phase === 'deleting') return {};
    const creds = ctx.credentialsOf(inf);
    const shrinking = !!p.removeVmIds?.length;
    if (shrinking) {
      // The VMs that go are removed first, the rest re-configured without them before (remove.ts).
      const r = await shrinkStep(ctx, creds, infId, job.id, p.removeVmIds!, { context: p.context !== false, signal });
      for (const e of r.errors) await ctx.log(infId, e);
      throwIfAborted(signal);
    }
    const targets = (await ctx.store.listVms(infId)).filter((v) => !v.removing && (!p.vmIds || p.vmIds.includes(v.id)));
    const toLaunch = targets.filter((v) => !v.handle && v.state !== 'failed');
    const failures = toLaunch.length ? await launchVms(ctx, inf, creds, toLaunch, signal) : [];
    throwIfAborted(signal);
    // A VM the cloud reports failed while booting is deleted and launched again (IM's MAX_VM_FAILS).
    await waitForVms(ctx, creds, infId, targets.map((v) => v.id), (s) => s !== 'pending' && s !== 'unknown', signal, {
      retry: (vm, obs) => relaunchAfterBootFailure(ctx, inf, creds, vm, obs, signal),
    });
    const after = await ctx.store.getInfrastructure(infId);
    if (!after || after.phase === 'deleting') return {};
    const now = await Promise.all(targets.map((v) => ctx.store.getVm(infId, v.id)));
    const result: DeployResult = {
      vmIds: targets.map((v) => v.id),
      failures,
      // IM fails a create outright when no VM could be launched at all.
      allFailedToLaunch: targets.length > 0 && now.every((v) => !v || (!v.handle && v.state === 'failed')),
    };
    if (p.context === false) return { result };
    // A pure shrink was configured by its shrink step; only new VMs need another run.
    if (shrinking && !now.some((v) => v && v.state === 'running' && v.configured === null)) return { result };
    if (await configureQueued(ctx, infId)) return { result };
    return { result, next: { infrastructureId: infId, kind: 'configure', payload: {} } };
  };
}

/**
 * Additions that arrived while a configuration ran queue one deploy job each; the first one's
 * configure job lands behind the others. A configure job still queued reads the VMs when it
 * starts, so it configures these new ones too: they batch into that one run instead of a run each
 * (issue 6). One with a vm_list configures only those VMs, so it does not count.
 * Race-free although a pure add's deploy runs alongside configure jobs (and so may be later than a
 * queued one): these VMs already left `pending`, so a configure job still queued now starts after
 * this read and sees them.
 */
async function configureQueued(ctx: EngineContext, infId: string): Promise<boolean> {
  return (await ctx.store.listOpenJobs(infId)).some(
    (j) => j.status === 'queued' && j.kind === 'configure' && !(j.payload as ConfigurePayload).vmIds,
  );
}

export interface DeployResult {
  vmIds: string[];
  /** Launches the cloud refused (not boot failures, which are retried and reported in contmsg). */
  failures: LaunchFailure[];
  allFailedToLaunch: boolean;
}
