/** The simulator's own contract over HTTP: error shapes, auth, quotas, fault controls, inspection. */
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';

let sim: OpenStackSim;
let token: string;
beforeAll(async () => {
  sim = await startOpenStackSim({ faults: { activeDelayMs: 20, deleteDelayMs: 0 } });
  const r = await fetch(`${sim.url}/identity/v3/auth/tokens`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'demo', password: 'secret', domain: { name: 'Default' } } } }, scope: { project: { name: 'demo', domain: { name: 'Default' } } } } }),
  });
  expect(r.status).toBe(201);
  token = r.headers.get('x-subject-token')!;
});
afterAll(async () => sim.close());

const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(`${sim.url}${path}`, { method, headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: r.status, json, text };
};

describe('OpenStack simulator', () => {
  it('answers errors in each service’s shape', async () => {
    expect(await call('GET', '/compute/v2.1/servers/nope')).toMatchObject({ status: 404, json: { itemNotFound: { code: 404, message: 'Instance nope could not be found.' } } });
    expect(await call('GET', '/network/v2.0/floatingips/nope')).toMatchObject({ status: 404, json: { NeutronError: { type: 'FloatingIPNotFound' } } });
    const glance = await call('GET', '/image/v2/images/nope');
    expect(glance.status).toBe(404);
    expect(glance.text).toContain('No image found with ID nope');
    expect(await call('GET', '/compute/v2.1/servers', undefined, { 'X-Auth-Token': 'bad' })).toMatchObject({ status: 401, json: { error: { code: 401, title: 'Unauthorized' } } });
    expect(await call('POST', '/compute/v2.1/servers', '{not json')).toMatchObject({ status: 400, json: { badRequest: { code: 400 } } });
  });

  it('enforces quotas with the real status codes', async () => {
    const q = sim.state.quotaOf(sim.state.projects[0].id);
    q.floatingips = 0;
    expect(await call('POST', '/network/v2.0/floatingips', { floatingip: { floating_network_id: '6f1a7a52-0d6f-4b7b-8a0e-000000000002' } })).toMatchObject({
      status: 409, json: { NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['floatingip']." } },
    });
    q.floatingips = 50;
    q.ram = 100;
    expect(await call('POST', '/compute/v2.1/servers', { server: { name: 'x', imageRef: '9b4e7c36-2f6c-4d1a-9a55-5c1f0d2b0a01', flavorRef: '1' } })).toMatchObject({
      status: 403, json: { forbidden: { message: 'Quota exceeded for ram: Requested 512, but already used 0 of 100 ram' } },
    });
    q.ram = 1 << 20;
  });

  it('boot failures end in ERROR with a fault; security groups in use cannot be deleted', async () => {
    sim.faults.bootFailures.push({ pattern: /^doomed$/, times: 1 });
    const sg = await call('POST', '/network/v2.0/security-groups', { security_group: { name: 'g' } });
    const s = await call('POST', '/compute/v2.1/servers', { server: { name: 'doomed', imageRef: '9b4e7c36-2f6c-4d1a-9a55-5c1f0d2b0a01', flavorRef: '1', security_groups: [{ name: 'g' }] } });
    expect(s.status).toBe(202);
    expect((await call('DELETE', `/network/v2.0/security-groups/${sg.json.security_group.id}`)).json.NeutronError.type).toBe('SecurityGroupInUse');
    await new Promise((r) => setTimeout(r, 40));
    const got = await call('GET', `/compute/v2.1/servers/${s.json.server.id}`);
    expect(got.json.server).toMatchObject({ status: 'ERROR', fault: { code: 500, message: expect.stringContaining('No valid host') } });
    expect((await call('DELETE', `/compute/v2.1/servers/${s.json.server.id}`)).status).toBe(204);
    expect((await call('GET', `/compute/v2.1/servers/${s.json.server.id}`)).status).toBe(404);
    expect((await call('DELETE', `/network/v2.0/security-groups/${sg.json.security_group.id}`)).status).toBe(204);
  });

  it('injects latency and errors through /_sim/faults, and counts requests', async () => {
    const put = await fetch(`${sim.url}/_sim/faults`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ latencyMs: 150, errors: [{ match: '^GET /network/v2.0/networks$', status: 503, count: 1 }] }) });
    expect(put.status).toBe(200);
    const before = sim.requestCount();
    const t = Date.now();
    expect((await call('GET', '/network/v2.0/networks')).status).toBe(503);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    expect((await call('GET', '/network/v2.0/networks?router%3Aexternal=True')).json.networks.map((n: any) => n.name)).toEqual(['public']);
    expect(sim.requestCount() - before).toBe(2);
    sim.faults.latencyMs = 0;
    const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as { networks: { name: string }[] };
    expect(state.networks.map((n) => n.name)).toEqual(expect.arrayContaining(['private', 'public']));
  });
});
