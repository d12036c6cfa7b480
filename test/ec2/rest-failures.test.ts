/**
 * Failures and release options through the REST API on the EC2 simulator: InstanceLimitExceeded and
 * AddressLimitExceeded show in state and contmsg; DELETE ?release_floating_ips and the credential
 * option delete_floating_ips release only the addresses this infrastructure allocated; and a server
 * process that dies in the middle of a create, followed by DELETE on a new process, leaves no
 * instance, security group or key pair of the infrastructure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { loadImportMap } from '../../tosca';
import { createApp } from '../../server/app';
import { createEngine, Engine } from '../../server/engine';
import { TEST_SECRET_KEY, tempDir } from '../engine-fixtures';
import { openStore, Store } from '../../server/store';
import { call, imAuth, listen, Running, waitForState } from '../api/http';
import { startEc2Sim, Ec2Sim, DEFAULT_IMAGES } from '../../sims/ec2';
import { corpusDir } from '../tosca/corpus';
import { compute, connector, infraState, launchRequest } from './helpers';

/** DODAS CMS-HTCondor-AWS: a public Mesos master, a public load balancer, a private worker. */
const TEXT = readFileSync(join(corpusDir(), 'indigo-dc__tosca-templates/dodas/CMS-HTCondor-AWS.yaml'), 'utf8');
const AMI = 'ami-0773391ae604c49a4';

let sim: Ec2Sim;
let dbFile: string;
let store: Store;
let engine: Engine;
let api: Running;

/** A server process: store on the SQLite file, engine, REST app. Opened again after a "crash". */
async function startServer(): Promise<void> {
  store = await openStore(`sqlite:${dbFile}`);
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, ...loadImportMap(join(corpusDir(), 'import-map.json')), tuning: { pollMinMs: 50, pollMaxMs: 200 } });
  api = await listen(createApp({ service: engine.service, logger: pino({ level: 'silent' }), version: '0.0.0', secretKey: 'k' }));
}
async function stopServer(): Promise<void> {
  await api?.close();
  await engine?.close();
  await store?.close();
}

beforeAll(async () => {
  sim = await startEc2Sim({
    region: 'eu-west-1', bootMs: 100, shutdownMs: 100,
    images: [...DEFAULT_IMAGES, { id: AMI, name: 'ubuntu-16.04', owner: 'amazon', architecture: 'x86_64' }],
  });
  dbFile = join(tempDir('tosca-im-ec2-rest-'), 'im.db');
  await startServer();
});
afterAll(async () => {
  await stopServer();
  await sim?.close();
});
afterEach(() => sim.faults.clear());

const ec2Line = (extra = '') => `id = ec2; type = EC2; username = AKIDEXAMPLE; password = SECRETEXAMPLE; host = ${sim.url}/${extra}`;

/** State polling through the current server (api changes across restarts). */
const waitState = (auth: string, infrastructure: string, want: string[], ms?: number): Promise<string> =>
  waitForState(api.url, auth, infrastructure, want, ms);

async function create(auth: string, query = ''): Promise<{ path: string; infId: string }> {
  const created = await call(api.url, 'POST', `/infrastructures${query}`, { auth, type: 'text/yaml', accept: 'application/json', body: TEXT });
  expect(created.status).toBe(200);
  const path = new URL(created.json().uri as string).pathname;
  return { path, infId: path.split('/').pop()! };
}

const contmsgOf = async (auth: string, path: string) => (await call(api.url, 'GET', `${path}/contmsg`, { auth, accept: 'application/json' })).json().contmsg as string;

/** An address of the account that this infrastructure did not allocate, free to be reused. */
function foreignAddress(): string {
  const m = sim.inspect.model;
  const a = { allocationId: `eipalloc-f${String(m.addresses.size).padStart(16, '0')}`, publicIp: m.allocatePublicIp() };
  m.addresses.set(a.allocationId, a);
  return a.allocationId;
}

test('InstanceLimitExceeded: the infrastructure fails with the limit named in contmsg; DELETE removes the instance that fit', async () => {
  sim.inspect.model.limits.instances = 1;
  try {
    const auth = imAuth('ilimit', 'pw', ec2Line());
    const { path, infId } = await create(auth, '?async=1');
    expect(await waitState(auth, path, ['failed'])).toBe('failed');
    expect(await contmsgOf(auth, path)).toContain('InstanceLimitExceeded');
    expect(infraState(sim, infId).live).toHaveLength(1);
    sim.inspect.model.limits.instances = 256;
    expect((await call(api.url, 'DELETE', path, { auth })).status).toBe(200);
    expect(infraState(sim, infId).live).toEqual([]);
  } finally {
    sim.inspect.model.limits.instances = 256;
  }
}, 60_000);

test('AddressLimitExceeded: the public nodes fail with the limit named in contmsg, the private one runs', async () => {
  // Nothing free to reuse (the earlier tests' addresses are all free and unassociated by now) and no room for more.
  expect(sim.inspect.state().addresses.filter((a) => a.instanceId)).toEqual([]);
  sim.inspect.model.addresses.clear();
  sim.inspect.model.limits.addresses = 0;
  try {
    const auth = imAuth('alimit', 'pw', ec2Line());
    const { path, infId } = await create(auth, '?async=1');
    expect(await waitState(auth, path, ['failed'])).toBe('failed');
    expect(await contmsgOf(auth, path)).toContain('AddressLimitExceeded');
    const st = (await call(api.url, 'GET', `${path}/state`, { auth, accept: 'application/json' })).json().state;
    // VM ids follow the template's order: 0 master (public), 1 worker (private), 2 load balancer (public).
    expect(st.vm_states).toEqual({ 0: 'failed', 1: 'configured', 2: 'failed' });
    expect(sim.inspect.model.addresses.size).toBe(0);
    expect((await call(api.url, 'DELETE', path, { auth })).status).toBe(200);
    expect(infraState(sim, infId).live).toEqual([]);
  } finally {
    sim.inspect.model.limits.addresses = 5;
  }
}, 60_000);

test.each([
  ['DELETE ?release_floating_ips=1', '', '?release_floating_ips=1'],
  ['the credential option delete_floating_ips = yes', '; delete_floating_ips = yes', ''],
])('%s releases the address this infrastructure allocated, and keeps the one it reused', async (_what, lineExtra, deleteQuery) => {
  // Start from an account whose only address is a free one this infrastructure did not allocate.
  expect(sim.inspect.state().addresses.filter((a) => a.instanceId)).toEqual([]);
  sim.inspect.model.addresses.clear();
  const foreign = foreignAddress();
  const auth = imAuth(`rel${lineExtra ? 'cred' : 'query'}`, 'pw', ec2Line(lineExtra));
  const { path, infId } = await create(auth);
  expect(await waitState(auth, path, ['configured'])).toBe('configured');
  const running = sim.inspect.state();
  expect(running.addresses).toHaveLength(2); // the reused foreign one + one allocated
  expect(running.addresses.find((a) => a.allocationId === foreign)?.instanceId).toBeTruthy();
  expect((await call(api.url, 'DELETE', `${path}${deleteQuery}`, { auth })).status).toBe(200);
  expect(infraState(sim, infId).live).toEqual([]);
  const left = sim.inspect.state().addresses;
  expect(left.map((a) => a.allocationId)).toEqual([foreign]);
  expect(left.every((a) => !a.instanceId)).toBe(true);
}, 60_000);

test('the server dies in the middle of a create; DELETE on the next process leaves nothing of it, addresses kept', async () => {
  const auth = imAuth('crash', 'pw', ec2Line());
  sim.inspect.model.timings.bootMs = 3_000; // still pending when the process dies
  try {
    const { path, infId } = await create(auth, '?async=1');
    const deadline = Date.now() + 10_000;
    while (infraState(sim, infId).live.length < 3) {
      if (Date.now() > deadline) throw new Error('instances never appeared');
      await new Promise((r) => setTimeout(r, 20));
    }
    await stopServer();
    // The dead process had also launched an instance whose answer it never recorded (see restart.test.ts).
    const orphan = await connector(sim).launch(launchRequest(infId, '9', compute('mesos-slave-server', { os: { image: `aws://eu-west-1/${AMI}` } })));
    expect(infraState(sim, infId).live.map((i) => i.id)).toContain(orphan.instanceId);

    await startServer();
    expect((await call(api.url, 'DELETE', path, { auth })).status).toBe(200);
    const left = infraState(sim, infId);
    expect(left.live).toEqual([]);
    expect(left.groups).toEqual([]);
    expect(left.keys).toEqual([]);
    expect(left.addresses.length).toBeGreaterThan(0);
    expect(left.addresses.filter((a) => a.instanceId)).toEqual([]); // kept, disassociated
    expect((await call(api.url, 'GET', `${path}/state`, { auth })).status).toBe(404);
  } finally {
    sim.inspect.model.timings.bootMs = 100;
  }
}, 60_000);
