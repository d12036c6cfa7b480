/** What the engine asks of the Configurator, and what it does with the answers. */
import * as path from 'path';
import { openStore, type Store } from '../store';
import { createEngine, type Engine } from '.';
import { clusterTemplate, dummyCaller, scaleTemplate, TEST_SECRET_KEY, tempDir, until } from './test-fixtures';
import type { Configurator, ConfigureRequest, ConfigureResult } from './configurator';
import { SshConfigurator } from './ssh-configurator';
import { registerConnector } from '../../connectors/registry';
import { DummyConnector } from '../../connectors/dummy';

class Recorder implements Configurator {
  requests: ConfigureRequest[] = [];
  removed: string[] = [];
  released: string[] = [];
  answer: (req: ConfigureRequest) => ConfigureResult | Promise<ConfigureResult> = (req) => ({
    vms: Object.fromEntries((req.targets ?? req.vms.map((v) => v.id)).map((id) => [id, 'configured' as const])),
  });
  async configure(req: ConfigureRequest) {
    this.requests.push(req);
    await req.log('recorder ran');
    return this.answer(req);
  }
  vmRemoved(_inf: string, vmId: string) { this.removed.push(vmId); }
  async release(inf: string) { this.released.push(inf); }
}

let store: Store;
let engine: Engine;
let rec: Recorder;
const alice = dummyCaller('alice');

/** Waits until no job of the infrastructure is left, then returns its state. */
const settled = async (id: string) => {
  await until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);
  return engine.service.state(alice, id);
};

beforeEach(async () => {
  store = await openStore('sqlite:' + path.join(tempDir(), 'configure.db'));
  rec = new Recorder();
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: rec });
});
afterEach(async () => {
  await engine.close();
  await store.close();
});

test('first run is full, later runs say what changed; the master stays the same', async () => {
  const id = await engine.service.create(alice, clusterTemplate(2), { async: false });
  await settled(id);
  expect(rec.requests).toHaveLength(1);
  const first = rec.requests[0];
  expect(first.changes).toBeUndefined();
  expect(first.masterVmId).toBe('0'); // the front end, the only VM with a public IP
  expect(first.vms.map((v) => [v.id, v.nodeName, v.adminUser, v.lastResult])).toEqual([
    ['0', 'front', 'cloudadm', undefined], ['1', 'wn', 'cloudadm', undefined], ['2', 'wn', 'cloudadm', undefined],
  ]);
  expect(first.ssh.privateKey).toContain('OPENSSH PRIVATE KEY');
  expect(first.ssh.publicKey).toMatch(/^ssh-ed25519 /);

  await engine.service.addResources(alice, id, scaleTemplate({ wn: 3 }), true);
  await settled(id);
  const second = rec.requests[1];
  expect(second.changes).toEqual({ added: ['3'], removed: [] });
  expect(second.vms.find((v) => v.id === '1')?.lastResult).toBe('configured');
  expect(second.masterVmId).toBe('0');

  await engine.service.removeVms(alice, id, ['2'], true);
  await settled(id);
  expect(rec.removed).toEqual(['2']);
  expect(rec.requests[2].changes).toEqual({ added: [], removed: [{ vmId: '2', nodeName: 'wn' }] });

  await engine.service.reconfigure(alice, id, ['1']);
  await settled(id);
  expect(rec.requests[3]).toMatchObject({ targets: ['1'], changes: undefined });
  await engine.service.reconfigure(alice, id);
  await settled(id);
  expect(rec.requests[4]).toMatchObject({ targets: undefined, changes: undefined });

  // context=false: no configuration
  await engine.service.addResources(alice, id, scaleTemplate({ wn: 4 }), false);
  expect(rec.requests).toHaveLength(5);

  await engine.service.destroy(alice, id, { force: false, async: false, releaseFloatingIps: false });
  expect(rec.released).toEqual([id]);
});

test('unconfigured outcomes and configurator errors make the infrastructure unconfigured', async () => {
  rec.answer = (req) => ({ vms: Object.fromEntries(req.vms.map((v) => [v.id, v.nodeName === 'wn' ? 'unconfigured' as const : 'configured' as const])) });
  const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
  expect(await settled(id)).toEqual({ state: 'unconfigured', vm_states: { 0: 'configured', 1: 'unconfigured' } });

  rec.answer = () => { throw new Error('ansible exploded'); };
  await engine.service.reconfigure(alice, id, ['0']);
  expect(await settled(id)).toEqual({ state: 'unconfigured', vm_states: { 0: 'unconfigured', 1: 'unconfigured' } });
  expect(await engine.service.contmsg(alice, id, true)).toContain('Error in the contextualization: ansible exploded');
});

test('SshConfigurator: Dummy VMs need no SSH; without a public IP nothing can be reached', async () => {
  await engine.close();
  const ssh = new SshConfigurator({ workDir: tempDir() });
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: ssh });
  const dummy = await engine.service.create(alice, clusterTemplate(1), { async: false });
  expect((await settled(dummy)).state).toBe('configured');

  // A cloud that is not Dummy (a Dummy underneath, so no packet leaves): no VM has a public IP.
  registerConnector('LabCloud', (cred) => new DummyConnector(cred));
  const lab = { ...alice, credentials: [{ id: 'lab', type: 'LabCloud', fields: {} }] };
  const privateOnly = clusterTemplate(1).replace(/network_name: PUBLIC/, 'network_name: PRIVATE');
  const id = await engine.service.create(lab, privateOnly, { async: false });
  const st = await until(() => engine.service.state(lab, id), (s) => s.state !== 'running' && s.state !== 'pending');
  expect(st.state).toBe('unconfigured');
  expect(await engine.service.contmsg(lab, id, true)).toContain('no running VM has a public IP');
});
