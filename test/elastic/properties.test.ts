/** Property tests for the clamps (E-UP-2, E-QUOTA-2, E-DOWN-1, E-DOWN-4): whatever the state, they hold. */
import fc from 'fast-check';
import { decide } from '../../server/elastic/decide';
import type { HostUsage } from '../../server/elastic/probes/types';
import type { NodeRecord } from '../../server/elastic/state';
import { MIN, S, T0, ipOf, pol, stateWith, vm } from './helpers';

const policyArb = fc.record({
  min: fc.integer({ min: 0, max: 6 }), extra: fc.integer({ min: 0, max: 8 }), spare: fc.integer({ min: 0, max: 3 }),
  slots: fc.integer({ min: 1, max: 8 }), booting: fc.integer({ min: 0, max: 5 }), step: fc.integer({ min: 1, max: 6 }),
  idle: fc.integer({ min: 1, max: 1200 }), delay: fc.integer({ min: 0, max: 1200 }),
}).map((x) => pol({
  min_nodes: x.min, max_nodes: Math.max(1, x.min + x.extra), spare_nodes: Math.min(x.spare, Math.max(1, x.min + x.extra)),
  slots_per_node: x.slots, max_booting_nodes: x.booting, max_nodes_per_step: x.step,
  idle_before_scale_down_s: x.idle, scale_down_delay_after_add_s: x.delay,
}));

type HostKind = 'idle' | 'busy' | 'unknown' | 'absent';
const nodeArb = fc.record({
  phase: fc.constantFrom<NodeRecord['phase']>('booting', 'joined', 'joined', 'joined', 'draining', 'stray'),
  host: fc.constantFrom<HostKind>('idle', 'busy', 'unknown', 'absent'),
  idleFor: fc.integer({ min: 0, max: 7200 }),
  busy: fc.integer({ min: 1, max: 8 }),
  protected: fc.boolean(),
  adopted: fc.boolean(),
  deadlinePassed: fc.boolean(),
  drainIssued: fc.boolean(),
});

const worldArb = fc.record({
  policy: policyArb,
  nodes: fc.array(nodeArb, { maxLength: 14 }),
  waiting: fc.integer({ min: 0, max: 200 }),
  waitedS: fc.integer({ min: 0, max: 600 }),
  quota: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
  probeFailed: fc.boolean(),
  masterIsWorker: fc.boolean(),
  lastScaleUpAgoS: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: undefined }),
});

type World = typeof worldArb extends fc.Arbitrary<infer T> ? T : never;

function build(w: World) {
  const records: NodeRecord[] = [];
  const hosts: HostUsage[] = [];
  const hostKind = new Map<string, HostKind>();
  w.nodes.forEach((n, i) => {
    const vmId = `vm${i}`; // vm0 may be the master (a master listed among the workers must still never be touched)
    const r: NodeRecord = {
      vmId, phase: n.phase, phaseSince: T0 - 3 * 3600 * S, requestedAt: T0 - 3 * 3600 * S,
      protected: n.protected || undefined, adopted: n.adopted || undefined,
    };
    if (n.phase === 'booting') r.joinDeadline = n.deadlinePassed ? T0 - S : T0 + MIN;
    if (n.phase === 'joined' || n.phase === 'draining') {
      Object.assign(r, { host: `h${i}`, joinedAt: T0 - 2 * 3600 * S, lrmsState: 'idle', busy: 0, idleSince: T0 - n.idleFor * S });
    }
    if (n.phase === 'draining') Object.assign(r, { drainStartedAt: T0 - MIN, drainDeadline: n.deadlinePassed ? T0 : T0 + MIN, drainIssuedAt: n.drainIssued ? T0 - 30 * S : undefined });
    records.push(r);
    hostKind.set(vmId, n.phase === 'booting' ? 'absent' : n.host); // a booting VM is not in the LRMS
    if (n.host !== 'absent' && n.phase !== 'booting') {
      hosts.push({ name: `h${i}`, ips: [ipOf(vmId)], busy: n.host === 'busy' ? n.busy : 0, state: n.host === 'unknown' ? 'unknown' : n.host, schedulable: true });
    }
  });
  const state = stateWith(records, { lastScaleUpAt: w.lastScaleUpAgoS === undefined ? undefined : T0 - w.lastScaleUpAgoS * S });
  const masterVmIds = w.masterIsWorker ? ['vm0'] : ['master'];
  const d = decide({
    policy: w.policy, state, now: T0,
    sample: w.probeFailed ? undefined : { takenAt: T0, hosts, waiting: w.waiting ? [{ cpus: 1, count: w.waiting, since: T0 - w.waitedS * S }] : [] },
    probeError: w.probeFailed ? 'probe failed' : undefined,
    vms: records.map((r) => vm(r.vmId)), masterVmIds, quotaLeft: w.quota,
  });
  return { d, records: records.filter((r) => !masterVmIds.includes(r.vmId)), hostKind, masterVmIds };
}

const RUNS = { numRuns: Number(process.env.ELASTIC_PROP_RUNS ?? 600), seed: process.env.ELASTIC_PROP_SEED ? Number(process.env.ELASTIC_PROP_SEED) : 7 };

describe('clamps hold in every state', () => {
  test('E-UP-2 / E-QUOTA-2: never above max_nodes, max_booting_nodes, the per-step limit or the quota', () => {
    fc.assert(fc.property(worldArb, (w) => {
      const { d, records } = build(w);
      const add = d.intents.reduce((n, i) => n + (i.kind === 'add' ? i.count : 0), 0);
      const p = w.policy;
      // Nodes still booting after this decision (one past its join deadline is being deleted).
      const booting = Object.values(d.state.nodes).filter((r) => r.phase === 'booting').length;
      expect(add).toBeGreaterThanOrEqual(0);
      if (add > 0) {
        expect(records.length + add).toBeLessThanOrEqual(p.max_nodes);
        expect(add).toBeLessThanOrEqual(p.max_nodes_per_step);
        if (p.max_booting_nodes > 0) expect(booting + add).toBeLessThanOrEqual(p.max_booting_nodes);
        if (w.quota !== undefined) expect(add).toBeLessThanOrEqual(w.quota);
      }
    }), RUNS);
  });

  test('E-DOWN-1 / E-DOWN-4: never a busy, unknown, absent, protected or master node; never below min + spare', () => {
    fc.assert(fc.property(worldArb, (w) => {
      const { d, records, hostKind, masterVmIds } = build(w);
      // New drains (a draining node whose drain was never confirmed gets its command again).
      const drained = d.intents.flatMap((i) => (i.kind === 'drain' ? [i.vmId] : []))
        .filter((id) => records.find((r) => r.vmId === id)?.phase === 'joined');
      const removed = d.intents.flatMap((i) => (i.kind === 'remove' ? i.vmIds : []));
      for (const id of [...drained, ...removed]) {
        expect(masterVmIds).not.toContain(id);
        if (!w.probeFailed) expect(['busy', 'unknown']).not.toContain(hostKind.get(id));
      }
      for (const id of drained) {
        const r = records.find((x) => x.vmId === id)!;
        expect(r.protected).toBeFalsy();
        expect(hostKind.get(id)).toBe('idle');
        expect(w.probeFailed).toBe(false);
        expect(T0 - r.idleSince!).toBeGreaterThanOrEqual(w.policy.idle_before_scale_down_s * S);
      }
      if (drained.length) {
        const keepersAfter = Object.values(d.state.nodes).filter((r) => r.phase === 'joined' || r.phase === 'stray').length;
        const floor = Math.min(w.policy.max_nodes, w.policy.min_nodes + w.policy.spare_nodes);
        expect(keepersAfter).toBeGreaterThanOrEqual(floor);
        expect(drained.length).toBeLessThanOrEqual(w.policy.max_nodes_per_step);
        expect(d.intents.some((i) => i.kind === 'add')).toBe(false); // E-DOWN-7
      }
    }), RUNS);
  });

  test('removals are only of nodes that were drained, timed out or failed', () => {
    fc.assert(fc.property(worldArb, (w) => {
      const { d, records } = build(w);
      for (const id of d.intents.flatMap((i) => (i.kind === 'remove' ? i.vmIds : []))) {
        const before = records.find((r) => r.vmId === id)!;
        expect(['booting', 'draining', 'removing']).toContain(before.phase);
        if (before.phase === 'booting') expect(before.adopted).toBeFalsy();
        if (before.phase === 'draining') expect(before.drainIssuedAt).toBeDefined();
      }
    }), RUNS);
  });
});
