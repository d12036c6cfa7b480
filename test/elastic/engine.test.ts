/**
 * The manager on the real engine (SQLite store, Dummy cloud), through the user's AddResource /
 * RemoveResource path (E-UP-4, E-DOWN-3), with the policy planned from a real template
 * (E-DECL-1/2) and a generic probe reading a queue on the "master".
 */
import * as path from 'path';
import { parse } from 'yaml';
import { planTemplate } from '../../tosca';
import { openStore, type Store } from '../../server/store';
import { createEngine, type Engine } from '../../server/engine';
import { TEST_SECRET_KEY, clusterTemplate, dummyCaller, tempDir } from '../engine-fixtures';
import { policiesFromPlan, remoteExecOver, templateWithCount } from '../../server/elastic/ports';
import { execFile } from 'child_process';
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
          idle_before_scale_down_s: 300
          scale_down_delay_after_add_s: 300
`;

let store: Store;
let engine: Engine;
beforeEach(async () => {
  store = await openStore('sqlite:' + path.join(tempDir('elastic-engine-'), 'engine.db'));
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
});
afterEach(async () => {
  await engine.close();
  await store.close();
});

const wnCount = (tosca: string) => parse(tosca).topology_template.node_templates.wn.capabilities.scalable.properties.count;

test('master + 0 workers: 12 jobs grow it to 3 workers; done, it shrinks to min and the busy worker stays', async () => {
  const alice = dummyCaller('alice');
  const infId = await engine.service.create(alice, template, { async: false });
  expect(await engine.service.vmIds(alice, infId)).toEqual(['0']); // E-DECL-2: 0 workers is valid

  const [policy] = policiesFromPlan(await planTemplate(template));
  expect(policy).toMatchObject({ target: 'wn', min_nodes: 0, max_nodes: 3, slots_per_node: 4, lrms: 'generic' });

  const queue = { waiting: 12, busy: {} as Record<string, number> };
  const { manager: m, step } = managerOnEngine(engine, store, infId, policy, queue);

  await step(0);
  const vms = await engine.service.vmIds(alice, infId);
  expect(vms).toEqual(['0', '1', '2', '3']);
  expect(wnCount(await engine.service.tosca(alice, infId))).toBe(3); // E-UP-4
  const info = await Promise.all(['1', '2', '3'].map((id) => engine.service.vmInfo(alice, infId, id)));
  for (const v of info) expect(v.publicIps).toEqual([]); // no floating IP for workers
  const ip = Object.fromEntries(info.map((v) => [v.id, v.privateIps[0]]));

  // The workers register and run the 12 jobs.
  queue.waiting = 0;
  queue.busy = { [ip['1']]: 4, [ip['2']]: 4, [ip['3']]: 4 };
  await step(15 * S);
  expect((await m.view(infId)).capacity).toMatchObject({ joined: 3, busy_slots: 12 });

  // Done, except one job on worker 2.
  queue.busy = { [ip['1']]: 0, [ip['2']]: 1, [ip['3']]: 0 };
  for (let t = 0; t < 8 * MIN; t += 15 * S) await step(15 * S);
  expect(await engine.service.vmIds(alice, infId)).toEqual(['0', '2']);
  expect(wnCount(await engine.service.tosca(alice, infId))).toBe(1);

  queue.busy = { [ip['2']]: 0 };
  for (let t = 0; t < 7 * MIN; t += 15 * S) await step(15 * S);
  expect(await engine.service.vmIds(alice, infId)).toEqual(['0']);
  const events = (await m.view(infId)).events.map((e) => `${e.type}:${(e.vmIds ?? []).join(',')}`);
  expect(events).toEqual(expect.arrayContaining(['NodeRemoved:1', 'NodeRemoved:3', 'NodeRemoved:2']));
});

test('templateWithCount sets the count and drops a removal_list', () => {
  const t = templateWithCount(`topology_template:\n  node_templates:\n    wn:\n      capabilities:\n        scalable:\n          properties:\n            count: 1\n            removal_list: ['3']\n`, 'wn', 4);
  expect(parse(t).topology_template.node_templates.wn.capabilities.scalable.properties).toEqual({ count: 4 });
});

test('remoteExecOver keeps stderr out of a probe output unless the command fails (real sh)', async () => {
  const sh = (command: string) => new Promise<{ exitCode: number; output: string }>((resolve) => {
    execFile('sh', ['-c', `${command} 2>&1`], (err, stdout) => resolve({ exitCode: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout }));
  });
  const exec = remoteExecOver(sh);
  expect(await exec(`echo warning >&2; echo '{"waiting":1}'`)).toEqual({ code: 0, stdout: '{"waiting":1}\n', stderr: '' });
  const bad = await exec(`echo partial; echo 'condor_q: Failed to connect' >&2; exit 3`);
  expect(bad.code).toBe(3);
  expect(bad.stderr).toContain('condor_q: Failed to connect');
  // The Kubernetes drain's shape: a background eviction must not hold the command open.
  const t0 = Date.now();
  expect((await exec(`true && { nohup sleep 3 </dev/null >/dev/null 2>&1 & }`)).code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(2000);
});
