/**
 * The full REST path: a corpus template written for AWS (DODAS CMS-HTCondor-AWS: a public Mesos
 * master, a public load balancer, a worker) posted to the IM API with an EC2 credential line that
 * points at the simulator; it runs, its public nodes (only those) get Elastic IPs, and destroy
 * removes every instance, the security group and the key pair while keeping the addresses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { loadImportMap } from '../../tosca';
import { createApp } from '../../server/app';
import { createEngine, Engine } from '../../server/engine';
import { TEST_SECRET_KEY } from '../engine-fixtures';
import { openStore, Store } from '../../server/store';
import { call, imAuth, listen, Running, waitForState } from '../api/http';
import { startEc2Sim, Ec2Sim, DEFAULT_IMAGES } from '../../sims/ec2';
import { corpusDir } from '../tosca/corpus';

const TEMPLATE = 'indigo-dc__tosca-templates/dodas/CMS-HTCondor-AWS.yaml';
const AMI = 'ami-0773391ae604c49a4';

let sim: Ec2Sim;
let store: Store;
let engine: Engine;
let api: Running;

beforeAll(async () => {
  sim = await startEc2Sim({
    region: 'eu-west-1',
    bootMs: 100,
    shutdownMs: 100,
    images: [...DEFAULT_IMAGES, { id: AMI, name: 'ubuntu-16.04', owner: 'amazon', architecture: 'x86_64' }],
  });
  store = await openStore('sqlite::memory:');
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, ...loadImportMap(join(corpusDir(), 'import-map.json')) });
  api = await listen(createApp({ service: engine.service, logger: pino({ level: 'silent' }), version: '0.0.0', secretKey: 'k' }));
});
afterAll(async () => {
  await api?.close();
  await engine?.close();
  await store?.close();
  await sim?.close();
});

const ec2Line = (secret = 'SECRETEXAMPLE') => `id = ec2; type = EC2; username = AKIDEXAMPLE; password = ${secret}; host = ${sim.url}/`;

/** State polling through the current server (api changes across restarts). */
const waitState = (auth: string, infrastructure: string, want: string[], ms?: number): Promise<string> =>
  waitForState(api.url, auth, infrastructure, want, ms);

test('an AWS corpus template deploys on the EC2 simulator and is destroyed, Elastic IPs kept', async () => {
  const auth = imAuth('alice', 'pw', ec2Line());
  const text = readFileSync(join(corpusDir(), TEMPLATE), 'utf8');
  const created = await call(api.url, 'POST', '/infrastructures', { auth, type: 'text/yaml', accept: 'application/json', body: text });
  expect(created.status).toBe(200);
  const uri = created.json().uri as string;
  expect(await waitState(auth, uri, ['configured'])).toBe('configured');

  const infId = uri.split('/').pop()!;
  const mine = sim.inspect.state().instances.filter((i) => i.tags.im_infrastructure_id === infId);
  expect(mine.map((i) => i.tags.im_node).sort()).toEqual(['mesos-lb-server', 'mesos-master-server', 'mesos-slave-server']);
  expect(mine.every((i) => i.state === 'running' && i.imageId === AMI)).toBe(true);
  const addresses = sim.inspect.state().addresses;
  expect(addresses).toHaveLength(2);
  const withIp = mine.filter((i) => i.publicIp).map((i) => i.tags.im_node).sort();
  expect(withIp).toEqual(['mesos-lb-server', 'mesos-master-server']);
  const master = mine.find((i) => i.tags.im_node === 'mesos-master-server')!;
  expect(master.type).toBe('c5.xlarge'); // 4 CPUs, 8 GB: the smallest 4-vCPU type with enough memory in the sim's list
  expect(mine.find((i) => i.tags.im_node === 'mesos-slave-server')!.type).toBe('m5.4xlarge'); // 16 CPUs, 32 GB
  const outputs = await call(api.url, 'GET', `${new URL(uri).pathname}/outputs`, { auth, accept: 'application/json' });
  expect(outputs.json().outputs.mesos_endpoint).toBe(`http://${master.publicIp}:5050`);

  const destroyed = await call(api.url, 'DELETE', new URL(uri).pathname, { auth });
  expect(destroyed.status).toBe(200);
  const after = sim.inspect.state();
  expect(after.instances.filter((i) => i.tags.im_infrastructure_id === infId && i.state !== 'terminated')).toEqual([]);
  expect(after.securityGroups.filter((g) => g.name === `im-${infId}`)).toEqual([]);
  expect(after.keyPairs.filter((k) => k.name === `im-${infId}`)).toEqual([]);
  expect(after.addresses.map((a) => [a.publicIp, a.instanceId])).toEqual(addresses.map((a) => [a.publicIp, undefined]));
}, 60_000);

test('bad EC2 keys: the infrastructure fails and contmsg says the credentials were rejected', async () => {
  const auth = imAuth('bob', 'pw', ec2Line('WRONGSECRET'));
  const text = readFileSync(join(corpusDir(), TEMPLATE), 'utf8');
  // A synchronous create that launches nothing is refused with the cloud's 401, naming the cloud.
  const sync = await call(api.url, 'POST', '/infrastructures', { auth, type: 'text/yaml', accept: 'application/json', body: text });
  expect(sync.status).toBe(401);
  expect(sync.json().message).toContain('in cloud "ec2": EC2 cloud "ec2" rejected the credentials');
  // An asynchronous one records launch failures in state and contmsg (the create answers with the URI).
  const created = await call(api.url, 'POST', '/infrastructures?async=1', { auth, type: 'text/yaml', accept: 'application/json', body: text });
  expect(created.status).toBe(200);
  const uri = created.json().uri as string;
  expect(await waitState(auth, uri, ['failed'])).toBe('failed');
  const contmsg = await call(api.url, 'GET', `${new URL(uri).pathname}/contmsg`, { auth, accept: 'application/json' });
  expect(contmsg.json().contmsg).toContain(
    'EC2 cloud "ec2" rejected the credentials (AuthFailure: AWS was not able to validate the provided access credentials); ' +
      'check the access key (username) and secret key (password)',
  );
  const infId = uri.split('/').pop()!;
  expect(sim.inspect.state().instances.filter((i) => i.tags.im_infrastructure_id === infId)).toEqual([]);
  // Destroying needs the cloud too: refused with the cloud's 401, the reason and the ways out, unless forced.
  const refused = await call(api.url, 'DELETE', new URL(uri).pathname, { auth, accept: 'application/json' });
  expect(refused.status).toBe(401);
  expect(refused.json().message).toContain('rejected the credentials');
  expect(refused.json().message).toContain('force=yes');
  expect((await call(api.url, 'DELETE', `${new URL(uri).pathname}?force=yes`, { auth })).status).toBe(200);
}, 60_000);

test('a VM that dies while booting fails the infrastructure, with the cloud\'s reason in contmsg', async () => {
  const auth = imAuth('carol', 'pw', ec2Line());
  const text = readFileSync(join(corpusDir(), TEMPLATE), 'utf8');
  // Every launch dies: each VM is tried 3 times (IM's MAX_VM_FAILS), then left failed.
  sim.faults.add({ kind: 'boot-failure', action: 'RunInstances', times: Infinity });
  const created = await call(api.url, 'POST', '/infrastructures', { auth, type: 'text/yaml', accept: 'application/json', body: text });
  expect(created.status).toBe(200);
  const uri = created.json().uri as string;
  expect(await waitState(auth, uri, ['failed'])).toBe('failed');
  const contmsg = await call(api.url, 'GET', `${new URL(uri).pathname}/contmsg`, { auth, accept: 'application/json' });
  expect(contmsg.json().contmsg).toContain('Server.InternalError: Internal error on launch');
  expect(contmsg.json().contmsg).toContain('after 3 attempts');
  sim.faults.clear();
  const infId = uri.split('/').pop()!;
  expect((await call(api.url, 'DELETE', new URL(uri).pathname, { auth })).status).toBe(200);
  expect(sim.inspect.state().instances.filter((i) => i.tags.im_infrastructure_id === infId && i.state !== 'terminated')).toEqual([]);
}, 60_000);
