/** The manager loop with a fake clock, a simulated HTCondor master and the Dummy cloud. */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { CloudError, InvalidInputError } from '../../server/errors';
import { FakeClock } from '../../server/elastic/clock';
import { ElasticManager, NoElasticityError, type ElasticActions } from '../../server/elastic/manager';
import { ElasticMetrics } from '../../server/elastic/metrics';
import type { ElasticPolicy } from '../../server/elastic/policy';
import { type ElasticEvent, type ElasticStateStore, FileStateStore, KvStateStore, MemoryStateStore } from '../../server/elastic/state';
import { openStore } from '../../server/store';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { elasticityPutSchema, elasticityViewSchema } from '../../server/elastic/schema';
import { FakeCluster } from './fakes';
import { MIN, S, T0, pol } from './helpers';

const condorPolicy = (o: Partial<ElasticPolicy> = {}) =>
  pol({ lrms: 'htcondor', probe_command: undefined, max_nodes: 5, max_booting_nodes: 3, ...o });

function setup(o: { policy?: ElasticPolicy; store?: ElasticStateStore; clock?: FakeClock; cluster?: FakeCluster; actions?: ElasticActions } = {}) {
  const clock = o.clock ?? new FakeClock(T0);
  const cluster = o.cluster ?? new FakeCluster();
  const events: ElasticEvent[] = [];
  const metrics = new ElasticMetrics();
  const store = o.store ?? new MemoryStateStore();
  const m = new ElasticManager({ clock, actions: o.actions ?? cluster, exec: () => cluster.exec, store, events: (_i, e) => events.push(e), metrics });
  m.register('inf1', o.policy ?? condorPolicy());
  /** Advance the clock, let the simulated negotiator run, then tick. */
  const step = async (ms: number) => { clock.advance(ms); cluster.schedule(); return m.tick('inf1'); };
  return { clock, cluster, events, metrics, m, store, step };
}
const types = (events: ElasticEvent[]) => events.map((e) => e.type);

describe('scenario: master + 0 workers grows with the queue and shrinks without killing a busy node', () => {
  test('12 jobs → 3 workers (4 slots each); done → drained and removed back to min; the busy worker stays', async () => {
    const { cluster, events, m, step } = setup();
    cluster.waiting = 12;
    cluster.queuedAt = T0 / 1000;
    // No worker at all: no slot can free up, so there is nothing to wait for.
    const up = await step(0);
    expect(up.decision.intents).toEqual([{ kind: 'add', count: 3 }]);
    expect((await step(60 * S)).decision.intents).toEqual([]); // covered by the 3 booting
    expect(cluster.calls).toContain('add wn 3');
    expect([...cluster.workers.keys()]).toEqual(['1', '2', '3']);

    // The VMs boot and register; the negotiator starts the 12 jobs on them.
    await step(2 * MIN);
    cluster.joinAll();
    cluster.schedule();
    const joined = await step(15 * S);
    expect(Object.values(joined.state.nodes).map((n) => n.phase)).toEqual(['joined', 'joined', 'joined']);
    expect(cluster.waiting).toBe(0);

    // Jobs finish except one on worker 2.
    cluster.finishAll();
    cluster.setBusy('2', 1);
    for (let t = 0; t < 14 * MIN; t += 15 * S) await step(15 * S);
    expect(cluster.removed.sort()).toEqual(['1', '3']);
    expect(cluster.busyRemoved).toEqual([]);
    expect([...cluster.workers.keys()]).toEqual(['2']);
    expect(cluster.calls.filter((c) => c.startsWith('condor_off'))).toHaveLength(2);
    expect(cluster.calls.some((c) => c.startsWith('remove 1') || c.includes('1,3') || c.startsWith('remove 3'))).toBe(true);

    // The last job ends: the node is removed after its own idle time, back to min = 0.
    cluster.finishAll();
    for (let t = 0; t < 12 * MIN; t += 15 * S) await step(15 * S);
    expect(cluster.workers.size).toBe(0);
    expect(cluster.busyRemoved).toEqual([]);
    expect(types(events)).toEqual(expect.arrayContaining(['ScaleUpRequested', 'NodeJoined', 'DrainStarted', 'NodeRemoved']));
    const v = await m.view('inf1');
    expect(v.capacity.nodes).toBe(0);
  });
});

describe('E-DOWN-2 drain first, abort when work starts', () => {
  test('a job that starts during the drain aborts it: condor_on, node back in service, not removed', async () => {
    const { clock, cluster, events, step } = setup({ policy: condorPolicy({ min_nodes: 0, idle_before_scale_down_s: 60, scale_down_delay_after_add_s: 0 }) });
    await cluster.addNodes('inf1', 'wn', 1);
    cluster.join('1');
    await step(0); // adopted, then seen: joined
    let drain = await step(15 * S);
    for (let i = 0; i < 8 && drain.decision.intents.length === 0; i++) drain = await step(15 * S);
    expect(clock.now() - T0).toBe(60 * S); // idle for the whole idle time, not earlier
    expect(drain.decision.intents).toEqual([{ kind: 'drain', vmId: '1', host: expect.stringMatching(/novalocal$/) }]);
    expect(cluster.calls).toContainEqual(expect.stringMatching(/^condor_off -peaceful -startd '.*novalocal'$/));
    cluster.setBusy('1', 1); // a claim raced the drain
    const abort = await step(15 * S);
    expect(abort.decision.intents).toEqual([{ kind: 'undrain', vmId: '1', host: expect.any(String) }]);
    expect(cluster.calls).toContainEqual(expect.stringMatching(/^condor_on -startd /));
    expect(abort.state.nodes['1'].phase).toBe('joined');
    expect(types(events)).toContain('DrainAborted');
    expect(cluster.removed).toEqual([]);
  });
  test('a failing drain command aborts and is undone', async () => {
    const { cluster, events, step } = setup({ policy: condorPolicy({ idle_before_scale_down_s: 60, scale_down_delay_after_add_s: 0 }) });
    await cluster.addNodes('inf1', 'wn', 1);
    cluster.join('1');
    await step(0);
    const realExec = cluster.exec;
    (cluster as { exec: typeof realExec }).exec = async (c) => (c.startsWith('condor_off') ? { code: 1, stdout: '', stderr: 'permission denied' } : realExec(c));
    let r = await step(15 * S);
    for (let i = 0; i < 8 && !r.state.nodes['1'].undrainPending; i++) r = await step(15 * S);
    expect(r.state.nodes['1']).toMatchObject({ phase: 'joined', undrainPending: true });
    expect(events.find((e) => e.type === 'DrainAborted')?.reason).toMatch(/permission denied/);
    // The half-applied drain is undone on the next tick.
    r = await step(15 * S);
    expect(cluster.calls).toContainEqual(expect.stringMatching(/^condor_on -startd /));
    expect(r.state.nodes['1'].undrainPending).toBeUndefined();
  });
});

describe('E-STATE-1 restart resumes with the same deadlines', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'elastic-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A store as a fresh server process opens it. */
  const stores: Record<string, (dir: string) => Promise<{ store: ElasticStateStore; close: () => Promise<void> }>> = {
    'the server store (SQLite, elastic_state)': async (d) => {
      const db = await openStore('sqlite:' + path.join(d, 'tosca-im.db'));
      return { store: new KvStateStore(db), close: () => db.close() };
    },
    'a JSON file per infrastructure': async (d) => ({ store: new FileStateStore(d), close: async () => undefined }),
  };

  test.each(Object.keys(stores))('a booting node keeps its join deadline across a restart and is deleted at it (%s)', async (kind) => {
    const clock = new FakeClock(T0);
    const cluster = new FakeCluster();
    cluster.waiting = 4;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    const first = await stores[kind](dir);
    const a = setup({ clock, cluster, store: first.store });
    await a.step(0);
    const deadline = (await a.m.view('inf1')).nodes[0].join_deadline;
    expect(deadline).toBe(new Date(T0 + 1800 * S).toISOString());
    await a.m.unregister('inf1');
    await first.close();

    // A new server process: new store handle, new manager.
    clock.advance(20 * MIN);
    const second = await stores[kind](dir);
    const b = setup({ clock, cluster, store: second.store });
    await b.step(0);
    expect((await b.m.view('inf1')).nodes[0]).toMatchObject({ state: 'booting', join_deadline: deadline });
    const r = await b.step(10 * MIN);
    expect(cluster.removed).toEqual(['1']);
    expect(types(r.state.events)).toContain('JoinTimeout');
    await second.close();
  });
});

describe('E-SENSE-5 at the loop: probe failures freeze scale-down', () => {
  test('an idle node is not removed while condor_q fails; SensingFailed is reported', async () => {
    const { cluster, step, m } = setup({ policy: condorPolicy({ idle_before_scale_down_s: 60, scale_down_delay_after_add_s: 0 }) });
    await cluster.addNodes('inf1', 'wn', 1);
    cluster.join('1');
    await step(0);
    cluster.probeFails = true;
    for (let i = 0; i < 10; i++) await step(15 * S);
    expect(cluster.calls.filter((c) => c.startsWith('condor_off'))).toEqual([]);
    const v = await m.view('inf1');
    expect(v.sensing).toMatchObject({ stale: true, error: expect.stringMatching(/Failed to connect to schedd/) });
    expect(v.events.map((e) => e.type)).toContain('SensingFailed');
  });
});

describe('E-FAIL-3 at the loop: a bad image costs exactly 3 VMs, then scale-up is suspended', () => {
  test('VMs that never register, with no limit on booting nodes', async () => {
    const { cluster, step, m } = setup({ policy: condorPolicy({ max_booting_nodes: 0, join_timeout_s: 300 }) });
    cluster.waiting = 40;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    for (let t = 0; t < 40 * MIN; t += 15 * S) await step(15 * S);
    // No node ever joined (an unproven image): 3 VMs at most, all time out together → suspended
    // 60 s; then one probe VM per back-off (60, 120, 240, 480 s …): 3 + 4 in 40 minutes.
    expect(cluster.next - 1).toBe(7);
    const v = await m.view('inf1');
    expect(v.events.filter((e) => e.type === 'ScaleUpSuspended').map((e) => e.reason.replace(/.*paused for /, ''))).toEqual(['60 s', '120 s', '240 s', '480 s']);
    expect(v.scale_up.consecutive_join_failures).toBeGreaterThanOrEqual(3);
  });
  test('with one booting at a time: exactly 3 attempts before suspension', async () => {
    const { cluster, step, m } = setup({ policy: condorPolicy({ max_booting_nodes: 1, join_timeout_s: 300 }) });
    cluster.waiting = 40;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    let suspendedAt: number | undefined;
    for (let t = 0; t < 17 * MIN; t += 15 * S) {
      const r = await step(15 * S);
      if (r.state.suspendedUntil && suspendedAt === undefined) suspendedAt = cluster.next - 1;
    }
    expect(suspendedAt).toBe(3);
    expect(cluster.removed).toEqual(['1', '2', '3']);
    expect((await m.view('inf1')).events.find((e) => e.type === 'ScaleUpSuspended')?.reason).toMatch(/3 nodes in a row failed to join/);
  });
});

describe('E-FAIL-5 / E-RATE-2 partial success and cloud refusals', () => {
  test('k of n created are kept; the rest is asked again later', async () => {
    const { cluster, step, events } = setup({ policy: condorPolicy({ max_booting_nodes: 0 }) });
    cluster.addLimit = 1;
    cluster.waiting = 12;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    await step(0);
    expect(cluster.workers.size).toBe(1);
    expect(types(events)).toContain('ScaleUpFailed');
    await step(15 * S);
    expect(cluster.workers.size).toBe(2);
  });
  test('a quota error backs off instead of retrying every tick', async () => {
    const { cluster, step, m } = setup();
    cluster.failAdd = new CloudError('Quota exceeded for instances: Requested 1, but already used 10 of 10 instances', 403);
    cluster.waiting = 8;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    await step(0);
    await step(15 * S);
    await step(15 * S);
    expect(cluster.calls.filter((c) => c.startsWith('add'))).toHaveLength(1);
    expect((await m.view('inf1')).events.find((e) => e.type === 'ScaleUpFailed')?.reason).toMatch(/Quota exceeded.*paused for \d+ s/);
  });
  test('E-QUOTA-1: the cloud quota is asked for the target node only when a scale-up is due, and clamps it', async () => {
    const cluster = new FakeCluster();
    const asked: string[] = [];
    let room = 1;
    const actions: ElasticActions = Object.assign(Object.create(cluster) as FakeCluster, {
      quotaLeft: async (infId: string, node: string) => { asked.push(`${infId}/${node}`); return room; },
    });
    const { events, m, step } = setup({ cluster, actions });
    await step(0);
    expect(asked).toEqual([]); // empty queue: nothing to add, no cloud call
    cluster.waiting = 12;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    const up = await step(15 * S);
    expect(asked).toEqual(['inf1/wn']);
    expect(up.decision.intents).toEqual([{ kind: 'add', count: 1 }]);
    const adds = () => cluster.calls.filter((c) => c.startsWith('add'));
    expect(adds()).toEqual(['add wn 1']);
    const limited = events.filter((e) => e.type === 'QuotaLimited');
    expect(limited.map((e) => e.reason)).toEqual([expect.stringMatching(/scale-up 1 of 3 .*cloud quota reached/)]);
    room = 0;
    await step(15 * S);
    expect(adds()).toEqual(['add wn 1']);
    expect(events.filter((e) => e.type === 'QuotaLimited')).toHaveLength(1); // once, when the limit starts
    expect((await m.view('inf1')).events.map((e) => e.type)).toContain('QuotaLimited');
  });
});

describe('E-STATE-2 the manager acts under the infrastructure lock', () => {
  test('while a user operation holds the lock, the manager waits and then re-reads the VMs', async () => {
    const cluster = new FakeCluster();
    let release!: () => void;
    let held: Promise<void> = new Promise((r) => { release = r; });
    const order: string[] = [];
    const actions: ElasticActions = {
      listVms: async (i, n) => { order.push('listVms'); return cluster.listVms(i, n); },
      addNodes: (i, n, k) => cluster.addNodes(i, n, k),
      removeVms: (i, ids) => cluster.removeVms(i, ids),
      withLock: async (_i, fn) => { await held; order.push('lock'); return fn(); },
    };
    const { m } = setup({ cluster, actions });
    const t = m.tick('inf1');
    await new Promise((r) => setImmediate(r));
    order.push('user op');
    await cluster.addNodes('inf1', 'wn', 1); // the user's AddResource
    release();
    held = Promise.resolve();
    await t;
    expect(order).toEqual(['user op', 'lock', 'listVms']);
    expect((await m.view('inf1')).nodes.map((n) => n.vm_id)).toEqual(['1']);
  });
});

describe('E-OBS-1 / E-OBS-4 GET and PUT …/elasticity', () => {
  test('the view has policy, nodes, demand, capacity, sensing and the last decision with its reason', async () => {
    const { cluster, step, m } = setup();
    cluster.waiting = 5;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    await step(0);
    const v = await m.view('inf1');
    expect(Object.keys(v).sort()).toEqual(['capacity', 'demand', 'events', 'infrastructure_id', 'last_decision', 'nodes', 'policy', 'scale_up', 'sensing']);
    expect(v.policy).toMatchObject({ target: 'wn', max_nodes: 5, lrms: 'htcondor' });
    expect(v.demand).toMatchObject({ waiting_jobs: 5, eligible_slots: 5, nodes_wanted: 2 });
    expect(v.capacity).toMatchObject({ nodes: 2, booting: 2 });
    expect(v.last_decision).toMatchObject({ add: 2, reason: expect.stringMatching(/scale-up 2 \(5 slots waiting \(5 waited >= 60 s, 5 beyond every free slot\), 0 in flight/) });
    expect(v.nodes[0]).toMatchObject({ vm_id: '1', state: 'booting', adopted: false });
  });
  test('pause live, invalid knob → 400 naming it, unknown infrastructure → 404', async () => {
    const { cluster, step, m } = setup();
    const v = await m.update('inf1', { paused: true, IDLE_TIME: 120 });
    expect(v.policy).toMatchObject({ paused: true, idle_before_scale_down_s: 120 });
    cluster.waiting = 20;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    await step(0);
    expect(cluster.workers.size).toBe(0);
    await expect(m.update('inf1', { max_nodes: 0 })).rejects.toThrow(/"max_nodes"/);
    await expect(m.update('inf1', { max_nodes: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(m.view('nope')).rejects.toBeInstanceOf(NoElasticityError);
    await m.update('inf1', { paused: false });
    await step(15 * S);
    expect(cluster.workers.size).toBe(3);
    expect((await m.view('inf1')).events.map((e) => e.type)).toEqual(expect.arrayContaining(['PolicyChanged', 'Paused', 'Resumed']));
  });
  test('protect / unprotect a node round-trips (clues#29)', async () => {
    const { cluster, step, m } = setup({ policy: condorPolicy({ idle_before_scale_down_s: 60, scale_down_delay_after_add_s: 0 }) });
    await cluster.addNodes('inf1', 'wn', 1);
    cluster.join('1');
    await step(0);
    await m.update('inf1', { nodes: { 1: { protected: true } } });
    for (let i = 0; i < 8; i++) await step(15 * S);
    expect(cluster.calls.filter((c) => c.startsWith('condor_off'))).toEqual([]);
    await m.update('inf1', { nodes: { 1: { protected: false } } });
    await step(15 * S);
    expect(cluster.calls.filter((c) => c.startsWith('condor_off'))).toHaveLength(1);
    await expect(m.update('inf1', { nodes: { 9: { protected: true } } })).rejects.toThrow(/VM 9 is not an elastic node/);
  });
});

describe('E-OBS-3 Prometheus metrics', () => {
  test('nodes by state, demand, actions, join time', async () => {
    const { cluster, step, metrics } = setup();
    cluster.waiting = 8;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    await step(0);
    await step(3 * MIN);
    cluster.joinAll();
    await step(15 * S);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/elastic_nodes\{infrastructure="inf1",state="joined"\} 2/);
    expect(text).toMatch(/elastic_nodes\{infrastructure="inf1",state="booting"\} 0/);
    expect(text).toMatch(/elastic_scale_actions_total\{kind="add",result="ok"\} 1/);
    expect(text).toMatch(/elastic_join_seconds_count 2/);
    expect(text).toMatch(/elastic_join_seconds_sum 390/);
    expect(text).toMatch(/elastic_pending_demand\{infrastructure="inf1"\} \d+/);
    expect(text).toMatch(/elastic_decision_loop_seconds_count 3/);
  });
});

describe('dry run at the loop (E-OBS-5)', () => {
  test('nothing is created or drained; the decision is visible', async () => {
    const { cluster, step, m } = setup({ policy: condorPolicy({ dry_run: true }) });
    cluster.waiting = 8;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    await step(0);
    expect(cluster.workers.size).toBe(0);
    const v = await m.view('inf1');
    expect(v.last_decision).toMatchObject({ add: 2 });
    expect(v.events.some((e) => e.dryRun)).toBe(true);
  });
});

describe('the loop runs on the clock', () => {
  test('start() ticks every check period; stop() stops it', async () => {
    const { clock, cluster, m } = setup();
    const flush = async () => { for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); };
    cluster.waiting = 4;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    m.start();
    clock.advance(0);
    await flush();
    expect(cluster.workers.size).toBe(1);
    const probes = () => cluster.calls.filter((c) => c.startsWith('condor_q')).length;
    const before = probes();
    clock.advance(15 * S);
    await flush();
    expect(probes()).toBe(before + 1);
    m.stop();
    clock.advance(60 * S);
    await flush();
    expect(probes()).toBe(before + 1);
  });
});

describe('slow engine calls do not hold up GET/PUT', () => {
  test('while addNodes waits for a deploy, the view answers and a PUT applies; the add is recorded after', async () => {
    const cluster = new FakeCluster();
    let finish!: () => void;
    const gate = new Promise<void>((r) => { finish = r; });
    const actions: ElasticActions = {
      listVms: (i, n) => cluster.listVms(i, n),
      addNodes: async (i, n, k) => { await gate; return cluster.addNodes(i, n, k); },
      removeVms: (i, ids) => cluster.removeVms(i, ids),
    };
    const { m } = setup({ cluster, actions });
    cluster.waiting = 8;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    const t = m.tick('inf1');
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect((await m.view('inf1')).last_decision).toMatchObject({ add: 2 });
    await m.update('inf1', { spare_nodes: 1 });
    finish();
    const r = await t;
    expect(Object.keys(r.state.nodes)).toEqual(['1', '2']);
    expect(r.state.policyChanges).toEqual({ spare_nodes: 1 }); // not lost by the tick's save
  });
});

describe('a tick that cannot reach the engine', () => {
  test('fails loudly once (TickFailed), keeps the state, and recovers on the next tick', async () => {
    const cluster = new FakeCluster();
    let down = true;
    const actions: ElasticActions = {
      listVms: async (i, n) => { if (down) throw new Error('store unavailable'); return cluster.listVms(i, n); },
      addNodes: (i, n, k) => cluster.addNodes(i, n, k),
      removeVms: (i, ids) => cluster.removeVms(i, ids),
    };
    const { m, step } = setup({ cluster, actions });
    cluster.waiting = 4;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    await expect(step(0)).rejects.toThrow('store unavailable');
    await expect(step(15 * S)).rejects.toThrow('store unavailable');
    expect((await m.view('inf1')).events.filter((e) => e.type === 'TickFailed')).toHaveLength(1);
    down = false;
    await step(15 * S);
    expect(cluster.workers.size).toBe(1);
  });
});

describe('E-OBS-1 JSON schemas of GET and PUT …/elasticity', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validView = ajv.compile(elasticityViewSchema());
  const validPut = ajv.compile(elasticityPutSchema());

  test('every view the manager produces on its way through a scenario matches the schema', async () => {
    const { cluster, step, m } = setup({ policy: condorPolicy({ idle_before_scale_down_s: 60, scale_down_delay_after_add_s: 0, dry_run: false }) });
    const check = async () => {
      const v = await m.view('inf1');
      expect(validView(v) ? [] : validView.errors).toEqual([]);
    };
    await check(); // before any tick
    cluster.waiting = 6;
    cluster.queuedAt = (T0 - 10 * MIN) / 1000;
    await step(0);
    await check();
    cluster.joinAll();
    cluster.schedule();
    await step(15 * S);
    cluster.finishAll();
    for (let i = 0; i < 8; i++) { await step(15 * S); await check(); }
    await m.update('inf1', { nodes: {} });
    await check();
  });

  test('the PUT schema accepts knobs and aliases and refuses strangers and wrong types', () => {
    expect(validPut({ max_nodes: 4, IDLE_TIME: 300, paused: true, nodes: { 3: { protected: true } } })).toBe(true);
    expect(validPut({ max_nodes: 0 })).toBe(false);
    expect(validPut({ nodes_max: 3 })).toBe(false);
    expect(validPut({ lrms: 'pbs' })).toBe(false);
    expect(validPut({ nodes: { 3: { protected: 'yes' } } })).toBe(false);
  });
});
