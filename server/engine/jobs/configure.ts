/**
 * The configure job: hands the running VMs to the Configurator and records each VM's outcome,
 * the infrastructure's phase and its outputs.
 */
import type { InfrastructurePhase, VmRecord } from '../../store/types';
import type { Plan } from '../../../tosca/plan';
import type { ConfigureRequest, ConfigureVm } from '../configurator';
import { computeOf, liveVms, type EngineContext } from '../context';
import { evaluateOutputs } from '../outputs';
import type { JobHandler } from '../runner';
import { errorMessage } from '../util';

export interface ConfigurePayload {
  /** IM's vm_list: VMs to reconfigure fully. */
  vmIds?: string[];
  /** Reconfigure everything (IM's reconfigure without vm_list). */
  full?: boolean;
  /**
   * VMs removed since the last configuration (or kept after all when their removal failed): the
   * operations that read their node's attributes re-run.
   */
  removed?: { vmId: string; nodeName: string }[];
}

/** KV key of the chosen master (read by the elasticity runtime to reach the master's shell). */
export const MASTER_KEY = 'configure.masterVmId';

export function configureJob(ctx: EngineContext): JobHandler {
  return async (job, signal) => {
    const outcome = await configureRunning(ctx, job.infrastructureId, job.payload as ConfigurePayload, signal);
    return outcome ? { result: outcome } : {};
  };
}

/**
 * Configures the infrastructure's running VMs that are not being removed (the configure job, and
 * the removal's re-configuration before its VMs are deleted). Returns the outcome per VM, or
 * undefined when there was nothing to configure.
 */
export async function configureRunning(
  ctx: EngineContext, infId: string, p: ConfigurePayload, signal: AbortSignal,
): Promise<Record<string, 'configured' | 'unconfigured'> | undefined> {
  const inf = await ctx.store.getInfrastructure(infId);
  if (!inf || inf.phase === 'deleting') return undefined;
  const vms = liveVms(await ctx.store.listVms(infId));
  const running = vms.filter((v) => v.state === 'running');
  const targets = running.filter((v) => !p.vmIds || p.vmIds.includes(v.id));
  if (targets.length === 0) {
    await finishPhase(ctx, infId, vms);
    return undefined;
  }
  // The previous outcomes, before this run resets them (IM shows such VMs as running meanwhile).
  const last = new Map(running.map((v) => [v.id, v.configured]));
  await ctx.store.updateInfrastructure(infId, { phase: 'configuring' });
  for (const t of targets) if (t.configured !== null) await ctx.store.updateVm(infId, t.id, { configured: null });

  const fresh = running.filter((v) => last.get(v.id) === null).map((v) => v.id);
  const full = p.full || p.vmIds !== undefined || fresh.length === running.length;
  const req: ConfigureRequest = {
    infrastructureId: infId,
    plan: inf.plan,
    vms: running.map((v) => configureVm(ctx, inf.plan, v, last.get(v.id) ?? null)),
    masterVmId: await chooseMaster(ctx, infId, running),
    targets: p.vmIds,
    changes: full ? undefined : { added: fresh, removed: p.removed ?? [] },
    ssh: { privateKey: ctx.privateKeyOf(inf), publicKey: inf.sshPublicKey },
    log: (line, vmId) => ctx.log(infId, line, vmId),
    signal,
  };
  const outcome: Record<string, 'configured' | 'unconfigured'> = {};
  try {
    Object.assign(outcome, (await ctx.configurator.configure(req)).vms);
  } catch (e) {
    if (signal.aborted) throw e;
    await ctx.log(infId, `Error in the contextualization: ${errorMessage(e)}`);
  }
  for (const v of running) {
    const got = outcome[v.id];
    if (got) await ctx.store.updateVm(infId, v.id, { configured: got === 'configured' });
    else if (targets.includes(v)) await ctx.store.updateVm(infId, v.id, { configured: false });
  }
  await finishPhase(ctx, infId, liveVms(await ctx.store.listVms(infId)));
  return outcome;
}

/** A VM as the Configurator sees it; `configured` is its last outcome (null: never configured). */
export function configureVm(ctx: EngineContext, plan: Plan, v: VmRecord, configured: boolean | null): ConfigureVm {
  return {
    id: v.id, nodeName: v.nodeName, adminUser: ctx.adminUser(computeOf(plan, v.nodeName)),
    privateIps: v.privateIps, publicIps: v.publicIps, cloudType: v.cloudType,
    lastResult: configured === true ? 'configured' : configured === false ? 'unconfigured' : undefined,
  };
}

/** The master chosen by an earlier configuration, if any. */
export async function keptMaster(ctx: EngineContext, infId: string): Promise<string | undefined> {
  const kept = await ctx.store.getKv(infId, MASTER_KEY);
  return typeof kept === 'string' ? kept : undefined;
}

/** The master stays the same while it lives; otherwise the lowest-id running VM with a public IP. */
async function chooseMaster(ctx: EngineContext, infId: string, running: VmRecord[]): Promise<string | undefined> {
  const reachable = running.filter((v) => v.publicIps.length > 0);
  const kept = await ctx.store.getKv(infId, MASTER_KEY);
  if (typeof kept === 'string' && reachable.some((v) => v.id === kept)) return kept;
  const chosen = reachable[0]?.id;
  if (chosen !== undefined) await ctx.store.putKv(infId, MASTER_KEY, chosen);
  return chosen;
}

/** Phase and outputs after configuration (or when nothing could be configured). */
async function finishPhase(ctx: EngineContext, infId: string, vms: VmRecord[]): Promise<void> {
  const inf = await ctx.store.getInfrastructure(infId);
  if (!inf || inf.phase === 'deleting') return;
  let phase: InfrastructurePhase = 'configured';
  if (vms.length > 0 && vms.every((v) => v.state === 'failed')) phase = 'failed';
  else if (vms.some((v) => v.configured === false)) phase = 'unconfigured';
  const key = ctx.privateKeyOf(inf);
  const creds = ctx.credentialsOf(inf);
  const views = vms.map((v) => ctx.vmView(inf, v, key, creds));
  const outputs = evaluateOutputs({ plan: inf.plan, vmsOf: (node) => views.filter((v) => v.nodeName === node) });
  await ctx.store.updateInfrastructure(infId, { phase, outputs });
}
