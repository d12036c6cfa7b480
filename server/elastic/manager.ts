/**
 * The elastic manager loop: per infrastructure, one tick every check period — probe the LRMS on
 * the master, ask the engine for the worker VMs, decide(), persist, then act through the ports.
 * Ticks of one infrastructure never overlap. GET/PUT …/elasticity and the tick's short state steps
 * (load, decide, save; apply results, save) take turns; slow engine calls hold up neither.
 */
import { InvalidInputError, NotFoundError } from '../errors';
import type { Clock } from './clock';
import { type Decision, type Intent, type WorkerVm, backoffMs, decide } from './decide';
import { ElasticMetrics } from './metrics';
import { type ElasticPolicy, applyKnobChanges, validatePolicy } from './policy';
import { adapterFor as defaultAdapterFor } from './probes';
import type { ElasticActions } from './ports';
import { type ReuseCtx, startNodes, stopNodes } from './reuse';
import { CreateBudget, type AccountBudget } from './ratelimit';
import type { LrmsAdapter, ProbeSample, RemoteExec } from './probes/types';
import { type ElasticEvent, type ElasticState, type ElasticStateStore, type NodeRecord, MAX_EVENTS, emptyState } from './state';
import { elasticityView, type ElasticityView } from './view';

export type { ElasticActions } from './ports';

export type EventSink = (infId: string, event: ElasticEvent) => void;

export interface ManagerDeps {
  clock: Clock;
  actions: ElasticActions;
  /** SSH on the infrastructure's master (server/configure). */
  exec: (infId: string) => RemoteExec;
  store: ElasticStateStore;
  events?: EventSink;
  metrics?: ElasticMetrics;
  adapterFor?: (p: ElasticPolicy) => LrmsAdapter | undefined;
  /** The accounts' create budgets (default: the manager's own, i.e. one per server). */
  budget?: AccountBudget;
}

/** 404 for GET/PUT …/elasticity on an infrastructure without an elastic policy. */
export class NoElasticityError extends NotFoundError {
  constructor(infId: string) { super(`Infrastructure ${infId} has no elasticity policy`); }
}

interface Managed {
  base: ElasticPolicy;
  timer?: unknown;
  /** Short state read-modify-write steps (tick phases, GET, PUT), one at a time. */
  queue: Promise<unknown>;
  /** Whole ticks, one at a time. */
  ticks: Promise<unknown>;
}

export interface TickReport {
  decision: Decision;
  state: ElasticState;
}

export class ElasticManager {
  private readonly infs = new Map<string, Managed>();
  private started = false;
  readonly metrics: ElasticMetrics;
  private readonly budget: AccountBudget;

  constructor(private readonly deps: ManagerDeps) {
    this.metrics = deps.metrics ?? new ElasticMetrics();
    this.budget = deps.budget ?? new CreateBudget();
  }

  /** Manage an infrastructure with the template's policy (live changes in the store are re-applied). */
  register(infId: string, base: ElasticPolicy): void {
    const m = this.infs.get(infId);
    if (m) { m.base = base; return; }
    this.infs.set(infId, { base, queue: Promise.resolve(), ticks: Promise.resolve() });
    if (this.started) this.schedule(infId, 0);
  }

  async unregister(infId: string, dropState = false): Promise<void> {
    const m = this.infs.get(infId);
    if (!m) return;
    if (m.timer !== undefined) this.deps.clock.clearTimer(m.timer);
    this.infs.delete(infId);
    await m.ticks.catch(() => undefined);
    await m.queue.catch(() => undefined);
    this.metrics.forget(infId);
    if (dropState) await this.deps.store.delete?.(infId);
  }

  start(): void {
    this.started = true;
    for (const id of this.infs.keys()) this.schedule(id, 0);
  }

  stop(): void {
    this.started = false;
    for (const m of this.infs.values()) if (m.timer !== undefined) this.deps.clock.clearTimer(m.timer);
  }

  /** One tick now (tests and the bench drive it directly; start() drives it on the clock). */
  tick(infId: string): Promise<TickReport> {
    const m = this.infs.get(infId);
    if (!m) return Promise.reject(new NoElasticityError(infId));
    // Ticks of one infrastructure never overlap; GET/PUT only wait for the short state steps.
    const next = m.ticks.then(() => this.runTick(infId, m));
    m.ticks = next.catch(() => undefined);
    return next;
  }

  async view(infId: string): Promise<ElasticityView> {
    return this.serial(infId, async (m) => {
      const state = await this.load(infId);
      return elasticityView(infId, this.effective(m, state), state, this.deps.clock.now());
    });
  }

  /** The policy in effect (template + live changes): what a simulation starts from. */
  async policy(infId: string): Promise<ElasticPolicy> {
    return this.serial(infId, async (m) => this.effective(m, await this.load(infId)));
  }

  /** PUT …/elasticity: knobs (aliases accepted), `paused`, and per-node {"nodes": {vmId: {protected}}}. */
  async update(infId: string, body: unknown): Promise<ElasticityView> {
    return this.serial(infId, async (m) => {
      const state = await this.load(infId);
      const now = this.deps.clock.now();
      const current = this.effective(m, state);
      let knobs = body;
      if (body && typeof body === 'object' && !Array.isArray(body) && 'nodes' in body) {
        const { nodes, ...rest } = body as Record<string, unknown>;
        this.applyNodeFlags(state, nodes);
        knobs = rest;
      }
      const { policy, changed } = applyKnobChanges(current, knobs);
      Object.assign(state.policyChanges, changed);
      if (Object.keys(changed).length) {
        this.record(infId, state, { at: now, type: 'PolicyChanged', reason: JSON.stringify(changed) });
      }
      await this.deps.store.save(infId, state);
      return elasticityView(infId, policy, state, now);
    });
  }

  private applyNodeFlags(state: ElasticState, nodes: unknown): void {
    if (!nodes || typeof nodes !== 'object' || Array.isArray(nodes)) {
      throw new InvalidInputError('elasticity: "nodes" must be an object of vmId → {"protected": boolean}');
    }
    for (const [vmId, flags] of Object.entries(nodes as Record<string, unknown>)) {
      const rec = state.nodes[vmId];
      if (!rec) throw new InvalidInputError(`elasticity: "nodes": VM ${vmId} is not an elastic node of this infrastructure`);
      const prot = (flags as { protected?: unknown } | null)?.protected;
      if (typeof prot !== 'boolean') throw new InvalidInputError(`elasticity: "nodes.${vmId}.protected" must be a boolean`);
      rec.protected = prot || undefined;
    }
  }

  private effective(m: Managed, state: ElasticState): ElasticPolicy {
    try {
      return validatePolicy({ ...m.base, ...state.policyChanges } as ElasticPolicy);
    } catch {
      // The template changed under a live edit that no longer fits: the template wins.
      state.policyChanges = {};
      return m.base;
    }
  }

  private serial<T>(infId: string, fn: (m: Managed) => Promise<T>): Promise<T> {
    const m = this.infs.get(infId);
    if (!m) return Promise.reject(new NoElasticityError(infId));
    return this.serialOn(m, () => fn(m));
  }

  /** A running tick keeps its infrastructure's queue even if it is unregistered meanwhile. */
  private serialOn<T>(m: Managed, fn: () => Promise<T>): Promise<T> {
    const next = m.queue.then(fn);
    m.queue = next.catch(() => undefined);
    return next;
  }

  private schedule(infId: string, ms: number): void {
    const m = this.infs.get(infId);
    if (!m || !this.started) return;
    m.timer = this.deps.clock.setTimer(() => {
      m.timer = undefined;
      this.tick(infId)
        .catch(() => undefined)
        .then(async () => {
          const state = await this.load(infId).catch(() => emptyState());
          this.schedule(infId, this.effective(m, state).check_every_s * 1000);
        });
    }, ms);
  }

  private async load(infId: string): Promise<ElasticState> {
    return (await this.deps.store.load(infId)) ?? emptyState();
  }

  private record(infId: string, state: ElasticState, e: ElasticEvent): void {
    state.events.push(e);
    if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
    this.deps.events?.(infId, e);
  }

  private async runTick(infId: string, m: Managed): Promise<TickReport> {
    const { clock, actions } = this.deps;
    const started = clock.now();
    const policy = await this.serialOn(m, async () => this.effective(m, await this.load(infId)));

    let sample: ProbeSample | undefined;
    let probeError: string | undefined;
    const adapter = (this.deps.adapterFor ?? defaultAdapterFor)(policy);
    if (!adapter) {
      probeError = `no probe: lrms "${policy.lrms}" needs probe_command`;
    } else {
      try {
        sample = await adapter.sense(this.deps.exec(infId), clock.now());
        sample.takenAt = clock.now();
      } catch (e) {
        probeError = (e as Error).message;
      }
    }

    const locked = actions.withLock ? actions.withLock.bind(actions) : <T>(_: string, fn: () => Promise<T>) => fn();
    const report = await locked(infId, () => this.decideAndAct(infId, m, policy, adapter, sample, probeError)).catch(async (e: Error) => {
      // The engine could not be asked (listVms failed, store down…): say so, try again next tick.
      const ev: ElasticEvent = { at: clock.now(), type: 'TickFailed', reason: e.message };
      this.deps.events?.(infId, ev);
      await this.serialOn(m, async () => {
        const s = await this.load(infId);
        if (s.events.at(-1)?.type !== 'TickFailed' || s.events.at(-1)?.reason !== e.message) this.record(infId, s, ev);
        await this.deps.store.save(infId, s);
      }).catch(() => undefined);
      throw e;
    });

    const counts: Record<string, number> = {};
    for (const r of Object.values(report.state.nodes)) counts[r.phase] = (counts[r.phase] ?? 0) + 1;
    this.metrics.setNodes(infId, counts);
    this.metrics.demand.set({ infrastructure: infId }, report.decision.demand.eligible_slots);
    this.metrics.loopSeconds.observe((clock.now() - started) / 1000);
    return report;
  }

  private async decideAndAct(infId: string, m: Managed, policy: ElasticPolicy, adapter: LrmsAdapter | undefined,
    sample: ProbeSample | undefined, probeError: string | undefined): Promise<TickReport> {
    const { clock, actions } = this.deps;
    // Inside the lock: re-read what the engine has, after any user add/remove finished.
    const { workers, masterVmIds } = await actions.listVms(infId, policy.target, policy.frontEnd);
    const input = { policy, sample, probeError, vms: workers, masterVmIds };
    // The cloud is asked for its quota only on a tick that would grow the cluster (decide is pure:
    // a first pass without the quota tells), so a steady cluster costs no cloud calls.
    let quotaLeft: number | undefined;
    let createsLeft: number | undefined;
    let budgetKey: string | undefined;
    let takenAt = 0;
    const rate = policy.max_creates_per_minute;
    if (actions.quotaLeft || rate > 0) {
      const peek = await this.serialOn(m, async () => decide({ ...input, state: await this.load(infId), now: clock.now() }));
      const peekAdd = peek.state.lastDecision?.add ?? 0; // dry run included: its reason shows the clamps too
      if (peekAdd > 0 && actions.quotaLeft) quotaLeft = await actions.quotaLeft(infId, policy.target);
      if (peekAdd > 0 && rate > 0) {
        budgetKey = (await actions.accountKey?.(infId, policy.target).catch(() => undefined)) ?? `infrastructure:${infId}`;
        // Taken now, atomically (one synchronous step, or one transaction of the store), so two
        // infrastructures on one account ticking together cannot spend the same tokens; what the
        // decision does not use goes back.
        takenAt = clock.now();
        createsLeft = await this.budget.take(budgetKey, rate, peekAdd, takenAt);
      }
    }
    const decision = await this.serialOn(m, async () => {
      const d = decide({ ...input, state: await this.load(infId), now: clock.now(), quotaLeft, createsLeft });
      // Persist before acting: a crash mid-action finds the phase set and repeats the idempotent step.
      await this.deps.store.save(infId, d.state);
      return d;
    });
    if (budgetKey !== undefined && createsLeft !== undefined) {
      const used = decision.intents.reduce((n, i) => n + (i.kind === 'add' ? i.count : 0), 0);
      await this.budget.refund(budgetKey, createsLeft - used, takenAt);
    }
    for (const e of decision.events) this.deps.events?.(infId, e);
    this.observeJoins(decision);
    // Engine calls may take minutes: GET/PUT are not held up by them; results are applied to
    // the state as it is then (an operator may have changed knobs meanwhile).
    const patches = await this.act(infId, policy, adapter, decision.state, decision.intents);
    const state = await this.serialOn(m, async () => {
      const s = await this.load(infId);
      for (const patch of patches) patch(s);
      if (s.events.length > MAX_EVENTS) s.events.splice(0, s.events.length - MAX_EVENTS);
      await this.deps.store.save(infId, s);
      return s;
    });
    return { decision, state };
  }

  private observeJoins(d: Decision): void {
    for (const e of d.events) {
      if (e.type !== 'NodeJoined') continue;
      const r = d.state.nodes[e.vmIds?.[0] ?? ''];
      if (r && !r.adopted && r.joinedAt !== undefined) this.metrics.joinSeconds.observe((r.joinedAt - r.requestedAt) / 1000);
    }
  }

  private async runOnMaster(infId: string, command: string): Promise<void> {
    const r = await this.deps.exec(infId)(command);
    if (r.code !== 0) throw new Error(`${command.split(' ')[0]} exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
  }

  /**
   * Carry out the intents. Failures are recorded and retried or rolled back, never thrown.
   * Returns the state changes to apply once done (to the state as it is then).
   */
  private async act(infId: string, p: ElasticPolicy, adapter: LrmsAdapter | undefined, decided: ElasticState, intents: Intent[]): Promise<Patch[]> {
    const { clock, actions } = this.deps;
    const patches: Patch[] = [];
    const ev = (type: ElasticEvent['type'], reason: string, vmIds?: string[]) => {
      const e: ElasticEvent = { at: clock.now(), type, reason, ...(vmIds ? { vmIds } : {}) };
      this.deps.events?.(infId, e);
      patches.push((s) => { s.events.push(e); });
    };
    const onNode = (vmId: string, fn: (r: NodeRecord) => void) => patches.push((s) => { const r = s.nodes[vmId]; if (r) fn(r); });
    const count = (kind: string, ok: boolean) => this.metrics.actions.inc({ kind, result: ok ? 'ok' : 'error' });
    const drainFn = async (vmId: string, host: string, undo: boolean) => {
      const custom = undo ? actions.undrain : actions.drain;
      if (custom) return custom.call(actions, infId, vmId, host);
      if (!adapter) throw new Error('no LRMS adapter');
      await this.runOnMaster(infId, undo ? adapter.undrainCommand(host) : adapter.drainCommand(host));
    };

    for (const i of intents.filter((x) => x.kind === 'undrain') as Extract<Intent, { kind: 'undrain' }>[]) {
      try {
        await drainFn(i.vmId, i.host, true);
        onNode(i.vmId, (r) => { r.undrainPending = undefined; });
        count('undrain', true);
      } catch (e) {
        onNode(i.vmId, (r) => { r.undrainPending = true; });
        count('undrain', false);
        ev('DrainAborted', `undrain failed, will retry: ${(e as Error).message}`, [i.vmId]);
      }
    }
    for (const i of intents.filter((x) => x.kind === 'remove') as Extract<Intent, { kind: 'remove' }>[]) {
      try {
        await actions.removeVms(infId, i.vmIds);
        count('remove', true);
        for (const id of i.vmIds) {
          const r = decided.nodes[id];
          if (r?.removeReason === 'drained' && r.drainStartedAt !== undefined) this.metrics.drainSeconds.observe((clock.now() - r.drainStartedAt) / 1000);
          if (r?.host && adapter?.forgetCommand) await this.runOnMaster(infId, adapter.forgetCommand(r.host)).catch(() => undefined);
          ev('NodeRemoved', r?.removeReason ?? 'removed', [id]);
          patches.push((s) => { delete s.nodes[id]; });
        }
      } catch (e) {
        count('remove', false);
        ev('RemoveFailed', `will retry: ${(e as Error).message}`, i.vmIds);
      }
    }
    const reuse: ReuseCtx = {
      infId, actions, decided, patches, ev, onNode, count, now: () => clock.now(),
      forget: async (host) => { if (adapter?.forgetCommand) await this.runOnMaster(infId, adapter.forgetCommand(host)).catch(() => undefined); },
    };
    for (const i of intents.filter((x) => x.kind === 'stop') as Extract<Intent, { kind: 'stop' }>[]) await stopNodes(reuse, i);
    for (const i of intents.filter((x) => x.kind === 'drain') as Extract<Intent, { kind: 'drain' }>[]) {
      try {
        await drainFn(i.vmId, i.host, false);
        const at = clock.now();
        onNode(i.vmId, (r) => { if (r.phase === 'draining') r.drainIssuedAt = at; });
        count('drain', true);
      } catch (e) {
        count('drain', false);
        const at = clock.now();
        onNode(i.vmId, (r) => {
          r.phase = 'joined';
          r.phaseSince = at;
          r.idleSince = undefined;
          r.drainStartedAt = r.drainDeadline = r.drainIssuedAt = undefined;
          r.undrainPending = true; // a half-applied drain (cordoned, not drained) must be undone
        });
        ev('DrainAborted', `drain command failed: ${(e as Error).message}`, [i.vmId]);
      }
    }
    for (const i of intents.filter((x) => x.kind === 'start') as Extract<Intent, { kind: 'start' }>[]) await startNodes(reuse, i);
    for (const i of intents.filter((x) => x.kind === 'add') as Extract<Intent, { kind: 'add' }>[]) {
      const now = clock.now();
      try {
        const ids = await actions.addNodes(infId, p.target, i.count);
        patches.push((s) => {
          for (const vmId of ids) {
            // The VM may already have been adopted by a tick that saw it first: it is ours.
            s.nodes[vmId] = { ...s.nodes[vmId], vmId, phase: s.nodes[vmId]?.phase ?? 'booting', phaseSince: s.nodes[vmId]?.phaseSince ?? now,
              requestedAt: now, joinDeadline: now + p.join_timeout_s * 1000, adopted: undefined };
          }
          s.lastScaleUpAt = now;
        });
        count('add', ids.length === i.count);
        ev('ScaleUpRequested', `${ids.length} of ${i.count} node(s) requested: ${decided.lastDecision?.reason ?? ''}`, ids);
        if (ids.length < i.count) ev('ScaleUpFailed', `partial success: ${ids.length} of ${i.count} created, the rest retried later`);
      } catch (e) {
        count('add', false);
        // Cloud refusals (quota, 429) back off instead of retrying every tick (E-RATE-2).
        const ms = backoffMs(decided.backoffLevel) * (0.8 + 0.4 * Math.random());
        patches.push((s) => { s.suspendedUntil = now + ms; s.backoffLevel += 1; });
        ev('ScaleUpFailed', `${(e as Error).message}; scale-up paused for ${Math.round(ms / 1000)} s`);
      }
    }
    return patches;
  }
}

type Patch = (s: ElasticState) => void;

