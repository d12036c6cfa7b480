/**
 * A simulated HTCondor cluster for bench/elastic.ts: jobs from a trace, a FIFO negotiator, VMs
 * that join after a boot + contextualisation time, and a master that answers condor_q/condor_status
 * (-json) and condor_off/condor_on like the real tools, so our manager runs its real HTCondor probe.
 */
import type { ExecResult } from '../server/elastic/probes/types';
import { CONDOR_Q, CONDOR_STATUS } from '../server/elastic/probes/htcondor';

/** mulberry32: small, seedable, good enough for traces. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Job { id: number; submit: number; runtime: number; start?: number; end?: number; vm?: string }

const H = 3600_000;
const MIN = 60_000;

/**
 * A bursty 24-hour trace: campaigns of 10–150 jobs submitted over 1–5 minutes, about every
 * 75 minutes in working hours (08–20) and every 4 hours at night, plus a daytime trickle of
 * single jobs. Run times are log-normal (median 20 min, 2–120 min).
 */
export function generateTrace(seed: number, hours = 24): Job[] {
  const r = prng(seed);
  const exp = (mean: number) => -Math.log(1 - r()) * mean;
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const runtime = (median: number) => Math.min(120 * MIN, Math.max(2 * MIN, median * Math.exp(0.6 * normal())));
  const day = (t: number) => { const h = (t / H) % 24; return h >= 8 && h < 20; };
  const jobs: Job[] = [];
  let id = 0;
  for (let t = exp(60 * MIN); t < hours * H; t += exp(day(t) ? 75 * MIN : 240 * MIN)) {
    const size = 10 + Math.floor(r() ** 2 * 140);
    const spread = (1 + r() * 4) * MIN;
    const median = (10 + r() * 20) * MIN;
    for (let i = 0; i < size; i++) jobs.push({ id: id++, submit: Math.round(t + r() * spread), runtime: Math.round(runtime(median)) });
  }
  for (let t = 8 * H; t < hours * H; t += exp(10 * MIN)) {
    if (day(t)) jobs.push({ id: id++, submit: Math.round(t), runtime: Math.round(runtime(15 * MIN)) });
  }
  return jobs.sort((a, b) => a.submit - b.submit || a.id - b.id);
}

export interface SimVm {
  vmId: string;
  ip: string;
  launchedAt: number;
  joinAt: number;
  terminatedAt?: number;
  /** condor_off -peaceful: takes no new jobs; the startd leaves once empty. */
  off: boolean;
  running: Job[];
}

export class ClusterSim {
  now = 0;
  readonly vms = new Map<string, SimVm>();
  readonly waiting: Job[] = [];
  private pending: Job[];
  private next = 1;
  private readonly bootRng: () => number;
  busyRemoved = 0;
  launched = 0;
  private lastNegotiation = -Infinity;

  constructor(jobs: Job[], seed: number, readonly slots = 4, readonly negotiatorMs = 20_000) {
    this.pending = jobs.map((j) => ({ ...j }));
    this.bootRng = prng(seed ^ 0x5eed);
  }

  get allJobs(): Job[] { return [...this.done, ...this.waiting, ...[...this.vms.values()].flatMap((v) => v.running), ...this.pending]; }
  private done: Job[] = [];

  /** Boot + contextualisation: 3–12 minutes (median ~6): IM-configured VMs take minutes (see elasticity.md 2.1). */
  private bootTime(): number {
    const u = this.bootRng();
    return Math.round((3 + 9 * u ** 1.6) * MIN);
  }

  launch(): SimVm {
    const vmId = String(this.next++);
    const n = Number(vmId);
    const vm: SimVm = { vmId, ip: `10.0.${n >> 8}.${n & 255}`, launchedAt: this.now, joinAt: this.now + this.bootTime(), off: false, running: [] };
    this.vms.set(vmId, vm);
    this.launched += 1;
    return vm;
  }

  terminate(vmId: string): void {
    const vm = this.vms.get(vmId);
    if (!vm || vm.terminatedAt !== undefined) return;
    if (vm.running.length > 0) {
      this.busyRemoved += 1;
      // The jobs are lost and go back to the queue (HTCondor reschedules them).
      for (const j of vm.running) { j.start = undefined; j.vm = undefined; this.waiting.push(j); }
      this.waiting.sort((a, b) => a.submit - b.submit);
      vm.running = [];
    }
    vm.terminatedAt = this.now;
  }

  joined(vm: SimVm): boolean { return vm.terminatedAt === undefined && this.now >= vm.joinAt; }
  live(): SimVm[] { return [...this.vms.values()].filter((v) => v.terminatedAt === undefined); }

  advance(to: number): void {
    while (this.now < to) {
      this.now = Math.min(to, this.now + 1000);
      for (const vm of this.vms.values()) {
        if (vm.terminatedAt !== undefined) continue;
        vm.running = vm.running.filter((j) => {
          if (j.start! + j.runtime > this.now) return true;
          j.end = j.start! + j.runtime;
          this.done.push(j);
          return false;
        });
      }
      while (this.pending.length && this.pending[0].submit <= this.now) this.waiting.push(this.pending.shift()!);
      if (this.now - this.lastNegotiation >= this.negotiatorMs) this.negotiate();
    }
  }

  private negotiate(): void {
    this.lastNegotiation = this.now;
    for (const vm of this.live()) {
      if (!this.joined(vm) || vm.off) continue;
      while (vm.running.length < this.slots && this.waiting.length) {
        const j = this.waiting.shift()!;
        j.start = this.now;
        j.vm = vm.vmId;
        vm.running.push(j);
      }
    }
  }

  finished(): boolean { return this.pending.length === 0 && this.waiting.length === 0 && this.live().every((v) => v.running.length === 0); }

  nodeHours(end: number): number {
    let ms = 0;
    for (const v of this.vms.values()) ms += (v.terminatedAt ?? end) - v.launchedAt;
    return ms / H;
  }

  private noDns(ip: string) { return `${ip.replace(/\./g, '-')}.novalocal`; }

  /** The master's shell, as far as the HTCondor probe and drain need it. */
  exec = async (cmd: string): Promise<ExecResult> => {
    const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });
    if (cmd === CONDOR_Q) {
      if (!this.waiting.length) return ok('');
      return ok(JSON.stringify(this.waiting.map((j) => ({ ClusterId: j.id, ProcId: 0, JobStatus: 1, RequestCpus: 1, QDate: Math.floor(j.submit / 1000) }))));
    }
    if (cmd === CONDOR_STATUS) {
      const ads: Record<string, unknown>[] = [];
      for (const vm of this.live()) {
        if (!this.joined(vm) || (vm.off && vm.running.length === 0)) continue;
        for (let s = 0; s < this.slots; s++) {
          const busy = s < vm.running.length;
          ads.push({ Name: `slot${s + 1}@${this.noDns(vm.ip)}`, Machine: this.noDns(vm.ip), MyAddress: `<${vm.ip}:9618?addrs=${vm.ip}-9618&noUDP>`,
            SlotType: 'Static', Cpus: 1, State: busy ? 'Claimed' : 'Unclaimed', Activity: busy ? 'Busy' : 'Idle' });
        }
      }
      return ok(JSON.stringify(ads));
    }
    const m = /^condor_(off -peaceful|on) -startd '([^']+)'$/.exec(cmd);
    if (m) {
      const vm = this.live().find((v) => this.noDns(v.ip) === m[2]);
      if (!vm) return { code: 1, stdout: '', stderr: `Can't find address for startd ${m[2]}` };
      vm.off = m[1] !== 'on';
      return ok('');
    }
    return { code: 127, stdout: '', stderr: `sh: ${cmd}: not found` };
  };
}
