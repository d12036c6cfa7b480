/**
 * The deploy job (create and add resources): remove the VMs the request dropped, launch every VM
 * row without a cloud handle (with its recorded clientToken, so a resumed job never launches a
 * second copy), wait until they leave `pending`, then hand over to the configure job.
 */
import type { CloudCredential } from '../../../connectors/types';
import type { InfrastructureRecord, VmRecord } from '../../store/types';
import { computeOf, type EngineContext } from '../context';
import type { JobHandler } from '../runner';
import { errorMessage, mapLimit, throwIfAborted } from '../util';
import { ImError } from '../../errors';
import { waitForVms } from './observe';
import { removeVmsStep, type RemovedVm } from './remove';

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
    const removed: RemovedVm[] = [];
    if (p.removeVmIds?.length) {
      const r = await removeVmsStep(ctx, creds, infId, p.removeVmIds);
      removed.push(...r.removed);
      for (const e of r.errors) await ctx.log(infId, e);
    }
    const targets = (await ctx.store.listVms(infId)).filter((v) => !v.removing && (!p.vmIds || p.vmIds.includes(v.id)));
    const toLaunch = targets.filter((v) => !v.handle && v.state !== 'failed');
    const failures = toLaunch.length ? await launchVms(ctx, inf, creds, toLaunch, signal) : [];
    throwIfAborted(signal);
    await waitForVms(ctx, creds, infId, targets.map((v) => v.id), (s) => s !== 'pending' && s !== 'unknown', signal);
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
    return { result, next: { infrastructureId: infId, kind: 'configure', payload: removed.length ? { removed } : {} } };
  };
}

export interface LaunchFailure {
  vmId: string;
  message: string;
  /** HTTP status of the connector's error, when it said (e.g. 401 for bad credentials). */
  status?: number;
}

export interface DeployResult {
  vmIds: string[];
  failures: LaunchFailure[];
  allFailedToLaunch: boolean;
}

/** Launches the VMs; returns those the cloud refused (they are marked failed). */
async function launchVms(ctx: EngineContext, inf: InfrastructureRecord, creds: CloudCredential[], vms: VmRecord[], signal: AbortSignal): Promise<LaunchFailure[]> {
  const failed = new Set<string>();
  const failures: LaunchFailure[] = [];
  const fail = async (vm: VmRecord, why: string, err?: unknown) => {
    failed.add(vm.id);
    failures.push({ vmId: vm.id, message: why, status: err instanceof ImError ? err.status : undefined });
    await ctx.store.updateVm(inf.id, vm.id, { state: 'failed' });
    await ctx.log(inf.id, `Error launching the VM: ${why}`, vm.id);
    await ctx.log(inf.id, `Error launching VM ${vm.id} (${vm.nodeName}) in cloud "${vm.cloudId}": ${why}`);
  };
  // Per-infrastructure cloud resources (keypair, security groups) first, once per cloud.
  for (const cloudId of new Set(vms.map((v) => v.cloudId))) {
    const mine = vms.filter((v) => v.cloudId === cloudId);
    try {
      await ctx.connector(creds, cloudId).prepare({
        infrastructureId: inf.id,
        computes: inf.plan.computes.filter((c) => mine.some((v) => v.nodeName === c.name)),
        publicKey: inf.sshPublicKey,
      });
    } catch (e) {
      if (signal.aborted) throw e;
      for (const vm of mine) await fail(vm, errorMessage(e), e);
    }
  }
  await mapLimit(vms.filter((v) => !failed.has(v.id)), ctx.tuning.vmConcurrency, async (vm) => {
    throwIfAborted(signal);
    const compute = computeOf(inf.plan, vm.nodeName);
    if (!compute) return fail(vm, `node "${vm.nodeName}" is not a compute of the plan`);
    try {
      const handle = await ctx.connector(creds, vm.cloudId).launch({
        infrastructureId: inf.id, vmId: vm.id, nodeName: vm.nodeName, compute,
        publicKey: inf.sshPublicKey, adminUser: ctx.adminUser(compute), clientToken: vm.clientToken,
      });
      await ctx.store.updateVm(inf.id, vm.id, { handle, state: 'pending' });
      await ctx.log(inf.id, `VM launched in cloud "${vm.cloudId}" with id ${handle.instanceId}.`, vm.id);
    } catch (e) {
      if (signal.aborted) throw e;
      await fail(vm, errorMessage(e), e);
    }
  });
  return failures;
}
