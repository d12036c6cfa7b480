/**
 * The safety claims over the whole loop (manager + decide + HTCondor probe and drain commands on
 * a simulated master), under random load, random joins, probe failures and jobs that race a
 * drain: no busy node is ever removed, the cluster never exceeds max_nodes, the master is never touched.
 */
import fc from 'fast-check';
import { FakeClock } from '../../server/elastic/clock';
import { ElasticManager } from '../../server/elastic/manager';
import { MemoryStateStore } from '../../server/elastic/state';
import { FakeCluster } from './fakes';
import { S, T0, pol } from './helpers';

const stepArb = fc.record({
  // Mostly quiet steps, so queues drain, nodes go idle and get drained (where races matter).
  submit: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 12 }), weight: 1 }),
  finishShare: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
  joinShare: fc.double({ min: 0, max: 1, noNaN: true }),
  race: fc.boolean(),
  probeFails: fc.boolean(),
  gapTicks: fc.integer({ min: 1, max: 3 }),
});
const worldArb = fc.record({
  min: fc.integer({ min: 0, max: 2 }),
  spare: fc.integer({ min: 0, max: 1 }),
  max: fc.integer({ min: 2, max: 5 }),
  idle: fc.integer({ min: 15, max: 90 }),
  delay: fc.integer({ min: 0, max: 60 }),
  steps: fc.array(stepArb, { minLength: 20, maxLength: 80 }),
  seed: fc.integer(),
});

test('never a busy node removed, never above max_nodes, under random load and races', async () => {
  await fc.assert(fc.asyncProperty(worldArb, async (w) => {
    const clock = new FakeClock(T0);
    const cluster = new FakeCluster();
    const m = new ElasticManager({ clock, actions: cluster, exec: () => cluster.exec, store: new MemoryStateStore() });
    const max = Math.max(w.max, w.min);
    m.register('inf1', pol({
      lrms: 'htcondor', probe_command: undefined, min_nodes: w.min, spare_nodes: Math.min(w.spare, max), max_nodes: max,
      idle_before_scale_down_s: w.idle, scale_down_delay_after_add_s: w.delay, join_timeout_s: 120, drain_timeout_s: 60,
    }));
    let r = w.seed >>> 0;
    const rnd = () => ((r = (r * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const st of w.steps) {
      cluster.waiting += st.submit;
      cluster.queuedAt = (clock.now() - 120 * S) / 1000;
      for (const id of cluster.workers.keys()) {
        const ip = cluster.ip(id);
        if (!cluster.hosts.has(ip) && rnd() < st.joinShare) cluster.join(id);
        const h = cluster.hosts.get(ip);
        if (h && rnd() < st.finishShare) h.busy = Math.max(0, h.busy - 1 - Math.floor(rnd() * 4));
      }
      cluster.schedule();
      if (st.race) {
        // A claim that slipped in before a drain took effect: even an "off" host gets a job.
        // Draining hosts first: that is where a race would hurt.
        const off = [...cluster.hosts.values()].filter((h) => h.off);
        const hosts = off.length ? off : [...cluster.hosts.values()];
        if (hosts.length) hosts[Math.floor(rnd() * hosts.length)].busy += 1;
      }
      cluster.probeFails = st.probeFails;
      clock.advance(15 * S * st.gapTicks);
      await m.tick('inf1').catch(() => undefined);
      expect(cluster.busyRemoved).toEqual([]);
      expect(cluster.workers.size).toBeLessThanOrEqual(max);
      expect(cluster.workers.has('0')).toBe(false);
    }
  }), { numRuns: Number(process.env.ELASTIC_PROP_RUNS ?? 60), seed: process.env.ELASTIC_PROP_SEED ? Number(process.env.ELASTIC_PROP_SEED) : 11 });
});
