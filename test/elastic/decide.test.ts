/** Decisions, pure: table-driven, one block per requirement id. */
import { type DecideInput, type Intent, backoffMs, decide } from '../../server/elastic/decide';
import { MIN, S, T0, host, input, pol, rec, sample, stateWith, vm } from './helpers';

const adds = (i: Intent[]) => i.reduce((n, x) => n + (x.kind === 'add' ? x.count : 0), 0);
const drains = (i: Intent[]) => i.flatMap((x) => (x.kind === 'drain' ? [x.vmId] : []));
const undrains = (i: Intent[]) => i.flatMap((x) => (x.kind === 'undrain' ? [x.vmId] : []));
const removes = (i: Intent[]) => i.flatMap((x) => (x.kind === 'remove' ? x.vmIds : []));
const types = (d: { events: { type: string }[] }) => d.events.map((e) => e.type);
const busyHosts = (ids: string[], busy = 1) => ids.map((id) => host(id, busy));

describe('E-UP-1 demand that waited long enough, minus capacity in flight', () => {
  test.each<[string, Partial<DecideInput> & { nodes?: ReturnType<typeof rec>[] }, number]>([
    ['8 jobs, 2 nodes booting × 4 slots → 0', { nodes: [rec('vm1', 'booting'), rec('vm2', 'booting')], sample: sample(T0, [], 8) }, 0],
    ['9 jobs, 2 booting → 1', { policy: pol({ max_booting_nodes: 0 }), nodes: [rec('vm1', 'booting'), rec('vm2', 'booting')], sample: sample(T0, [], 9) }, 1],
    ['12 jobs, nothing booting, no limit on booting → 3', { policy: pol({ max_booting_nodes: 0 }), sample: sample(T0, [], 12) }, 3],
    ['4 jobs waiting only 30 s, 4 free slots → 0 (the negotiator will place them)', {
      nodes: [rec('vm1', 'joined')], sample: sample(T0, [host('vm1')], 4, T0 - 30 * S) }, 0],
    ['12 jobs waiting only 30 s, 4 free slots → 2 at once (the overflow cannot start anywhere)', {
      nodes: [rec('vm1', 'joined')], sample: sample(T0, [host('vm1')], 12, T0 - 30 * S) }, 2],
    ['cold start: 12 fresh jobs, no node → 3 at once', { sample: sample(T0, [], 12, T0) }, 3],
    ['free slots of a cordoned node do not count', {
      nodes: [rec('vm1', 'joined')], sample: sample(T0, [host('vm1', 0, { schedulable: false })], 4, T0) }, 1],
    ['below the threshold → 0', { policy: pol({ waiting_jobs_threshold: 5 }), sample: sample(T0, [], 4) }, 0],
    ['free slots of a node that just joined count → 0', {
      nodes: [rec('vm1', 'joined', { joinedAt: T0 - 10 * S, requestedAt: T0 - 5 * MIN })], sample: sample(T0, [host('vm1', 0)], 4) }, 0],
    ['an old joined node’s free slots do not count (the jobs did not fit) → 1', {
      nodes: [rec('vm1', 'joined')], sample: sample(T0, [host('vm1', 1)], 4) }, 1],
    ['jobs larger than a node are unsatisfiable → 0', { sample: { takenAt: T0, hosts: [], waiting: [{ cpus: 16, count: 3, since: T0 - 10 * MIN }] } }, 0],
  ])('%s', (_n, i, expected) => {
    expect(adds(decide(input(i)).intents)).toBe(expected);
  });

  test('jobs without their own age use the time the pressure was first seen', () => {
    const p = pol();
    const nodes = [rec('vm1', 'joined')];
    const at = (t: number) => sample(t, [host('vm1')], 4, null); // 4 jobs, 4 free slots: they must wait
    let d = decide(input({ policy: p, nodes, sample: at(T0) }));
    expect(adds(d.intents)).toBe(0);
    d = decide(input({ policy: p, state: d.state, now: T0 + 30 * S, sample: at(T0 + 30 * S) }));
    expect(adds(d.intents)).toBe(0);
    d = decide(input({ policy: p, state: d.state, now: T0 + 61 * S, sample: at(T0 + 61 * S) }));
    expect(adds(d.intents)).toBe(1);
    expect(d.demand).toMatchObject({ waiting_jobs: 4, eligible_slots: 4, overflow_slots: 0, nodes_wanted: 1 });
  });

  test('an unproven worker image: no more VMs in flight than the breaker allows, until one joins', () => {
    const state = stateWith([], { joinedEver: false });
    const d = decide(input({ state, sample: sample(T0, [], 80) }));
    expect(adds(d.intents)).toBe(3);
    expect(d.reason).toMatch(/join failures reached/);
  });
});

describe('E-UP-2 / E-QUOTA-1 / E-RATE-1 clamps, each named in the reason', () => {
  test.each<[string, Parameters<typeof pol>[0], number | undefined, number, RegExp]>([
    ['max_nodes', { max_nodes: 2, max_booting_nodes: 0 }, undefined, 2, /max_nodes reached/],
    ['max_booting_nodes', { max_booting_nodes: 3 }, undefined, 3, /max_booting_nodes reached/],
    ['max_nodes_per_step', { max_booting_nodes: 0, max_nodes_per_step: 4 }, undefined, 4, /max_nodes_per_step reached/],
    ['cloud quota', { max_booting_nodes: 0 }, 1, 1, /cloud quota reached/],
  ])('%s', (_n, p, quotaLeft, expected, reason) => {
    const d = decide(input({ policy: pol(p), sample: sample(T0, [], 40), quotaLeft }));
    expect(adds(d.intents)).toBe(expected);
    expect(d.reason).toMatch(reason);
  });

  test('QuotaLimited is an event when the limit starts, not on every tick', () => {
    const p = pol({ max_nodes: 1, max_booting_nodes: 0 });
    const d1 = decide(input({ policy: p, sample: sample(T0, [], 40) }));
    expect(types(d1)).toContain('QuotaLimited');
    const d2 = decide(input({ policy: p, state: d1.state, now: T0 + 15 * S, sample: sample(T0 + 15 * S, [], 40), vms: [] }));
    expect(types(d2)).not.toContain('QuotaLimited');
  });
});

describe('E-QUOTA-2 the quota counts nodes in every non-gone state', () => {
  test('max 3 with 3 booting → 0 new requests', () => {
    const nodes = [rec('vm1', 'booting'), rec('vm2', 'booting'), rec('vm3', 'booting')];
    expect(adds(decide(input({ policy: pol({ max_nodes: 3, max_booting_nodes: 0 }), nodes, sample: sample(T0, [], 100) })).intents)).toBe(0);
  });
  test('draining and removing nodes count too', () => {
    const nodes = [rec('vm1', 'draining', { drainDeadline: T0 + MIN }), rec('vm2', 'removing'), rec('vm3', 'joined')];
    const d = decide(input({ policy: pol({ max_nodes: 3, max_booting_nodes: 0 }), nodes, sample: sample(T0, busyHosts(['vm3'], 4), 100) }));
    expect(adds(d.intents)).toBe(0);
  });
});

describe('E-UP-3 warm pool', () => {
  test.each<[string, Parameters<typeof pol>[0], string[], number]>([
    ['min 2, nothing running → 2', { min_nodes: 2 }, [], 2],
    ['spare 1, two busy nodes → 1 more', { spare_nodes: 1 }, ['vm1', 'vm2'], 1],
    ['spare 1, capped at max', { spare_nodes: 1, max_nodes: 2 }, ['vm1', 'vm2'], 0],
  ])('%s', (_n, p, busy, expected) => {
    const nodes = busy.map((id) => rec(id, 'joined'));
    expect(adds(decide(input({ policy: pol(p), nodes, sample: sample(T0, busyHosts(busy)) })).intents)).toBe(expected);
  });
});

describe('E-FAIL-1 / E-FAIL-2 nodes that never join', () => {
  test('deleted at the join deadline and counted; the credit is released at once', () => {
    const nodes = [rec('vm1', 'booting', { joinDeadline: T0 })];
    const d = decide(input({ nodes, sample: sample(T0, [], 4) }));
    expect(removes(d.intents)).toEqual(['vm1']);
    expect(types(d)).toContain('JoinTimeout');
    expect(d.state.consecutiveJoinFailures).toBe(1);
    expect(adds(d.intents)).toBe(1); // the 4 waiting jobs are no longer covered by vm1
  });
  test('not before the deadline, and never on stale data', () => {
    expect(removes(decide(input({ nodes: [rec('vm1', 'booting', { joinDeadline: T0 + 1 })] })).intents)).toEqual([]);
    const d = decide(input({ nodes: [rec('vm1', 'booting', { joinDeadline: T0 })], sample: undefined, probeError: 'ssh: timeout' }));
    expect(removes(d.intents)).toEqual([]);
  });
  test('a VM the cloud reports failed is deleted at once', () => {
    const d = decide(input({ nodes: [rec('vm1', 'booting')], vms: [vm('vm1', 'failed')] }));
    expect(removes(d.intents)).toEqual(['vm1']);
    expect(types(d)).toContain('NodeFailed');
  });
  test('a pre-existing VM that never joins is kept and reported, not deleted (E-FAIL-6)', () => {
    const d = decide(input({ nodes: [rec('vm1', 'booting', { adopted: true, joinDeadline: T0 })] }));
    expect(removes(d.intents)).toEqual([]);
    expect(d.state.nodes.vm1.phase).toBe('stray');
  });
  test('joining resets the failure count', () => {
    const state = stateWith([rec('vm1', 'booting')], { consecutiveJoinFailures: 2 });
    const d = decide(input({ state, sample: sample(T0, [host('vm1')]) }));
    expect(d.state.nodes.vm1).toMatchObject({ phase: 'joined', host: 'h-vm1', joinedAt: T0 });
    expect(d.state.consecutiveJoinFailures).toBe(0);
    expect(types(d)).toContain('NodeJoined');
  });
});

describe('E-FAIL-3 circuit breaker', () => {
  test('the third failure in a row suspends scale-up with a growing back-off', () => {
    const state = stateWith([rec('vm3', 'booting', { joinDeadline: T0 })], { consecutiveJoinFailures: 2 });
    const d = decide(input({ state, sample: sample(T0, [], 20) }));
    expect(types(d)).toContain('ScaleUpSuspended');
    expect(d.state.suspendedUntil).toBe(T0 + backoffMs(0));
    expect(adds(d.intents)).toBe(0);
    expect(d.reason).toMatch(/suspended until/);
    // After the back-off: one probe attempt at a time.
    const later = T0 + backoffMs(0);
    const d2 = decide(input({ state: d.state, now: later, sample: sample(later, [], 20), vms: [] }));
    expect(adds(d2.intents)).toBe(1);
    expect(backoffMs(1)).toBe(2 * backoffMs(0));
    expect(backoffMs(20)).toBe(30 * MIN);
  });
  test('after a failure, no more attempts in flight than the failures left', () => {
    const state = stateWith([rec('vm1', 'booting')], { consecutiveJoinFailures: 1 });
    expect(adds(decide(input({ policy: pol({ max_booting_nodes: 0 }), state, sample: sample(T0, [], 40) })).intents)).toBe(1);
  });
});

describe('E-FAIL-4 global brake on unready nodes', () => {
  test('more than 45 % and more than 3 nodes absent from the LRMS stop scaling', () => {
    const nodes = ['vm1', 'vm2', 'vm3', 'vm4', 'vm5'].map((id) => rec(id, 'joined', { idleSince: T0 - 60 * MIN }));
    const d = decide(input({ nodes, sample: sample(T0, [host('vm5')], 50) }));
    expect(d.intents).toEqual([]);
    expect(d.reason).toMatch(/not ready/);
  });
});

describe('E-DOWN-1 only positively idle nodes, for the whole idle time', () => {
  const p = pol({ idle_before_scale_down_s: 600 });
  test.each<[string, Partial<ReturnType<typeof rec>>, ReturnType<typeof host> | undefined, string[]]>([
    ['idle long enough → drained', { idleSince: T0 - 600 * S }, host('vm1'), ['vm1']],
    ['idle 1 s too short → kept', { idleSince: T0 - 599 * S }, host('vm1'), []],
    ['busy now → kept', { idleSince: T0 - 3600 * S }, host('vm1', 1), []],
    ['unknown state → kept (E-SENSE-4)', { idleSince: T0 - 3600 * S }, host('vm1', 0, { state: 'unknown' }), []],
    ['absent from the LRMS → kept', { idleSince: T0 - 3600 * S }, undefined, []],
    ['LRMS says the activity changed 60 s ago → kept', { idleSince: T0 - 3600 * S }, host('vm1', 0, { idleSince: T0 - 60 * S }), []],
  ])('%s', (_n, r, h, expected) => {
    const d = decide(input({ policy: p, nodes: [rec('vm1', 'joined', r)], sample: sample(T0, h ? [h] : []) }));
    expect(drains(d.intents)).toEqual(expected);
  });
  test('a node that goes busy for one sample resets the timer', () => {
    let d = decide(input({ policy: p, nodes: [rec('vm1', 'joined', { idleSince: T0 - 590 * S })], sample: sample(T0, [host('vm1', 1)]) }));
    expect(d.state.nodes.vm1.idleSince).toBeUndefined();
    d = decide(input({ policy: p, state: d.state, now: T0 + 15 * S, sample: sample(T0 + 15 * S, [host('vm1')]) }));
    expect(d.state.nodes.vm1.idleSince).toBe(T0 + 15 * S);
    d = decide(input({ policy: p, state: d.state, now: T0 + 600 * S, sample: sample(T0 + 600 * S, [host('vm1')]) }));
    expect(drains(d.intents)).toEqual([]);
  });
  test('a blind stretch (no samples for > 3 periods) restarts the idle stretch', () => {
    const state = stateWith([rec('vm1', 'joined', { idleSince: T0 - 3600 * S })], { lastSample: { takenAt: T0 - 10 * MIN, hosts: [], waiting: [] } });
    const d = decide(input({ policy: p, state, sample: sample(T0, [host('vm1')]) }));
    expect(drains(d.intents)).toEqual([]);
    expect(d.state.nodes.vm1.idleSince).toBe(T0);
  });
});

describe('E-DOWN-2 drain first; abort and return to service', () => {
  const draining = (o = {}) => rec('vm1', 'draining', { drainStartedAt: T0 - MIN, drainDeadline: T0 + 9 * MIN, drainIssuedAt: T0 - 50 * S, ...o });
  test.each<[string, ReturnType<typeof rec>, ReturnType<typeof host>[] | undefined, string[], string[]]>([
    ['drained (idle after the drain) → removed', draining(), [host('vm1')], ['vm1'], []],
    ['drained (gone from the LRMS) → removed', draining(), [], ['vm1'], []],
    ['work started → back in service', draining(), [host('vm1', 1)], [], ['vm1']],
    ['drain timed out → back in service', draining({ drainDeadline: T0 }), [host('vm1', 0, { state: 'unknown' })], [], ['vm1']],
    ['drain timed out with no probe → back in service', draining({ drainDeadline: T0 }), undefined, [], ['vm1']],
    ['a sample older than the drain command proves nothing', draining({ drainIssuedAt: T0 }), [host('vm1')], [], []],
  ])('%s', (_n, r, hosts, rm, un) => {
    const d = decide(input({ nodes: [r], sample: hosts ? sample(T0, hosts) : undefined }));
    expect(removes(d.intents)).toEqual(rm);
    expect(undrains(d.intents)).toEqual(un);
    if (un.length) {
      expect(types(d)).toContain('DrainAborted');
      expect(d.state.nodes.vm1.phase).toBe('joined');
    }
  });
});

describe('E-DOWN-3 / E-DOWN-4 which nodes, how many', () => {
  const idle = (id: string, since: number, o = {}) => rec(id, 'joined', { idleSince: since, ...o });
  test('the victims are the idle ones even when they are the newest, longest idle first', () => {
    const nodes = [idle('vm1', T0 - 10 * MIN), rec('vm2', 'joined', { requestedAt: T0 - 5 * 3600 * S }), idle('vm3', T0 - 20 * MIN, { requestedAt: T0 - 11 * MIN })];
    const d = decide(input({ policy: pol({ max_nodes_per_step: 1 }), nodes, sample: sample(T0, [host('vm1'), host('vm2', 2), host('vm3')]) }));
    expect(drains(d.intents)).toEqual(['vm3']);
  });
  test.each<[string, Parameters<typeof pol>[0], number]>([
    ['floor = min', { min_nodes: 2 }, 2],
    ['floor = min + spare', { min_nodes: 1, spare_nodes: 2 }, 1],
    ['per-step limit', { max_nodes_per_step: 1 }, 1],
    ['no floor', {}, 4],
  ])('%s', (_n, p, drained) => {
    const nodes = ['vm1', 'vm2', 'vm3', 'vm4'].map((id) => idle(id, T0 - 60 * MIN));
    expect(drains(decide(input({ policy: pol(p), nodes })).intents)).toHaveLength(drained);
  });
  test('never the master, never a protected node', () => {
    const nodes = [idle('vm0', T0 - 60 * MIN), idle('vm1', T0 - 60 * MIN, { protected: true })];
    expect(drains(decide(input({ nodes, masterVmIds: [] })).intents)).toEqual(['vm0']);
    const d = decide(input({ nodes, masterVmIds: ['vm0'] }));
    expect(drains(d.intents)).toEqual([]);
    expect(d.state.nodes.vm0).toBeUndefined(); // the master is never a managed node
  });
  test('not soon after a scale-up', () => {
    const state = stateWith([idle('vm1', T0 - 60 * MIN)], { lastScaleUpAt: T0 - 5 * MIN });
    const d = decide(input({ state }));
    expect(drains(d.intents)).toEqual([]);
    expect(d.reason).toMatch(/within 600 s of a scale-up/);
  });
});

describe('E-DOWN-7 hysteresis', () => {
  test('no drain while work waits; a draining node is recalled before a new one is booted', () => {
    const nodes = [rec('vm1', 'draining', { drainDeadline: T0 + 5 * MIN }), rec('vm2', 'joined', { idleSince: T0 - 60 * MIN })];
    const d = decide(input({ nodes, sample: sample(T0, [host('vm1'), host('vm2')], 6) }));
    expect(undrains(d.intents)).toEqual(['vm1']);
    expect(drains(d.intents)).toEqual([]);
    expect(adds(d.intents)).toBe(1);
  });
});

describe('E-SENSE-5 a failed or stale probe freezes scale-down', () => {
  test('probe failed: no drain; SensingFailed once', () => {
    const state = stateWith([rec('vm1', 'joined', { idleSince: T0 - 60 * MIN })]);
    const d = decide(input({ state, sample: undefined, probeError: 'condor_q exited 1' }));
    expect(d.intents).toEqual([]);
    expect(types(d)).toEqual(['SensingFailed']);
    const d2 = decide(input({ state: d.state, now: T0 + 15 * S, sample: undefined, probeError: 'condor_q exited 1' }));
    expect(types(d2)).toEqual([]);
  });
  test('scale-up continues on a recent sample, not on a stale one', () => {
    const recent = stateWith([], { lastSample: sample(T0 - 20 * S, [], 8) });
    expect(adds(decide(input({ state: recent, sample: undefined, probeError: 'x' })).intents)).toBe(2);
    const stale = stateWith([], { lastSample: sample(T0 - 60 * S, [], 8) });
    expect(adds(decide(input({ state: stale, sample: undefined, probeError: 'x' })).intents)).toBe(0);
  });
});

describe('E-SENSE-3 node lifecycle transitions', () => {
  test.each<[string, ReturnType<typeof rec>, ReturnType<typeof host>[], string]>([
    ['booting + seen → joined', rec('vm1', 'booting'), [host('vm1', 2)], 'joined'],
    ['booting + unseen → booting', rec('vm1', 'booting'), [], 'booting'],
    ['stray + seen → joined', rec('vm1', 'stray', { adopted: true }), [host('vm1')], 'joined'],
    ['joined + busy → joined', rec('vm1', 'joined'), [host('vm1', 3)], 'joined'],
    ['removing stays until the engine removed it', rec('vm1', 'removing'), [host('vm1')], 'removing'],
  ])('%s', (_n, r, hosts, phase) => {
    expect(decide(input({ nodes: [r], sample: sample(T0, hosts) })).state.nodes.vm1.phase).toBe(phase);
  });
  test('a VM matched by name when the LRMS gives no IP', () => {
    const d = decide(input({ nodes: [rec('vm1', 'booting')], vms: [{ vmId: 'vm1', state: 'running', privateIps: ['192.168.1.4'], names: ['wn-1.local'] }],
      sample: sample(T0, [{ name: 'wn-1', ips: [], busy: 0, state: 'idle', schedulable: true }]) }));
    expect(d.state.nodes.vm1).toMatchObject({ phase: 'joined', host: 'wn-1' });
  });
});

describe('E-STATE-2 user removals are not replaced in the same cycle', () => {
  test('a VM that vanished outside the manager blocks scale-up this cycle', () => {
    const state = stateWith([rec('vm1', 'joined')]);
    const d = decide(input({ policy: pol({ min_nodes: 1 }), state, vms: [] }));
    expect(types(d)).toContain('NodeVanished');
    expect(adds(d.intents)).toBe(0);
    expect(decide(input({ policy: pol({ min_nodes: 1 }), state: d.state, vms: [], now: T0 + 15 * S })).intents).toEqual([{ kind: 'add', count: 1 }]);
  });
  test('VMs the manager did not create are adopted (booting until seen)', () => {
    const d = decide(input({ state: stateWith([]), vms: [vm('vm4')], sample: sample(T0, []) }));
    expect(d.state.nodes.vm4).toMatchObject({ phase: 'booting', adopted: true });
  });
});

describe('E-OBS-5 dry run logs decisions without acting', () => {
  test('no intents, no phase change, decision and events flagged dryRun', () => {
    const nodes = [rec('vm1', 'joined', { idleSince: T0 - 60 * MIN })];
    const d = decide(input({ policy: pol({ dry_run: true }), nodes }));
    expect(d.intents).toEqual([]);
    expect(d.state.nodes.vm1.phase).toBe('joined');
    expect(d.state.lastDecision).toMatchObject({ drain: ['vm1'] });
    expect(d.events).toEqual([expect.objectContaining({ type: 'DrainStarted', dryRun: true })]);
    const d2 = decide(input({ policy: pol({ dry_run: true }), state: d.state, now: T0 + 15 * S }));
    expect(d2.events).toEqual([]); // the same decision is not logged twice
  });
});

describe('paused (E-OBS-4)', () => {
  test('no actions, one Paused event, Resumed when unpaused', () => {
    const nodes = [rec('vm1', 'joined', { idleSince: T0 - 60 * MIN })];
    const d = decide(input({ policy: pol({ paused: true }), nodes, sample: sample(T0, [host('vm1')], 40) }));
    expect(d.intents).toEqual([]);
    expect(types(d)).toEqual(['Paused']);
    const d2 = decide(input({ state: d.state, now: T0 + 15 * S, sample: sample(T0 + 15 * S, [host('vm1')], 0) }));
    expect(types(d2)).toContain('Resumed');
  });
});

describe('persisted sample', () => {
  test('identical waiting jobs are stored as one group (a queue can hold thousands)', () => {
    const waiting = Array.from({ length: 1000 }, (_, i) => ({ id: `7.${i}`, cpus: 1, since: T0 - MIN }));
    const d = decide(input({ sample: { takenAt: T0, hosts: [], waiting: [...waiting, { id: '8.0', cpus: 2, since: T0 - MIN }] } }));
    expect(d.state.lastSample!.waiting).toEqual([{ cpus: 1, since: T0 - MIN, count: 1000 }, { cpus: 2, since: T0 - MIN, count: 1 }]);
    expect(d.demand).toMatchObject({ waiting_jobs: 1001, waiting_slots: 1002 });
  });
});

describe('E-DOWN-5 billing-aware removal', () => {
  const p = pol({ billing_interval_s: 3600, billing_safe_margin_s: 300 });
  test.each<[string, number, string[]]>([
    ['40 min into the paid hour → kept', 40, []],
    ['56 min into the paid hour → drained', 56, ['vm1']],
    ['1 h 57 min (second hour) → drained', 117, ['vm1']],
    ['1 h 10 min → kept', 70, []],
  ])('%s', (_n, minutes, expected) => {
    const nodes = [rec('vm1', 'joined', { requestedAt: T0 - minutes * MIN, idleSince: T0 - 30 * MIN })];
    expect(drains(decide(input({ policy: p, nodes })).intents)).toEqual(expected);
  });
});
