/**
 * A full IM life cycle over real HTTP against the real server (engine + SQLite + Dummy cloud),
 * driven the way IM clients drive it (TestREST.py): text forms and JSON forms.
 */
import { clusterTemplate, scaleTemplate } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { inProcessServer, waitFor, type TestServer } from './api-harness';

const AUTH = imAuth('alice', 'alice-pw', 'id = dummy; type = Dummy');
const TOSCA = clusterTemplate(2); // front (public IP) + 2 workers

describe('IM life cycle over HTTP (real engine, Dummy cloud)', () => {
  let srv: TestServer;
  let url: string;
  beforeAll(async () => { srv = await inProcessServer(); url = srv.url; });
  afterAll(() => srv.close());

  const get = (path: string, accept?: string) => call(url, 'GET', path, { auth: AUTH, accept });
  const stateOf = async (id: string) => (await get(`/infrastructures/${id}/state`)).json().state as { state: string; vm_states: Record<string, string> };
  const until = (id: string, state: string) =>
    waitFor(`${id} ${state}`, async () => { const s = await stateOf(id); return s.state === state ? s : undefined; });
  const vmUris = async (id: string) => (await get(`/infrastructures/${id}`)).text.split('\n').filter(Boolean);

  it('creates synchronously (text), lists, reads state, VMs, outputs and contmsg, scales, stops/starts, destroys', async () => {
    // create: text/uri-list answer, InfID header
    const created = await call(url, 'POST', '/infrastructures', { auth: AUTH, type: 'text/yaml', body: TOSCA });
    expect([created.status, created.type]).toEqual([200, 'text/uri-list']);
    const id = created.headers.get('InfID')!;
    expect(created.text).toBe(`${url}/infrastructures/${id}`);

    // list (text and JSON)
    expect((await get('/infrastructures')).text.split('\n')).toContain(created.text);
    expect((await get('/infrastructures', 'application/json')).json()['uri-list']).toContainEqual({ uri: created.text });

    // state: sync create returns once the VMs left pending; configuration follows
    const configured = await until(id, 'configured');
    expect(Object.keys(configured.vm_states).sort()).toEqual(['0', '1', '2']);

    // VM URIs, VM info as RADL text and JSON RADL, single properties
    const uris = await vmUris(id);
    expect(uris).toEqual(['0', '1', '2'].map((vm) => `${url}/infrastructures/${id}/vms/${vm}`));
    const vmText = await get(`/infrastructures/${id}/vms/0`);
    expect(vmText.type).toBe('text/plain');
    expect(vmText.text).toMatch(/^system front \(/m);
    expect(vmText.text).toMatch(/net_interface\.0\.ip = '\d+\.\d+\.\d+\.\d+'/);
    expect(vmText.text).toContain("state = 'configured'");
    expect(vmText.text).toContain("disk.0.os.credentials.username = 'cloudadm'");
    const vmJson = (await get(`/infrastructures/${id}/vms/1`, 'application/json')).json();
    const system = vmJson.radl.find((c: { class: string }) => c.class === 'system');
    expect(system).toMatchObject({ id: 'wn', state: 'configured', 'provider.type': 'Dummy' });
    expect(system.instance_id).toMatch(/^dummy-/);
    const ip = (await get(`/infrastructures/${id}/vms/1/net_interface.0.ip`)).text;
    expect(ip).toBe(system['net_interface.0.ip']);
    expect((await get(`/infrastructures/${id}/vms/1/state`, 'application/json')).json()).toEqual({ state: 'configured' });
    expect((await get(`/infrastructures/${id}/vms/1/contmsg`)).status).toBe(200);

    // outputs (JSON only), contmsg (text and JSON), radl, tosca
    const outputs = (await get(`/infrastructures/${id}/outputs`)).json().outputs;
    expect(outputs.front_ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(outputs.wn_ips).toHaveLength(2);
    expect((await get(`/infrastructures/${id}/outputs`, 'text/plain')).status).toBe(415);
    expect((await get(`/infrastructures/${id}/contmsg`)).status).toBe(200);
    expect(typeof (await get(`/infrastructures/${id}/contmsg?headeronly=yes`, 'application/json')).json().contmsg).toBe('string');
    expect((await get(`/infrastructures/${id}/radl`)).text).toMatch(/system wn \(/);
    expect((await get(`/infrastructures/${id}/tosca`)).text).toContain('tosca_definitions_version');

    // add resources: two more workers → the URIs of the new VMs
    const added = await call(url, 'POST', `/infrastructures/${id}`, { auth: AUTH, type: 'text/yaml', body: scaleTemplate({ wn: 4 }), accept: 'application/json' });
    expect(added.status).toBe(200);
    expect(added.json()).toEqual({ 'uri-list': [{ uri: `${url}/infrastructures/${id}/vms/3` }, { uri: `${url}/infrastructures/${id}/vms/4` }] });
    expect(await vmUris(id)).toHaveLength(5);
    expect((await get(`/infrastructures/${id}/tosca`)).text).toMatch(/count: 4/);

    // remove one VM by DELETE, then one by removal_list
    const removed = await call(url, 'DELETE', `/infrastructures/${id}/vms/1`, { auth: AUTH });
    expect([removed.status, removed.text]).toEqual([200, '']);
    expect((await vmUris(id)).map((u) => u.split('/').pop())).toEqual(['0', '2', '3', '4']);
    const byList = await call(url, 'POST', `/infrastructures/${id}`, { auth: AUTH, type: 'text/yaml', body: scaleTemplate({ wn: 2 }, { wn: ['3'] }) });
    expect([byList.status, byList.text]).toEqual([200, '']);
    expect((await vmUris(id)).map((u) => u.split('/').pop())).toEqual(['0', '2', '4']);

    // reconfigure (all, then a list)
    expect((await call(url, 'PUT', `/infrastructures/${id}/reconfigure`, { auth: AUTH })).status).toBe(200);
    expect((await call(url, 'PUT', `/infrastructures/${id}/reconfigure?vm_list=0,2`, { auth: AUTH })).status).toBe(200);
    await until(id, 'configured');

    // stop / start the infrastructure, then one VM (IM's test sends a form Content-Type here)
    const form = { auth: AUTH, type: 'application/x-www-form-urlencoded' };
    expect((await call(url, 'PUT', `/infrastructures/${id}/stop`, form)).status).toBe(200);
    await until(id, 'stopped');
    expect((await call(url, 'PUT', `/infrastructures/${id}/start`, form)).status).toBe(200);
    await until(id, 'configured');
    expect((await call(url, 'PUT', `/infrastructures/${id}/vms/0/stop`, form)).status).toBe(200);
    expect((await get(`/infrastructures/${id}/vms/0/state`)).text).toBe('stopped');
    expect((await call(url, 'PUT', `/infrastructures/${id}/vms/0/start`, form)).status).toBe(200);
    await until(id, 'configured');

    // destroy: gone afterwards
    const destroyed = await call(url, 'DELETE', `/infrastructures/${id}`, { auth: AUTH });
    expect([destroyed.status, destroyed.text]).toEqual([200, '']);
    expect((await get(`/infrastructures/${id}`)).status).toBe(404);
    expect((await get('/infrastructures')).text).not.toContain(id);
  });

  it('creates asynchronously (JSON), exports and imports, destroys asynchronously', async () => {
    const created = await call(url, 'POST', '/infrastructures?async=1', { auth: AUTH, type: 'application/yaml', body: clusterTemplate(1), accept: 'application/json' });
    expect(created.status).toBe(200);
    const uri = created.json().uri as string;
    const id = uri.split('/').pop()!;
    await until(id, 'configured');
    expect((await get(`/infrastructures/${id}`, 'application/json')).json()['uri-list']).toHaveLength(2);

    // export, import as a new infrastructure with the same VMs; export+delete forgets the original
    const data = (await get(`/infrastructures/${id}/data`)).json().data as string;
    expect(typeof data).toBe('string');
    const imported = await call(url, 'PUT', '/infrastructures', { auth: AUTH, type: 'application/json', body: data, accept: 'application/json' });
    expect(imported.status).toBe(200);
    const copy = (imported.json().uri as string).split('/').pop()!;
    expect(copy).not.toBe(id);
    expect(await vmUris(copy)).toHaveLength(2);
    expect((await get(`/infrastructures/${id}/data?delete=yes`)).status).toBe(200);
    expect((await get(`/infrastructures/${id}`)).status).toBe(404);

    const gone = await call(url, 'DELETE', `/infrastructures/${copy}?async=yes`, { auth: AUTH });
    expect(gone.status).toBe(200);
    await waitFor('async destroy', async () => ((await get(`/infrastructures/${copy}`)).status === 404 ? true : undefined));
  });

  it('answers a dry run with the resources per cloud and creates nothing', async () => {
    const before = (await get('/infrastructures')).text;
    const dry = await call(url, 'POST', '/infrastructures?dry_run=yes', { auth: AUTH, type: 'text/yaml', body: clusterTemplate(2) });
    expect([dry.status, dry.type]).toEqual([200, 'application/json']);
    expect(dry.json().dummy.compute).toHaveLength(3);
    expect((await get('/infrastructures')).text).toBe(before);
  });

  it('refuses templates the engine cannot plan with 400, naming the problem', async () => {
    const bad = await call(url, 'POST', '/infrastructures', { auth: AUTH, type: 'text/yaml', body: 'tosca_definitions_version: tosca_simple_yaml_1_0\ntopology_template: [' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/^Error Creating Inf\.: /);
    const noCloud = await call(url, 'POST', '/infrastructures', { auth: imAuth('alice', 'alice-pw'), type: 'text/yaml', body: TOSCA });
    expect(noCloud.status).toBe(400);
  });

  it('answers the requests imclient.py (the official IM client) sends, the way it reads them', async () => {
    // Header as IMClient.__init__ builds it; python-requests sends Accept: */* unless told otherwise.
    const auth = [
      { id: 'im', type: 'InfrastructureManager', username: 'erin', password: 'erin-pw' },
      { id: 'dummy', type: 'Dummy' },
    ].map((l) => Object.entries(l).map(([k, v]) => `${k} = ${v};`).join('') + '\\n').join('');
    const any = { auth, accept: '*/*' };
    const json = { auth, accept: 'application/json' };

    // create(): Content-Type text/yaml, ?async=yes; reads os.path.basename(resp.text)
    const created = await call(url, 'POST', '/infrastructures?async=yes', { ...any, type: 'text/yaml', body: clusterTemplate(2) });
    expect(created.status).toBe(200);
    const id = created.text.split('/').pop()!;
    // list_infras(): Accept JSON, basename of each "uri-list" value
    expect((await call(url, 'GET', '/infrastructures', json)).json()['uri-list'].map((e: { uri: string }) => e.uri.split('/').pop())).toContain(id);
    // get_infra_property(state): resp.json()["state"]
    await waitFor('configured', async () => ((await call(url, 'GET', `/infrastructures/${id}/state`, json)).json().state.state === 'configured' ? true : undefined));
    // getinfo(): JSON uri-list, then getvminfo() per VM as RADL text
    const vms = (await call(url, 'GET', `/infrastructures/${id}`, json)).json()['uri-list'].map((e: { uri: string }) => e.uri.split('/').pop());
    expect(vms).toEqual(['0', '1', '2']);
    const radl = await call(url, 'GET', `/infrastructures/${id}/vms/0`, any);
    expect([radl.status, radl.type]).toEqual([200, 'text/plain']);
    expect(radl.text).toMatch(/^system front \(/m);
    expect((await call(url, 'GET', `/infrastructures/${id}/vms/0/contmsg`, any)).status).toBe(200);
    // reconfigure() with no RADL: empty body, no Content-Type
    expect((await call(url, 'PUT', `/infrastructures/${id}/reconfigure?vm_list=0,1`, { ...any, body: '' })).status).toBe(200);
    // removeresource(): comma list, ?context=0
    expect((await call(url, 'DELETE', `/infrastructures/${id}/vms/1,2?context=0`, any)).status).toBe(200);
    // export_data(): Accept JSON, resp.json()["data"]; import_data(): PUT without Content-Type, basename(resp.text)
    const data = (await call(url, 'GET', `/infrastructures/${id}/data`, json)).json().data as string;
    const imported = await call(url, 'PUT', '/infrastructures', { ...any, body: data });
    expect(imported.status).toBe(200);
    const copy = imported.text.split('/').pop()!;
    expect((await call(url, 'GET', `/infrastructures/${copy}`, json)).json()['uri-list']).toHaveLength(1);
    // getversion(): no auth, text
    expect((await call(url, 'GET', '/version', { accept: '*/*' })).text).toBe('test');
    // destroy()
    for (const inf of [id, copy]) expect((await call(url, 'DELETE', `/infrastructures/${inf}`, any)).status).toBe(200);
  });
});
