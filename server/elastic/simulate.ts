/**
 * Replay a job trace against an elastic policy on a simulated HTCondor cluster, with a fake clock:
 * the real manager loop, decide() and HTCondor probe/drain commands, no cloud and no shared state.
 * Used by `npm run bench:elastic` (bench/elastic.ts, against elastiq) and by
 * POST /infrastructures/{id}/elasticity/simulate (E-OBS-5).
 *
 * The simulated cluster: jobs from the trace (one slot each), a FIFO negotiator every 20 s, VMs
 * that join after a boot + contextualisation time, and a master that answers condor_q/condor_status
 * (-json) and condor_off/condor_on like the real tools.
 */
import { InvalidInputError } from '../errors';
import { FakeClock } from './clock';
import { ElasticManager } from './manager';
import { ElasticMetrics } from './metrics';
import { type ElasticPolicy, applyKnobChanges, policyView } from './policy';
import type { ExecResult } from './probes/types';
import { CONDOR_Q, CONDOR_STATUS } from './probes/htcondor';
import { MemoryStateStore } from './state';

const S = 1000;
const H = 3600 * S;
const MIN = 60 * S;

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

  /** `bootMs`: every VM joins this long after its launch (default: the seeded 3–12 min spread). */
  constructor(jobs: Job[], seed: number, readonly slots = 4, readonly negotiatorMs = 20_000, private readonly bootMs?: number) {
    this.pending = jobs.map((j) => ({ ...j }));
    this.bootRng = prng(seed ^ 0x5eed);
  }

  get allJobs(): Job[] { return [...this.done, ...this.waiting, ...[...this.vms.values()].flatMap((v) => v.running), ...this.pending]; }
  private done: Job[] = [];

  /** Boot + contextualisation: 3–12 minutes (median ~6): IM-configured VMs take minutes (see elasticity.md 2.1). */
  private bootTime(): number {
    if (this.bootMs !== undefined) return this.bootMs;
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

/** What a replay tells: the bench's figures, plus every action the manager took, with its reason. */
export interface ReplayResult {
  nodeHours: number;
  meanWait: number;
  p95Wait: number;
  launched: number;
  /** Engine calls (add and remove). */
  actions: number;
  busyRemoved: number;
  unfinished: number;
  log: ReplayAction[];
}

export interface ReplayAction { at: number; kind: string; count: number; vmIds: string[]; reason: string }

export function summarise(sim: ClusterSim, end: number, actions: number): Omit<ReplayResult, 'log'> {
  const jobs: Job[] = sim.allJobs;
  const waits = jobs.map((j) => ((j.start ?? end) - j.submit) / S).sort((a, b) => a - b);
  return {
    nodeHours: sim.nodeHours(end),
    meanWait: waits.reduce((a, b) => a + b, 0) / Math.max(1, waits.length),
    p95Wait: waits[Math.floor(0.95 * (waits.length - 1))] ?? 0,
    launched: sim.launched,
    actions,
    busyRemoved: sim.busyRemoved,
    unfinished: jobs.filter((j) => j.end === undefined).length,
  };
}

export interface ReplayOptions {
  /** Run as given, except that the cluster speaks HTCondor (lrms and probe are set to it). */
  policy: ElasticPolicy;
  jobs: Job[];
  /** Simulated time from 0 (the trace's times are from 0 too). */
  endMs: number;
  seed?: number;
  /** Fixed boot + contextualisation time; default the seeded 3–12 min spread. */
  bootMs?: number;
}

/**
 * The policy against the trace on a fresh simulated cluster: a manager of its own on a fake
 * clock, its state in memory, its metrics on a private registry. Yields to the event loop after
 * each tick, so a server answering a simulate request keeps serving meanwhile.
 */
export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const sim = new ClusterSim(o.jobs, o.seed ?? 42, o.policy.slots_per_node, undefined, o.bootMs);
  const clock = new FakeClock(0);
  let calls = 0;
  let added: string[] = [];
  const m = new ElasticManager({
    clock,
    exec: () => sim.exec,
    store: new MemoryStateStore(),
    metrics: new ElasticMetrics(),
    actions: {
      listVms: async () => ({
        workers: sim.live().map((v) => ({ vmId: v.vmId, state: 'running' as const, privateIps: [v.ip] })),
        masterVmIds: ['0'],
      }),
      addNodes: async (_i, _n, n) => {
        calls += 1;
        const ids = Array.from({ length: n }, () => sim.launch().vmId);
        added.push(...ids);
        return ids;
      },
      removeVms: async (_i, ids) => { calls += 1; for (const id of ids) sim.terminate(id); },
    },
  });
  const policy: ElasticPolicy = { ...o.policy, lrms: 'htcondor', probe_command: undefined };
  m.register('simulation', policy);
  const log: ReplayAction[] = [];
  const period = policy.check_every_s * S;
  for (let t = 0; t <= o.endMs; t += period) {
    sim.advance(t);
    clock.set(t);
    added = [];
    const { decision } = await m.tick('simulation');
    for (const i of decision.intents) {
      const vmIds = i.kind === 'add' ? added : 'vmIds' in i ? i.vmIds : 'vmId' in i ? [i.vmId] : [];
      log.push({ at: t, kind: i.kind, count: i.kind === 'add' ? i.count : vmIds.length, vmIds, reason: decision.reason });
    }
    await new Promise((r) => setImmediate(r));
  }
  sim.advance(o.endMs);
  return { ...summarise(sim, o.endMs, calls), log };
}

/**
 * Bounds of a simulate request: a few seconds of CPU at most. Each check renders and parses every
 * waiting job (condor_q -json), so the cost is about checks × jobs (~0.7 µs each: 1000 jobs
 * waiting through 5760 checks took 4 s) plus one simulated second per second of horizon.
 */
export const SIMULATE_LIMITS = { jobs: 2000, horizonS: 48 * 3600, runtimeS: 7 * 24 * 3600, bootS: 24 * 3600, checks: 11_520, checksTimesJobs: 6_000_000 };

/** The JSON answer of POST …/elasticity/simulate. */
export interface SimulationView {
  policy: Record<string, unknown>;
  horizon_s: number;
  jobs: number;
  actions: { at_s: number; kind: string; count: number; vm_ids: string[]; reason: string }[];
  totals: { node_hours: number; mean_wait_s: number; p95_wait_s: number; vms_launched: number; busy_removed: number; unfinished_jobs: number; engine_calls: number };
}

function badRequest(what: string): never {
  throw new InvalidInputError(`elasticity simulate: ${what}`);
}

function seconds(v: unknown, name: string, o: { min?: number; max: number; positive?: boolean }): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < (o.min ?? 0) || (o.positive && v <= 0) || v > o.max) {
    badRequest(`"${name}" must be a number of seconds ${o.positive ? '>' : '>='} ${o.min ?? 0} and <= ${o.max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * E-OBS-5's simulate: the infrastructure's policy in effect (template + live changes) with the
 * body's knob overrides, replayed against the body's jobs. Body:
 *   {"policy": {knob: value, …}?, "jobs": [{"submit_s": N, "runtime_s": N}, …],
 *    "boot_s": N?, "horizon_s": N?, "seed": N?}
 * Throws InvalidInputError naming the problem (a bad knob is named as in PUT …/elasticity).
 */
export async function simulate(base: ElasticPolicy, body: unknown): Promise<SimulationView> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) badRequest('the body must be a JSON object {"jobs": [{"submit_s": 0, "runtime_s": 600}, …]}');
  const b = body as Record<string, unknown>;
  const unknownField = Object.keys(b).find((k) => !['policy', 'jobs', 'boot_s', 'horizon_s', 'seed'].includes(k));
  if (unknownField) badRequest(`unknown field "${unknownField}" (expected policy, jobs, boot_s, horizon_s, seed)`);
  // Paused and dry run would replay nothing: the question is what the policy would do.
  const { policy } = applyKnobChanges({ ...base, paused: false, dry_run: false }, b.policy ?? {});
  if (!Array.isArray(b.jobs) || b.jobs.length === 0) badRequest('"jobs" must be a non-empty array of {"submit_s": N, "runtime_s": N}');
  if (b.jobs.length > SIMULATE_LIMITS.jobs) badRequest(`"jobs" has ${b.jobs.length} entries; at most ${SIMULATE_LIMITS.jobs}`);
  const jobs: Job[] = b.jobs.map((raw, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) badRequest(`"jobs[${i}]" must be an object {"submit_s": N, "runtime_s": N}`);
    const j = raw as Record<string, unknown>;
    const extra = Object.keys(j).find((k) => k !== 'submit_s' && k !== 'runtime_s');
    if (extra) badRequest(`"jobs[${i}]": unknown field "${extra}"`);
    const submit = seconds(j.submit_s, `jobs[${i}].submit_s`, { max: SIMULATE_LIMITS.horizonS });
    const runtime = seconds(j.runtime_s, `jobs[${i}].runtime_s`, { max: SIMULATE_LIMITS.runtimeS, positive: true });
    return { id: i, submit: Math.round(submit * S), runtime: Math.round(runtime * S) };
  }).sort((x, y) => x.submit - y.submit || x.id - y.id);
  const bootS = b.boot_s === undefined ? undefined : seconds(b.boot_s, 'boot_s', { max: SIMULATE_LIMITS.bootS });
  if (b.seed !== undefined && !Number.isInteger(b.seed)) badRequest(`"seed" must be an integer, got ${JSON.stringify(b.seed)}`);
  // By default: until an hour after the last job would end if it started at once (room for the scale-down tail).
  const lastEndS = Math.max(...jobs.map((j) => (j.submit + j.runtime) / S));
  const horizonS = b.horizon_s === undefined
    ? Math.min(SIMULATE_LIMITS.horizonS, Math.ceil(lastEndS + 3600))
    : seconds(b.horizon_s, 'horizon_s', { max: SIMULATE_LIMITS.horizonS, positive: true });
  const checks = Math.floor(horizonS / policy.check_every_s) + 1;
  if (checks > SIMULATE_LIMITS.checks || checks * jobs.length > SIMULATE_LIMITS.checksTimesJobs) {
    badRequest(`too large to simulate: ${checks} checks (horizon_s ${horizonS} / check_every_s ${policy.check_every_s}) × ${jobs.length} jobs; `
      + `at most ${SIMULATE_LIMITS.checks} checks and ${SIMULATE_LIMITS.checksTimesJobs} checks × jobs: shorten horizon_s, raise check_every_s or send fewer jobs`);
  }
  const r = await replay({ policy, jobs, endMs: horizonS * S, bootMs: bootS === undefined ? undefined : bootS * S, seed: b.seed as number | undefined });
  const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    policy: policyView({ ...policy, lrms: 'htcondor', probe_command: undefined }),
    horizon_s: horizonS,
    jobs: jobs.length,
    actions: r.log.map((a) => ({ at_s: a.at / S, kind: a.kind, count: a.count, vm_ids: a.vmIds, reason: a.reason })),
    totals: {
      node_hours: round(r.nodeHours, 2), mean_wait_s: round(r.meanWait), p95_wait_s: round(r.p95Wait), vms_launched: r.launched,
      busy_removed: r.busyRemoved, unfinished_jobs: r.unfinished, engine_calls: r.actions,
    },
  };
}
