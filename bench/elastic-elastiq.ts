/**
 * elastiq's algorithm (dberzano/elastiq, as described in shared/reference/elasticity.md §1),
 * reimplemented against the simulated cluster for the comparison in bench/elastic.ts.
 * Faithful on purpose, including its quirks: the quota counts booting VMs twice (all running
 * instances plus the "allegedly running" ones), a VM not joined after estimated_vm_deploy_time_s
 * is terminated, scale-down is by idle timer only, on a shuffled list, with no drain.
 */
import type { ClusterSim } from './elastic-sim';
import { prng } from './elastic-sim';

export interface ElastiqConfig {
  sleep_s: number;
  check_queue_every_s: number;
  check_vms_every_s: number;
  waiting_jobs_threshold: number;
  waiting_jobs_time_s: number;
  n_jobs_per_vm: number;
  idle_for_time_s: number;
  estimated_vm_deploy_time_s: number;
  min_vms: number;
  max_vms: number;
}

/** Code defaults of elastiq (§1.1), with the bench's max_vms. */
export const ELASTIQ_DEFAULTS: Omit<ElastiqConfig, 'max_vms'> = {
  sleep_s: 5, check_queue_every_s: 15, check_vms_every_s: 45, waiting_jobs_threshold: 0, waiting_jobs_time_s: 40,
  n_jobs_per_vm: 4, idle_for_time_s: 3600, estimated_vm_deploy_time_s: 600, min_vms: 0,
};

interface Ev { when: number; fn: () => void }

export class Elastiq {
  private firstSeenAboveThreshold?: number;
  private allegedlyRunning = 0;
  private readonly owned = new Set<string>();
  private readonly workers = new Map<string, { jobs: number; unchangedSince: number }>();
  private events: Ev[] = [];
  private nextQueue = 0;
  private nextVms = 0;
  private readonly rnd = prng(12345);
  actions = 0;

  constructor(private readonly c: ElastiqConfig, private readonly sim: ClusterSim) {}

  /** One pass of the main loop (every sleep_s). */
  step(now: number): void {
    const due = this.events.filter((e) => e.when <= now);
    this.events = this.events.filter((e) => e.when > now);
    for (const e of due) e.fn();
    if (now >= this.nextQueue) { this.nextQueue = now + this.c.check_queue_every_s * 1000; this.checkQueue(now); }
    if (now >= this.nextVms) { this.nextVms = now + this.c.check_vms_every_s * 1000; this.checkVms(now); }
  }

  private checkQueue(now: number): void {
    let nWaiting = this.sim.waiting.length;
    nWaiting -= this.allegedlyRunning * this.c.n_jobs_per_vm;
    if (nWaiting > 0 && nWaiting >= this.c.waiting_jobs_threshold) {
      this.firstSeenAboveThreshold ??= now;
      if (now - this.firstSeenAboveThreshold > this.c.waiting_jobs_time_s * 1000) {
        this.scaleUp(Math.ceil(nWaiting / this.c.n_jobs_per_vm), now);
        this.firstSeenAboveThreshold = undefined;
      }
    } else {
      this.firstSeenAboveThreshold = undefined;
    }
  }

  private scaleUp(n: number, now: number): void {
    const running = this.sim.live().length; // every instance visible with the credentials
    const max = this.c.max_vms < 1 ? Infinity : this.c.max_vms;
    const nStart = Math.min(n, max - running - this.allegedlyRunning);
    if (nStart <= 0) return;
    this.actions += 1;
    for (let i = 0; i < nStart; i++) {
      const vm = this.sim.launch();
      this.owned.add(vm.vmId);
      this.allegedlyRunning += 1;
      const deadline = now + this.c.estimated_vm_deploy_time_s * 1000;
      this.events.push({ when: deadline, fn: () => { this.allegedlyRunning -= 1; } });
      this.events.push({ when: deadline, fn: () => this.checkOwnedInstance(vm.vmId) });
    }
  }

  /** Not joined by the deadline: terminated. */
  private checkOwnedInstance(vmId: string): void {
    const vm = this.sim.vms.get(vmId);
    if (!vm || vm.terminatedAt !== undefined) return;
    if (!this.sim.joined(vm)) {
      this.actions += 1;
      this.sim.terminate(vmId);
      this.owned.delete(vmId);
    }
  }

  private checkVms(now: number): void {
    // poll_status: jobs per joined host, timer reset whenever the count changes.
    const seen = new Set<string>();
    for (const vm of this.sim.live()) {
      if (!this.sim.joined(vm)) continue;
      seen.add(vm.vmId);
      const jobs = vm.running.length;
      const w = this.workers.get(vm.vmId);
      if (!w || w.jobs !== jobs) this.workers.set(vm.vmId, { jobs, unchangedSince: now });
    }
    for (const id of [...this.workers.keys()]) if (!seen.has(id)) this.workers.delete(id);
    const idle = [...this.workers.entries()]
      .filter(([, w]) => w.jobs === 0 && now - w.unchangedSince > this.c.idle_for_time_s * 1000)
      .map(([id]) => id);
    for (const id of idle) this.workers.get(id)!.unchangedSince = now;
    // ec2_scale_down: shuffled, at most managed - min_vms.
    for (let i = idle.length - 1; i > 0; i--) {
      const j = Math.floor(this.rnd() * (i + 1));
      [idle[i], idle[j]] = [idle[j], idle[i]];
    }
    const managed = [...this.owned].filter((id) => this.sim.vms.get(id)?.terminatedAt === undefined).length;
    const victims = idle.slice(0, Math.max(0, managed - this.c.min_vms));
    if (victims.length) this.actions += 1;
    for (const id of victims) { this.sim.terminate(id); this.owned.delete(id); this.workers.delete(id); }
    // Min quota.
    const batchRunning = seen.size;
    if (batchRunning + this.allegedlyRunning < this.c.min_vms) this.scaleUp(this.c.min_vms - batchRunning - this.allegedlyRunning, now);
  }
}
