/** What the engine asks of the Configurator, and what it does with the answers. */
import * as path from 'path';
import { openStore, type Store } from '../store';
import { createEngine, type Engine } from '.';
import { clusterTemplate, dummyCaller, RecordingConfigurator, scaleTemplate, TEST_SECRET_KEY, tempDir, until } from '../../test/engine-fixtures';
import { SshConfigurator } from './ssh-configurator';
import { registerConnector } from '../../connectors/registry';
import { DummyConnector } from '../../connectors/dummy';
import pino from 'pino';
import { createApp } from '../app';
import { call, imAuth, listen, type Running } from '../../test/api/http';

let store: Store;
let engine: Engine;
let rec: RecordingConfigurator;
/** The REST API over the engine, when a test starts it. */
let srv: Running | undefined;
const alice = dummyCaller('alice');

/** Waits until no job of the infrastructure is left, then returns its state. */
const settled = async (id: string) => {
  await until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);
  return engine.service.state(alice, id);
};

beforeEach(async () => {
  store = await openStore('sqlite:' + path.join(tempDir(), 'configure.db'));
  rec = new RecordingConfigurator();
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: rec });
});
afterEach(async () => {
  await srv?.close();
  srv = undefined;
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

test('additions arriving during a configuration run are batched into one next run', async () => {
  const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
  await settled(id);
  const run = rec.holdRuns();
  await engine.service.reconfigure(alice, id);
  await run.started;
  // three adds while the run is in progress, each with its own deploy job (as three POSTs)
  const adds = [2, 3, 4].map((wn) => engine.service.addResources(alice, id, scaleTemplate({ wn }), true));
  await until(() => store.listVms(id), (vms) => vms.length === 5);
  expect(rec.requests).toHaveLength(2);
  run.release();
  expect(await Promise.all(adds)).toEqual([['2'], ['3'], ['4']]);
  expect(await settled(id)).toEqual({
    state: 'configured', vm_states: { 0: 'configured', 1: 'configured', 2: 'configured', 3: 'configured', 4: 'configured' },
  });
  expect(rec.requests).toHaveLength(3);
  expect(rec.requests[2].changes).toEqual({ added: ['2', '3', '4'], removed: [] });
  expect(rec.requests[2].vms.map((v) => v.id)).toEqual(['0', '1', '2', '3', '4']);
});

test('adds during a configuration run launch their VMs at once; one more run after it configures them all', async () => {
  const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
  await settled(id);
  const run = rec.holdRuns();
  await engine.service.reconfigure(alice, id);
  await run.started;
  const hung = () => new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the add waited for the run')), 5000).unref());
  // addResources answers once its deploy job has launched the VMs and seen them leave pending
  expect(await Promise.race([engine.service.addResources(alice, id, scaleTemplate({ wn: 2 }), true), hung()])).toEqual(['2']);
  // the second add's deploy job is later than the first one's configure job, still queued
  expect(await Promise.race([engine.service.addResources(alice, id, scaleTemplate({ wn: 3 }), true), hung()])).toEqual(['3']);
  const vms = await store.listVms(id);
  expect(vms.filter((v) => ['2', '3'].includes(v.id)).map((v) => [v.id, v.state, !!v.handle])).toEqual([['2', 'running', true], ['3', 'running', true]]);
  expect(rec.requests).toHaveLength(2);
  expect((await store.listOpenJobs(id)).map((j) => [j.kind, j.status])).toEqual([['configure', 'running'], ['configure', 'queued']]);
  run.release();
  expect(await settled(id)).toEqual({
    state: 'configured', vm_states: { 0: 'configured', 1: 'configured', 2: 'configured', 3: 'configured' },
  });
  expect(rec.requests.map((r) => r.changes?.added)).toEqual([undefined, undefined, ['2', '3']]);
  expect(rec.maxInProgress).toBe(1);
});

test('a destroy during a configuration run with an add in progress stops both and removes everything', async () => {
  const slow = dummyCaller('alice', { delay_ms: '60000' });
  const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
  await settled(id);
  const run = rec.holdRuns();
  await engine.service.reconfigure(alice, id);
  await run.started;
  // the new VM never boots in time: its deploy job is in progress alongside the held run
  const add = engine.service.addResources(slow, id, scaleTemplate({ wn: 2 }), true).then(() => 'added', (e: Error) => e.message);
  await until(() => store.listOpenJobs(id), (jobs) => jobs.filter((j) => j.status === 'running').length === 2);
  await engine.service.destroy(alice, id, { force: false, releaseFloatingIps: false, async: false });
  expect(await add).toBe('The infrastructure is being destroyed');
  expect(await store.getInfrastructure(id)).toBeUndefined();
  expect(await store.listOpenJobs(id)).toEqual([]);
  expect(rec.maxInProgress).toBe(1);
});

test('during a configuration run, an add still waits for an earlier remove', async () => {
  const id = await engine.service.create(alice, clusterTemplate(2), { async: false });
  await settled(id);
  const run = rec.holdRuns();
  await engine.service.reconfigure(alice, id);
  await run.started;
  // the recorder does not stop a run when a VM leaves: the remove waits for the run to end
  const remove = engine.service.removeVms(alice, id, ['1'], true);
  await until(() => store.listOpenJobs(id), (jobs) => jobs.some((j) => j.kind === 'remove'));
  const add = engine.service.addResources(alice, id, scaleTemplate({ wn: 2 }), true);
  await until(() => store.listVms(id), (vms) => vms.some((v) => v.id === '3'));
  // VM 1 is forgotten right after its instance is gone: VM 3 must not have been launched yet
  const vm3AtRemoval: Promise<boolean>[] = [];
  rec.vmRemoved = (_inf, vmId) => {
    rec.removed.push(vmId);
    vm3AtRemoval.push(store.getVm(id, '3').then((v) => !!v?.handle));
  };
  run.release();
  await remove;
  expect(await add).toEqual(['3']);
  expect(rec.removed).toEqual(['1']);
  expect(await Promise.all(vm3AtRemoval)).toEqual([false]);
  expect(await settled(id)).toEqual({ state: 'configured', vm_states: { 0: 'configured', 2: 'configured', 3: 'configured' } });
  expect(rec.maxInProgress).toBe(1);
});

test('a shrink through add-resources stops the leaving VM\'s steps in a run in progress, and goes ahead', async () => {
  const id = await engine.service.create(alice, clusterTemplate(2), { async: false });
  await settled(id);
  // a step on VM 2 that never ends on its own: only stopping VM 2's steps ends the run
  const run = rec.holdRuns();
  rec.onLeaving = (vmId) => { if (vmId === '2') run.release(); };
  await engine.service.reconfigure(alice, id);
  await run.started;
  const shrink = engine.service.addResources(alice, id, scaleTemplate({ wn: 1 }), true); // count 2 → 1: VM 2 goes
  const hung = new Promise((_, reject) => setTimeout(() => reject(new Error('the shrink still waits for the run')), 5000).unref());
  expect(await Promise.race([shrink, hung])).toEqual([]);
  expect(rec.leaving).toEqual(['2']);
  expect(await settled(id)).toEqual({ state: 'configured', vm_states: { 0: 'configured', 1: 'configured' } });
  expect(rec.removed).toEqual(['2']);
  // the held run, then the re-configuration without VM 2 before it was deleted
  expect(rec.requests.slice(1).map((r) => [r.vms.map((v) => v.id), r.changes?.removed])).toEqual([
    [['0', '1', '2'], undefined], [['0', '1'], [{ vmId: '2', nodeName: 'wn' }]],
  ]);
});

test('through the REST API: three POSTs during a run make one next run; a POST shrink ends a hung run', async () => {
  srv = await listen(createApp({ service: engine.service, logger: pino({ level: 'silent' }), version: 'test', secretKey: TEST_SECRET_KEY }));
  const url = srv.url;
  const auth = imAuth('bob', 'bob-pw', 'id = dummy; type = Dummy');
  const req = (method: string, path: string, body?: string) =>
    call(url, method, path, { auth, body, type: body === undefined ? undefined : 'text/yaml' });
  const id = (await req('POST', '/infrastructures', clusterTemplate(1))).headers.get('InfID')!;
  const reconfigure = async () => expect((await req('PUT', `/infrastructures/${id}/reconfigure`)).status).toBe(200);
  const vms = () => store.listVms(id);
  const idle = () => until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);
  await idle();

  let run = rec.holdRuns();
  await reconfigure();
  await run.started;
  const posts = [];
  for (const wn of [2, 3, 4]) {
    // one at a time into the engine (each count is absolute), none waiting for the previous one's answer
    posts.push(req('POST', `/infrastructures/${id}`, scaleTemplate({ wn })));
    await until(vms, (v) => v.length === wn + 1);
  }
  run.release();
  expect((await Promise.all(posts)).map((r) => [r.status, r.text.split('/').pop()])).toEqual([[200, '2'], [200, '3'], [200, '4']]);
  await idle();
  expect(rec.requests.map((r) => r.changes?.added)).toEqual([undefined, undefined, ['2', '3', '4']]);

  // a step on VM 3 hangs until its steps are stopped; removal_list [3] must not wait for it
  run = rec.holdRuns();
  rec.onLeaving = (vmId) => { if (vmId === '3') run.release(); };
  await reconfigure();
  await run.started;
  const shrink = await req('POST', `/infrastructures/${id}`, scaleTemplate({ wn: 3 }, { wn: ['3'] }));
  expect([shrink.status, shrink.text]).toEqual([200, '']);
  await idle();
  expect((await vms()).map((v) => v.id)).toEqual(['0', '1', '2', '4']);
  const state = await call(url, 'GET', `/infrastructures/${id}/state`, { auth, accept: 'application/json' });
  expect(state.json().state.state).toBe('configured');
});
