/**
 * The full REST path: IM's own test template (tosca_create.yml: a public web server and a private
 * database server, images chosen by distribution) posted to the IM API with an OpenStack credential
 * line pointing at the simulator → VMs ACTIVE with the right IPs in VM info and outputs → DELETE →
 * servers, ports, security group and keypair gone, the floating IP kept in the project.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { loadImportMap } from '../../tosca';
import { resetOpenStackClouds, openStackTuning } from '../../connectors/openstack';
import { createApp } from '../../server/app';
import { createEngine, Engine } from '../../server/engine';
import { TEST_SECRET_KEY } from '../engine-fixtures';
import { openStore, Store } from '../../server/store';
import { call, imAuth, listen, Running, waitForState } from '../api/http';
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';
import { corpusDir } from '../tosca/corpus';
import { resourcesOf } from './helpers';

const TEMPLATE = 'grycap__im/test/files/tosca_create.yml';

let sim: OpenStackSim;
let store: Store;
let engine: Engine;
let api: Running;

beforeAll(async () => {
  resetOpenStackClouds();
  openStackTuning.deletePoll = { intervalMs: 30, maxIntervalMs: 200, timeoutMs: 20_000 };
  sim = await startOpenStackSim({ faults: { activeDelayMs: 100, deleteDelayMs: 50 } });
  store = await openStore('sqlite::memory:');
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, ...loadImportMap(join(corpusDir(), 'import-map.json')), tuning: { pollMinMs: 50, pollMaxMs: 200 } });
  api = await listen(createApp({ service: engine.service, logger: pino({ level: 'silent' }), version: '0.0.0', secretKey: 'k' }));
});
afterAll(async () => {
  await api?.close();
  await engine?.close();
  await store?.close();
  await sim?.close();
});

const osLine = (password = 'secret') =>
  `id = ost; type = OpenStack; host = ${sim.url}/identity; username = demo; password = ${password}; tenant = demo; domain = Default; auth_version = 3.x_password; service_region = RegionOne`;

/** State polling through the current server (api changes across restarts). */
const waitState = (auth: string, infrastructure: string, want: string[], ms?: number): Promise<string> =>
  waitForState(api.url, auth, infrastructure, want, ms);

test('IM test template deploys on the OpenStack simulator through the REST API and is destroyed, floating IP kept', async () => {
  const auth = imAuth('alice', 'pw', osLine());
  const text = readFileSync(join(corpusDir(), TEMPLATE), 'utf8');
  const created = await call(api.url, 'POST', '/infrastructures', { auth, type: 'text/yaml', accept: 'application/json', body: text });
  expect(created.status).toBe(200);
  const path = new URL(created.json().uri as string).pathname;
  const infId = path.split('/').pop()!;
  expect(await waitState(auth, path, ['configured'])).toBe('configured');

  const mine = resourcesOf(sim, infId);
  expect(mine.servers.map((s) => [s.metadata.im_node, s.status, s.flavor]).sort()).toEqual([
    ['db_server', 'ACTIVE', 'm1.medium'],
    ['web_server', 'ACTIVE', 'm1.small'],
  ]);
  expect(mine.servers.every((s) => s.image === '0c1d2e3f-1111-4a2b-8c3d-000000000002')).toBe(true); // ubuntu 22.04 by os_distro/os_version
  const fips = sim.inspect().floatingIps;
  expect(fips).toHaveLength(1);
  const web = mine.servers.find((s) => s.metadata.im_node === 'web_server')!;
  const webPort = sim.inspect().ports.find((p) => p.deviceId === web.id)!;
  expect(fips[0].portId).toBe(webPort.id);
  expect(mine.groups[0].rules.some((r) => r.protocol === 'tcp' && r.from === 80 && r.remoteIpPrefix === '0.0.0.0/0')).toBe(true);

  // VM info shows the addresses the cloud gave.
  const vmIds = (await call(api.url, 'GET', path, { auth, accept: 'application/json' })).json()['uri-list'].map((u: { uri: string }) => u.uri.split('/').pop());
  const infos = await Promise.all(vmIds.map(async (id: string) => (await call(api.url, 'GET', `${path}/vms/${id}`, { auth })).text));
  expect(infos.some((t) => t.includes(fips[0].address) && t.includes(webPort.ip))).toBe(true);
  const outputs = (await call(api.url, 'GET', `${path}/outputs`, { auth, accept: 'application/json' })).json().outputs;
  expect(JSON.stringify(outputs.server_url)).toContain(fips[0].address);

  const destroyed = await call(api.url, 'DELETE', path, { auth });
  expect(destroyed.status).toBe(200);
  const left = resourcesOf(sim, infId);
  expect(left.servers).toEqual([]);
  expect(left.ports).toEqual([]);
  expect(left.groups).toEqual([]);
  expect(left.keypairs).toEqual([]);
  expect(sim.inspect().floatingIps).toEqual([expect.objectContaining({ address: fips[0].address, portId: null })]);
}, 60_000);

test('DELETE ?release_floating_ips=yes releases the floating IP this infrastructure allocated', async () => {
  const auth = imAuth('carol', 'pw', osLine());
  const before = sim.inspect().floatingIps.map((f) => f.id);
  const text = readFileSync(join(corpusDir(), TEMPLATE), 'utf8');
  // Make every kept address look busy (attached to someone else's VM) so this deployment allocates its own.
  for (const f of sim.state.floatingIps.values()) if (!f.portId) Object.assign(f, { portId: 'port-of-another-vm', fixedIp: '10.0.0.250', status: 'ACTIVE' });
  const created = await call(api.url, 'POST', '/infrastructures', { auth, type: 'text/yaml', accept: 'application/json', body: text });
  const path = new URL(created.json().uri as string).pathname;
  expect(await waitState(auth, path, ['configured'])).toBe('configured');
  expect(sim.inspect().floatingIps).toHaveLength(before.length + 1);
  expect((await call(api.url, 'DELETE', `${path}?release_floating_ips=yes`, { auth })).status).toBe(200);
  expect(sim.inspect().floatingIps.map((f) => f.id)).toEqual(before);
}, 60_000);

test('a rejected OpenStack password: failed state with the reason in contmsg, nothing created', async () => {
  const auth = imAuth('bob', 'pw', osLine('wrong'));
  const text = readFileSync(join(corpusDir(), TEMPLATE), 'utf8');
  // A synchronous create that launches nothing is refused with the cloud's 401, naming the cloud.
  sim.resetRequests();
  const refused = await call(api.url, 'POST', '/infrastructures', { auth, type: 'text/yaml', accept: 'application/json', body: text });
  expect(refused.status).toBe(401);
  // One attempt at Keystone for the whole create (its lockout policy counts every failed one).
  expect(sim.requestCount((r) => r.method === 'POST' && r.path === '/identity/v3/auth/tokens')).toBe(1);
  expect(refused.json().message).toContain('in cloud "ost": OpenStack credential "ost" was rejected by Keystone');
  // An asynchronous one records the failure in state and contmsg.
  const created = await call(api.url, 'POST', '/infrastructures?async=1', { auth, type: 'text/yaml', accept: 'application/json', body: text });
  expect(created.status).toBe(200);
  const path = new URL(created.json().uri as string).pathname;
  expect(await waitState(auth, path, ['failed'])).toBe('failed');
  const contmsg = (await call(api.url, 'GET', `${path}/contmsg`, { auth, accept: 'application/json' })).json().contmsg as string;
  expect(contmsg).toContain('OpenStack credential "ost" was rejected by Keystone');
  expect(resourcesOf(sim, path.split('/').pop()!).servers).toEqual([]);
  expect((await call(api.url, 'DELETE', `${path}?force=yes`, { auth })).status).toBe(200);
}, 60_000);
