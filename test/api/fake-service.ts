/**
 * An in-memory InfrastructureService for the HTTP layer's unit tests only (integration tests use
 * the real engine). It keeps the engine's contract: 404 (InfrastructureNotFoundError) for an unknown id, 403
 * (InfrastructureForbiddenError) for someone else's,
 * unknown VMs VmNotFoundError, an unparsable template InvalidInputError.
 */
import { parse } from 'yaml';
import type {
  Caller, CreateOptions, DestroyRequestOptions, InfrastructureService, StateView, VmView,
} from '../../server/engine/service';
import { InfrastructureForbiddenError, InfrastructureNotFoundError, InvalidInputError, VmNotFoundError } from '../../server/errors';
import type { VmState } from '../../connectors/types';

interface FakeInfra { id: string; owner: string; tosca: string; vms: Map<string, VmState>; nextVm: number }

export class FakeService implements InfrastructureService {
  readonly infras = new Map<string, FakeInfra>();
  /** Every call, for assertions: [method, caller owner, ...args]. */
  readonly calls: unknown[][] = [];
  private nextId = 1;

  private get(caller: Caller, id: string): FakeInfra {
    const inf = this.infras.get(id);
    if (!inf) throw new InfrastructureNotFoundError(id);
    if (inf.owner !== caller.owner && !caller.admin) throw new InfrastructureForbiddenError(id);
    return inf;
  }

  private vm(caller: Caller, id: string, vmId: string): VmState {
    const state = this.get(caller, id).vms.get(vmId);
    if (!state) throw new VmNotFoundError(id, vmId);
    return state;
  }

  private count(tosca: string): number {
    // the API hands RADL on as canonical RADL text: one VM per deployed instance
    if (/^(system|network|configure|deploy|description|ansible|contextualize)\b/.test(tosca)) {
      return [...tosca.matchAll(/^deploy \S+ (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    }
    let doc: unknown;
    try {
      doc = parse(tosca);
    } catch (e) {
      throw new InvalidInputError(`invalid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    const d = doc as { tosca_definitions_version?: string; topology_template?: { node_templates?: Record<string, unknown> } };
    if (!d || typeof d !== 'object' || !d.tosca_definitions_version) throw new InvalidInputError('not a TOSCA template');
    return Object.keys(d.topology_template?.node_templates ?? {}).length;
  }

  async create(caller: Caller, tosca: string, opts: CreateOptions): Promise<string> {
    this.calls.push(['create', caller.owner, opts]);
    const n = this.count(tosca);
    if (opts.dryRun) return JSON.stringify({ dummy: { cloudType: 'Dummy', compute: [{ cpu: 1 }] } });
    const id = `inf-${this.nextId++}`;
    const vms = new Map<string, VmState>();
    for (let i = 0; i < n; i++) vms.set(String(i), opts.async ? 'pending' : 'configured');
    this.infras.set(id, { id, owner: caller.owner, tosca, vms, nextVm: n });
    return id;
  }
  async list(caller: Caller, filter?: string): Promise<string[]> {
    this.calls.push(['list', caller.owner, filter]);
    const re = filter ? new RegExp(filter) : undefined;
    return [...this.infras.values()].filter((i) => i.owner === caller.owner && (!re || re.test(i.tosca))).map((i) => i.id);
  }
  async vmIds(caller: Caller, id: string): Promise<string[]> { return [...this.get(caller, id).vms.keys()]; }
  async state(caller: Caller, id: string): Promise<StateView> {
    const inf = this.get(caller, id);
    const vm_states = Object.fromEntries(inf.vms);
    const states = Object.values(vm_states);
    return { state: states.every((s) => s === 'configured') ? 'configured' : states[0] ?? 'unknown', vm_states };
  }
  async contmsg(caller: Caller, id: string, headerOnly: boolean): Promise<string> {
    this.get(caller, id);
    return headerOnly ? 'header' : 'header\nvm logs';
  }
  async outputs(caller: Caller, id: string): Promise<Record<string, unknown>> {
    this.get(caller, id);
    return { ip: '10.0.0.1', n: 2 };
  }
  async tosca(caller: Caller, id: string): Promise<string> { return this.get(caller, id).tosca; }
  async radl(caller: Caller, id: string): Promise<string> { this.get(caller, id); return "system front (\nstate = 'configured'\n)\n"; }
  async exportData(caller: Caller, id: string, deleteAfter: boolean): Promise<string> {
    const inf = this.get(caller, id);
    if (deleteAfter) this.infras.delete(id);
    return JSON.stringify({ tosca: inf.tosca, vms: Object.fromEntries(inf.vms) });
  }
  async importData(caller: Caller, data: string): Promise<string> {
    let d: { tosca: string; vms: Record<string, VmState> };
    try { d = JSON.parse(data); } catch { throw new InvalidInputError('the data is not JSON'); }
    const id = `inf-${this.nextId++}`;
    this.infras.set(id, { id, owner: caller.owner, tosca: d.tosca, vms: new Map(Object.entries(d.vms)), nextVm: Object.keys(d.vms).length });
    return id;
  }
  async addResources(caller: Caller, id: string, tosca: string, context: boolean): Promise<string[]> {
    this.calls.push(['addResources', caller.owner, id, context]);
    const inf = this.get(caller, id);
    const n = this.count(tosca);
    const added: string[] = [];
    for (let i = 0; i < n; i++) { const vm = String(inf.nextVm++); inf.vms.set(vm, 'configured'); added.push(vm); }
    return added;
  }
  async removeVms(caller: Caller, id: string, vmIds: string[], context: boolean): Promise<number> {
    this.calls.push(['removeVms', caller.owner, id, vmIds, context]);
    for (const vm of vmIds) this.vm(caller, id, vm);
    for (const vm of vmIds) this.get(caller, id).vms.delete(vm);
    return vmIds.length;
  }
  async destroy(caller: Caller, id: string, opts: DestroyRequestOptions): Promise<void> {
    this.calls.push(['destroy', caller.owner, id, opts]);
    this.get(caller, id);
    this.infras.delete(id);
  }
  async action(caller: Caller, id: string, action: 'start' | 'stop' | 'reboot'): Promise<void> {
    const inf = this.get(caller, id);
    for (const vm of inf.vms.keys()) inf.vms.set(vm, action === 'stop' ? 'stopped' : 'configured');
  }
  async reconfigure(caller: Caller, id: string, vmList?: string[], radlText?: string): Promise<void> {
    this.calls.push(['reconfigure', caller.owner, id, vmList, ...(radlText === undefined ? [] : [radlText])]);
    this.get(caller, id);
  }
  async vmInfo(caller: Caller, id: string, vmId: string): Promise<VmView> {
    const state = this.vm(caller, id, vmId);
    return {
      id: vmId, infrastructureId: id, nodeName: 'front', state, cloudId: 'one', cloudType: 'Dummy',
      instanceId: `dummy-${vmId}`, privateIps: ['10.0.0.' + (Number(vmId) + 2)], publicIps: [],
      credentials: { username: 'cloudadm', privateKey: 'KEY' }, system: { 'cpu.count': 1 }, contmsg: `vm ${vmId} log`,
    };
  }
  async vmAction(caller: Caller, id: string, vmId: string, action: 'start' | 'stop' | 'reboot'): Promise<void> {
    this.vm(caller, id, vmId);
    this.get(caller, id).vms.set(vmId, action === 'stop' ? 'stopped' : 'configured');
  }
  async vmContmsg(caller: Caller, id: string, vmId: string): Promise<string> {
    this.vm(caller, id, vmId);
    return `vm ${vmId} log`;
  }
}

/** Throws a plain Error from every method: the "unknown error" path. */
export class BrokenService extends FakeService {
  override async list(): Promise<string[]> { throw new Error('database exploded: password=hunter2'); }
}
