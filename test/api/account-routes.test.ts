/**
 * IM's owner, cloud-info, snapshot and alter routes over real HTTP, on the real engine with the
 * Dummy cloud: GET|POST /infrastructures/{id}/authorization, GET /clouds/{id}/images|quotas,
 * PUT .../vms/{vmId}/disks/{n}/snapshot, PUT .../vms/{vmId}.
 */
import { inProcessServer, type TestServer } from '../integration/api-harness';
import { call, imAuth } from './http';

const TOSCA = `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    front: { type: tosca.nodes.Compute }
`;
const DUMMY = 'id = one; type = Dummy';
const ANN = imAuth('ann', 'ann-secret-pw', DUMMY);
const BOB = imAuth('bob', 'bob-secret-pw', DUMMY);
const CARL = imAuth('carl', 'carl-secret-pw', DUMMY);

let srv: TestServer;
let url: string;
beforeAll(async () => {
  srv = await inProcessServer();
  url = srv.url;
});
afterAll(() => srv.close());

async function create(auth = ANN): Promise<string> {
  const r = await call(url, 'POST', '/infrastructures', { auth, type: 'text/yaml', body: TOSCA });
  expect(r.status).toBe(200);
  return r.headers.get('InfID') as string;
}

const owners = (id: string, auth = ANN, accept?: string) => call(url, 'GET', `/infrastructures/${id}/authorization`, { auth, accept });
const addOwner = (id: string, body: string, query = '', auth = ANN, type: string | undefined = 'application/json') =>
  call(url, 'POST', `/infrastructures/${id}/authorization${query}`, { auth, type, body });
const info = (id: string, auth: string) => call(url, 'GET', `/infrastructures/${id}`, { auth });

describe('GET|POST /infrastructures/{id}/authorization', () => {
  it('lists the owners as IM does: one name a line, or {"authorization": [...]}', async () => {
    const id = await create();
    const text = await owners(id);
    expect([text.status, text.type, text.text]).toEqual([200, 'text/plain', 'ann']);
    expect((await owners(id, ANN, 'application/json')).json()).toEqual({ authorization: ['ann'] });
  });

  it('adds an owner, who can then list, read and act on the infrastructure; the first keeps access', async () => {
    const id = await create();
    expect((await info(id, BOB)).status).toBe(403);
    const r = await addOwner(id, '{"username": "bob", "password": "bob-secret-pw"}');
    expect([r.status, r.text]).toEqual([200, '']);
    expect((await info(id, BOB)).status).toBe(200);
    expect((await info(id, ANN)).status).toBe(200);
    expect((await call(url, 'GET', '/infrastructures', { auth: BOB })).text.split('\n')).toContain(`${url}/infrastructures/${id}`);
    expect((await owners(id, BOB, 'application/json')).json()).toEqual({ authorization: ['ann', 'bob'] });
    expect((await call(url, 'PUT', `/infrastructures/${id}/stop`, { auth: BOB })).status).toBe(200);
    // Adding the same identity again does not duplicate it; a wrong password is another identity.
    await addOwner(id, '{"username": "bob", "password": "bob-secret-pw"}');
    expect((await owners(id)).text).toBe('ann\nbob');
    expect((await info(id, imAuth('bob', 'wrong', DUMMY))).status).toBe(403);
  });

  it('overwrite=yes makes the new identity the only owner', async () => {
    const id = await create();
    await addOwner(id, '{"username": "bob", "password": "bob-secret-pw"}');
    const r = await addOwner(id, '{"type": "InfrastructureManager", "username": "carl", "password": "carl-secret-pw"}', '?overwrite=yes', BOB);
    expect(r.status).toBe(200);
    expect((await info(id, CARL)).status).toBe(200);
    for (const lost of [ANN, BOB]) {
      const denied = await info(id, lost);
      expect([denied.status, denied.text]).toEqual([403, 'Error Getting Inf. info: Access to this infrastructure not granted.']);
      expect((await call(url, 'GET', '/infrastructures', { auth: lost })).text).not.toContain(id);
    }
    expect((await owners(id, CARL, 'application/json')).json()).toEqual({ authorization: ['carl'] });
  });

  it('refuses an OIDC new owner when no issuer is trusted, without echoing the token', async () => {
    const id = await create();
    const token = await addOwner(id, '{"token": "a-very-secret-token"}');
    expect([token.status, token.text]).toEqual([400, 'Error modifying infrastructure owner: Invalid new infrastructure data provided: this server trusts no OIDC issuer (--oidc-issuers)']);
    const person = await addOwner(id, '{"iss": "https://iam.example/", "sub": "s-1"}');
    expect([person.status, person.text]).toEqual([400, 'Error modifying infrastructure owner: Invalid new infrastructure data provided: issuer https://iam.example/ is not trusted by this server']);
    const half = await addOwner(id, '{"sub": "s-1"}');
    expect([half.status, half.text]).toEqual([400, 'Error modifying infrastructure owner: Invalid new infrastructure data provided: an OIDC person needs both "iss" and "sub".']);
    const tokenAuth = ['type = InfrastructureManager; token = a-very-secret-token', DUMMY].join('\\n');
    const refused = await info(id, tokenAuth);
    expect(refused.status).toBe(401);
    expect(refused.text).toMatch(/trusts no OIDC issuer: its operator must start it with --oidc-issuers/);
    expect(refused.text).not.toContain('a-very-secret-token');
    expect((await owners(id)).text).toBe('ann');
  });

  it('reads a body without Content-Type as JSON (IM\'s parse_auth), refuses other types with 415', async () => {
    const id = await create();
    expect((await addOwner(id, '{"username": "bob", "password": "bob-secret-pw"}', '', ANN, undefined)).status).toBe(200);
    const yaml = await addOwner(id, 'username: bob', '', ANN, 'text/yaml');
    expect([yaml.status, yaml.text]).toEqual([415, 'Unsupported Media Type text/yaml']);
  });

  it('answers IM\'s 400s for bad new credentials, without echoing them', async () => {
    const id = await create();
    const notJson = await addOwner(id, 'username=bob;password=pw-not-to-echo');
    expect(notJson.status).toBe(400);
    expect(notJson.text).toMatch(/^Error parsing auth data: /);
    expect(notJson.text).not.toContain('pw-not-to-echo');
    const noPassword = await addOwner(id, '{"username": "bob"}', '', ANN);
    expect([noPassword.status, noPassword.text]).toEqual([400, 'Error modifying infrastructure owner: Invalid new infrastructure data provided: No password for the InfrastructureManager user.']);
    const cloudLine = await addOwner(id, '{"type": "OpenStack", "username": "u", "password": "p"}', '', ANN, 'application/json');
    expect(cloudLine.status).toBe(400);
    expect(cloudLine.text).toBe('Error modifying infrastructure owner: Invalid new infrastructure data provided: No credentials provided for the InfrastructureManager.');
    const array = await call(url, 'POST', `/infrastructures/${id}/authorization`, { auth: ANN, type: 'application/json', body: '[]', accept: 'application/json' });
    expect(array.json()).toEqual({ message: 'Error parsing auth data: expected a JSON object', code: 400 });
    const badFlag = await addOwner(id, '{"username": "bob", "password": "x"}', '?overwrite=maybe');
    expect(badFlag.status).toBe(400);
    expect((await owners(id)).text).toBe('ann');
  });

  it('is the owners\' business only: another user gets IM\'s 403, an unknown id 404', async () => {
    const id = await create();
    const get = await owners(id, BOB);
    expect([get.status, get.text]).toEqual([403, 'Error Getting Inf. prop: Access to this infrastructure not granted.']);
    const post = await addOwner(id, '{"username": "bob", "password": "bob-secret-pw"}', '', BOB);
    expect([post.status, post.text]).toEqual([403, 'Error modifying infrastructure owner: Access to this infrastructure not granted.']);
    const unknown = await addOwner('00000000-0000-4000-8000-000000000000', '{"username": "bob", "password": "x"}');
    expect(unknown.status).toBe(404);
    expect((await call(url, 'GET', `/infrastructures/${id}/authorization`)).status).toBe(401);
    expect((await owners(id)).text).toBe('ann');
  });
});

describe('GET /clouds/{cloudId}/images|quotas on the Dummy cloud', () => {
  it('answers IM\'s JSON shapes by default', async () => {
    const images = await call(url, 'GET', '/clouds/one/images', { auth: ANN });
    expect([images.status, images.type]).toEqual([200, 'application/json']);
    expect(images.json().images.slice(0, 2)).toEqual([
      { uri: 'mock0://linux.for.ev.er/image1', name: 'Image Name1' },
      { uri: 'mock0://linux.for.ev.er/image2', name: 'Image Name2' },
    ]);
    const quotas = await call(url, 'GET', '/clouds/one/quotas', { auth: ANN, accept: 'application/json' });
    const q = { used: 1, limit: 10 };
    expect(quotas.json()).toEqual({ quotas: { cores: q, ram: q, instances: q, floating_ips: q, security_groups: q } });
  });

  it('passes filters (k=v,k=v) and refuses a malformed one with IM\'s text', async () => {
    const r = await call(url, 'GET', '/clouds/one/images?filters=name=Name2', { auth: ANN });
    expect(r.json()).toEqual({ images: [{ uri: 'mock0://linux.for.ev.er/image2', name: 'Image Name2' }] });
    const bad = await call(url, 'GET', '/clouds/one/images?filters=region', { auth: ANN });
    expect([bad.status, bad.text]).toEqual([400, 'Invalid format in filters parameter.']);
  });

  it('names an unknown cloud id, an unsupported cloud type; text/plain Accept is 415 as in IM', async () => {
    const unknown = await call(url, 'GET', '/clouds/two/quotas', { auth: ANN });
    expect([unknown.status, unknown.text]).toEqual([400, 'Error getting cloud info: No credentials with id "two" in the Authorization header (cloud ids sent: "one")']);
    const k8s = await call(url, 'GET', '/clouds/k/images', { auth: imAuth('ann', 'pw', 'id = k; type = Kubernetes; host = http://127.0.0.1:1') });
    expect(k8s.status).toBe(400);
    expect(k8s.text).toMatch(/^Error getting cloud info: Cloud "k" is of type "Kubernetes", which this server does not support/);
    const text = await call(url, 'GET', '/clouds/one/images', { auth: ANN, accept: 'text/plain' });
    expect([text.status, text.text]).toEqual([415, 'Unsupported Accept Media Types: text/plain']);
    expect((await call(url, 'GET', '/clouds/one/images')).status).toBe(401);
    expect((await call(url, 'GET', '/clouds/one/flavors', { auth: ANN })).status).toBe(404);
  });
});

describe('PUT .../vms/{vmId}/disks/{n}/snapshot and PUT .../vms/{vmId}', () => {
  it('snapshots a Dummy disk: the image URI as text/plain, then listed among the cloud\'s images', async () => {
    const id = await create();
    const r = await call(url, 'PUT', `/infrastructures/${id}/vms/0/disks/0/snapshot?image_name=golden-1&auto_delete=yes`, { auth: ANN, accept: 'application/json' });
    expect([r.status, r.type, r.text]).toEqual([200, 'text/plain', 'mock0://linux.for.ev.er/golden-1']);
    expect((await call(url, 'GET', '/clouds/one/images', { auth: ANN })).json().images).toContainEqual({ uri: 'mock0://linux.for.ev.er/golden-1', name: 'golden-1' });
  });

  it('answers clear 4xx for a missing name, a bad disk, another owner, an unknown VM', async () => {
    const id = await create();
    const snap = (path: string, auth = ANN) => call(url, 'PUT', `/infrastructures/${id}/vms/${path}`, { auth });
    expect((await snap('0/disks/0/snapshot')).status).toBe(400);
    const disk1 = await snap('0/disks/1/snapshot?image_name=x');
    expect([disk1.status, disk1.text]).toEqual([400, 'Error creating snapshot: Dummy VMs have one disk (0); there is no disk 1']);
    expect((await snap('0/disks/one/snapshot?image_name=x')).status).toBe(400);
    const other = await snap('0/disks/0/snapshot?image_name=x', BOB);
    expect([other.status, other.text]).toEqual([403, 'Error creating snapshot: Access to this infrastructure not granted.']);
    const vm = await snap('7/disks/0/snapshot?image_name=x');
    expect([vm.status, vm.text]).toEqual([404, `Error creating snapshot: Invalid VM ID 7 in infrastructure ${id}`]);
  });

  it('alters a VM with a template that asks for no new size: nothing changes, the answer is the VM (as IM); others get 404', async () => {
    const id = await create();
    const r = await call(url, 'PUT', `/infrastructures/${id}/vms/0`, { auth: ANN, type: 'text/yaml', body: TOSCA, accept: 'application/json' });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual((await call(url, 'GET', `/infrastructures/${id}/vms/0`, { auth: ANN, accept: 'application/json' })).json());
    expect((await call(url, 'PUT', `/infrastructures/${id}/vms/0`, { auth: BOB, type: 'text/yaml', body: TOSCA })).status).toBe(403);
  });
});

describe('the exchanges of the official IM clients (im_client.py, im-js)', () => {
  // Header as IMClient builds it (`k = v;` pairs, `\n` after each line); python-requests sends Accept */*.
  const header = (user: string, pw: string) => [
    { id: 'im', type: 'InfrastructureManager', username: user, password: pw },
    { id: 'dummy', type: 'Dummy' },
  ].map((l) => Object.entries(l).map(([k, v]) => `${k} = ${v};`).join('') + '\\n').join('');

  it('change_auth: POST of json.dumps(the IM line of the new auth file), no Content-Type, ?overwrite=1', async () => {
    const erin = header('erin', 'erin-pw');
    const created = await call(url, 'POST', '/infrastructures', { auth: erin, accept: '*/*', type: 'text/yaml', body: TOSCA });
    const id = created.text.split('/').pop()!;
    const body = JSON.stringify({ id: 'im', type: 'InfrastructureManager', username: 'fred', password: 'fred-pw' });
    const r = await call(url, 'POST', `/infrastructures/${id}/authorization?overwrite=1`, { auth: erin, accept: '*/*', body });
    expect([r.status, r.text]).toEqual([200, '']);
    const fred = header('fred', 'fred-pw');
    // get_infra_property("authorization") is not in im_client; a plain GET reads the text form.
    expect((await call(url, 'GET', `/infrastructures/${id}/authorization`, { auth: fred, accept: '*/*' })).text).toBe('fred');
    expect((await call(url, 'GET', `/infrastructures/${id}`, { auth: erin, accept: '*/*' })).status).toBe(403);
  });

  it('get_cloud_info: Accept JSON, reads resp.json()[operation]', async () => {
    const auth = header('erin', 'erin-pw');
    for (const op of ['images', 'quotas']) {
      const r = await call(url, 'GET', `/clouds/dummy/${op}`, { auth, accept: 'application/json' });
      expect(r.status).toBe(200);
      expect(r.json()[op]).toBeDefined();
    }
  });

  it('createDiskSnapshot (im-js): Accept JSON, &auto_delete=true; reads the text on success, message on error', async () => {
    const auth = header('erin', 'erin-pw');
    const id = (await call(url, 'POST', '/infrastructures', { auth, accept: '*/*', type: 'text/yaml', body: TOSCA })).text.split('/').pop()!;
    const ok = await call(url, 'PUT', `/infrastructures/${id}/vms/0/disks/0/snapshot?image_name=im-js&auto_delete=true`, { auth, accept: 'application/json' });
    expect([ok.status, ok.text]).toEqual([200, 'mock0://linux.for.ev.er/im-js']);
    const bad = await call(url, 'PUT', `/infrastructures/${id}/vms/0/disks/3/snapshot?image_name=im-js&auto_delete=false`, { auth, accept: 'application/json' });
    expect(bad.json()).toEqual({ message: 'Error creating snapshot: Dummy VMs have one disk (0); there is no disk 3', code: 400 });
  });
});
