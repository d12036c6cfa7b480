/**
 * InfrastructureService: the request side of the engine. Reads answer from the store's memory
 * model; every long operation writes its job (with the rows it announces) in one store call,
 * kicks the runner, and waits for the job only where IM's call is synchronous.
 */
import * as crypto from 'crypto';
import type { CloudCredential } from '../../connectors/types';
import { connectorFor, supportedCloudTypes } from '../../connectors/registry';
import type { ComputePlan, Plan } from '../../tosca/plan';
import { linearRegex, testAll, UnsupportedRegexError } from '../../tosca/regex';
import type { InfrastructureRecord, NewVm, VmRecord } from '../store/types';
import { CloudError, ConflictError, InfrastructureForbiddenError, InfrastructureNotFoundError, InvalidInputError, VmNotFoundError } from '../errors';
import type { AddResourcesOptions, Caller, ChangeOptions, CreateOptions, DestroyRequestOptions, InfrastructureService, StateView, VmView } from './service';
import { liveVms, planWithLiveCounts, type EngineContext } from './context';
import { stateView } from './state';
import { evaluateOutputs } from './outputs';
import { infrastructureRadlText } from './radl';
import { assertVmCap, mergeTemplates, planOrReject, reconfigureTemplate, templateWithCountsCached } from './templates';
import { isRadlText, parseRadlOrReject, radlAdditions } from './radl-plan';
import { cloudForImage } from './image-cloud';
import { takeSshKeyPair } from '../configure/keys';
import { exportInfrastructure, importedPlan, importedVms, parseExport } from './transfer';
import { Cancelled } from './runner';
import { KeyedSerial, mapInSlices } from '../../lib/async';
import type { DeployPayload, DeployResult, LaunchFailure } from './jobs/deploy';
import type { DestroyPayload } from './jobs/destroy';
import type { ActionPayload, VmAction } from './jobs/action';
import { AccountOperations } from './account';
import { AlterOperations } from './alter';
import { isOwner } from './owners';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEPARATOR = '*'.repeat(75);

export class InfrastructureServiceImpl implements InfrastructureService {
  /** Changes that read the VMs to decide what to write run one at a time per infrastructure. */
  private readonly changes = new KeyedSerial();
  /** Owners, cloud images/quotas, snapshots (server/engine/account.ts). */
  private readonly account: AccountOperations;
  /** IM's AlterVM (server/engine/alter.ts). */
  private readonly alter: AlterOperations;

  constructor(private readonly ctx: EngineContext) {
    this.account = new AccountOperations(ctx, (c, id) => this.owned(c, id), (c, id) => this.mutable(c, id));
    this.alter = new AlterOperations(ctx, (c, id) => this.mutable(c, id), (inf, c) => this.mergedSealed(inf, c));
  }

  owners(caller: Caller, infId: string) { return this.account.owners(caller, infId); }
  changeOwners(caller: Caller, infId: string, added: { owner: string; username: string }, overwrite: boolean) {
    return this.account.changeOwners(caller, infId, added, overwrite);
  }
  cloudImages(caller: Caller, cloudId: string, filters?: Record<string, string>) { return this.account.cloudImages(caller, cloudId, filters); }
  cloudQuotas(caller: Caller, cloudId: string) { return this.account.cloudQuotas(caller, cloudId); }
  quotaRoom(caller: Caller, infId: string, nodeName: string) { return this.account.quotaRoom(caller, infId, nodeName); }
  cloudAccountKey(caller: Caller, infId: string, nodeName: string) { return this.account.cloudAccountKey(caller, infId, nodeName); }
  alterVm(caller: Caller, infId: string, vmId: string, toscaText: string) { return this.alter.alterVm(caller, infId, vmId, toscaText); }
  snapshotDisk(caller: Caller, infId: string, vmId: string, disk: number, imageName: string) {
    return this.account.snapshotDisk(caller, infId, vmId, disk, imageName);
  }

  // ---- reads ------------------------------------------------------------------------------------

  async list(caller: Caller, filter?: string): Promise<string[]> {
    // Admins see every infrastructure; everyone else their own (and those shared with them).
    const scope = caller.admin ? undefined : caller.owner;
    if (!filter) return scope === undefined ? (await this.ctx.store.listInfrastructures(undefined)).map((i) => i.id) : this.ctx.store.listInfrastructureIds(scope);
    let re;
    try {
      // The pattern and the templates are the caller's: a linear-time engine, or one request stalls every other.
      re = linearRegex(filter);
    } catch (e) {
      if (e instanceof UnsupportedRegexError) throw new InvalidInputError(`Invalid filter regular expression: ${e.message}`);
      throw e;
    }
    const infs = await this.ctx.store.listInfrastructures(scope);
    const hits = testAll(re, infs.map((i) => i.template));
    return infs.filter((_, n) => hits[n]).map((i) => i.id);
  }

  async vmIds(caller: Caller, infId: string): Promise<string[]> {
    await this.owned(caller, infId);
    return (await this.ctx.store.listVms(infId)).map((v) => v.id);
  }

  async state(caller: Caller, infId: string): Promise<StateView> {
    // One read (owners, phase and VM states), checked as owned() checks the whole record.
    const row = allowed(caller, infId, UUID.test(infId) ? await this.ctx.store.getInfrastructureState(infId) : undefined);
    return stateView(row.vms, row.phase);
  }

  async contmsg(caller: Caller, infId: string, headerOnly: boolean): Promise<string> {
    const inf = await this.owned(caller, infId);
    let out = inf.contmsg;
    if (headerOnly) return out;
    for (const vm of await this.ctx.store.listVms(infId)) {
      if (vm.contmsg) out += `VM ${vm.id}:\n${vm.contmsg}\n${SEPARATOR}\n`;
    }
    return out;
  }

  async outputs(caller: Caller, infId: string): Promise<Record<string, unknown>> {
    const inf = await this.owned(caller, infId);
    const views = await this.views(inf);
    return evaluateOutputs({ plan: inf.plan, vmsOf: (node) => views.filter((v) => v.nodeName === node) });
  }

  async tosca(caller: Caller, infId: string): Promise<string> {
    const inf = await this.owned(caller, infId);
    const counts: Record<string, number> = {};
    for (const c of inf.plan.computes) counts[c.name] = 0;
    for (const v of liveVms(await this.ctx.store.listVms(infId))) counts[v.nodeName] = (counts[v.nodeName] ?? 0) + 1;
    return templateWithCountsCached(inf.template, counts);
  }

  async radl(caller: Caller, infId: string): Promise<string> {
    const inf = await this.owned(caller, infId);
    return await infrastructureRadlText(await this.views(inf), isRadlText(inf.template) ? parseRadlOrReject(inf.template) : undefined);
  }

  async vmInfo(caller: Caller, infId: string, vmId: string): Promise<VmView> {
    const inf = await this.owned(caller, infId);
    return this.ctx.vmView(inf, await this.vm(infId, vmId));
  }

  async vmContmsg(caller: Caller, infId: string, vmId: string): Promise<string> {
    await this.owned(caller, infId);
    return (await this.vm(infId, vmId)).contmsg;
  }

  // ---- create / import / export -----------------------------------------------------------------

  async create(caller: Caller, toscaText: string, opts: CreateOptions): Promise<string> {
    const plan = await this.plan(toscaText);
    const placement = this.place(plan.computes, caller.credentials);
    if (opts.dryRun) return JSON.stringify(dryRunSummary(plan, placement));
    const id = crypto.randomUUID();
    const keys = takeSshKeyPair();
    const vms: NewVm[] = [];
    for (const c of plan.computes) for (let i = 0; i < c.count; i++) vms.push(newVm(c.name, placement.get(c.name)!));
    const { job } = await this.ctx.store.createInfrastructure(
      {
        id, owner: caller.owner, template: toscaText, plan, credentials: this.ctx.secrets.sealJson(caller.credentials),
        sshPublicKey: keys.publicKey, sshPrivateKey: this.ctx.secrets.seal(keys.privateKey),
        phase: 'deploying', contmsg: '', outputs: {},
      },
      vms,
      { infrastructureId: id, kind: 'deploy', payload: { context: true } satisfies DeployPayload as Record<string, unknown> },
    );
    for (const w of plan.warnings ?? []) await this.ctx.log(id, `Warning: ${w}`);
    this.ctx.logger.info({ inf: id, vms: vms.length }, 'infrastructure created');
    this.ctx.runner.kick();
    if (opts.async) return id;
    const result = (await this.ctx.runner.wait(job!.id)) as DeployResult | undefined;
    if (result?.allFailedToLaunch) {
      // As IM: a synchronous create that could not launch any VM is an error, and leaves nothing.
      await this.destroy(caller, id, { force: true, async: false, releaseFloatingIps: false });
      throw launchError(result.failures);
    }
    return id;
  }

  async exportData(caller: Caller, infId: string, deleteAfter: boolean): Promise<string> {
    const inf = await this.owned(caller, infId);
    const data = await exportInfrastructure(inf, await this.ctx.store.listVms(infId), this.ctx.privateKeyOf(inf));
    // IM's `delete` flag: forget it here without touching the cloud (it lives on where imported).
    if (deleteAfter) await this.ctx.store.deleteInfrastructure(infId);
    return data;
  }

  async importData(caller: Caller, data: string): Promise<string> {
    const doc = parseExport(data);
    const plan = importedPlan(doc, await this.plan(doc.template), caller.credentials);
    const id = crypto.randomUUID();
    const phase = doc.phase === 'configured' || doc.phase === 'failed' ? doc.phase : 'unconfigured';
    await this.ctx.store.createInfrastructure(
      {
        id, owner: caller.owner, template: doc.template, plan, credentials: this.ctx.secrets.sealJson(caller.credentials),
        sshPublicKey: doc.sshPublicKey, sshPrivateKey: this.ctx.secrets.seal(doc.sshPrivateKey),
        phase, contmsg: doc.contmsg, outputs: doc.outputs ?? {}, nextVmId: Number(doc.nextVmId) || 0,
      },
      importedVms(doc),
    );
    return id;
  }

  // ---- changes ----------------------------------------------------------------------------------

  async addResources(caller: Caller, infId: string, toscaText: string, context: boolean, opts: AddResourcesOptions = {}): Promise<string[]> {
    const { vms, job, removing } = await this.changes.run(infId, () => this.planAddResources(caller, infId, toscaText, context));
    this.stopStepsOf(infId, removing);
    this.ctx.runner.kick();
    opts.onRecorded?.();
    if (opts.wait !== false) await this.ctx.runner.wait(job!.id);
    return vms.map((v) => v.id);
  }

  /** Decides and records what an add-resources request changes; returns the new rows and the job. */
  private async planAddResources(caller: Caller, infId: string, toscaText: string, context: boolean) {
    const inf = await this.mutable(caller, infId);
    const mergedText = mergeTemplates(inf.template, toscaText);
    const merged = await this.plan(mergedText);
    const creds = mergeCredentials(this.ctx.credentialsOf(inf), caller.credentials);
    const live = liveVms(await this.ctx.store.listVms(infId));
    const posted = await this.plan(toscaText);
    if (isRadlText(toscaText)) posted.computes = radlAdditions(posted, merged, (node) => live.filter((v) => v.nodeName === node).length);
    const remove: string[] = [];
    const add: NewVm[] = [];
    const placement = this.place(posted.computes, creds);
    for (const c of posted.computes) {
      const mine = live.filter((v) => v.nodeName === c.name);
      const listed = c.removalList.filter((id) => mine.some((v) => v.id === id));
      for (const id of c.removalList) {
        if (!mine.some((v) => v.id === id)) throw new InvalidInputError(`removal_list of node "${c.name}": it has no VM with id ${id}`);
      }
      let remaining = mine.filter((v) => !listed.includes(v.id));
      remove.push(...listed);
      // Fewer instances without a removal_list: IM removes the newest VMs.
      if (remaining.length > c.count) {
        const extra = remaining.slice(c.count);
        remove.push(...extra.map((v) => v.id));
        remaining = remaining.slice(0, c.count);
      }
      for (let i = remaining.length; i < c.count; i++) add.push(newVm(c.name, placement.get(c.name)!));
    }
    const after = live.filter((v) => !remove.includes(v.id));
    assertVmCap(after.length + add.length, 'Error adding resources');
    const counted = planWithLiveCounts(merged, [...after, ...add.map((v) => ({ ...v, removing: false } as VmRecord))]);
    // The deploy job launches every row without a handle: exactly these new ones.
    const recorded = await this.ctx.store.addVms(infId, add, {
      patch: { template: mergedText, plan: counted, credentials: this.ctx.secrets.sealJson(creds) },
      vmChanges: remove.map((vmId) => ({ vmId, patch: { removing: true } })),
      job: {
        infrastructureId: infId, kind: 'deploy',
        payload: { removeVmIds: remove, context } as Record<string, unknown>,
      },
    });
    return { ...recorded, removing: remove };
  }

  async removeVms(caller: Caller, infId: string, vmIds: string[], context: boolean, opts: ChangeOptions = {}): Promise<number> {
    const ids = [...new Set(vmIds.map((v) => v.trim()).filter(Boolean))];
    if (ids.length === 0) throw new InvalidInputError('No VM ids to remove');
    const job = await this.changes.run(infId, async () => {
      const inf = await this.mutable(caller, infId);
      const vms = await this.ctx.store.listVms(infId);
      for (const id of ids) if (!vms.some((v) => v.id === id && !v.removing)) throw new VmNotFoundError(infId, id);
      const remaining = vms.filter((v) => !v.removing && !ids.includes(v.id));
      return this.ctx.store.enqueueJob(
        { infrastructureId: infId, kind: 'remove', payload: { vmIds: ids, context } },
        {
          patch: { plan: planWithLiveCounts(inf.plan, remaining), credentials: this.mergedSealed(inf, caller) },
          vmChanges: ids.map((vmId) => ({ vmId, patch: { removing: true } })),
        },
      );
    });
    this.stopStepsOf(infId, ids);
    this.ctx.runner.kick();
    opts.onRecorded?.();
    await this.ctx.runner.wait(job.id);
    return ids.length;
  }

  async destroy(caller: Caller, infId: string, opts: DestroyRequestOptions): Promise<void> {
    const inf = await this.owned(caller, infId);
    const open = await this.ctx.store.listOpenJobs(infId);
    let jobId = open.find((j) => j.kind === 'destroy')?.id;
    if (jobId === undefined) {
      const payload: DestroyPayload = {
        force: opts.force, releaseFloatingIps: opts.releaseFloatingIps,
        previousPhase: inf.phase === 'deleting' ? 'unconfigured' : inf.phase,
      };
      const job = await this.ctx.store.enqueueJob(
        { infrastructureId: infId, kind: 'destroy', payload: payload as unknown as Record<string, unknown> },
        { patch: { phase: 'deleting', credentials: this.mergedSealed(inf, caller) } },
      );
      jobId = job.id;
      // A deploy in progress stops at its next step instead of finishing first.
      this.ctx.runner.cancelInfrastructure(infId, new Cancelled('The infrastructure is being destroyed'));
      this.ctx.runner.kick();
    }
    if (!opts.async) await this.ctx.runner.wait(jobId);
  }

  async action(caller: Caller, infId: string, action: VmAction): Promise<void> {
    const inf = await this.mutable(caller, infId);
    await this.runAction(inf, caller, { action });
  }

  async vmAction(caller: Caller, infId: string, vmId: string, action: VmAction): Promise<void> {
    const inf = await this.mutable(caller, infId);
    await this.vm(infId, vmId);
    await this.runAction(inf, caller, { action, vmIds: [vmId] });
  }

  async reconfigure(caller: Caller, infId: string, vmList?: string[], radlText?: string): Promise<void> {
    const inf = await this.mutable(caller, infId);
    const vms = liveVms(await this.ctx.store.listVms(infId));
    for (const id of vmList ?? []) if (!vms.some((v) => v.id === id)) throw new VmNotFoundError(infId, id);
    const targets = vms.filter((v) => v.state === 'running' && (!vmList || vmList.includes(v.id)));
    // IM: a RADL body's configures and contextualize replace the stored ones before the run
    let updated: { template: string; plan: Plan } | undefined;
    if (radlText !== undefined) {
      const template = reconfigureTemplate(inf.template, radlText);
      updated = { template, plan: planWithLiveCounts(await this.plan(template), vms) };
    }
    // IM resets the configured flags at once and contextualises in the background.
    await this.ctx.store.enqueueJob(
      { infrastructureId: infId, kind: 'configure', payload: vmList ? { vmIds: vmList } : { full: true } },
      {
        patch: { phase: 'configuring', credentials: this.mergedSealed(inf, caller), ...updated },
        vmChanges: targets.map((v) => ({ vmId: v.id, patch: { configured: null } })),
      },
    );
    this.ctx.runner.kick();
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /**
   * VMs just marked for removal (DELETE of VMs, or a shrink through add-resources): a configuration
   * run in progress would hold their removal job up until its steps on them ended, so they stop now.
   */
  private stopStepsOf(infId: string, vmIds: string[]): void {
    for (const id of vmIds) this.ctx.configurator.vmLeaving?.(infId, id);
  }

  private async runAction(inf: InfrastructureRecord, caller: Caller, payload: ActionPayload): Promise<void> {
    const job = await this.ctx.store.enqueueJob(
      { infrastructureId: inf.id, kind: 'action', payload: payload as unknown as Record<string, unknown> },
      { patch: { credentials: this.mergedSealed(inf, caller) } },
    );
    this.ctx.runner.kick();
    await this.ctx.runner.wait(job.id);
  }

  /** The caller's infrastructure (any, for an admin): 404 if it does not exist, 403 if it is someone else's (IM). */
  private async owned(caller: Caller, infId: string): Promise<InfrastructureRecord> {
    return allowed(caller, infId, UUID.test(infId) ? await this.ctx.store.getInfrastructure(infId) : undefined);
  }

  private async mutable(caller: Caller, infId: string): Promise<InfrastructureRecord> {
    const inf = await this.owned(caller, infId);
    if (inf.phase === 'deleting') throw new ConflictError(`Infrastructure ${infId} is being destroyed`);
    return inf;
  }

  private async vm(infId: string, vmId: string): Promise<VmRecord> {
    const vm = await this.ctx.store.getVm(infId, vmId);
    if (!vm) throw new VmNotFoundError(infId, vmId);
    return vm;
  }

  private async views(inf: InfrastructureRecord): Promise<VmView[]> {
    const key = this.ctx.privateKeyOf(inf);
    const creds = this.ctx.credentialsOf(inf);
    return mapInSlices(await this.ctx.store.listVms(inf.id), (v) => this.ctx.vmView(inf, v, key, creds));
  }

  private plan(text: string): Promise<Plan> {
    return planOrReject(this.ctx.planner, text, this.ctx.planOptions);
  }

  private mergedSealed(inf: InfrastructureRecord, caller: Caller): string {
    if (caller.credentials.length === 0) return inf.credentials;
    return this.ctx.secrets.sealJson(mergeCredentials(this.ctx.credentialsOf(inf), caller.credentials));
  }

  /**
   * The cloud of each compute: its placement (cloudId) or else the first credential of a cloud
   * type we have a connector for. The connector is built now so that bad credentials fail the
   * request (400) rather than the job.
   */
  private place(computes: ComputePlan[], creds: CloudCredential[]): Map<string, CloudCredential> {
    const supported = new Set(supportedCloudTypes());
    const fallback = creds.find((c) => supported.has(c.type.toLowerCase()));
    const out = new Map<string, CloudCredential>();
    for (const c of computes) {
      let cred: CloudCredential | undefined;
      if (c.cloudId) {
        cred = creds.find((x) => x.id === c.cloudId);
        if (!cred) throw new InvalidInputError(`Node "${c.name}" is placed on cloud "${c.cloudId}" but the Authorization header has no credential with that id`);
      } else {
        cred = cloudForImage(c.os.image, creds) ?? fallback;
        if (!cred && creds.length > 0) {
          throw new InvalidInputError(`No cloud credentials of a supported type in the Authorization header (got ${creds.map((x) => `"${x.type}"`).join(', ')}; supported: ${[...supported].join(', ')})`);
        }
        if (!cred) {
          throw new InvalidInputError('No cloud credentials in the Authorization header: add a cloud line, e.g. "id = cloud1; type = Dummy"');
        }
      }
      connectorFor(cred);
      out.set(c.name, cred);
    }
    return out;
  }
}

function newVm(nodeName: string, cred: CloudCredential): NewVm {
  return {
    nodeName, cloudId: cred.id, cloudType: cred.type, handle: null, state: 'pending', configured: null,
    privateIps: [], publicIps: [], contmsg: '', removing: false,
  };
}

/**
 * The error of a synchronous create that could not launch any VM: per cloud, each distinct cause
 * once, with the cloud's status when it is the caller's (401 rejected credentials, 403 quota,
 * 400 bad data), so the API caller sees which cloud said what.
 */
function launchError(failures: LaunchFailure[]): CloudError {
  if (failures.length === 0) return new CloudError('Error launching the VMs: no VM could be launched (see the contextualization log)', 400);
  const parts: string[] = [];
  for (const cloudId of new Set(failures.map((f) => f.cloudId))) {
    const mine = failures.filter((f) => f.cloudId === cloudId);
    const messages = [...new Set(mine.map((f) => f.message))];
    const detail = messages.length === 1 ? messages[0] : mine.map((f) => `VM ${f.vmId}: ${f.message}`).join('; ');
    parts.push(`cloud "${cloudId}": ${detail}`);
  }
  const chosen = failures.find((f) => f.status !== undefined && f.status >= 400 && f.status < 500) ?? failures.find((f) => f.status !== undefined);
  return new CloudError(`Error launching the VMs in ${parts.join('; in ')}`, chosen?.status ?? 400, chosen?.code);
}

/** Stored credentials updated with the caller's lines (same id replaces: refreshed tokens). */
function mergeCredentials(stored: CloudCredential[], incoming: CloudCredential[]): CloudCredential[] {
  const byId = new Map(stored.map((c) => [c.id, c]));
  for (const c of incoming) byId.set(c.id, c);
  return [...byId.values()];
}

/** IM's dry_run answer: the resources each cloud would be asked for. */
function dryRunSummary(plan: Plan, placement: Map<string, CloudCredential>): Record<string, unknown> {
  const out: Record<string, { cloudType: string; cloudEndpoint?: string; compute: object[]; storage: object[] }> = {};
  for (const c of plan.computes) {
    const cred = placement.get(c.name)!;
    const entry = (out[cred.id] ??= { cloudType: cred.type, cloudEndpoint: cred.fields.host, compute: [], storage: [] });
    for (let i = 0; i < c.count; i++) {
      entry.compute.push({ cpuCores: c.host.numCpus ?? 1, memoryInMegabytes: c.host.memSizeMB ?? 0, diskSizeInGigabytes: c.host.diskSizeGB ?? 0 });
    }
  }
  for (const v of plan.volumes) {
    const cred = v.attachedTo ? placement.get(v.attachedTo) : undefined;
    if (cred && out[cred.id]) out[cred.id].storage.push({ sizeInGigabytes: v.sizeGB ?? 0 });
  }
  return out;
}

/** The infrastructure (or its state row) when the caller may see it: 404 when gone, 403 when not theirs. */
function allowed<T extends Pick<InfrastructureRecord, 'owner' | 'owners'>>(caller: Caller, infId: string, inf: T | undefined): T {
  if (!inf) throw new InfrastructureNotFoundError(infId);
  if (!caller.admin && !isOwner(inf, caller.owner)) throw new InfrastructureForbiddenError(infId);
  return inf;
}
