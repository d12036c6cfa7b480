/**
 * Secrets through a whole life cycle of the real `tosca-im serve` process (from source, log level
 * trace, SQLite file): the InfrastructureManager password and token, an OpenStack password (against
 * the OpenStack simulator over real HTTP) and Dummy credential fields never appear in the log, in
 * any API answer (exports, VM info, contmsg, errors) nor in plain text in the store. The SSH private
 * key of an infrastructure is in its owner's VM info (as in IM), never in another owner's answers,
 * never in the log, and sealed in the store.
 */
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import * as path from 'node:path';
import { clusterTemplate, tempDir } from '../engine-fixtures';
import { call, imAuth, type Reply } from '../api/http';
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';
import { spawnServer, waitFor, type ServerProcess } from './api-harness';
import { startOidcProvider, type OidcProvider } from '../oidc/provider';

jest.setTimeout(90_000);

const IM_PASSWORD = 'Im-Pa55-q8Zt';
const OST_PASSWORD = 'Ost-Pa55-r7Vx';
const OST_WRONG = 'Ost-Wr0ng-m2Jc';
const DUMMY_SECRET = 'Dummy-S3cret-h5Ny';
const NEW_OWNER_PASSWORD = 'Dave-Pa55-k4Lq';
/** Plus carol's OIDC access token, once the provider has issued it. */
const SECRETS = [IM_PASSWORD, OST_PASSWORD, OST_WRONG, DUMMY_SECRET, NEW_OWNER_PASSWORD];
const UBUNTU = '0c1d2e3f-1111-4a2b-8c3d-000000000002';

let ost: OpenStackSim;
let op: OidcProvider;
let IM_TOKEN = '';
let srv: ServerProcess;
const dataDir = tempDir('tosca-im-secrets-');
/** Every answer the test received, to search for secrets at the end. */
const answers: Array<{ what: string; text: string }> = [];

const osLine = (password: string) =>
  `id = ost; type = OpenStack; host = ${ost.authUrl}; username = demo; password = ${password}; tenant = demo; domain = Default; auth_version = 3.x_password`;
const dummyLine = `id = dummy; type = Dummy; username = d; password = ${DUMMY_SECRET}; token = ${DUMMY_SECRET}`;
const alice = () => imAuth('alice', IM_PASSWORD, osLine(OST_PASSWORD), dummyLine);
const aliceDummyFirst = () => imAuth('alice', IM_PASSWORD, dummyLine, osLine(OST_PASSWORD));
const carol = () => [`id = im; type = InfrastructureManager; token = ${IM_TOKEN}`, dummyLine].join('\\n');
const bob = imAuth('bob', 'bob-pw', 'id = dummy; type = Dummy');

const OST_TEMPLATE = `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    node:
      type: tosca.nodes.Compute
      capabilities:
        host:
          properties: { num_cpus: 1, mem_size: 1 GB }
        os:
          properties: { type: linux, image: "ost://127.0.0.1/${UBUNTU}" }
`;

async function req(method: string, urlPath: string, opts: Parameters<typeof call>[3] = {}): Promise<Reply> {
  const r = await call(srv.url, method, urlPath, opts);
  answers.push({ what: `${method} ${urlPath} ${opts.accept ?? ''} → ${r.status}`, text: `${[...r.headers].join('\n')}\n${r.text}` });
  return r;
}

async function settled(auth: string, inf: string): Promise<string> {
  return waitFor(`${inf} settled`, async () => {
    const s = (await req('GET', `/infrastructures/${inf}/state`, { auth })).json().state.state as string;
    return ['pending', 'running'].includes(s) ? undefined : s;
  }, 30_000);
}

/** Every read of an infrastructure and its VMs, in JSON and text. */
async function readEverything(auth: string, inf: string): Promise<void> {
  for (const accept of ['application/json', undefined]) {
    for (const suffix of ['', '/state', '/contmsg', '/outputs', '/radl', '/tosca', '/data', '/authorization']) {
      await req('GET', `/infrastructures/${inf}${suffix}`, { auth, accept });
    }
    const vms = (await req('GET', `/infrastructures/${inf}`, { auth, accept: 'application/json' })).json()['uri-list'] as Array<{ uri: string }>;
    for (const { uri } of vms) {
      const vm = new URL(uri).pathname;
      for (const suffix of ['', '/contmsg', '/state', '/disk.0.os.credentials.username']) await req('GET', `${vm}${suffix}`, { auth, accept });
    }
  }
}

beforeAll(async () => {
  ost = await startOpenStackSim({ faults: { activeDelayMs: 30, deleteDelayMs: 10 } });
  ost.state.users.find((u) => u.name === 'demo')!.password = OST_PASSWORD;
  // Carol is an OIDC user: a real provider issues her token, which must never come back or be logged.
  op = await startOidcProvider({ users: [{ id: 'carol' }], clients: [{ id: 'im', secret: 'im-client-secret', audience: 'https://im.test' }] });
  IM_TOKEN = (await op.getToken('carol')).access_token;
  SECRETS.push(IM_TOKEN);
  srv = await spawnServer(dataDir, ['--log-level', 'trace', '--oidc-issuers', op.issuer], {}, { fromSource: true });
});

afterAll(async () => {
  await srv?.stop();
  await ost?.close();
  await op?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('a full life cycle with secrets in every credential line', () => {
  let ostInf: string;
  let dummyInf: string;
  let privateKey: string;

  it('runs an OpenStack infrastructure through the simulator', async () => {
    const created = await req('POST', '/infrastructures', { auth: alice(), type: 'text/yaml', body: OST_TEMPLATE });
    expect(created.status).toBe(200);
    ostInf = created.headers.get('InfID')!;
    // No public IP to configure through: the VM runs, unconfigured — the cloud part is what matters here.
    expect(await settled(alice(), ostInf)).toBe('unconfigured');
    expect(ost.inspect().servers).toHaveLength(1);
    await readEverything(alice(), ostInf);
    for (const action of ['stop', 'start', 'reboot', 'reconfigure']) {
      expect((await req('PUT', `/infrastructures/${ostInf}/${action}`, { auth: alice() })).status).toBe(200);
      await settled(alice(), ostInf);
    }
    await readEverything(alice(), ostInf);
  });

  it('fails a create with a wrong cloud password without repeating it', async () => {
    const auth = imAuth('alice', IM_PASSWORD, osLine(OST_WRONG));
    const r = await req('POST', '/infrastructures', { auth, type: 'text/yaml', body: OST_TEMPLATE, accept: 'application/json' });
    // Keystone's refusal is passed on, naming the credential by its id only.
    expect(r.status).toBe(401);
    expect(r.json().message).toMatch(/OpenStack credential "ost" was rejected by Keystone/);
    const failedOnCloud = await req('GET', '/clouds/ost/quotas', { auth, accept: 'application/json' });
    expect(failedOnCloud.status).toBeGreaterThanOrEqual(400);
  });

  it('does not repeat a password that a cloud echoes in its error', async () => {
    // Keystone's input validation quotes the offending value: "'<password>' is too short".
    const echo = express();
    echo.use(express.json());
    echo.post('/v3/auth/tokens', (req, res) => {
      const pw = String(req.body?.auth?.identity?.password?.user?.password);
      res.status(400).json({ error: { code: 400, title: 'Bad Request', message: `Invalid input for field 'identity/password/user/password': '${pw}' is too short` } });
    });
    const server = await new Promise<Server>((resolve) => { const s = echo.listen(0, '127.0.0.1', () => resolve(s)); });
    try {
      const { port } = server.address() as AddressInfo;
      const line = `id = ost; type = OpenStack; host = http://127.0.0.1:${port}/v3; username = demo; password = ${OST_PASSWORD}; tenant = demo; domain = Default; auth_version = 3.x_password`;
      const auth = imAuth('alice', IM_PASSWORD, line);
      const r = await req('POST', '/infrastructures', { auth, type: 'text/yaml', body: OST_TEMPLATE, accept: 'application/json' });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.json().message).toMatch(/is too short/);
      await req('GET', '/clouds/ost/images', { auth });
      // Asynchronously, the failure goes to contmsg and the log instead.
      const later = await req('POST', '/infrastructures?async=yes', { auth, type: 'text/yaml', body: OST_TEMPLATE });
      expect(later.status).toBe(200);
      const inf = later.headers.get('InfID')!;
      expect(await settled(auth, inf)).toBe('failed');
      expect((await req('GET', `/infrastructures/${inf}/contmsg`, { auth })).text).toMatch(/is too short/);
      const listed = (await req('GET', '/infrastructures', { auth, accept: 'application/json' })).json()['uri-list'] as Array<{ uri: string }>;
      for (const { uri } of listed) await readEverything(auth, new URL(uri).pathname.split('/').pop()!);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('runs a Dummy infrastructure: add, remove, export, import, destroy', async () => {
    const created = await req('POST', '/infrastructures?async=yes', { auth: aliceDummyFirst(), type: 'text/yaml', body: clusterTemplate(1) });
    dummyInf = created.headers.get('InfID')!;
    expect(await settled(alice(), dummyInf)).toBe('configured');
    expect((await req('POST', `/infrastructures/${dummyInf}`, { auth: aliceDummyFirst(), type: 'text/yaml', body: clusterTemplate(2) })).status).toBe(200);
    await settled(alice(), dummyInf);
    expect((await req('DELETE', `/infrastructures/${dummyInf}/vms/2`, { auth: aliceDummyFirst() })).status).toBe(200);
    await settled(alice(), dummyInf);
    await readEverything(aliceDummyFirst(), dummyInf);
    const vm0 = await req('GET', `/infrastructures/${dummyInf}/vms/0`, { auth: alice(), accept: 'application/json' });
    const system = (vm0.json().radl as Array<Record<string, string>>).find((c) => c.class === 'system')!;
    privateKey = system['disk.0.os.credentials.private_key'];
    expect(privateKey).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
    // A second owner, added by password (stored as its owner id only).
    const dave = imAuth('dave', NEW_OWNER_PASSWORD, 'id = dummy; type = Dummy');
    const added = await req('POST', `/infrastructures/${dummyInf}/authorization`, {
      auth: alice(), type: 'application/json', body: JSON.stringify({ type: 'InfrastructureManager', username: 'dave', password: NEW_OWNER_PASSWORD }),
    });
    expect(added.status).toBe(200);
    expect((await req('GET', `/infrastructures/${dummyInf}/state`, { auth: dave })).status).toBe(200);
    await req('POST', `/infrastructures/${dummyInf}/authorization`, { auth: alice(), type: 'application/json', body: `{"password": "${NEW_OWNER_PASSWORD}",` });
    const exported = await req('GET', `/infrastructures/${dummyInf}/data`, { auth: alice(), accept: 'application/json' });
    const imported = await req('PUT', '/infrastructures', { auth: aliceDummyFirst(), type: 'application/json', body: exported.json().data });
    expect(imported.status).toBe(200);
    const importedId = imported.text.split('/').pop()!;
    await readEverything(aliceDummyFirst(), importedId);
    expect((await req('DELETE', `/infrastructures/${importedId}`, { auth: aliceDummyFirst() })).status).toBe(200);
  });

  it('serves a token owner, and the token stays secret', async () => {
    const created = await req('POST', '/infrastructures', { auth: carol(), type: 'text/yaml', body: clusterTemplate(1) });
    expect(created.status).toBe(200);
    const inf = created.headers.get('InfID')!;
    await settled(carol(), inf);
    await readEverything(carol(), inf);
    expect((await req('DELETE', `/infrastructures/${inf}`, { auth: carol() })).status).toBe(200);
  });

  it('shows the SSH private key to its owner only', async () => {
    const keyBody = privateKey.split('\n')[1];
    const own = answers.filter((a) => a.text.includes(keyBody) || a.text.includes(keyBody.replace(/\//g, '\\/')));
    expect(own.length).toBeGreaterThan(0);
    // VM info as IM gives it, and the export (an import must reach its VMs); not the infrastructure's RADL.
    for (const a of own) expect(a.what).toMatch(/^GET \/infrastructures\/[^/]+\/(vms\/\d+|data) /);
    expect(own.some((a) => /\/vms\/\d+ /.test(a.what))).toBe(true);
    // Bob asks for everything Alice has, in every form: 403s that hold no key.
    const before = answers.length;
    for (const inf of [dummyInf, ostInf]) {
      await readEverythingAs(bob, inf);
    }
    const bobs = answers.slice(before);
    expect(bobs.length).toBeGreaterThan(10);
    for (const a of bobs) {
      // IM's 403 (415 for HTML on the JSON-only routes, before any lookup).
      expect(a.what).toMatch(/→ 403$|text\/html → 415$/);
      expect(a.text).not.toContain(keyBody);
      expect(a.text).not.toContain('PRIVATE KEY');
    }
  });

  it('answers errors that carry secrets without repeating them', async () => {
    const malformed = [
      `${alice()}\\nid = x; type = OpenStack; password = ${OST_PASSWORD}; ${OST_PASSWORD}`,
      `type = InfrastructureManager; username = alice; password = '${IM_PASSWORD}`,
      `type = InfrastructureManager; username = alice; password = ${IM_PASSWORD}; password = ${IM_PASSWORD}`,
      `id = x; password = ${DUMMY_SECRET}`,
      `Basic ${Buffer.from(IM_PASSWORD).toString('base64')}`,
    ];
    for (const auth of malformed) {
      for (const accept of ['application/json', 'text/html', undefined]) {
        const r = await req('GET', '/infrastructures', { auth, accept });
        expect(r.status).toBeGreaterThanOrEqual(400);
      }
    }
    // A cloud line placed on a cloud the header names wrongly, and a bad template, with all secrets present.
    await req('POST', '/infrastructures', { auth: alice(), type: 'text/yaml', body: `${OST_TEMPLATE}  # ${'x'}\nbad: [` });
    await req('POST', '/infrastructures', { auth: imAuth('alice', IM_PASSWORD, `id = aws; type = EC2; username = AK; password = ${DUMMY_SECRET}`), type: 'text/yaml', body: clusterTemplate(1) });
    await req('GET', '/clouds/ost/images', { auth: imAuth('alice', IM_PASSWORD, osLine(OST_WRONG)), accept: 'application/json' });
    await req('GET', '/clouds/ost/quotas', { auth: imAuth('alice', IM_PASSWORD, osLine(OST_WRONG)) });
  });

  it('destroys the OpenStack infrastructure', async () => {
    expect((await req('DELETE', `/infrastructures/${ostInf}`, { auth: alice() })).status).toBe(200);
    await waitFor('servers deleted', async () => (ost.inspect().servers.length === 0 ? true : undefined));
  });

  it('never put a secret in an answer, the log or the store', async () => {
    expect(answers.length).toBeGreaterThan(100);
    for (const a of answers) {
      for (const s of SECRETS) expect({ what: a.what, leaked: a.text.includes(s) ? s : undefined }).toEqual({ what: a.what, leaked: undefined });
    }
    expect(await srv.stop()).toBe(0);
    const log = srv.stderr();
    expect(log).toContain('"level":20'); // debug (and trace) was on
    for (const s of SECRETS) expect({ where: 'log', leaked: log.includes(s) ? s : undefined }).toEqual({ where: 'log', leaked: undefined });
    const keyBody = privateKey.split('\n')[1];
    expect(log).not.toContain(keyBody);
    const files = fs.readdirSync(dataDir).filter((f) => f.startsWith('tosca-im.db'));
    expect(files).toContain('tosca-im.db');
    for (const f of files) {
      const bytes = fs.readFileSync(path.join(dataDir, f));
      for (const s of [...SECRETS, keyBody, 'PRIVATE KEY']) {
        expect({ file: f, leaked: bytes.includes(s) ? s : undefined }).toEqual({ file: f, leaked: undefined });
      }
    }
  });
});

async function readEverythingAs(auth: string, inf: string): Promise<void> {
  for (const accept of ['application/json', undefined, 'text/html']) {
    for (const suffix of ['', '/state', '/contmsg', '/outputs', '/radl', '/tosca', '/data', '/vms/0', '/vms/0/contmsg',
      '/vms/0/disk.0.os.credentials.private_key', '/vms/1']) {
      await req('GET', `/infrastructures/${inf}${suffix}`, { auth, accept });
    }
  }
}
