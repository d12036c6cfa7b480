/** RADL configure recipes become Ansible steps on Dummy, planned in contextualize order. */
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { openStore, type Store } from '../store';
import { createEngine, type Engine } from '.';
import { dummyCaller, RecordingConfigurator, TEST_SECRET_KEY, tempDir, until } from '../../test/engine-fixtures';
import { planSteps } from '../configure/steps';
import type { ConfigureRequest } from './configurator';
import { recipePlaybook } from './radl-configure';

let store: Store;
let engine: Engine;
let rec: RecordingConfigurator;
const alice = dummyCaller('alice');

beforeEach(async () => {
  store = await openStore('sqlite:' + path.join(tempDir(), 'radl-configure.db'));
  rec = new RecordingConfigurator();
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: rec });
});
afterEach(async () => {
  await engine.close();
  await store.close();
});

const systems = `network publica (outbound = 'yes')
network privada ()
system front (cpu.count >= 1 and net_interface.0.connection = 'publica' and net_interface.1.connection = 'privada' and disk.0.image.url = 'dummy://img')
system wn (cpu.count >= 1 and net_interface.0.connection = 'privada' and disk.0.image.url = 'dummy://img')
configure front (
@begin
---
  - tasks:
      - shell: echo front
@end
)
configure wn (
@begin
- shell: echo wn
@end
)
configure extra (
@begin
- tasks:
    - shell: echo extra
  become: no
@end
)
`;

/** The configure-layer steps of the engine's first request: "vmId node" in execution order, with what each waits for. */
async function plannedSteps(radl: string): Promise<{ order: string[]; after: Record<string, string[]> }> {
  const id = await engine.service.create(alice, radl, { async: false });
  await until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);
  const req: ConfigureRequest = rec.requests[0];
  const steps = planSteps({
    infrastructureId: id, plan: req.plan, masterVmId: req.masterVmId!,
    vms: req.vms.map((v) => ({ vmId: v.id, nodeName: v.nodeName, privateIp: '10.0.0.1', ssh: { user: 'root', privateKey: 'k' } })),
  });
  for (const s of steps) expect(s.op.implementation?.kind).toBe('ansible');
  const label = (sid: string) => { const s = steps.find((x) => x.id === sid)!; return `${s.vm.vmId} ${s.software.name}`; };
  return {
    order: steps.map((s) => `${s.vm.vmId} ${s.software.name}`),
    after: Object.fromEntries(steps.map((s) => [`${s.vm.vmId} ${s.software.name}`, s.after.map(label).sort()])),
  };
}

test('contextualize order: step 1 on every VM before step 2; within a VM the written order', async () => {
  const { order, after } = await plannedSteps(`${systems}
contextualize (
  system wn configure wn step 1
  system front configure extra step 2
  system front configure front step 2
)
deploy front 1
deploy wn 2
`);
  // VM 0 is front, 1 and 2 are wn
  expect(order).toEqual(['1 wn', '2 wn', '0 extra', '0 front']);
  expect(after['0 extra']).toEqual(['1 wn', '2 wn']);
  expect(after['0 front']).toEqual(['0 extra', '1 wn', '2 wn']);
  expect(after['1 wn']).toEqual([]);
  // contmsg no longer says the recipes are not run
  const id = (await engine.service.list(alice))[0];
  expect(await engine.service.contmsg(alice, id, false)).not.toMatch(/not run/);
});

test('without contextualize: each system runs the configure named like it, all at once (IM step 1)', async () => {
  const { order, after } = await plannedSteps(`${systems}
deploy wn 1
deploy front 1
`);
  // VM 0 is front (systems are launched in the order they are defined); `extra` names no system, so it
  // does not run; all are IM's step 1: none waits for another
  expect(order.sort()).toEqual(['0 front', '1 wn']);
  expect(after).toEqual({ '0 front': [], '1 wn': [] });
});

test('`contextualize ()` runs no recipe', async () => {
  const { order } = await plannedSteps(`${systems}
contextualize ()
deploy front 1
`);
  expect(order).toEqual([]);
});

test("a recipe becomes IM's play: plays get the header, a task list is wrapped, a play's own become wins", () => {
  expect(parseYaml(recipePlaybook('front', '---\n  - tasks:\n      - shell: echo front\n')!)).toEqual([
    { hosts: 'all', become: true, tasks: [{ shell: 'echo front' }] },
  ]);
  expect(parseYaml(recipePlaybook('wn', '- shell: echo wn\n- copy: {dest: /x, content: hello}\n')!)).toEqual([
    { hosts: 'all', become: true, tasks: [{ shell: 'echo wn' }, { copy: { dest: '/x', content: 'hello' } }] },
  ]);
  expect(parseYaml(recipePlaybook('extra', '- tasks: []\n  become: no\n')!)).toEqual([{ hosts: 'all', become: false, tasks: [] }]);
  expect(recipePlaybook('empty', '\n')).toBeUndefined();
  expect(() => recipePlaybook('bad', '- a: [\n')).toThrow(/configure bad: invalid Ansible YAML/);
  expect(() => recipePlaybook('bad', '- just a string\n')).toThrow(/list of plays or of tasks/);
});
