/**
 * The remove job (DELETE of VMs) and the shrink step it shares with deploy (add-resources with
 * lower counts or a removal_list).
 *
 * Order (issue 6): the nodes that depend on the leaving VMs are re-configured first, without them
 * (the master stops sending work to them), and only then are the VMs terminated and their host keys
 * forgotten. In between, the Configurator's optional `teardown` runs the stop/delete operations of
 * the software on the leaving VMs (failures logged, never blocking). `context=false` skips both.
 *
 * Durable: the re-configuration is recorded done in the KV entry `shrink.<jobId>` before any VM is
 * terminated, and each VM row is deleted right after its instance is, so a job resumed after a
 * crash neither re-configures again nor loses a VM, and terminates again at most the one instance
 * whose row was not yet deleted (connectors treat an instance already gone as terminated).
 */
import type { CloudCredential } from '../../../connectors/types';
import { CloudError } from '../../errors';
import type { EngineContext } from '../context';
import type { JobHandler } from '../runner';
import { errorMessage } from '../util';
import { settleBounded } from '../../../lib/async';
import { throwIfAborted } from '../../../lib/sleep';
import type { VmRecord } from '../../store/types';
import { configureRunning, configureVm, keptMaster } from './configure';
import { forgetAttempts } from './launch';

export interface RemovePayload {
  vmIds: string[];
  context?: boolean;
}

export interface RemovedVm {
  vmId: string;
  nodeName: string;
}

export interface ShrinkOutcome {
  /** VMs terminated and forgotten by this call. */
  removed: RemovedVm[];
  /** One message per VM that could not be removed (it stays, no longer marked for removal). */
  errors: string[];
  /** The remaining VMs were re-configured without the removed ones (now or before a restart). */
  reconfigured: boolean;
}

const shrinkKey = (jobId: number) => `shrink.${jobId}`;

/**
 * Removes the VMs of a job: re-configures the rest without them (unless `context` is false), then
 * terminates and forgets them. VMs already gone (a resumed job) are skipped.
 */
export async function shrinkStep(
  ctx: EngineContext, creds: CloudCredential[], infId: string, jobId: number, vmIds: string[],
  opts: { context: boolean; signal: AbortSignal },
): Promise<ShrinkOutcome> {
  // still marked: a VM whose deletion the cloud refused was unmarked and given back, and stays
  const leaving = (await Promise.all(vmIds.map((id) => ctx.store.getVm(infId, id)))).filter((v): v is VmRecord => v !== undefined && v.removing);
  if (leaving.length === 0) {
    await ctx.store.deleteKv(infId, shrinkKey(jobId));
    return { removed: [], errors: [], reconfigured: false };
  }
  let reconfigured = (await ctx.store.getKv(infId, shrinkKey(jobId))) === true;
  if (opts.context && !reconfigured) {
    const ids = leaving.map((v) => v.id).join(', ');
    await ctx.log(infId, `Removing VM(s) ${ids}: re-configuring the nodes that depend on them first.`);
    // The leaving rows are marked `removing`, so the run sees only the VMs that stay; a failed
    // re-configuration is logged by it and never blocks the removal.
    await configureRunning(ctx, infId, { removed: leaving.map((v) => ({ vmId: v.id, nodeName: v.nodeName })) }, opts.signal);
    throwIfAborted(opts.signal);
    await teardown(ctx, infId, leaving, opts.signal);
    throwIfAborted(opts.signal);
    await ctx.store.putKv(infId, shrinkKey(jobId), true);
    reconfigured = true;
  }
  const { removed, errors } = await removeVmsStep(ctx, creds, infId, leaving.map((v) => v.id));
  if (removed.length) await ctx.log(infId, `Removed VM(s) ${removed.map((r) => r.vmId).join(', ')}.`);
  const kept = leaving.filter((v) => !removed.some((r) => r.vmId === v.id));
  if (reconfigured && opts.context && kept.length) {
    // They live on, so the nodes that depend on them get them back (their node's set changed again).
    await ctx.log(infId, `VM(s) ${kept.map((v) => v.id).join(', ')} could not be removed: re-configuring the nodes that depend on them again.`);
    await configureRunning(ctx, infId, { removed: kept.map((v) => ({ vmId: v.id, nodeName: v.nodeName })) }, opts.signal);
  }
  await ctx.store.deleteKv(infId, shrinkKey(jobId));
  return { removed, errors, reconfigured };
}

/** The stop/delete operations of the software on the leaving VMs that still run; never throws but for an abort. */
async function teardown(ctx: EngineContext, infId: string, leaving: VmRecord[], signal: AbortSignal): Promise<void> {
  const hook = ctx.configurator.teardown?.bind(ctx.configurator);
  const inf = await ctx.store.getInfrastructure(infId);
  const gone = leaving.filter((v) => v.state === 'running').map((v) => v.id);
  if (!hook || !inf || gone.length === 0) return;
  // the leaving rows are still there (marked removing): the master reaches them, get_attribute sees them
  const running = (await ctx.store.listVms(infId)).filter((v) => v.state === 'running');
  const master = await keptMaster(ctx, infId);
  try {
    await hook({
      infrastructureId: infId, plan: inf.plan,
      vms: running.map((v) => configureVm(ctx, inf.plan, v, v.configured)),
      leaving: gone,
      masterVmId: running.some((v) => v.id === master) ? master : undefined,
      ssh: { privateKey: ctx.privateKeyOf(inf), publicKey: inf.sshPublicKey },
      log: (line, vmId) => ctx.log(infId, line, vmId),
      signal,
    });
  } catch (e) {
    if (signal.aborted) throw e;
    await ctx.log(infId, `Error running the stop/delete operations of VM(s) ${gone.join(', ')} (they are removed anyway): ${errorMessage(e)}`);
  }
}

/**
 * Terminates and forgets the VMs (row, boot-attempt entry, the configurator's host key), each as
 * soon as its instance is gone. Returns those removed and one message per VM that could not be.
 */
export async function removeVmsStep(ctx: EngineContext, creds: CloudCredential[], infId: string, vmIds: string[]): Promise<{ removed: RemovedVm[]; errors: string[] }> {
  const errors: string[] = [];
  const removed: RemovedVm[] = [];
  await settleBounded(vmIds, ctx.tuning.vmConcurrency, async (id) => {
    const vm = await ctx.store.getVm(infId, id);
    if (!vm) return; // already gone: a resumed job
    try {
      if (vm.handle) await ctx.connector(creds, vm.cloudId).terminate(vm.handle, { releaseFloatingIps: false });
    } catch (e) {
      errors.push(`Error removing VM ${id}: ${errorMessage(e)}`);
      await ctx.store.updateVm(infId, id, { removing: false });
      return;
    }
    await ctx.store.deleteVms(infId, [id]);
    await forgetAttempts(ctx, infId, [id]);
    ctx.configurator.vmRemoved?.(infId, id);
    removed.push({ vmId: id, nodeName: vm.nodeName });
  });
  return { removed, errors };
}

export function removeJob(ctx: EngineContext): JobHandler {
  return async (job, signal) => {
    const infId = job.infrastructureId;
    const p = job.payload as unknown as RemovePayload;
    const inf = await ctx.store.getInfrastructure(infId);
    if (!inf || inf.phase === 'deleting') return {};
    const { errors } = await shrinkStep(ctx, ctx.credentialsOf(inf), infId, job.id, p.vmIds, { context: p.context !== false, signal });
    if (errors.length) throw new CloudError(errors.join('\n'));
    return { result: { removed: p.vmIds.length } };
  };
}
