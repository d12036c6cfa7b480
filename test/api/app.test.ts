/** The HTTP layer over real HTTP, against an in-memory service (the engine has its own tests). */
import pino from 'pino';
import { Writable } from 'node:stream';
import { createApp } from '../../server/app';
import { BrokenService, FakeService } from './fake-service';
import { call, imAuth, listen, type Running } from './http';
import { ALTER_NOT_SUPPORTED } from '../../server/api/routes/vms';

const TOSCA = `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    front: { type: tosca.nodes.Compute }
    wn: { type: tosca.nodes.Compute }
`;
const ANN = imAuth('ann', 'ann-secret-pw', 'id = one; type = Dummy');
const BOB = imAuth('bob', 'bob-secret-pw', 'id = one; type = Dummy');

function capture(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('IM REST API over the fake service', () => {
  let service: FakeService;
  let srv: Running;
  let log: ReturnType<typeof capture>;
  let url: string;

  beforeEach(async () => {
    service = new FakeService();
    log = capture();
    srv = await listen(createApp({ service, logger: log.logger, version: '1.2.3', secretKey: 'k', bodyLimit: 64 * 1024 }));
    url = srv.url;
  });
  afterEach(() => srv.close());

  const create = async (auth = ANN) => {
    const r = await call(url, 'POST', '/infrastructures', { auth, type: 'text/yaml', body: TOSCA });
    expect(r.status).toBe(200);
    return r.headers.get('InfID') as string;
  };

  describe('version', () => {
    it('answers text by default and JSON on request, without auth', async () => {
      const t = await call(url, 'GET', '/version');
      expect([t.status, t.type, t.text]).toEqual([200, 'text/plain', '1.2.3']);
      const j = await call(url, 'GET', '/version', { accept: 'application/json' });
      expect(j.json()).toEqual({ version: '1.2.3' });
    });
  });

  describe('create and list', () => {
    it('creates from text/yaml and answers the URI as text/uri-list, with InfID', async () => {
      const r = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'text/yaml', body: TOSCA });
      expect(r.status).toBe(200);
      expect(r.type).toBe('text/uri-list');
      expect(r.text).toBe(`${url}/infrastructures/inf-1`);
      expect(r.headers.get('InfID')).toBe('inf-1');
    });

    it.each(['application/yaml', 'text/x-yaml', 'text/yaml; charset=utf-8'])('accepts %s', async (type) => {
      const r = await call(url, 'POST', '/infrastructures', { auth: ANN, type, body: TOSCA, accept: 'application/json' });
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({ uri: `${url}/infrastructures/inf-1` });
    });

    it('takes a text/plain body that is TOSCA, and a missing Content-Type as text/plain', async () => {
      expect((await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'text/plain', body: TOSCA })).status).toBe(200);
      expect((await call(url, 'POST', '/infrastructures', { auth: ANN, body: TOSCA })).status).toBe(200);
    });

    it('takes RADL text (any non-YAML type) and JSON RADL; bad RADL is a 400 naming line and column', async () => {
      const radl = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'text/plain', body: 'system front (cpu.count>=1)\ndeploy front 1' });
      expect(radl.status).toBe(200);
      const json = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'application/json', body: '[{"class":"system","id":"f"}]', accept: 'application/json' });
      expect(json.status).toBe(200);
      const bad = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'text/plain', body: 'system front (\ncpu.count >=\n)' });
      expect([bad.status, bad.text]).toEqual([400, 'Error Creating Inf.: Error parsing RADL: radl:3:1 (root): expected a number, a quoted string or a [list], found rparen ")"']);
      const badJson = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'application/json', body: '[{"class":"deploy"}]' });
      expect([badJson.status, badJson.text]).toEqual([400, 'Error Creating Inf.: Error parsing RADL: radl.json:0:0 0.system: expected a string']);
    });

    it('answers other media types 415 as IM does', async () => {
      const r = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'text/html', body: '<p>' });
      expect([r.status, r.text]).toEqual([415, 'Unsupported Media Type text/html']);
    });

    it('refuses an empty body, invalid YAML and non-TOSCA YAML with 400 naming the problem', async () => {
      const empty = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'text/yaml' });
      expect([empty.status, empty.text]).toEqual([400, 'Empty body: send a TOSCA template (text/yaml)']);
      const bad = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'text/yaml', body: 'a: [1, 2' });
      expect(bad.status).toBe(400);
      expect(bad.text).toMatch(/^Error Creating Inf\.: invalid YAML/);
      const notTosca = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'text/yaml', body: 'hello: world' });
      expect([notTosca.status, notTosca.text]).toEqual([400, 'Error Creating Inf.: not a TOSCA template']);
    });

    it('passes async and dry_run, and answers the dry run as JSON', async () => {
      await call(url, 'POST', '/infrastructures?async=yes', { auth: ANN, type: 'text/yaml', body: TOSCA });
      expect(service.calls.at(-1)).toEqual(['create', expect.any(String), { async: true, dryRun: false }]);
      const dry = await call(url, 'POST', '/infrastructures?dry_run=1', { auth: ANN, type: 'text/yaml', body: TOSCA });
      expect(dry.type).toBe('application/json');
      expect(dry.json()).toEqual({ dummy: { cloudType: 'Dummy', compute: [{ cpu: 1 }] } });
    });

    it('refuses a flag that is not yes|no|true|false|1|0', async () => {
      const r = await call(url, 'POST', '/infrastructures?async=maybe', { auth: ANN, type: 'text/yaml', body: TOSCA });
      expect(r.status).toBe(400);
      expect(r.text).toMatch(/async/);
    });

    it('lists as text/uri-list or {"uri-list": [...]}, and filters', async () => {
      await create();
      await create();
      const t = await call(url, 'GET', '/infrastructures', { auth: ANN });
      expect([t.type, t.text]).toEqual(['text/uri-list', `${url}/infrastructures/inf-1\n${url}/infrastructures/inf-2`]);
      const j = await call(url, 'GET', '/infrastructures', { auth: ANN, accept: 'application/json' });
      expect(j.json()).toEqual({ 'uri-list': [{ uri: `${url}/infrastructures/inf-1` }, { uri: `${url}/infrastructures/inf-2` }] });
      const f = await call(url, 'GET', '/infrastructures?filter=nomatch', { auth: ANN, accept: 'application/json' });
      expect(f.json()).toEqual({ 'uri-list': [] });
      const badRe = await call(url, 'GET', '/infrastructures?filter=(', { auth: ANN });
      expect([badRe.status, badRe.text]).toEqual([400, 'Error Getting Inf. List: the filter is not a valid regular expression']);
    });

    it('follows IM\'s Accept rules: first servable type wins, unservable → 415', async () => {
      const both = await call(url, 'GET', '/infrastructures', { auth: ANN, accept: 'text/html, application/json;q=0.5' });
      expect(both.type).toBe('application/json');
      const appStar = await call(url, 'GET', '/infrastructures', { auth: ANN, accept: 'application/*' });
      expect(appStar.json()).toEqual({ 'uri-list': [] });
      const textStar = await call(url, 'GET', '/infrastructures', { auth: ANN, accept: 'text/*' });
      expect(textStar.type).toBe('text/uri-list');
      const star = await call(url, 'GET', '/infrastructures', { auth: ANN, accept: '*/*' });
      expect(star.type).toBe('text/uri-list');
      const plain = await call(url, 'GET', '/infrastructures', { auth: ANN, accept: 'text/plain' });
      expect([plain.status, plain.text]).toEqual([415, 'Unsupported Accept Media Types: text/plain']);
    });

    it('builds URIs from X-Forwarded-Proto/-Host/-Prefix', async () => {
      const r = await call(url, 'POST', '/infrastructures', {
        auth: ANN, type: 'text/yaml', body: TOSCA,
        headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'im.example.org:443, proxy2', 'X-Forwarded-Prefix': '/im/' },
      });
      expect(r.text).toBe('https://im.example.org:443/im/infrastructures/inf-1');
    });
  });

  describe('infrastructure properties and actions', () => {
    it('answers VM URIs, state (JSON only), contmsg, outputs, radl, tosca', async () => {
      const id = await create();
      const info = await call(url, 'GET', `/infrastructures/${id}`, { auth: ANN });
      expect(info.text.split('\n')).toEqual([`${url}/infrastructures/${id}/vms/0`, `${url}/infrastructures/${id}/vms/1`]);
      const state = await call(url, 'GET', `/infrastructures/${id}/state`, { auth: ANN });
      expect(state.type).toBe('application/json');
      expect(state.json()).toEqual({ state: { state: 'configured', vm_states: { 0: 'configured', 1: 'configured' } } });
      const textState = await call(url, 'GET', `/infrastructures/${id}/state`, { auth: ANN, accept: 'text/plain' });
      expect([textState.status, textState.text]).toEqual([415, 'Unsupported Accept Media Types: text/plain']);
      expect((await call(url, 'GET', `/infrastructures/${id}/contmsg?headeronly=yes`, { auth: ANN })).text).toBe('header');
      expect((await call(url, 'GET', `/infrastructures/${id}/contmsg`, { auth: ANN, accept: 'application/json' })).json()).toEqual({ contmsg: 'header\nvm logs' });
      expect((await call(url, 'GET', `/infrastructures/${id}/outputs`, { auth: ANN })).json()).toEqual({ outputs: { ip: '10.0.0.1', n: 2 } });
      expect((await call(url, 'GET', `/infrastructures/${id}/tosca`, { auth: ANN })).text).toBe(TOSCA);
      expect((await call(url, 'GET', `/infrastructures/${id}/radl`, { auth: ANN, accept: 'application/json' })).json().radl).toContain('system front');
    });

    it('adds resources (uri-list of the new VMs, context flag) and removes a comma-separated list', async () => {
      const id = await create();
      const add = await call(url, 'POST', `/infrastructures/${id}?context=0`, { auth: ANN, type: 'text/yaml', body: TOSCA, accept: 'application/json' });
      expect(add.json()).toEqual({ 'uri-list': [{ uri: `${url}/infrastructures/${id}/vms/2` }, { uri: `${url}/infrastructures/${id}/vms/3` }] });
      expect(add.headers.get('InfID')).toBeNull();
      expect(service.calls.at(-1)).toEqual(['addResources', expect.any(String), id, false]);
      const del = await call(url, 'DELETE', `/infrastructures/${id}/vms/0,2`, { auth: ANN });
      expect([del.status, del.text]).toEqual([200, '']);
      expect(service.calls.at(-1)).toEqual(['removeVms', expect.any(String), id, ['0', '2'], true]);
    });

    it('starts, stops (any Content-Type, as IM\'s tests send), reboots and reconfigures', async () => {
      const id = await create();
      const stop = await call(url, 'PUT', `/infrastructures/${id}/stop`, { auth: ANN, type: 'application/x-www-form-urlencoded' });
      expect([stop.status, stop.text]).toEqual([200, '']);
      expect((await call(url, 'GET', `/infrastructures/${id}/vms/0/state`, { auth: ANN })).text).toBe('stopped');
      expect((await call(url, 'PUT', `/infrastructures/${id}/start`, { auth: ANN })).status).toBe(200);
      expect((await call(url, 'PUT', `/infrastructures/${id}/reboot`, { auth: ANN })).status).toBe(200);
      const rec = await call(url, 'PUT', `/infrastructures/${id}/reconfigure?vm_list=0,1`, { auth: ANN });
      expect([rec.status, rec.headers.get('InfID')]).toEqual([200, id]);
      expect(service.calls.at(-1)).toEqual(['reconfigure', expect.any(String), id, ['0', '1']]);
      const badList = await call(url, 'PUT', `/infrastructures/${id}/reconfigure?vm_list=a`, { auth: ANN });
      expect([badList.status, badList.text]).toEqual([400, 'Incorrect vm_list format.']);
      // IM: a RADL body (text or JSON) updates the configuration, handed on as canonical RADL text
      const radl = await call(url, 'PUT', `/infrastructures/${id}/reconfigure`, { auth: ANN, type: 'text/plain', body: 'configure front (\n@begin\n- debug: msg=hi\n@end\n)' });
      expect(radl.status).toBe(200);
      expect(service.calls.at(-1)).toEqual(['reconfigure', expect.any(String), id, undefined, expect.stringMatching(/configure front \(\s*@begin\s*- debug: msg=hi\s*@end/)]);
      const json = await call(url, 'PUT', `/infrastructures/${id}/reconfigure`, { auth: ANN, type: 'application/json', body: '[{"class":"configure","id":"front","recipes":"- debug: msg=hi\\n"}]' });
      expect(json.status).toBe(200);
      expect(service.calls.at(-1)![4]).toMatch(/configure front \(\s*@begin\s*- debug: msg=hi\s*@end/);
      const bad = await call(url, 'PUT', `/infrastructures/${id}/reconfigure`, { auth: ANN, type: 'text/plain', body: 'configure front (' });
      expect([bad.status, bad.text]).toEqual([400, expect.stringMatching(/^Error reconfiguring infrastructure: Error parsing RADL: radl:1:\d+/)]);
    });

    it('destroys with force, async and release_floating_ips', async () => {
      const id = await create();
      const r = await call(url, 'DELETE', `/infrastructures/${id}?force=true&async=0&release_floating_ips=yes`, { auth: ANN });
      expect([r.status, r.text]).toEqual([200, '']);
      expect(service.calls.at(-1)).toEqual(['destroy', expect.any(String), id, { force: true, async: false, releaseFloatingIps: true }]);
      expect((await call(url, 'GET', `/infrastructures/${id}`, { auth: ANN })).status).toBe(404);
    });

    it('exports as {"data": ...} and imports JSON (or no Content-Type), refusing other types', async () => {
      const id = await create();
      const exp = await call(url, 'GET', `/infrastructures/${id}/data?delete=yes`, { auth: ANN });
      const data = exp.json().data as string;
      expect(JSON.parse(data).tosca).toBe(TOSCA);
      expect((await call(url, 'GET', `/infrastructures/${id}`, { auth: ANN })).status).toBe(404);
      const imp = await call(url, 'PUT', '/infrastructures', { auth: ANN, type: 'application/json', body: data });
      expect([imp.status, imp.text]).toEqual([200, `${url}/infrastructures/inf-2`]);
      expect((await call(url, 'PUT', '/infrastructures', { auth: ANN, body: data })).status).toBe(200);
      const html = await call(url, 'PUT', '/infrastructures', { auth: ANN, type: 'text/plain', body: data });
      expect([html.status, html.text]).toEqual([415, 'Unsupported Media Type text/plain']);
    });
  });

  describe('VMs', () => {
    it('answers VM info as RADL text or JSON RADL, and single properties', async () => {
      const id = await create();
      const text = await call(url, 'GET', `/infrastructures/${id}/vms/0`, { auth: ANN });
      expect(text.type).toBe('text/plain');
      expect(text.text).toMatch(/^system front \(/m);
      expect(text.text).toContain("net_interface.0.ip = '10.0.0.2'");
      const json = await call(url, 'GET', `/infrastructures/${id}/vms/0`, { auth: ANN, accept: 'application/json' });
      const system = json.json().radl.find((c: { class: string }) => c.class === 'system');
      expect(system).toMatchObject({ id: 'front', state: 'configured', instance_id: 'dummy-0', 'disk.0.os.credentials.username': 'cloudadm' });
      expect((await call(url, 'GET', `/infrastructures/${id}/vms/1/net_interface.0.ip`, { auth: ANN })).text).toBe('10.0.0.3');
      expect((await call(url, 'GET', `/infrastructures/${id}/vms/1/state`, { auth: ANN, accept: 'application/json' })).json()).toEqual({ state: 'configured' });
      expect((await call(url, 'GET', `/infrastructures/${id}/vms/1/contmsg`, { auth: ANN })).text).toBe('vm 1 log');
      const nope = await call(url, 'GET', `/infrastructures/${id}/vms/1/nope`, { auth: ANN });
      expect([nope.status, nope.text]).toEqual([404, 'Incorrect property nope for VM ID 1']);
      const unknownVm = await call(url, 'GET', `/infrastructures/${id}/vms/9`, { auth: ANN });
      expect(unknownVm.status).toBe(404);
      expect(unknownVm.text).toBe(`Error Getting VM. info: Invalid VM ID 9 in infrastructure ${id}`);
    });

    it('starts and stops one VM; altering it needs TOSCA, and a service that can alter', async () => {
      const id = await create();
      expect((await call(url, 'PUT', `/infrastructures/${id}/vms/1/stop`, { auth: ANN })).status).toBe(200);
      expect((await call(url, 'GET', `/infrastructures/${id}/state`, { auth: ANN })).json().state.vm_states).toEqual({ 0: 'configured', 1: 'stopped' });
      expect((await call(url, 'PUT', `/infrastructures/${id}/vms/1/start`, { auth: ANN })).status).toBe(200);
      expect((await call(url, 'PUT', `/infrastructures/${id}/vms/1/reboot`, { auth: ANN })).status).toBe(200);
      const alter = await call(url, 'PUT', `/infrastructures/${id}/vms/1`, { auth: ANN, type: 'text/plain', body: 'system front ( cpu.count = 2 )' });
      expect([alter.status, alter.text]).toEqual([400, `Error modifying resources: ${ALTER_NOT_SUPPORTED}`]);
      const alterEmpty = await call(url, 'PUT', `/infrastructures/${id}/vms/1`, { auth: ANN });
      expect(alterEmpty.status).toBe(400);
      expect(alterEmpty.text).toBe('Empty body: send a TOSCA template (text/yaml)');
      // The fake service has no alterVm (it is optional): the caller is told so.
      const alterTosca = await call(url, 'PUT', `/infrastructures/${id}/vms/1`, { auth: ANN, type: 'text/yaml', body: 'tosca_definitions_version: tosca_simple_yaml_1_0\n' });
      expect([alterTosca.status, alterTosca.text]).toEqual([400, `Error modifying resources: ${ALTER_NOT_SUPPORTED}`]);
    });
  });

  describe('identity and isolation', () => {
    it('answers 401 without Authorization, or without an InfrastructureManager line', async () => {
      const none = await call(url, 'GET', '/infrastructures');
      expect([none.status, none.text]).toEqual([401, 'No authentication data provided']);
      const noIm = await call(url, 'GET', '/infrastructures', { auth: 'id = one; type = Dummy', accept: 'application/json' });
      expect(noIm.json()).toEqual({ message: 'Error Getting Inf. List: No credentials provided for the InfrastructureManager.', code: 401 });
    });

    it('answers 400 naming the malformed line', async () => {
      const r = await call(url, 'GET', '/infrastructures', { auth: `${ANN}\\nid = x; type = OpenStack; oops` });
      expect(r.status).toBe(400);
      expect(r.text).toBe('Error Getting Inf. List: Malformed Authorization header: line 3 (type = OpenStack): item 3 is not "key = value"');
    });

    it('answers 403 for another owner\'s infrastructure and 404 for an unknown id, as IM', async () => {
      const id = await create(ANN);
      const unknown = await call(url, 'GET', '/infrastructures/inf-999', { auth: BOB, accept: 'application/json' });
      expect(unknown.json()).toEqual({ message: 'Error Getting Inf. info: Invalid infrastructure ID or access not granted.', code: 404 });
      for (const [method, path] of [
        ['GET', `/infrastructures/${id}`], ['GET', `/infrastructures/${id}/state`], ['GET', `/infrastructures/${id}/vms/0`],
        ['DELETE', `/infrastructures/${id}`], ['PUT', `/infrastructures/${id}/stop`], ['DELETE', `/infrastructures/${id}/vms/0`],
      ]) {
        const r = await call(url, method, path, { auth: BOB, accept: 'application/json' });
        expect([method, path, r.status]).toEqual([method, path, 403]);
        expect(r.json().message).toMatch(/: Access to this infrastructure not granted\.$/);
      }
      expect((await call(url, 'GET', '/infrastructures', { auth: BOB })).text).toBe('');
      // The same user with another password is another owner.
      expect((await call(url, 'GET', `/infrastructures/${id}`, { auth: imAuth('ann', 'other') })).status).toBe(403);
      expect((await call(url, 'GET', `/infrastructures/${id}/state`, { auth: ANN })).status).toBe(200);
    });

    it('never logs the Authorization header or passwords', async () => {
      await create();
      await call(url, 'GET', '/infrastructures', { auth: `${ANN}\\nid = x; type = OpenStack; oops` });
      await call(url, 'GET', '/infrastructures/none', { auth: ANN });
      const all = log.lines.join('');
      expect(all).toContain('"path":"/infrastructures"');
      expect(all).not.toContain('ann-secret-pw');
      expect(all).not.toContain('type = InfrastructureManager');
      expect(all).not.toContain('username');
    });
  });

  describe('robustness', () => {
    it('answers a body over the limit with 413 and keeps serving', async () => {
      const big = `${TOSCA}# ${'x'.repeat(70 * 1024)}\n`;
      const r = await call(url, 'POST', '/infrastructures', { auth: ANN, type: 'text/yaml', body: big, accept: 'application/json' });
      expect(r.status).toBe(413);
      expect(r.json().message).toBe('Request body too large: the limit is 65536 bytes');
      expect((await call(url, 'GET', '/version')).status).toBe(200);
    });

    it('answers unknown routes 404 and wrong methods 405, IM-shaped', async () => {
      const r = await call(url, 'GET', '/nothing', { accept: 'application/json' });
      expect(r.json()).toEqual({ message: 'Not found: GET /nothing', code: 404 });
      const m = await call(url, 'PATCH', '/infrastructures', { auth: ANN });
      expect(m.status).toBe(405);
    });

    it('answers a malformed URI and an over-long id 400', async () => {
      const bad = await call(url, 'GET', '/infrastructures/%E0%A4%A/state', { auth: ANN });
      expect([bad.status, bad.text]).toEqual([400, 'Invalid request: malformed URI (bad %-escape)']);
      const long = await call(url, 'GET', `/infrastructures/${'a'.repeat(300)}`, { auth: ANN });
      expect(long.status).toBe(400);
      expect(long.text).toMatch(/infId must NOT have more than 128 characters/);
    });

    it('renders errors as IM\'s HTML page when asked', async () => {
      const r = await call(url, 'GET', '/infrastructures', { accept: 'text/html' });
      expect([r.status, r.type]).toEqual([401, 'text/html']);
      expect(r.text).toContain('<h1>Code: 401.</h1>');
    });

    it('serves the API description', async () => {
      const r = await call(url, 'GET', '/openapi.yaml');
      expect([r.status, r.type]).toEqual([200, 'text/yaml']);
      expect(r.text).toMatch(/^openapi: 3/);
    });
  });
});

describe('unknown errors', () => {
  it('answer 500 with a generic message, are logged, and do not stop the server', async () => {
    const log = capture();
    const srv = await listen(createApp({ service: new BrokenService(), logger: log.logger, version: '1', secretKey: 'k' }));
    try {
      const r = await call(srv.url, 'GET', '/infrastructures', { auth: ANN, accept: 'application/json' });
      expect(r.json()).toEqual({ message: 'Error Getting Inf. List: Internal server error', code: 500 });
      expect(log.lines.join('')).toContain('database exploded');
      expect((await call(srv.url, 'GET', '/version')).status).toBe(200);
    } finally {
      await srv.close();
    }
  });
});
