/**
 * Launching VMs, and launching them again when the cloud reports them failed while booting
 * (IM's MAX_VM_FAILS). A VM's attempt number, and the failed instance still to delete, live in
 * the store (the infrastructure's KV space) and are written before the cloud is asked, so a
 * restart neither resets the count nor launches a duplicate: attempt n launches with the
 * clientToken `vm.clientToken` (n = 1) or `${vm.clientToken}-retry${n}`, and a resumed job
 * repeats the same attempt with the same token, which the connectors make idempotent.
 */
import type { CloudCredential, VmHandle } from '../../../connectors/types';
import type { InfrastructureRecord, VmRecord } from '../../store/types';
import { ImError, imStatus } from '../../errors';
import { computeOf, type EngineContext } from '../context';
import { errorMessage } from '../util';
import { settleBounded } from '../../../lib/async';
import { throwIfAborted } from '../../../lib/sleep';
import type { Observation } from './observe';

export interface LaunchFailure {
  vmId: string;
  cloudId: string;
  message: string;
  /** HTTP status of the connector's error, when it said (e.g. 401 for bad credentials). */
  status?: number;
  /** The connector's error code (AuthFailure, QuotaExceeded...), when it said. */
  code?: string;
}

interface AttemptRecord {
  /** The attempt in progress (1 = the first launch). */
  attempt: number;
  /** A failed instance of an earlier attempt, still to delete. */
  discard?: VmHandle;
}

const attemptKey = (vmId: string) => `deploy.attempt.${vmId}`;

async function attemptOf(ctx: EngineContext, infId: string, vmId: string): Promise<AttemptRecord> {
  const rec = (await ctx.store.getKv(infId, attemptKey(vmId))) as AttemptRecord | undefined;
  return rec && typeof rec.attempt === 'number' ? rec : { attempt: 1 };
}

/** Drops the attempt records of removed VMs (ids are never reused, so this is only tidiness). */
export async function forgetAttempts(ctx: EngineContext, infId: string, vmIds: string[]): Promise<void> {
  for (const id of vmIds) await ctx.store.deleteKv(infId, attemptKey(id));
}

export function launchToken(base: string, attempt: number): string {
  return attempt <= 1 ? base : `${base}-retry${attempt}`;
}

/** Prepares each cloud once, then launches the VMs; returns those the cloud refused (marked failed). */
export async function launchVms(ctx: EngineContext, inf: InfrastructureRecord, creds: CloudCredential[], vms: VmRecord[], signal: AbortSignal): Promise<LaunchFailure[]> {
  const failed = new Set<string>();
  const failures: LaunchFailure[] = [];
  const fail = async (vm: VmRecord, err: unknown) => {
    failed.add(vm.id);
    failures.push(launchFailure(vm, err));
    await refused(ctx, inf.id, vm, errorMessage(err));
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
      for (const vm of mine) await fail(vm, e);
    }
  }
  await settleBounded(vms.filter((v) => !failed.has(v.id)), ctx.tuning.vmConcurrency, async (vm) => {
    throwIfAborted(signal);
    try {
      await launchOne(ctx, inf, creds, vm, signal);
    } catch (e) {
      if (signal.aborted) throw e;
      await fail(vm, e);
    }
  });
  return failures;
}

function launchFailure(vm: VmRecord, err: unknown): LaunchFailure {
  return {
    vmId: vm.id, cloudId: vm.cloudId, message: errorMessage(err),
    status: err instanceof ImError ? imStatus(err) : undefined,
    code: (err as { code?: unknown })?.code !== undefined ? String((err as { code: unknown }).code) : undefined,
  };
}

async function refused(ctx: EngineContext, infId: string, vm: VmRecord, why: string): Promise<void> {
  await ctx.store.updateVm(infId, vm.id, { state: 'failed' });
  await ctx.log(infId, `Error launching the VM: ${why}`, vm.id);
  await ctx.log(infId, `Error launching VM ${vm.id} (${vm.nodeName}) in cloud "${vm.cloudId}": ${why}`);
}

/** Launches a VM row without a handle: this attempt's token; first deletes a failed earlier instance. */
async function launchOne(ctx: EngineContext, inf: InfrastructureRecord, creds: CloudCredential[], vm: VmRecord, signal: AbortSignal): Promise<void> {
  const compute = computeOf(inf.plan, vm.nodeName);
  if (!compute) throw new Error(`node "${vm.nodeName}" is not a compute of the plan`);
  const rec = await attemptOf(ctx, inf.id, vm.id);
  const conn = ctx.connector(creds, vm.cloudId);
  if (rec.discard) {
    try {
      await conn.terminate(rec.discard, { releaseFloatingIps: false });
    } catch (e) {
      // It carries the infrastructure's tags: destroy's cleanup still finds it.
      await ctx.log(inf.id, `Could not delete the failed instance ${rec.discard.instanceId}: ${errorMessage(e)} (it is deleted with the infrastructure)`, vm.id);
    }
    await ctx.store.putKv(inf.id, attemptKey(vm.id), { attempt: rec.attempt });
    throwIfAborted(signal);
  }
  const handle = await conn.launch({
    infrastructureId: inf.id, vmId: vm.id, nodeName: vm.nodeName, compute,
    publicKey: inf.sshPublicKey, adminUser: ctx.adminUser(compute), clientToken: launchToken(vm.clientToken, rec.attempt),
  });
  await ctx.store.updateVm(inf.id, vm.id, { handle, state: 'pending' });
  const of = rec.attempt > 1 ? ` (attempt ${rec.attempt} of ${ctx.tuning.maxVmFails})` : '';
  await ctx.log(inf.id, `VM launched in cloud "${vm.cloudId}" with id ${handle.instanceId}${of}.`, vm.id);
}

/**
 * The cloud reported `vm` failed (not yet recorded: its row is still pending): log the failure,
 * and unless it was the last attempt (or a relaunch cannot help), delete the instance and launch
 * the VM again with a new token; otherwise record it failed. Resolves true when relaunched.
 */
export async function relaunchAfterBootFailure(
  ctx: EngineContext, inf: InfrastructureRecord, creds: CloudCredential[], vm: VmRecord, obs: Observation, signal: AbortSignal,
): Promise<boolean> {
  const rec = await attemptOf(ctx, inf.id, vm.id);
  const why = obs.fault ?? 'the cloud reported the VM as failed';
  // A restart after the next attempt was recorded but before this instance was let go: resume it.
  const resuming = rec.discard?.instanceId === vm.handle?.instanceId;
  const failedAttempt = resuming ? rec.attempt - 1 : rec.attempt;
  const where = `VM ${vm.id} (${vm.nodeName}) failed in cloud "${vm.cloudId}"`;
  if (obs.retryable === false && !resuming) {
    await ctx.store.updateVm(inf.id, vm.id, { state: 'failed' });
    await ctx.log(inf.id, `VM failed: ${why}. Not launched again: a new VM would fail the same way.`, vm.id);
    await ctx.log(inf.id, `${where}: ${why}`);
    return false;
  }
  const max = ctx.tuning.maxVmFails;
  if (failedAttempt >= max) {
    await ctx.store.updateVm(inf.id, vm.id, { state: 'failed' });
    await ctx.log(inf.id, `Attempt ${failedAttempt} of ${max} failed: ${why}. Giving up: the VM stays failed.`, vm.id);
    await ctx.log(inf.id, `${where} after ${failedAttempt} attempts: ${why}`);
    return false;
  }
  if (!resuming) {
    await ctx.log(inf.id, `Attempt ${failedAttempt} of ${max} failed: ${why}. Deleting it and launching it again.`, vm.id);
    await ctx.log(inf.id, `${where} (attempt ${failedAttempt} of ${max}): ${why}; launching it again.`);
    await ctx.store.putKv(inf.id, attemptKey(vm.id), { attempt: failedAttempt + 1, discard: vm.handle! } satisfies AttemptRecord);
  }
  throwIfAborted(signal);
  await ctx.store.updateVm(inf.id, vm.id, { handle: null, state: 'pending', privateIps: [], publicIps: [] });
  const fresh = (await ctx.store.getVm(inf.id, vm.id)) ?? vm;
  try {
    await launchOne(ctx, inf, creds, fresh, signal);
  } catch (e) {
    if (signal.aborted) throw e;
    await refused(ctx, inf.id, fresh, errorMessage(e));
    return false;
  }
  return true;
}
