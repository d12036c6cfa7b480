/**
 * Failures through the REST API on the OpenStack simulator: a quota refusal shows in state and
 * contmsg; the credential option delete_floating_ips releases ours on DELETE; and a server process
 * that dies in the middle of a create, followed by DELETE on a new process, leaves nothing of the
 * infrastructure in the cloud (servers, ports, security group, keypair), keeping the floating IP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { loadImportMap } from '../../tosca';
import { OpenStackConnector, resetOpenStackClouds, openStackTuning } from '../../connectors/openstack';
import { createApp } from '../../server/app';
import { createEngine, Engine } from '../../server/engine';
import { TEST_SECRET_KEY, tempDir } from '../engine-fixtures';
import { openStore, Store } from '../../server/store';
import { call, imAuth, listen, Running, waitForState } from '../api/http';
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';
import { corpusDir } from '../tosca/corpus';
import { PUBLIC_KEY, compute, credential, resourcesOf } from './helpers';

/** IM's own test template: a public web server and a private database server. */
const TEXT = readFileSync(join(corpusDir(), 'grycap__im/test/files/tosca_create.yml'), 'utf8');

let sim: OpenStackSim;
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
  resetOpenStackClouds();
  openStackTuning.deletePoll = { intervalMs: 30, maxIntervalMs: 200, timeoutMs: 20_000 };
  sim = await startOpenStackSim({ faults: { activeDelayMs: 100, deleteDelayMs: 50 } });
  dbFile = join(tempDir('tosca-im-os-rest-'), 'im.db');
  await startServer();
});
afterAll(async () => {
  await stopServer();
  await sim?.close();
});

const osLine = (extra = '') =>
  `id = ost; type = OpenStack; host = ${sim.url}/identity; username = demo; password = secret; tenant = demo; domain = Default; auth_version = 3.x_password${extra}`;

/** State polling through the current server (api changes across restarts). */
const waitState = (auth: string, infrastructure: string, want: string[], ms?: number): Promise<string> =>
  waitForState(api.url, auth, infrastructure, want, ms);

async function create(auth: string, query = ''): Promise<{ path: string; infId: string }> {
  const created = await call(api.url, 'POST', `/infrastructures${query}`, { auth, type: 'text/yaml', accept: 'application/json', body: TEXT });
  expect(created.status).toBe(200);
  const path = new URL(created.json().uri as string).pathname;
  return { path, infId: path.split('/').pop()! };
}

/** Every free floating IP made to look attached elsewhere, so the next deployment allocates its own. */
function busyAllFree(): void {
  for (const f of sim.state.floatingIps.values()) if (!f.portId) Object.assign(f, { portId: 'port-of-another-vm', fixedIp: '10.0.0.250', status: 'ACTIVE' });
}

test('instances over quota: the infrastructure fails with the quota named in contmsg; the VM that fit is kept, then destroyed', async () => {
  const quota = sim.state.quotaOf(sim.state.projects[0].id);
  const before = quota.instances;
  quota.instances = 1;
  try {
    const auth = imAuth('quota', 'pw', osLine());
    const { path, infId } = await create(auth, '?async=1');
    expect(await waitState(auth, path, ['failed'])).toBe('failed');
    const contmsg = (await call(api.url, 'GET', `${path}/contmsg`, { auth, accept: 'application/json' })).json().contmsg as string;
    expect(contmsg).toContain('Quota exceeded for instances');
    expect(resourcesOf(sim, infId).servers).toHaveLength(1);
    quota.instances = before;
    expect((await call(api.url, 'DELETE', path, { auth })).status).toBe(200);
    expect(resourcesOf(sim, infId).servers).toEqual([]);
  } finally {
    quota.instances = before;
  }
}, 60_000);

test('delete_floating_ips = true on the credential line: DELETE releases the floating IP this infrastructure allocated, no other', async () => {
  const auth = imAuth('fipcred', 'pw', osLine('; delete_floating_ips = true'));
  busyAllFree();
  const before = sim.inspect().floatingIps.map((f) => f.id);
  const { path } = await create(auth);
  expect(await waitState(auth, path, ['configured'])).toBe('configured');
  expect(sim.inspect().floatingIps).toHaveLength(before.length + 1);
  expect((await call(api.url, 'DELETE', path, { auth })).status).toBe(200);
  expect(sim.inspect().floatingIps.map((f) => f.id)).toEqual(before);
}, 60_000);

test('the server dies in the middle of a create; DELETE on the next process leaves nothing of it in the cloud, floating IP kept', async () => {
  const auth = imAuth('crash', 'pw', osLine());
  busyAllFree();
  const fipsBefore = sim.inspect().floatingIps.length;
  sim.faults.activeDelayMs = 3_000; // still BUILDing when the process dies
  try {
    const { path, infId } = await create(auth, '?async=1');
    const deadline = Date.now() + 10_000;
    while (resourcesOf(sim, infId).servers.length < 2) {
      if (Date.now() > deadline) throw new Error('servers never appeared');
      await new Promise((r) => setTimeout(r, 20));
    }
    await stopServer();
    // The dead process had also launched a server whose answer it never recorded (see restart.test.ts).
    resetOpenStackClouds();
    const orphanConn = new OpenStackConnector(credential(sim));
    const orphan = await orphanConn.launch({
      infrastructureId: infId, vmId: '9', nodeName: 'db_server', compute: compute('db_server'), publicKey: PUBLIC_KEY, adminUser: 'cloudadm', clientToken: `${infId}-orphan`,
    });
    expect(resourcesOf(sim, infId).servers.map((s) => s.id)).toContain(orphan.instanceId);

    await startServer();
    expect((await call(api.url, 'DELETE', path, { auth })).status).toBe(200);
    const left = resourcesOf(sim, infId);
    expect(left.servers).toEqual([]);
    expect(left.ports).toEqual([]);
    expect(left.groups).toEqual([]);
    expect(left.keypairs).toEqual([]);
    // Its floating IP (if the web server got one before the crash) is kept, detached.
    const fips = sim.inspect().floatingIps;
    expect(fips.length).toBeGreaterThanOrEqual(fipsBefore);
    expect(fips.filter((f) => f.portId && f.portId !== 'port-of-another-vm')).toEqual([]);
    expect((await call(api.url, 'GET', `${path}/state`, { auth })).status).toBe(404);
  } finally {
    sim.faults.activeDelayMs = 100;
  }
}, 60_000);
