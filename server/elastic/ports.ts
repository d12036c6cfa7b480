/**
 * Glue between the manager's ports and the rest of the server, kept here so the lead can wire
 * the manager in a few lines (docs/elasticity.md, "Wiring"):
 *  - policiesFromPlan: the Plan's elastic declarations → policies (with the LRMS and slots guessed
 *    from the front end's software and the worker flavour);
 *  - serviceActions: ElasticActions over the IM-shaped InfrastructureService (the user path);
 *  - remoteExecOver: RemoteExec over any "run a command on the master" function (the SSH layer).
 */
import { parseDocument } from 'yaml';
import type { Plan } from '../../tosca/plan';
import type { Caller, InfrastructureService } from '../engine/service';
import type { WorkerVm } from './decide';
import { type ElasticPolicy, lrmsFromType, policyFromPlan } from './policy';
import type { RemoteExec } from './probes/types';

/** What the engine must provide (see docs/elasticity.md, "Ports"). */
export interface ElasticActions {
  /** Worker VMs of `node` plus the master's VM ids (the VMs of `frontEnd`, and IM's VM 0), as the engine sees them now. */
  listVms(infId: string, node: string, frontEnd?: string): Promise<{ workers: WorkerVm[]; masterVmIds: string[] }>;
  /** Grow `node` by n through the user AddResource path (count + n, contextualised through the
   * master). Returns the new VM ids; fewer than n is a partial success and is kept (E-FAIL-5). */
  addNodes(infId: string, node: string, n: number): Promise<string[]>;
  /** Remove exactly these VMs (removal_list), reconfiguring the master before deleting them. */
  removeVms(infId: string, vmIds: string[]): Promise<void>;
  /** Optional overrides; by default the LRMS adapter's commands run on the master. */
  drain?(infId: string, vmId: string, host: string): Promise<void>;
  undrain?(infId: string, vmId: string, host: string): Promise<void>;
  /** reuse_nodes (E-DOWN-6): stop these VMs (the user's PUT …/vms/{id}/stop) and reconfigure the
   * rest without them. Resolves to the ids that could not be stopped, with why. */
  stopVms?(infId: string, vmIds: string[]): Promise<Record<string, string>>;
  /** reuse_nodes: start these stopped VMs and reconfigure the infrastructure with them again.
   * Resolves to the ids that could not be started, with why. */
  startVms?(infId: string, vmIds: string[]): Promise<Record<string, string>>;
  /** Instances of `node` the cloud quota still allows, when known (asked only when a scale-up is due). */
  quotaLeft?(infId: string, node: string): Promise<number | undefined>;
  /** The cloud account `node`'s next VM goes to, as an opaque key (a hash, never the secret):
   * infrastructures on one account share one create budget (E-RATE-1). Without it, or when it
   * answers undefined, the budget is the infrastructure's own. */
  accountKey?(infId: string, node: string): Promise<string | undefined>;
  /** Run fn holding the infrastructure's job lock, so user add/remove and the manager never race. */
  withLock?<T>(infId: string, fn: () => Promise<T>): Promise<T>;
}

/** One policy per elastic declaration of the plan. Throws InvalidInputError naming a bad knob. */
export function policiesFromPlan(plan: Plan): ElasticPolicy[] {
  const typeOf = new Map(plan.nodes.map((n) => [n.name, n.type]));
  const softwareTypes = (compute?: string) =>
    (plan.computes.find((c) => c.name === compute)?.software ?? []).map((s) => typeOf.get(s) ?? '');
  return plan.elastic.map((e) => {
    const types = [...softwareTypes(e.frontEnd), ...softwareTypes(e.target), typeOf.get(e.frontEnd ?? '') ?? ''];
    const frontEndType = types.find((t) => lrmsFromType(t) !== undefined);
    const workerCpus = plan.computes.find((c) => c.name === e.target)?.host.numCpus;
    return policyFromPlan(e, { frontEndType, workerCpus });
  });
}

/** The template text with `node`'s count set (and no removal_list): a user's scale request. */
export function templateWithCount(text: string, node: string, count: number): string {
  const doc = parseDocument(text);
  const base = ['topology_template', 'node_templates', node, 'capabilities', 'scalable', 'properties'];
  doc.setIn([...base, 'count'], count);
  if (doc.hasIn([...base, 'removal_list'])) doc.deleteIn([...base, 'removal_list']);
  return doc.toString();
}

/**
 * ElasticActions through the same calls as a user's AddResource/RemoveResource (E-UP-4): the
 * infrastructure's TOSCA afterwards shows the new count, and removals name the VMs (E-DOWN-3).
 * `callerFor` gives the owner's identity (the stored credentials are used by the engine).
 * `waitForLaunch: false` returns once the VM rows exist (the server's runtime does that: the
 * infrastructure's lock is not held during the launch); the default waits for the launch, as IM.
 */
export function serviceActions(svc: InfrastructureService, callerFor: (infId: string) => Promise<Caller>,
  opts: { waitForLaunch?: boolean } = {}): ElasticActions {
  const views = async (infId: string) => {
    const caller = await callerFor(infId);
    const ids = await svc.vmIds(caller, infId);
    return { caller, ids, vms: await Promise.all(ids.map((id) => svc.vmInfo(caller, infId, id))) };
  };
  return {
    async listVms(infId, node, frontEnd) {
      const { ids, vms } = await views(infId);
      const workers = vms
        .filter((v) => v.nodeName === node && v.state !== 'deleting')
        .map((v) => ({ vmId: v.id, state: v.state, privateIps: v.privateIps }));
      // IM's master is VM 0 (E-JOIN-6), plus every VM of the front-end node.
      const masterVmIds = [...new Set([...(ids.length ? [ids[0]] : []), ...vms.filter((v) => v.nodeName === frontEnd).map((v) => v.id)])];
      return { workers, masterVmIds };
    },
    async addNodes(infId, node, n) {
      const { caller, vms } = await views(infId);
      const current = vms.filter((v) => v.nodeName === node && v.state !== 'deleting').length;
      const text = templateWithCount(await svc.tosca(caller, infId), node, current + n);
      // Without waiting the ids come back once the rows exist, so the join timeout starts at the request.
      return svc.addResources(caller, infId, text, true, { wait: opts.waitForLaunch ?? true });
    },
    async removeVms(infId, vmIds) {
      await svc.removeVms(await callerFor(infId), infId, vmIds, true);
    },
    stopVms: (infId, vmIds) => powerAndReconfigure(svc, callerFor, infId, vmIds, 'stop'),
    startVms: (infId, vmIds) => powerAndReconfigure(svc, callerFor, infId, vmIds, 'start'),
  };
}

/**
 * reuse_nodes (E-DOWN-6): the user's PUT …/vms/{id}/stop|start per VM, then one reconfigure of the
 * infrastructure, because a VM action alone leaves the master's configuration as it was. The
 * configuration covers running VMs only, so a stopped node drops out of the master's host lists and
 * a started one comes back. A full reconfigure (IM's, every recipe on every running VM) is the only
 * membership update the service offers without a removal; the recipes are idempotent.
 */
async function powerAndReconfigure(svc: InfrastructureService, callerFor: (infId: string) => Promise<Caller>,
  infId: string, vmIds: string[], action: 'stop' | 'start'): Promise<Record<string, string>> {
  const caller = await callerFor(infId);
  const failed: Record<string, string> = {};
  const results = await Promise.allSettled(vmIds.map((id) => svc.vmAction(caller, infId, id, action)));
  results.forEach((r, k) => { if (r.status === 'rejected') failed[vmIds[k]] = (r.reason as Error).message; });
  if (Object.keys(failed).length < vmIds.length) await svc.reconfigure(caller, infId);
  return failed;
}

/**
 * The manager acts as the infrastructure's owner with no credentials of its own: the engine uses
 * the credentials stored with the infrastructure (as for a resumed job).
 */
export function ownerCaller(store: { getInfrastructure(id: string): Promise<{ owner: string } | undefined> }): (infId: string) => Promise<Caller> {
  return async (infId) => {
    const inf = await store.getInfrastructure(infId);
    if (!inf) throw new Error(`infrastructure ${infId} is gone`);
    return { owner: inf.owner, username: 'elasticity-manager', credentials: [] };
  };
}

/** What the SSH layer offers: run a command on the master, combined output, exit code. */
export type MasterRun = (command: string, opts: { timeoutMs: number; keepBytes: number }) => Promise<{ exitCode: number; output: string }>;

/**
 * RemoteExec over a combined-output runner: stderr is kept apart (shown only when the command
 * fails) so a warning on stderr cannot corrupt the JSON a probe parses.
 */
export function remoteExecOver(run: MasterRun, opts: { timeoutMs?: number; keepBytes?: number } = {}): RemoteExec {
  return async (command) => {
    const wrapped = `e=$(mktemp) || exit 125; ( ${command}\n) 2>"$e"; rc=$?; if [ $rc -ne 0 ]; then cat "$e"; fi; rm -f "$e"; exit $rc`;
    const r = await run(wrapped, { timeoutMs: opts.timeoutMs ?? 60_000, keepBytes: opts.keepBytes ?? 32 * 1024 * 1024 });
    return r.exitCode === 0 ? { code: 0, stdout: r.output, stderr: '' } : { code: r.exitCode, stdout: '', stderr: r.output };
  };
}
