/**
 * IM's AlterVM: a TOSCA template gives a VM a new size. The Compute node of the template (the one
 * named like the VM's node when there are several) says num_cpus, mem_size or instance_type; what it
 * leaves out keeps the VM's current value, as IM's resize_vm_radl does. The cloud resizes in place
 * through the connector's optional resizeVm, in a durable job of the infrastructure, so the resize
 * waits for (and holds off) the other jobs of that infrastructure as stop/start do.
 */
import type { CloudConnector, ResizeOptions, VmSizeInfo } from '../../connectors/types';
import { describeWish } from '../../connectors/shared/sizing';
import type { ComputePlan, HostSizing } from '../../tosca/plan';
import type { InfrastructureRecord, VmRecord } from '../store/types';
import { InvalidInputError, VmNotFoundError } from '../errors';
import type { Caller, VmView } from './service';
import { computeOf, type EngineContext } from './context';
import type { JobHandler } from './runner';
import { planOrReject } from './templates';
import { waitForVms } from './jobs/observe';
import { errorMessage } from './util';

export interface AlterPayload {
  vmId: string;
  wish: HostSizing;
  running: ResizeOptions['running'];
}

type Mutable = (caller: Caller, infId: string) => Promise<InfrastructureRecord>;
type SealedFor = (inf: InfrastructureRecord, caller: Caller) => string;

export class AlterOperations {
  constructor(private readonly ctx: EngineContext, private readonly mutable: Mutable, private readonly sealedFor: SealedFor) {}

  async alterVm(caller: Caller, infId: string, vmId: string, toscaText: string): Promise<VmView> {
    const inf = await this.mutable(caller, infId);
    const vm = await liveVm(this.ctx, infId, vmId);
    const posted = await planOrReject(this.ctx.planner, toscaText, this.ctx.planOptions);
    const wish = resizeWish(computeFor(posted.computes, vm), currentSize(inf, vm));
    // Nothing asked: IM answers the VM as it is.
    if (!wish) return this.ctx.vmView(inf, vm);
    if (!vm.handle) throw new InvalidInputError(`VM ${vmId} has not been launched yet: there is nothing to resize`);
    const sealed = this.sealedFor(inf, caller);
    const conn = this.ctx.connector(this.ctx.secrets.openJson(sealed), vm.cloudId);
    if (!conn.resizeVm) throw cannotResize(conn, vm.cloudId);
    const payload: AlterPayload = { vmId, wish, running: vm.state !== 'stopped' && vm.state !== 'off' };
    const job = await this.ctx.store.enqueueJob(
      { infrastructureId: infId, kind: 'alter', payload: payload as unknown as Record<string, unknown> },
      { patch: { credentials: sealed } },
    );
    this.ctx.runner.kick();
    await this.ctx.runner.wait(job.id);
    const after = await this.ctx.store.getInfrastructure(infId);
    return this.ctx.vmView(after ?? inf, await liveVm(this.ctx, infId, vmId));
  }
}

/** The resize job: the connector does the cloud's steps; the VM record keeps the size it now has. */
export function alterJob(ctx: EngineContext): JobHandler {
  return async (job, signal) => {
    const p = job.payload as unknown as AlterPayload;
    const infId = job.infrastructureId;
    const inf = await ctx.store.getInfrastructure(infId);
    if (!inf || inf.phase === 'deleting') return {};
    const vm = await liveVm(ctx, infId, p.vmId);
    if (!vm.handle) throw new InvalidInputError(`VM ${p.vmId} has not been launched yet: there is nothing to resize`);
    const creds = ctx.credentialsOf(inf);
    const conn = ctx.connector(creds, vm.cloudId);
    if (!conn.resizeVm) throw cannotResize(conn, vm.cloudId);
    await ctx.log(infId, `Resizing the VM to ${describeWish(p.wish)}${p.wish.instanceType ? ` (${p.wish.instanceType})` : ''}`, vm.id);
    let size: VmSizeInfo;
    try {
      size = await conn.resizeVm(vm.handle, p.wish, { running: p.running });
    } catch (e) {
      await ctx.log(infId, `Error resizing the VM: ${errorMessage(e)}`, vm.id);
      throw e;
    }
    // Removed or relaunched meanwhile: the size belongs to an instance that is gone.
    const now = await ctx.store.getVm(infId, vm.id);
    if (now?.handle?.instanceId === vm.handle.instanceId) await ctx.store.updateVm(infId, vm.id, { handle: { ...now.handle, size } });
    await ctx.log(infId, `VM resized: ${size.cpus} CPUs, ${size.memoryMB} MB of memory${size.instanceType ? `, ${size.instanceType}` : ''}`, vm.id);
    // The cloud may have stopped and started it (EC2): record the state it ended in.
    await waitForVms(ctx, creds, infId, [vm.id], (s) => s !== 'pending', signal);
    return {};
  };
}

async function liveVm(ctx: EngineContext, infId: string, vmId: string): Promise<VmRecord> {
  const vm = await ctx.store.getVm(infId, vmId);
  if (!vm || vm.removing) throw new VmNotFoundError(infId, vmId);
  return vm;
}

/** The Compute node that describes the VM: the only one, or the one named like the VM's node. */
export function computeFor(computes: ComputePlan[], vm: Pick<VmRecord, 'id' | 'nodeName'>): ComputePlan {
  if (computes.length === 1) return computes[0];
  if (computes.length === 0) throw new InvalidInputError('The TOSCA template has no Compute node to take the VM\'s new size from');
  const named = computes.find((c) => c.name === vm.nodeName);
  if (named) return named;
  throw new InvalidInputError(
    `The TOSCA template has ${computes.length} Compute nodes (${computes.map((c) => c.name).join(', ')}) and none is named "${vm.nodeName}", ` +
      `the node of VM ${vm.id}: send only one, or the one named "${vm.nodeName}"`,
  );
}

/** The VM's size as recorded: the last resize, else what its node planned. */
export function currentSize(inf: InfrastructureRecord, vm: VmRecord): HostSizing {
  const size = vm.handle?.size;
  if (size) return { numCpus: size.cpus, memSizeMB: size.memoryMB, instanceType: size.instanceType };
  const host = computeOf(inf.plan, vm.nodeName)?.host ?? {};
  return { numCpus: host.numCpus, memSizeMB: host.memSizeMB, instanceType: host.instanceType };
}

/**
 * What to ask the cloud for, or undefined when the node asks for no size. CPUs or memory without an
 * instance_type free the VM from the type it had, or the old type would be chosen again.
 */
export function resizeWish(compute: ComputePlan, current: HostSizing): HostSizing | undefined {
  const { numCpus, memSizeMB, instanceType } = compute.host;
  if (numCpus === undefined && memSizeMB === undefined && instanceType === undefined) return undefined;
  const wish: HostSizing = { numCpus: numCpus ?? current.numCpus, memSizeMB: memSizeMB ?? current.memSizeMB, instanceType };
  return Object.fromEntries(Object.entries(wish).filter(([, v]) => v !== undefined)) as HostSizing;
}

function cannotResize(conn: CloudConnector, cloudId: string): InvalidInputError {
  return new InvalidInputError(`Cloud "${cloudId}" (type ${conn.type}) cannot resize a VM; supported for: Dummy, OpenStack, EC2`);
}
