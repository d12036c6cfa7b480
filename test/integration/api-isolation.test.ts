/**
 * Owners and bad input against the real `tosca-im serve` process: another user's infrastructure
 * answers IM's 403 on every route (an unknown one 404); bad requests get the right 4xx; the process keeps serving.
 */
import * as fs from 'node:fs';
import { clusterTemplate, tempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { spawnServer, type ServerProcess } from './api-harness';

const ALICE = imAuth('alice', 'alice-pw', 'id = dummy; type = Dummy');
const BOB = imAuth('bob', 'bob-pw', 'id = dummy; type = Dummy');
const FORBIDDEN = /^Error [^:]+: Access to this infrastructure not granted\.$/;

describe('isolation and bad input (tosca-im serve)', () => {
  let srv: ServerProcess;
  let url: string;
  let aliceInf: string;
  const dataDir = tempDir('tosca-im-iso-');

  beforeAll(async () => {
    srv = await spawnServer(dataDir);
    url = srv.url;
    const r = await call(url, 'POST', '/infrastructures', { auth: ALICE, type: 'text/yaml', body: clusterTemplate(1) });
    expect(r.status).toBe(200);
    aliceInf = r.headers.get('InfID')!;
  });
  afterAll(async () => {
    const code = await srv.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('does not let B list, read, change or delete A\'s infrastructure', async () => {
    expect((await call(url, 'GET', '/infrastructures', { auth: BOB })).text).toBe('');
    const unknown = await call(url, 'GET', '/infrastructures/00000000-0000-4000-8000-000000000000', { auth: BOB });
    const probes: Array<[string, string, string?]> = [
      ['GET', ''], ['GET', '/state'], ['GET', '/contmsg'], ['GET', '/outputs'], ['GET', '/tosca'], ['GET', '/radl'],
      ['GET', '/data'], ['GET', '/vms/0'], ['GET', '/vms/0/state'], ['PUT', '/stop'], ['PUT', '/reconfigure'],
      ['PUT', '/vms/0/stop'], ['DELETE', '/vms/0'], ['POST', '', clusterTemplate(3)], ['DELETE', ''],
      // the rest of the routes that name an infrastructure
      ['PUT', '/start'], ['PUT', '/reboot'], ['GET', '/vms/0/contmsg'], ['GET', '/vms/0/net_interface.0.ip'],
      ['PUT', '/vms/0/start'], ['PUT', '/vms/0/reboot'], ['PUT', '/vms/0', clusterTemplate(1)],
      ['PUT', '/vms/0/disks/0/snapshot?image_name=stolen'], ['GET', '/authorization'],
      ['POST', '/authorization', '{"username": "bob", "password": "bob-pw"}'], ['GET', '/elasticity'],
      ['PUT', '/elasticity', '{"paused": true}'], ['GET', '/data?delete=yes'], ['DELETE', '?force=yes'],
    ];
    for (const [method, suffix, body] of probes) {
      const type = body === undefined ? undefined : body.startsWith('{') ? 'application/json' : 'text/yaml';
      const r = await call(url, method, `/infrastructures/${aliceInf}${suffix}`, { auth: BOB, type, body });
      expect([method, suffix, r.status]).toEqual([method, suffix, 403]);
      expect(r.text).toMatch(FORBIDDEN);
    }
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('Error Getting Inf. info: Invalid infrastructure ID or access not granted.');
    // Alice still has it, untouched.
    const state = await call(url, 'GET', `/infrastructures/${aliceInf}/state`, { auth: ALICE });
    expect(state.status).toBe(200);
    expect(Object.keys(state.json().state.vm_states)).toHaveLength(2);
    expect((await call(url, 'GET', `/infrastructures/${aliceInf}/authorization`, { auth: ALICE, accept: 'application/json' })).json()).toEqual({ authorization: ['alice'] });
    // Same user name, other password: another owner.
    expect((await call(url, 'GET', `/infrastructures/${aliceInf}`, { auth: imAuth('alice', 'guess') })).status).toBe(403);
  });

  it.each<[string, Parameters<typeof call>[3], number, RegExp]>([
    ['no Authorization', {}, 401, /^No authentication data provided$/],
    ['no InfrastructureManager line', { auth: 'id = dummy; type = Dummy' }, 401, /No credentials provided for the InfrastructureManager/],
    ['a malformed line', { auth: `${ALICE}\\nid = x; type = OpenStack; garbage` }, 400, /Malformed Authorization header: line 3/],
    ['an unclosed quote', { auth: "type = InfrastructureManager; username = a; password = 'x" }, 400, /line 1: a quoted value is not closed/],
  ])('answers a request with %s', async (_what, opts, status, message) => {
    const r = await call(url, 'GET', '/infrastructures', opts);
    expect(r.status).toBe(status);
    expect(r.text).toMatch(message);
  });

  it.each<[string, Parameters<typeof call>[3], number, RegExp]>([
    ['invalid YAML', { type: 'text/yaml', body: 'tosca_definitions_version: [' }, 400, /^Error Creating Inf\.: /],
    ['YAML that is not TOSCA', { type: 'text/yaml', body: 'hello: world\n' }, 400, /^Error Creating Inf\.: /],
    ['malformed RADL', { type: 'text/plain', body: 'system front ( cpu.count >= )\ndeploy front 1' }, 400, /^Error Creating Inf\.: Error parsing RADL: radl:1:29 /],
    ['malformed JSON RADL', { type: 'application/json', body: '[' }, 400, /^Error Creating Inf\.: Error parsing RADL: radl\.json:1:1 /],
    ['an unknown media type', { type: 'image/png', body: 'x' }, 415, /^Unsupported Media Type image\/png$/],
    ['an empty body', { type: 'text/yaml' }, 400, /^Empty body/],
    ['a bad flag', { type: 'text/yaml', body: clusterTemplate(1), path: '?async=perhaps' } as never, 400, /async/],
  ])('answers a create with %s', async (_what, opts, status, message) => {
    const o = opts as { path?: string };
    const r = await call(url, 'POST', `/infrastructures${o.path ?? ''}`, { auth: ALICE, ...opts });
    expect(r.status).toBe(status);
    expect(r.text).toMatch(message);
  });

  it('answers a huge body 413', async () => {
    const huge = `${clusterTemplate(1)}# ${'x'.repeat(2 * 1024 * 1024)}\n`;
    const r = await call(url, 'POST', '/infrastructures', { auth: ALICE, type: 'text/yaml', body: huge, accept: 'application/json' });
    expect(r.status).toBe(413);
    expect(r.json()).toEqual({ message: 'Request body too large: the limit is 1mb', code: 413 });
  });

  it('answers unknown ids and VMs 404', async () => {
    expect((await call(url, 'GET', '/infrastructures/not-a-uuid/state', { auth: ALICE })).status).toBe(404);
    const vm = await call(url, 'GET', `/infrastructures/${aliceInf}/vms/77`, { auth: ALICE });
    expect(vm.status).toBe(404);
  });

  it('is still serving, and every bad request left the process alive', async () => {
    expect(srv.child.exitCode).toBeNull();
    const r = await call(url, 'GET', `/infrastructures/${aliceInf}/state`, { auth: ALICE, accept: 'application/json' });
    expect(r.json().state.state).toBe('configured');
    expect(srv.stderr()).not.toContain('alice-pw');
  });
});
