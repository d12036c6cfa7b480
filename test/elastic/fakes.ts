/**
 * Test doubles for the manager's ports: a cluster whose VMs live on the real Dummy connector and
 * whose master answers HTCondor commands (condor_q/condor_status -json, condor_off/condor_on)
 * or a generic probe, from a little simulated batch system.
 */
import { DummyConnector } from '../../connectors/dummy';
import type { VmHandle } from '../../connectors/types';
import type { ElasticActions } from '../../server/elastic/manager';
import type { ExecResult, RemoteExec } from '../../server/elastic/probes/types';
import { CONDOR_Q, CONDOR_STATUS } from '../../server/elastic/probes/htcondor';

interface Worker { handle: VmHandle; ip: string }
interface Host { busy: number; off: boolean }

export class FakeCluster implements ElasticActions {
  readonly cloud = new DummyConnector({ id: 'dummy', type: 'Dummy', fields: {} } as never);
  readonly workers = new Map<string, Worker>();
  /** LRMS hosts by IP (registered workers). */
  readonly hosts = new Map<string, Host>();
  waiting = 0;
  /** Seconds-epoch of when the waiting jobs were queued (condor QDate). */
  queuedAt?: number;
  slots = 4;
  next = 1;
  calls: string[] = [];
  removed: string[] = [];
  busyRemoved: string[] = [];
  failAdd?: Error;
  /** Create at most this many VMs per call (partial success). */
  addLimit = Infinity;
  probeFails = false;

  constructor(readonly infId = 'inf1') {}

  // ── engine port ────────────────────────────────────────────────────────────────────────────
  async listVms(_infId: string, _node: string) {
    const workers = [];
    for (const [vmId, w] of this.workers) {
      const o = await this.cloud.describe(w.handle);
      workers.push({ vmId, state: o.state, privateIps: o.privateIps });
    }
    return { workers, masterVmIds: ['0'] };
  }
  async addNodes(infId: string, node: string, n: number): Promise<string[]> {
    this.calls.push(`add ${node} ${n}`);
    if (this.failAdd) throw this.failAdd;
    const ids: string[] = [];
    for (let i = 0; i < Math.min(n, this.addLimit); i++) {
      const vmId = String(this.next++);
      const handle = await this.cloud.launch({ infrastructureId: infId, vmId, nodeName: node, clientToken: `${infId}/${node}/${vmId}`, compute: { publicIp: false } } as never);
      this.workers.set(vmId, { handle, ip: String(handle.extra!.privateIp) });
      ids.push(vmId);
    }
    return ids;
  }
  async removeVms(_infId: string, vmIds: string[]): Promise<void> {
    this.calls.push(`remove ${vmIds.join(',')}`);
    for (const id of vmIds) {
      const w = this.workers.get(id);
      if (!w) continue;
      const h = this.hosts.get(w.ip);
      if (h && h.busy > 0) this.busyRemoved.push(id);
      await this.cloud.terminate(w.handle, { releaseFloatingIps: false });
      this.workers.delete(id);
      this.hosts.delete(w.ip);
      this.removed.push(id);
    }
  }

  // ── the simulated LRMS ────────────────────────────────────────────────────────────────────
  ip(vmId: string): string { return this.workers.get(vmId)!.ip; }
  /** The worker's startd registers with the collector. */
  join(vmId: string): void { this.hosts.set(this.ip(vmId), { busy: 0, off: false }); }
  joinAll(): void { for (const id of this.workers.keys()) if (!this.hosts.has(this.ip(id))) this.join(id); }
  setBusy(vmId: string, busy: number): void { this.hosts.get(this.ip(vmId))!.busy = busy; }
  /** The negotiator: waiting jobs start on free slots of hosts that accept work. */
  schedule(): void {
    for (const h of this.hosts.values()) {
      if (h.off) continue;
      const take = Math.min(this.waiting, this.slots - h.busy);
      h.busy += take;
      this.waiting -= take;
    }
  }
  finishAll(): void { for (const h of this.hosts.values()) h.busy = 0; }

  private noDns(ip: string) { return `${ip.replace(/\./g, '-')}.novalocal`; }
  private byName(name: string) { return [...this.hosts.entries()].find(([ip]) => this.noDns(ip) === name); }

  /** The master, as RemoteExec: HTCondor commands, or the generic probe "probe". */
  readonly exec: RemoteExec = async (cmd: string): Promise<ExecResult> => {
    this.calls.push(cmd);
    const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });
    if (this.probeFails && (cmd === CONDOR_Q || cmd === 'probe')) return { code: 1, stdout: '', stderr: 'Failed to connect to schedd' };
    if (cmd === 'probe') {
      const busy: Record<string, number> = {};
      for (const [ip, h] of this.hosts) if (!h.off || h.busy > 0) busy[ip] = h.busy;
      return ok(JSON.stringify({ waiting: this.waiting, busy }));
    }
    if (cmd === CONDOR_Q) {
      const ads = Array.from({ length: this.waiting }, (_, i) => ({ ClusterId: 7, ProcId: i, JobStatus: 1, RequestCpus: 1, QDate: this.queuedAt }));
      return ok(ads.length ? JSON.stringify(ads, null, 2) : '');
    }
    if (cmd === CONDOR_STATUS) {
      const ads = [];
      for (const [ip, h] of this.hosts) {
        if (h.off && h.busy === 0) continue; // a peaceful condor_off lets the startd exit once empty
        for (let s = 0; s < this.slots; s++) {
          ads.push({ Name: `slot${s + 1}@${this.noDns(ip)}`, Machine: this.noDns(ip), MyAddress: `<${ip}:9618?addrs=${ip}-9618&noUDP>`,
            SlotType: 'Static', Cpus: 1, State: s < h.busy ? 'Claimed' : 'Unclaimed', Activity: s < h.busy ? 'Busy' : 'Idle' });
        }
      }
      return ok(JSON.stringify(ads));
    }
    const m = /^condor_(off -peaceful|on) -startd '([^']+)'$/.exec(cmd);
    if (m) {
      const hit = this.byName(m[2]);
      if (!hit) return { code: 1, stdout: '', stderr: `Can't find address for startd ${m[2]}` };
      hit[1].off = m[1] !== 'on';
      return ok('Sent "Set-Peaceful-Shutdown" command to startd\n');
    }
    if (cmd === 'true') return ok('');
    return { code: 127, stdout: '', stderr: `sh: ${cmd.split(' ')[0]}: not found` };
  };
}
