/**
 * E-DOWN-6 on the real engine (SQLite, Dummy cloud) through serviceActions: a drained worker is
 * stopped with the user's VM stop path (the VM stays, its row says stopped), the master's
 * configuration is re-run without it, and the next demand starts the same VM instead of adding one.
 */
import * as path from 'path';
import { openStore, type Store } from '../../server/store';
import { createEngine, type Engine } from '../../server/engine';
import { NoopConfigurator, type ConfigureRequest } from '../../server/engine';
import { TEST_SECRET_KEY, clusterTemplate, dummyCaller, tempDir, until } from '../engine-fixtures';
import { policiesFromPlan } from '../../server/elastic/ports';
import { planTemplate } from '../../tosca';
import { managerOnEngine } from './engine-manager';
import { MIN, S } from './helpers';

const template = clusterTemplate(0) + `  policies:
    - scale_wn:
        type: tosca.policies.Scaling
        targets: [ wn ]
        properties:
          min_instances: 0
          max_instances: 3
          probe_command: cat /var/lib/queue.json
          slots_per_node: 4
          idle_before_scale_down_s: 120
          scale_down_delay_after_add_s: 0
          reuse_nodes: true
`;

/** The Dummy configurator, remembering which VMs each configuration run saw. */
class Recording extends NoopConfigurator {
  runs: string[][] = [];
  async configure(req: ConfigureRequest) {
    this.runs.push(req.vms.map((v) => v.id));
    return super.configure(req);
  }
}

let store: Store;
let engine: Engine;
let conf: Recording;
beforeEach(async () => {
  store = await openStore('sqlite:' + path.join(tempDir('elastic-reuse-'), 'engine.db'));
  conf = new Recording();
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: conf });
});
afterEach(async () => {
  await engine.close();
  await store.close();
});

test('drained worker stopped (not removed), master reconfigured without it; demand starts the same VM', async () => {
  const alice = dummyCaller('alice');
  const infId = await engine.service.create(alice, template, { async: false });
  const [policy] = policiesFromPlan(await planTemplate(template));
  expect(policy.reuse_nodes).toBe(true);

  const queue = { waiting: 4, busy: {} as Record<string, number> };
  const { manager: m, step } = managerOnEngine(engine, store, infId, policy, queue);

  await step(0);
  expect(await engine.service.vmIds(alice, infId)).toEqual(['0', '1']);
  // The add configures the new worker with the master (possibly in a run of its own, after the launch).
  await until(async () => conf.runs, (runs) => runs.some((vms) => vms.join() === '0,1'));
  await until(async () => (await engine.service.state(alice, infId)).state, (st) => st === 'configured');
  const runsBeforeStop = conf.runs.length;
  const ip = (await engine.service.vmInfo(alice, infId, '1')).privateIps[0];
  queue.waiting = 0;
  queue.busy = { [ip]: 4 };
  await step(15 * S);
  queue.busy = { [ip]: 0 };
  let r = await step(15 * S);
  for (let t = 0; t < 6 * MIN && r.state.nodes['1']?.phase !== 'stopped'; t += 15 * S) r = await step(15 * S);
  expect(r.state.nodes['1'].phase).toBe('stopped');
  // Stopped through the engine: the VM is still there, stopped, and the count unchanged.
  expect(await engine.service.vmIds(alice, infId)).toEqual(['0', '1']);
  expect((await engine.service.vmInfo(alice, infId, '1')).state).toBe('stopped');
  // The reconfiguration after the stop saw only the master.
  await until(async () => conf.runs.slice(runsBeforeStop), (runs) => runs.some((vms) => vms.join() === '0'));
  const runsAtStop = conf.runs.length;

  // New work: the stopped VM is started (no VM 2), and the master is configured with it again.
  queue.waiting = 4;
  queue.busy = {};
  const up = await step(15 * S);
  expect(up.decision.intents).toEqual([{ kind: 'start', vmIds: ['1'] }]);
  expect(await engine.service.vmIds(alice, infId)).toEqual(['0', '1']);
  expect((await engine.service.vmInfo(alice, infId, '1')).state).toBe('running');
  await until(async () => conf.runs.slice(runsAtStop), (runs) => runs.some((vms) => vms.join() === '0,1'));
  queue.waiting = 0;
  queue.busy = { [ip]: 4 };
  const joined = await step(15 * S);
  expect(joined.state.nodes['1'].phase).toBe('joined');
  const events = (await m.view(infId)).events.map((e) => `${e.type}:${(e.vmIds ?? []).join(',')}`);
  expect(events).toEqual(expect.arrayContaining(['NodeStopped:1', 'NodeStarted:1', 'NodeJoined:1']));
  expect(events.some((e) => e.startsWith('NodeRemoved'))).toBe(false);
});
