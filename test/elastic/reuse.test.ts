/** E-DOWN-6 stop/start reuse (`reuse_nodes`): decisions (table-driven) and the manager loop (fake clock, Dummy cloud). */
import { InvalidInputError } from '../../server/errors';
import { FakeClock } from '../../server/elastic/clock';
import { type DecideInput, type Intent, decide } from '../../server/elastic/decide';
import { ElasticManager } from '../../server/elastic/manager';
import { DEFAULTS, applyKnobChanges, policyFromPlan } from '../../server/elastic/policy';
import type { ElasticPolicy } from '../../server/elastic/policy';
import { type ElasticEvent, type NodeRecord, MemoryStateStore } from '../../server/elastic/state';
import { FakeCluster } from './fakes';
import { MIN, S, T0, host, input, pol, rec, sample, stateWith, vm } from './helpers';

const of = (i: Intent[], kind: 'stop' | 'start' | 'remove') => i.flatMap((x) => (x.kind === kind ? x.vmIds : []));
const adds = (i: Intent[]) => i.reduce((n, x) => n + (x.kind === 'add' ? x.count : 0), 0);
const types = (events: { type: string }[]) => events.map((e) => e.type);
const reuse = (o: Partial<ElasticPolicy> = {}) => pol({ reuse_nodes: true, max_booting_nodes: 0, ...o });
const stopped = (vmId: string, o: Partial<NodeRecord> = {}) => rec(vmId, 'stopped', { host: `h-${vmId}`, ...o });
/** decide() input whose engine view shows the stopped nodes' VMs stopped and whose LRMS does not list them. */
const inp = (i: Partial<DecideInput> & { nodes?: NodeRecord[] }) => {
  const nodes = i.nodes ?? [];
  const off = (r: NodeRecord) => r.phase === 'stopped' || r.phase === 'stopping';
  return input({
    vms: nodes.map((r) => vm(r.vmId, off(r) ? 'stopped' : 'running')),
    sample: sample(i.now ?? T0, nodes.filter((r) => r.phase !== 'booting' && !off(r)).map((r) => host(r.vmId))),
    ...i,
  });
};

describe('E-DOWN-6 the knob', () => {
  test('default false; EC3 alias ec3_reuse_nodes; invalid → 400 naming it', () => {
    expect(DEFAULTS.reuse_nodes).toBe(false);
    const plan = { source: 'elastic-cluster' as const, target: 'wn', frontEnd: 'front', minInstances: 0, maxInstances: 3, options: { ec3_reuse_nodes: 'true' } };
    expect(policyFromPlan(plan).reuse_nodes).toBe(true);
    expect(applyKnobChanges(pol(), { reuse_nodes: true }).policy.reuse_nodes).toBe(true);
    expect(() => applyKnobChanges(pol(), { reuse_nodes: 'maybe' })).toThrow(InvalidInputError);
    expect(() => applyKnobChanges(pol(), { ec3_reuse_nodes: 3 })).toThrow(/knob "reuse_nodes" \(given as ec3_reuse_nodes\) must be a boolean/);
  });
});

describe('E-DOWN-6 scale-down stops instead of deleting', () => {
  // A drain issued before the sample: the sample confirms it.
  const drained = () => rec('vm1', 'draining', { drainIssuedAt: T0 - 10 * S, drainDeadline: T0 + 5 * MIN });
  test.each<[string, ElasticPolicy, string[], string[], NodeRecord['phase']]>([
    ['reuse_nodes: drained → stopping, a stop intent', reuse(), ['vm1'], [], 'stopping'],
    ['default: drained → removing, a remove intent', pol(), [], ['vm1'], 'removing'],
  ])('%s', (_n, policy, stops, removes, phase) => {
    const d = decide(inp({ policy, nodes: [drained()] }));
    expect(of(d.intents, 'stop')).toEqual(stops);
    expect(of(d.intents, 'remove')).toEqual(removes);
    expect(d.state.nodes.vm1.phase).toBe(phase);
  });

  test('a stop that failed is asked again on the next tick', () => {
    const d = decide(inp({ policy: reuse(), nodes: [rec('vm1', 'stopping')] }));
    expect(of(d.intents, 'stop')).toEqual(['vm1']);
  });

  test('stopped nodes are not capacity: the floor counts joined nodes only', () => {
    // min 1: the joined idle node must stay even though a stopped one exists.
    const nodes = [rec('vm1', 'joined', { idleSince: T0 - 60 * MIN }), stopped('vm2')];
    const d = decide(inp({ policy: reuse({ min_nodes: 1, scale_down_delay_after_add_s: 0 }), nodes }));
    expect(d.intents.filter((i) => i.kind === 'drain')).toEqual([]);
  });

  test('reuse_nodes turned off: the stopped pool is deleted', () => {
    const d = decide(inp({ policy: pol(), nodes: [stopped('vm2')] }));
    expect(of(d.intents, 'remove')).toEqual(['vm2']);
  });
});

describe('E-DOWN-6 scale-up starts stopped nodes first', () => {
  test.each<[string, Partial<DecideInput> & { nodes?: NodeRecord[] }, string[], number, RegExp?]>([
    ['demand for 1 node, 1 stopped → start it, add none',
      { policy: reuse(), nodes: [stopped('vm1')], sample: sample(T0, [], 4) }, ['vm1'], 0, /starting 1 stopped/],
    ['demand for 3 nodes, 1 stopped → start 1 + add 2',
      { policy: reuse(), nodes: [stopped('vm1')], sample: sample(T0, [], 12) }, ['vm1'], 2, undefined],
    ['oldest stopped first',
      { policy: reuse(), nodes: [stopped('vm2', { phaseSince: T0 - 5 * MIN }), stopped('vm1', { phaseSince: T0 - 50 * MIN })], sample: sample(T0, [], 4) }, ['vm1'], 0, undefined],
    ['max_nodes 2 with 2 stopped: both started (they are already counted), none added',
      { policy: reuse({ max_nodes: 2 }), nodes: [stopped('vm1'), stopped('vm2')], sample: sample(T0, [], 40) }, ['vm1', 'vm2'], 0, /max_nodes reached/],
    ['max_nodes 3, 1 stopped + 1 busy: start 1, add 1',
      { policy: reuse({ max_nodes: 3 }), nodes: [stopped('vm1'), rec('vm2', 'joined', { lrmsState: 'busy', busy: 4 })], sample: sample(T0, [host('vm2', 4)], 40) }, ['vm1'], 1, /max_nodes reached/],
    ['cloud quota 0: the stopped node holds its quota and is still started',
      { policy: reuse(), nodes: [stopped('vm1')], sample: sample(T0, [], 8), quotaLeft: 0 }, ['vm1'], 0, /cloud quota reached/],
    ['max_nodes_per_step bounds starts and adds together',
      { policy: reuse({ max_nodes_per_step: 2 }), nodes: [stopped('vm1'), stopped('vm2'), stopped('vm3')], sample: sample(T0, [], 40) }, ['vm1', 'vm2'], 0, /max_nodes_per_step reached/],
    ['warm pool (min 1) is met by starting, not adding',
      { policy: reuse({ min_nodes: 1 }), nodes: [stopped('vm1')], sample: sample(T0, [], 0) }, ['vm1'], 0, /warm pool/],
    ['no demand: stopped nodes stay stopped',
      { policy: reuse(), nodes: [stopped('vm1')], sample: sample(T0, [], 0) }, [], 0, /no waiting work/],
  ])('%s', (_n, i, starts, added, reason) => {
    const d = decide(inp(i));
    expect(of(d.intents, 'start')).toEqual(starts);
    expect(adds(d.intents)).toBe(added);
    if (reason) expect(d.reason).toMatch(reason);
    for (const id of starts) {
      expect(d.state.nodes[id]).toMatchObject({ phase: 'booting', requestedAt: T0, joinDeadline: T0 + DEFAULTS.join_timeout_s * 1000, reused: true });
    }
  });

  test('a started node counts as in flight: the next tick asks for nothing more', () => {
    const d1 = decide(inp({ policy: reuse(), nodes: [stopped('vm1')], sample: sample(T0, [], 4) }));
    const d2 = decide(inp({ policy: reuse(), state: d1.state, now: T0 + 15 * S, sample: sample(T0 + 15 * S, [], 4), vms: [vm('vm1')] }));
    expect(d2.intents).toEqual([]);
  });

  test('the started node joins again, and its drain is lifted (Slurm DRAIN outlives a stop)', () => {
    const d1 = decide(inp({ policy: reuse(), nodes: [stopped('vm1')], sample: sample(T0, [], 4) }));
    const d2 = decide(inp({ policy: reuse(), state: d1.state, now: T0 + 2 * MIN, sample: sample(T0 + 2 * MIN, [host('vm1')], 0), vms: [vm('vm1')] }));
    expect(d2.state.nodes.vm1).toMatchObject({ phase: 'joined', undrainPending: true });
    expect(d2.state.nodes.vm1.reused).toBeUndefined();
    expect(d2.intents).toContainEqual({ kind: 'undrain', vmId: 'vm1', host: 'h-vm1' });
  });

  test('a stopped node that could not be started is deleted and counted as a join failure', () => {
    const nodes = [rec('vm1', 'booting', { startFailed: 'boom', reused: true })];
    const d = decide(inp({ policy: reuse(), nodes, sample: sample(T0, [], 0) }));
    expect(of(d.intents, 'remove')).toEqual(['vm1']);
    expect(d.state.nodes.vm1).toMatchObject({ phase: 'removing', removeReason: 'start-failed' });
    expect(d.state.consecutiveJoinFailures).toBe(1);
    expect(types(d.events)).toContain('NodeFailed');
  });

  test('a started node that never re-joins is deleted at its join deadline, even if it was adopted once', () => {
    const d1 = decide(inp({ policy: reuse(), nodes: [stopped('vm1', { adopted: true })], sample: sample(T0, [], 4) }));
    const late = T0 + DEFAULTS.join_timeout_s * 1000;
    const d2 = decide(inp({ policy: reuse(), state: d1.state, now: late, sample: sample(late, [], 0), vms: [vm('vm1')] }));
    expect(of(d2.intents, 'remove')).toEqual(['vm1']);
    expect(d2.state.consecutiveJoinFailures).toBe(1);
  });

  test('a stopped node started by the user must join again', () => {
    const d = decide(inp({ policy: reuse(), nodes: [stopped('vm1')], sample: sample(T0, [], 0), vms: [vm('vm1', 'running')] }));
    expect(d.state.nodes.vm1.phase).toBe('booting');
    expect(types(d.events)).toContain('NodeStarted');
  });

  test('a stopped VM stays stopped in the engine view: no vanish, no adoption', () => {
    const state = stateWith([stopped('vm1')]);
    const d = decide(inp({ policy: reuse(), state, sample: sample(T0, [], 0), vms: [vm('vm1', 'stopped')] }));
    expect(d.state.nodes.vm1.phase).toBe('stopped');
    expect(d.events).toEqual([]);
  });
});

// ── the manager loop ────────────────────────────────────────────────────────────────────────

/** FakeCluster with the engine's stop/start: a stopped VM's startd is gone from the collector. */
class ReuseCluster extends FakeCluster {
  failStart = new Set<string>();
  failStop = false;
  async stopVms(_infId: string, vmIds: string[]): Promise<Record<string, string>> {
    this.calls.push(`stop ${vmIds.join(',')}`);
    if (this.failStop) return Object.fromEntries(vmIds.map((id) => [id, 'cloud says no']));
    for (const id of vmIds) {
      await this.cloud.stop(this.workers.get(id)!.handle);
      this.hosts.delete(this.ip(id));
    }
    return {};
  }
  async startVms(_infId: string, vmIds: string[]): Promise<Record<string, string>> {
    this.calls.push(`start ${vmIds.join(',')}`);
    const failed: Record<string, string> = {};
    for (const id of vmIds) {
      if (this.failStart.has(id)) failed[id] = 'Error in start operation: no host available';
      else await this.cloud.start(this.workers.get(id)!.handle);
    }
    return failed;
  }
}

function setup(policy: ElasticPolicy, store = new MemoryStateStore()) {
  const clock = new FakeClock(T0);
  const cluster = new ReuseCluster();
  const events: ElasticEvent[] = [];
  const make = () => {
    const m = new ElasticManager({ clock, actions: cluster, exec: () => cluster.exec, store, events: (_i, e) => events.push(e) });
    m.register('inf1', policy);
    return m;
  };
  let m = make();
  const step = async (ms: number) => { clock.advance(ms); cluster.schedule(); return m.tick('inf1'); };
  return { clock, cluster, events, store, step, restart: () => { m = make(); }, view: () => m.view('inf1') };
}

const condorReuse = (o: Partial<ElasticPolicy> = {}) => pol({
  lrms: 'htcondor', probe_command: undefined, max_nodes: 3, reuse_nodes: true,
  idle_before_scale_down_s: 60, scale_down_delay_after_add_s: 0, ...o,
});

/** One worker, registered and idle, then ticks until the manager has stopped it. */
async function toStopped(s: ReturnType<typeof setup>) {
  await s.cluster.addNodes('inf1', 'wn', 1);
  s.cluster.join('1');
  await s.step(0);
  let r = await s.step(15 * S);
  for (let i = 0; i < 12 && r.state.nodes['1']?.phase !== 'stopped'; i++) r = await s.step(15 * S);
  return r;
}

describe('E-DOWN-6 manager: stop, then start on demand', () => {
  test('idle node → drained (condor_off) → stopped through the engine, not removed; survives a restart', async () => {
    const s = setup(condorReuse());
    const r = await toStopped(s);
    expect(r.state.nodes['1'].phase).toBe('stopped');
    expect(s.cluster.calls).toContainEqual(expect.stringMatching(/^condor_off -peaceful -startd /));
    expect(s.cluster.calls).toContain('stop 1');
    expect(s.cluster.calls.some((c) => c.startsWith('remove'))).toBe(false);
    expect((await s.cluster.cloud.describe(s.cluster.workers.get('1')!.handle)).state).toBe('stopped');
    expect(types(s.events)).toEqual(expect.arrayContaining(['DrainStarted', 'NodeStopped']));
    // The drain came before the stop.
    expect(s.cluster.calls.findIndex((c) => c.startsWith('condor_off'))).toBeLessThan(s.cluster.calls.indexOf('stop 1'));

    s.restart();
    const after = await s.step(15 * S);
    expect(after.state.nodes['1'].phase).toBe('stopped');
    expect((await s.view()).nodes).toEqual([expect.objectContaining({ vm_id: '1', state: 'stopped' })]);
  });

  test('next demand starts the stopped node (no new VM); it re-joins and its drain is lifted', async () => {
    const s = setup(condorReuse());
    await toStopped(s);
    s.cluster.waiting = 4;
    s.cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    const up = await s.step(15 * S);
    expect(up.decision.intents).toEqual([{ kind: 'start', vmIds: ['1'] }]);
    expect(s.cluster.calls).toContain('start 1');
    expect(s.cluster.calls.filter((c) => c.startsWith('add'))).toEqual(['add wn 1']); // the test's own, before
    expect(up.state.nodes['1'].phase).toBe('booting');
    expect(types(s.events)).toContain('NodeStarted');
    expect((await s.cluster.cloud.describe(s.cluster.workers.get('1')!.handle)).state).toBe('running');

    s.cluster.join('1');
    const joined = await s.step(15 * S);
    expect(joined.state.nodes['1'].phase).toBe('joined');
    expect(s.cluster.calls.filter((c) => c.startsWith('condor_on'))).toHaveLength(1);
    expect(joined.state.nodes['1'].undrainPending).toBeUndefined();
  });

  test('a stopped node that fails to start is deleted and counted as a join failure', async () => {
    const s = setup(condorReuse());
    await toStopped(s);
    s.cluster.failStart.add('1');
    s.cluster.waiting = 4;
    s.cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    await s.step(15 * S);
    expect(types(s.events)).toContain('StartFailed');
    const next = await s.step(15 * S);
    expect(s.cluster.removed).toEqual(['1']);
    expect(next.state.nodes['1']).toBeUndefined();
    expect(next.state.consecutiveJoinFailures).toBe(1);
    expect(types(s.events)).toEqual(expect.arrayContaining(['NodeFailed', 'NodeRemoved']));
    // The demand is still there: the same tick asks for a new VM instead.
    expect(next.decision.intents).toEqual([{ kind: 'remove', vmIds: ['1'] }, { kind: 'add', count: 1 }]);
    expect(next.state.nodes['2']).toMatchObject({ phase: 'booting' });
  });

  test('a stop the engine refuses is retried, the node never removed', async () => {
    const s = setup(condorReuse());
    s.cluster.failStop = true;
    await s.cluster.addNodes('inf1', 'wn', 1);
    s.cluster.join('1');
    await s.step(0);
    for (let i = 0; i < 10; i++) await s.step(15 * S);
    expect(s.cluster.calls.filter((c) => c === 'stop 1').length).toBeGreaterThan(1);
    expect(types(s.events)).toContain('StopFailed');
    s.cluster.failStop = false;
    const r = await s.step(15 * S);
    expect(r.state.nodes['1'].phase).toBe('stopped');
    expect(s.cluster.removed).toEqual([]);
  });

  test('default (reuse_nodes false): the drained node is removed, nothing stopped', async () => {
    const s = setup(condorReuse({ reuse_nodes: false }));
    await s.cluster.addNodes('inf1', 'wn', 1);
    s.cluster.join('1');
    await s.step(0);
    for (let i = 0; i < 10 && s.cluster.removed.length === 0; i++) await s.step(15 * S);
    expect(s.cluster.removed).toEqual(['1']);
    expect(s.cluster.calls.some((c) => c.startsWith('stop'))).toBe(false);
  });
});
