/**
 * The decision function: pure. Given the policy, the previous state, this tick's probe sample (or
 * its failure), the engine's view of the worker VMs and the time, it returns the next state, the
 * intents for the manager to carry out and the reason. No I/O, no clock reads.
 *
 * Two stages: observe() folds what was seen into the state (joins, idle timers, vanished VMs);
 * plan() turns the observed state into intents and moves nodes along their lifecycle. Dry run
 * keeps only the observed state, so it can never drift into phases nothing acted on.
 *
 * One file above the ~450-line mark on purpose: both stages move the same node lifecycle and share
 * its invariants (phases, timers, clamps); split apart, one state machine would be read in two places.
 */
import type { VmState } from '../../connectors/types';
import type { ElasticPolicy } from './policy';
import type { HostUsage, ProbeSample } from './probes/types';
import {
  type DemandView, type ElasticEvent, type ElasticState, type NodeRecord, MAX_EVENTS,
} from './state';

/** A worker VM as the engine sees it (VMs of the policy's target node). */
export interface WorkerVm {
  vmId: string;
  state: VmState;
  privateIps: string[];
  /** Host names the VM is known by (dns_name, cloud name), to match LRMS names without IPs. */
  names?: string[];
}

export interface DecideInput {
  policy: ElasticPolicy;
  state: ElasticState;
  now: number;
  /** This tick's sample; undefined when the probe failed (then probeError says why). */
  sample?: ProbeSample;
  probeError?: string;
  vms: WorkerVm[];
  /** VM ids of the master/front end: never managed, whatever node they belong to. */
  masterVmIds: string[];
  /** Instances the cloud quota still allows, when the engine knows it. */
  quotaLeft?: number;
  /** Creates the cloud account's rate budget allows now (E-RATE-1), when the manager keeps one. */
  createsLeft?: number;
}

export type Intent =
  | { kind: 'add'; count: number }
  | { kind: 'drain'; vmId: string; host: string }
  | { kind: 'undrain'; vmId: string; host: string }
  | { kind: 'remove'; vmIds: string[] }
  /** reuse_nodes (E-DOWN-6): stop drained nodes instead of removing them; start stopped ones before adding. */
  | { kind: 'stop'; vmIds: string[] }
  | { kind: 'start'; vmIds: string[] };

export interface Decision {
  state: ElasticState;
  intents: Intent[];
  events: ElasticEvent[];
  reason: string;
  demand: DemandView;
}

const BACKOFF_BASE_MS = 60_000;
const BACKOFF_MAX_MS = 30 * 60_000;
/** Cluster Autoscaler's brake: more than this share (and count) of unready nodes stops scaling. */
const UNREADY_SHARE = 0.45;
const UNREADY_COUNT = 3;
/**
 * One bound on a scale-up: its name in the reason, the room it leaves, whether it bounds only new
 * VMs (a started stopped node is already a VM of the infrastructure: it counts in max_nodes, holds
 * its quota and needs no create), and the limit the decision reports when it is the binding one.
 */
interface Clamp {
  name: string;
  room: number;
  newVmsOnly: boolean;
  limit?: 'quota:max_nodes' | 'quota:cloud quota' | 'rate';
}

export function backoffMs(level: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** level);
}

/** How old a sample may be and still count (E-SENSE-5: 3 × check period). */
export function staleAfterMs(p: ElasticPolicy): number {
  return 3 * p.check_every_s * 1000;
}

/** The node count to keep: the floor for scale-down and the warm-pool target for scale-up. */
export function warmTarget(p: ElasticPolicy, busyNodes: number): number {
  return Math.min(p.max_nodes, Math.max(p.min_nodes, busyNodes) + p.spare_nodes);
}

function matchHost(rec: NodeRecord, vm: WorkerVm | undefined, hosts: HostUsage[]): HostUsage | undefined {
  if (rec.host) {
    const byName = hosts.find((h) => h.name === rec.host);
    if (byName) return byName;
  }
  if (!vm) return undefined;
  const byIp = hosts.find((h) => h.ips.some((ip) => vm.privateIps.includes(ip)));
  if (byIp) return byIp;
  const names = new Set((vm.names ?? []).flatMap((n) => [n, n.split('.')[0]]));
  return hosts.find((h) => names.has(h.name) || names.has(h.name.split('.')[0]));
}

function isIdle(h: HostUsage): boolean {
  return h.state === 'idle' && h.busy === 0;
}

interface Ctx {
  p: ElasticPolicy;
  now: number;
  s: ElasticState;
  events: ElasticEvent[];
  vmById: Map<string, WorkerVm>;
  vanished: boolean;
}

function emit(c: Ctx, type: ElasticEvent['type'], reason: string, vmIds?: string[]): void {
  c.events.push({ at: c.now, type, reason, ...(vmIds ? { vmIds } : {}) });
}

function setPhase(c: Ctx, r: NodeRecord, phase: NodeRecord['phase']): void {
  r.phase = phase;
  r.phaseSince = c.now;
}

/** A stopped node on its way back: it must join again within join_timeout_s, as a new one would. */
function restart(c: Ctx, r: NodeRecord): void {
  setPhase(c, r, 'booting');
  r.requestedAt = c.now;
  r.joinDeadline = c.now + c.p.join_timeout_s * 1000;
  // We stopped it, so it is ours even if it was adopted: a failed return deletes it (E-FAIL-1).
  r.adopted = undefined;
  r.joinedAt = r.idleSince = r.busy = r.lrmsState = r.removeReason = undefined;
  r.drainStartedAt = r.drainDeadline = r.drainIssuedAt = undefined;
  r.reused = true;
}

/** The sample as persisted: identical waiting jobs grouped, ids dropped (a queue can hold thousands). */
function compact(sample: ProbeSample): ProbeSample {
  const groups = new Map<string, { cpus: number; since?: number; count: number }>();
  for (const j of sample.waiting) {
    const key = `${j.cpus}:${j.since ?? ''}`;
    const g = groups.get(key) ?? { cpus: j.cpus, ...(j.since !== undefined ? { since: j.since } : {}), count: 0 };
    g.count += j.count ?? 1;
    groups.set(key, g);
  }
  return { takenAt: sample.takenAt, hosts: sample.hosts, waiting: [...groups.values()] };
}

/** Stage 1: fold the VM list and the sample into the state. */
function observe(c: Ctx, input: DecideInput): void {
  const { s, p, now } = c;
  const masters = new Set(input.masterVmIds);
  for (const [id, r] of Object.entries(s.nodes)) {
    if (c.vmById.has(id) && !masters.has(id)) continue;
    delete s.nodes[id];
    if (r.phase !== 'removing') {
      c.vanished = true;
      emit(c, 'NodeVanished', 'VM removed outside the manager (user RemoveResource?)', [id]);
    }
  }
  for (const r of Object.values(s.nodes)) {
    // Started by the user (PUT …/vms/{id}/start): it must join again like a node we started.
    if (r.phase === 'stopped' && c.vmById.get(r.vmId)?.state === 'running') {
      restart(c, r);
      emit(c, 'NodeStarted', 'stopped node started outside the manager', [r.vmId]);
    }
  }
  for (const vm of input.vms) {
    if (masters.has(vm.vmId) || s.nodes[vm.vmId]) continue;
    // A worker the manager did not create (deployed with the template, or added by the user).
    s.nodes[vm.vmId] = {
      vmId: vm.vmId, phase: 'booting', phaseSince: now, requestedAt: now, adopted: true,
      joinDeadline: now + p.join_timeout_s * 1000,
    };
  }

  const sample = input.sample;
  if (!sample) {
    if (input.probeError !== undefined && s.lastProbeError !== input.probeError) {
      emit(c, 'SensingFailed', input.probeError);
    }
    s.lastProbeError = input.probeError ?? s.lastProbeError;
    return;
  }
  const prev = s.lastSample?.takenAt;
  // After a blind stretch nobody knows what happened on the nodes: idle stretches start again.
  const gap = prev === undefined || sample.takenAt - prev > staleAfterMs(p);
  s.lastSample = compact(sample);
  s.lastProbeError = undefined;
  const waitingSlots = sample.waiting.reduce((n, j) => n + (j.cpus > p.slots_per_node ? 0 : (j.count ?? 1) * j.cpus), 0);
  if (waitingSlots >= p.waiting_jobs_threshold) s.pressureSince ??= sample.takenAt;
  else s.pressureSince = undefined;

  for (const r of Object.values(s.nodes)) {
    const host = matchHost(r, c.vmById.get(r.vmId), sample.hosts);
    if ((r.phase === 'booting' || r.phase === 'stray') && host) {
      setPhase(c, r, 'joined');
      r.joinedAt = now;
      r.host = host.name;
      emit(c, 'NodeJoined', `registered in the LRMS as ${host.name} after ${Math.round((now - r.requestedAt) / 1000)} s`, [r.vmId]);
      s.joinedEver = true;
      // A drain can outlive the stop (Slurm's DRAIN state): lift it once the node is back.
      if (r.reused) { r.undrainPending = true; r.reused = undefined; }
      if (!r.adopted) {
        s.consecutiveJoinFailures = 0;
        s.backoffLevel = 0;
        s.suspendedUntil = undefined;
      }
    }
    if (r.phase !== 'joined' && r.phase !== 'draining') continue;
    if (!host) {
      r.lrmsState = 'absent';
      r.busy = undefined;
      r.idleSince = undefined;
      continue;
    }
    r.host = host.name;
    r.busy = host.busy;
    r.lrmsState = host.state === 'idle' && host.busy > 0 ? 'busy' : host.state;
    if (!isIdle(host)) {
      r.idleSince = undefined;
      continue;
    }
    let since = gap || r.idleSince === undefined ? sample.takenAt : r.idleSince;
    // The LRMS may know of a later activity change (a job that came and went between polls).
    if (host.idleSince !== undefined && host.idleSince <= now) since = Math.max(since, host.idleSince);
    r.idleSince = since;
  }
}

interface Plan {
  intents: Intent[];
  reasons: string[];
  demand: DemandView;
  limit?: string;
}

/** Waiting work that counts: old enough, not larger than a node, above the threshold. */
function demandOf(c: Ctx, sample: ProbeSample | undefined): Omit<DemandView, 'in_flight_slots' | 'nodes_wanted'> {
  const { p, now, s } = c;
  let jobs = 0, slots = 0, eligible = 0, unsatisfiable = 0;
  for (const j of sample?.waiting ?? []) {
    const n = j.count ?? 1;
    if (j.cpus > p.slots_per_node) { unsatisfiable += n; continue; }
    jobs += n;
    slots += n * j.cpus;
  }
  for (const j of sample?.waiting ?? []) {
    if (j.cpus > p.slots_per_node) continue;
    const since = Math.min(now, j.since ?? s.pressureSince ?? now);
    if (now - since >= p.scale_up_pending_for_s * 1000) eligible += (j.count ?? 1) * j.cpus;
  }
  if (eligible < p.waiting_jobs_threshold) eligible = 0;
  return { waiting_jobs: jobs, waiting_slots: slots, eligible_slots: eligible, unsatisfiable_jobs: unsatisfiable };
}

/** Waiting slots beyond every free slot of the schedulable nodes in service. */
function overflowSlots(c: Ctx, sample: ProbeSample | undefined, waitingSlots: number): number {
  const { p, s } = c;
  if (!sample || waitingSlots < p.waiting_jobs_threshold) return 0;
  let free = 0;
  for (const r of Object.values(s.nodes)) {
    if (r.phase !== 'joined') continue;
    const h = sample.hosts.find((x) => x.name === r.host);
    if (h && h.schedulable && h.state !== 'unknown') free += Math.max(0, p.slots_per_node - h.busy);
  }
  return Math.max(0, waitingSlots - free);
}

/** Capacity already on its way: booting nodes, and free slots of nodes too new to have taken work. */
function inFlightSlots(c: Ctx): number {
  const { p, now, s } = c;
  const settleMs = Math.max(p.scale_up_pending_for_s, 2 * p.check_every_s) * 1000;
  let slots = 0;
  for (const r of Object.values(s.nodes)) {
    if (r.phase === 'booting') slots += p.slots_per_node;
    else if (r.phase === 'joined' && r.joinedAt !== undefined &&
      (now - r.joinedAt < settleMs || now - r.requestedAt < p.deploy_time_estimate_s * 1000)) {
      slots += Math.max(0, p.slots_per_node - (r.busy ?? 0));
    }
  }
  return slots;
}

function undrain(c: Ctx, out: Plan, r: NodeRecord, why: string): void {
  setPhase(c, r, 'joined');
  r.idleSince = undefined;
  r.drainStartedAt = r.drainDeadline = r.drainIssuedAt = undefined;
  emit(c, 'DrainAborted', why, [r.vmId]);
  out.intents = out.intents.filter((i) => !(i.kind === 'drain' && i.vmId === r.vmId));
  out.intents.push({ kind: 'undrain', vmId: r.vmId, host: r.host ?? r.vmId });
}

/**
 * Lifecycle moves: join timeouts (only on fresh data: a blind manager must not delete a node that
 * may have joined), cloud failures, drains confirmed or aborted, the breaker, pending retries.
 */
function lifecycle(c: Ctx, input: DecideInput, out: Plan): void {
  const { p, now, s } = c;
  const fresh = input.sample !== undefined;
  const failuresBefore = s.consecutiveJoinFailures;
  const nodes = Object.values(s.nodes);
  for (const r of nodes) {
    if (r.phase === 'booting' && fresh && r.joinDeadline !== undefined && now >= r.joinDeadline) {
      if (r.adopted) {
        setPhase(c, r, 'stray');
        emit(c, 'JoinTimeout', 'pre-existing VM never registered in the LRMS: kept and reported, not deleted', [r.vmId]);
        continue;
      }
      setPhase(c, r, 'removing');
      r.removeReason = 'join-timeout';
      s.consecutiveJoinFailures += 1;
      emit(c, 'JoinTimeout', `not in the LRMS ${p.join_timeout_s} s after the request: deleted (failure ${s.consecutiveJoinFailures} in a row)`, [r.vmId]);
    } else if (r.phase === 'booting' && !r.adopted && c.vmById.get(r.vmId)?.state === 'failed') {
      setPhase(c, r, 'removing');
      r.removeReason = 'vm-failed';
      s.consecutiveJoinFailures += 1;
      emit(c, 'NodeFailed', `the cloud reports the VM failed: deleted (failure ${s.consecutiveJoinFailures} in a row)`, [r.vmId]);
    } else if (r.phase === 'booting' && r.startFailed !== undefined) {
      setPhase(c, r, 'removing');
      r.removeReason = 'start-failed';
      s.consecutiveJoinFailures += 1;
      emit(c, 'NodeFailed', `the stopped VM could not be started (${r.startFailed}): deleted (failure ${s.consecutiveJoinFailures} in a row)`, [r.vmId]);
      r.startFailed = undefined;
    } else if (r.phase === 'stopped' && !p.reuse_nodes) {
      // reuse_nodes turned off: the pool of stopped VMs would hold quota for nothing.
      setPhase(c, r, 'removing');
      r.removeReason = 'drained';
    } else if (r.phase === 'draining') {
      const host = fresh ? input.sample!.hosts.find((h) => h.name === r.host) : undefined;
      if (fresh && host && !isIdle(host)) undrain(c, out, r, `work started on ${r.host} during the drain: back in service`);
      else if (r.drainDeadline !== undefined && now >= r.drainDeadline) undrain(c, out, r, `drain not finished within ${p.drain_timeout_s} s: back in service`);
      else if (fresh && r.drainIssuedAt !== undefined && input.sample!.takenAt > r.drainIssuedAt) {
        if (p.reuse_nodes) {
          setPhase(c, r, 'stopping');
        } else {
          setPhase(c, r, 'removing');
          r.removeReason = 'drained';
        }
      }
    }
  }
  // Circuit breaker (E-FAIL-3): a new failure at or past the limit suspends scale-up, each time longer.
  const suspended = s.suspendedUntil !== undefined && now < s.suspendedUntil;
  if (s.consecutiveJoinFailures > failuresBefore && s.consecutiveJoinFailures >= p.max_consecutive_join_failures && !suspended) {
    const ms = backoffMs(s.backoffLevel);
    s.suspendedUntil = now + ms;
    s.backoffLevel += 1;
    emit(c, 'ScaleUpSuspended', `${s.consecutiveJoinFailures} nodes in a row failed to join: scale-up paused for ${ms / 1000} s`);
  }
  for (const r of nodes) {
    if (r.undrainPending) out.intents.push({ kind: 'undrain', vmId: r.vmId, host: r.host ?? r.vmId });
    if (r.phase === 'draining' && r.drainIssuedAt === undefined && !out.intents.some((i) => i.kind === 'drain' && i.vmId === r.vmId)) {
      // Drain started before a restart and never confirmed: the commands are idempotent, issue again.
      out.intents.push({ kind: 'drain', vmId: r.vmId, host: r.host ?? r.vmId });
    }
  }
  const removing = nodes.filter((r) => r.phase === 'removing').map((r) => r.vmId);
  if (removing.length) out.intents.push({ kind: 'remove', vmIds: removing });
  const stopping = nodes.filter((r) => r.phase === 'stopping').map((r) => r.vmId);
  if (stopping.length) out.intents.push({ kind: 'stop', vmIds: stopping });
}

/** Busy nodes: joined and not positively idle (unknown and absent count as busy). */
function busyNodeCount(c: Ctx): number {
  return Object.values(c.s.nodes).filter((r) => r.phase === 'joined' && r.lrmsState !== 'idle').length;
}

/**
 * Scale-up (E-UP-1..3): recall draining nodes first, then add, under every clamp. Returns whether
 * anything is wanted (then nothing is removed in this cycle: E-DOWN-7).
 */
function scaleUp(c: Ctx, input: DecideInput, out: Plan, usable: ProbeSample): boolean {
  const { p, now, s } = c;
  const nodes = Object.values(s.nodes);
  const d = out.demand;
  // In-flight capacity is counted after the lifecycle moves, so a node deleted at its join
  // deadline stops covering demand at once.
  const inFlight = inFlightSlots(c);
  d.in_flight_slots = inFlight;
  const slots = p.slots_per_node;
  // Waiting only helps when a slot may free up for the job; work beyond every free slot of the
  // nodes in service cannot start anywhere, so it asks for nodes at once (the Cluster
  // Autoscaler's pending-pod reaction), while the rest still waits scale_up_pending_for_s.
  const overflow = overflowSlots(c, usable, d.waiting_slots);
  d.overflow_slots = overflow;
  let need = Math.max(d.eligible_slots, overflow) - inFlight;
  let recalled = 0;
  for (const r of nodes.filter((n) => n.phase === 'draining')) {
    if (need <= 0) break;
    undrain(c, out, r, 'waiting work needs it: drain cancelled');
    need -= slots;
    recalled += 1;
  }
  const demandNodes = need > 0 ? Math.ceil(need / slots) : 0;
  const active = nodes.filter((r) => r.phase === 'booting' || r.phase === 'joined' || r.phase === 'stray').length;
  const busyNodes = busyNodeCount(c);
  const warmNeed = Math.max(0, warmTarget(p, busyNodes) - active);
  const want = Math.max(demandNodes, warmNeed);
  d.nodes_wanted = want;
  if (want === 0) {
    if (recalled === 0) out.reasons.push(d.waiting_slots > 0 ? `no scale-up: ${d.eligible_slots} eligible slots, ${inFlight} in flight` : 'no waiting work');
    return recalled > 0;
  }
  if (s.suspendedUntil !== undefined && now < s.suspendedUntil) {
    out.limit = 'suspended';
    out.reasons.push(`no scale-up: suspended until ${new Date(s.suspendedUntil).toISOString()} after ${s.consecutiveJoinFailures} join failures`);
    return true;
  }
  if (c.vanished) {
    out.reasons.push('no scale-up this cycle: a VM was removed outside the manager');
    return true;
  }
  const booting = nodes.filter((r) => r.phase === 'booting').length;
  // Until a node has joined once (an unproven image), and after a join failure, never have more
  // attempts in flight than the failures left before the breaker trips, so a bad image costs at
  // most max_consecutive_join_failures VMs; once suspended and expired, one attempt at a time.
  const ownBooting = nodes.filter((r) => r.phase === 'booting' && !r.adopted).length;
  const f = s.consecutiveJoinFailures;
  const failureBudget = f === 0 && s.joinedEver ? Infinity
    : (f >= p.max_consecutive_join_failures ? 1 : p.max_consecutive_join_failures - f) - ownBooting;
  const clamps: Clamp[] = [
    { name: 'max_nodes', room: p.max_nodes - nodes.length, newVmsOnly: true, limit: 'quota:max_nodes' },
    { name: 'max_booting_nodes', room: p.max_booting_nodes > 0 ? p.max_booting_nodes - booting : Infinity, newVmsOnly: false },
    { name: 'max_nodes_per_step', room: p.max_nodes_per_step, newVmsOnly: false },
    { name: 'cloud quota', room: input.quotaLeft ?? Infinity, newVmsOnly: true, limit: 'quota:cloud quota' },
    { name: 'join failures', room: failureBudget, newVmsOnly: false },
    // Last: the manager takes from the account's budget what the other clamps allow, so it is
    // named only when the budget itself is short.
    { name: 'max_creates_per_minute (cloud account)', room: input.createsLeft ?? Infinity, newVmsOnly: true, limit: 'rate' },
  ];
  // Stopped nodes (E-DOWN-6) are started before any VM is added, so the new-VM clamps leave them room.
  const stopped = nodes.filter((r) => r.phase === 'stopped').sort((a, b) => a.phaseSince - b.phaseSince || a.vmId.localeCompare(b.vmId));
  let add = want;
  let binding: Clamp | undefined;
  for (const cl of clamps) {
    const room = cl.newVmsOnly ? cl.room + stopped.length : cl.room;
    if (room < add) { add = Math.max(0, room); binding = cl; }
  }
  const why = demandNodes >= warmNeed
    ? `${Math.max(d.eligible_slots, overflow)} slots waiting (${d.eligible_slots} waited >= ${p.scale_up_pending_for_s} s, ${overflow} beyond every free slot), ${inFlight} in flight`
    : `warm pool: keep ${warmTarget(p, busyNodes)} nodes (${busyNodes} busy + ${p.spare_nodes} spare, min ${p.min_nodes})`;
  if (binding) {
    out.reasons.push(`scale-up ${add} of ${want} (${why}): ${binding.name} reached`);
    if (binding.limit) out.limit = binding.limit;
  } else {
    out.reasons.push(`scale-up ${add} (${why})`);
  }
  const starts = stopped.slice(0, add);
  if (starts.length) {
    out.reasons.push(`starting ${starts.length} stopped node(s) first (reuse_nodes)`);
    for (const r of starts) restart(c, r);
    out.intents.push({ kind: 'start', vmIds: starts.map((r) => r.vmId) });
  }
  if (add > starts.length) out.intents.push({ kind: 'add', count: add - starts.length });
  return true;
}

/** E-DOWN-5 (EC3 ec3_destroy_interval/safe): with billing on, an idle node goes only when little paid time is left. */
function nearEndOfPaidPeriod(p: ElasticPolicy, r: NodeRecord, now: number): boolean {
  if (p.billing_interval_s <= 0) return true;
  const interval = p.billing_interval_s * 1000;
  const paidLeft = interval - ((now - r.requestedAt) % interval);
  return paidLeft <= p.billing_safe_margin_s * 1000;
}

/** Scale-down (E-DOWN-1..4): only on a fresh sample, only nodes positively idle for the whole idle time. */
function scaleDown(c: Ctx, input: DecideInput, out: Plan): void {
  const { p, now, s } = c;
  if (!input.sample) {
    out.reasons.push('scale-down frozen: probe failed');
    return;
  }
  if (s.lastScaleUpAt !== undefined && now - s.lastScaleUpAt < p.scale_down_delay_after_add_s * 1000) {
    out.reasons.push(`no scale-down within ${p.scale_down_delay_after_add_s} s of a scale-up`);
    return;
  }
  const nodes = Object.values(s.nodes);
  const masters = new Set(input.masterVmIds);
  const idleMs = p.idle_before_scale_down_s * 1000;
  const candidates = nodes
    .filter((r) => r.phase === 'joined' && !r.protected && !masters.has(r.vmId) && r.lrmsState === 'idle' &&
      r.busy === 0 && r.idleSince !== undefined && now - r.idleSince >= idleMs && nearEndOfPaidPeriod(p, r, now))
    .sort((a, b) => a.idleSince! - b.idleSince! || a.vmId.localeCompare(b.vmId));
  const busyNodes = busyNodeCount(c);
  const keepers = nodes.filter((r) => r.phase === 'joined' || r.phase === 'stray').length;
  const floor = warmTarget(p, busyNodes);
  const n = Math.max(0, Math.min(candidates.length, keepers - floor, p.max_nodes_per_step));
  for (const r of candidates.slice(0, n)) {
    setPhase(c, r, 'draining');
    r.drainStartedAt = now;
    r.drainDeadline = now + p.drain_timeout_s * 1000;
    r.drainIssuedAt = undefined;
    emit(c, 'DrainStarted', `idle for ${Math.round((now - r.idleSince!) / 1000)} s`, [r.vmId]);
    out.intents.push({ kind: 'drain', vmId: r.vmId, host: r.host ?? r.vmId });
  }
  if (n > 0) out.reasons.push(`scale-down: drain ${n} idle node(s)`);
  else if (candidates.length > 0) out.reasons.push(`no scale-down: ${keepers} nodes, floor ${floor} (min ${p.min_nodes}, spare ${p.spare_nodes}, busy ${busyNodes})`);
}

/** Stage 2: lifecycle moves and intents. */
function plan(c: Ctx, input: DecideInput): Plan {
  const { p, now, s } = c;
  const usable = input.sample ?? (s.lastSample && now - s.lastSample.takenAt <= staleAfterMs(p) ? s.lastSample : undefined);
  const out: Plan = { intents: [], reasons: [], demand: { ...demandOf(c, usable), in_flight_slots: inFlightSlots(c), nodes_wanted: 0 } };
  if (p.paused) {
    out.limit = 'paused';
    out.reasons.push('paused by the operator: no actions');
    return out;
  }
  lifecycle(c, input, out);
  // Global brake (E-FAIL-4).
  const inService = Object.values(s.nodes).filter((r) => r.phase === 'joined' || r.phase === 'stray');
  const unready = inService.filter((r) => r.phase === 'stray' || r.lrmsState === 'absent' || r.lrmsState === 'unknown').length;
  if (unready > UNREADY_COUNT && unready > UNREADY_SHARE * inService.length) {
    out.limit = 'unready';
    out.reasons.push(`${unready} of ${inService.length} nodes are not ready in the LRMS: scaling stopped`);
    return out;
  }
  if (!usable) {
    out.reasons.push(input.probeError ? `no usable probe data (${input.probeError})` : 'no probe data yet');
    return out;
  }
  if (!scaleUp(c, input, out, usable)) scaleDown(c, input, out);
  return out;
}

export function decide(input: DecideInput): Decision {
  const observed: ElasticState = structuredClone(input.state);
  const c: Ctx = {
    p: input.policy, now: input.now, s: observed, events: [],
    vmById: new Map(input.vms.map((v) => [v.vmId, v])), vanished: false,
  };
  observe(c, input);
  const observedEvents = c.events.length;
  const planned: ElasticState = input.policy.dry_run ? structuredClone(observed) : observed;
  c.s = planned;
  const pl = plan(c, input);
  const reason = pl.reasons.join('; ') || 'steady';
  const summary = {
    at: input.now,
    add: pl.intents.reduce((n, i) => n + (i.kind === 'add' ? i.count : 0), 0),
    drain: pl.intents.flatMap((i) => (i.kind === 'drain' ? [i.vmId] : [])),
    undrain: pl.intents.flatMap((i) => (i.kind === 'undrain' ? [i.vmId] : [])),
    remove: pl.intents.flatMap((i) => (i.kind === 'remove' ? i.vmIds : [])),
    reason,
  };
  let events = c.events;
  // Limits are reported when they start, not on every tick.
  const limit = pl.limit;
  const prevLimit = input.state.lastLimit;
  if (limit && limit !== prevLimit) {
    const type = limit === 'paused' ? 'Paused' : limit.startsWith('quota') ? 'QuotaLimited'
      : limit === 'rate' ? 'RateLimited' : undefined;
    if (type) events.push({ at: input.now, type, reason });
  } else if (!limit && prevLimit === 'paused') {
    events.push({ at: input.now, type: 'Resumed', reason: 'manager resumed' });
  }
  let state = planned;
  if (input.policy.dry_run) {
    // Report what would be done; keep only what was observed, and log a decision once per change.
    const prev = input.state.lastDecision;
    const same = prev && prev.add === summary.add && prev.drain.join() === summary.drain.join() &&
      prev.remove.join() === summary.remove.join() && prev.undrain.join() === summary.undrain.join();
    events = [...events.slice(0, observedEvents), ...(same ? [] : events.slice(observedEvents).map((e) => ({ ...e, dryRun: true })))];
    if (!same && summary.add > 0) events.push({ at: input.now, type: 'ScaleUpRequested', reason, dryRun: true });
    state = observed;
  }
  state.lastLimit = limit;
  state.lastDecision = summary;
  state.lastDemand = pl.demand;
  state.events = [...state.events, ...events].slice(-MAX_EVENTS);
  return { state, intents: input.policy.dry_run ? [] : pl.intents, events, reason, demand: pl.demand };
}
