/**
 * im_client's RADL commands (grycap/im-client over REST; Debian ships no im_client, so its requests are
 * replicated: Accept any type, RADL as text/plain, ids read with basename): create, addresource, alter and
 * getvminfo, with IM's own test documents. Every RADL answer is judged by grycap/RADL.
 */
import { parseRadl } from '../../radl';
import { call } from '../api/http';
import { inProcessServer, type TestServer } from '../integration/api-harness';
import { judgeTexts, oracleTest } from '../radl/oracle';
import { AUTH, ImSuite, imTestFile } from './im-suite';

let server: TestServer;
const im = new ImSuite(() => server.url);
const any = { auth: AUTH, accept: '*/*', type: 'text/plain' };
const answers: string[] = [];

beforeAll(async () => { server = await inProcessServer(); });
afterAll(async () => { await server.close(); });

async function getvminfo(vm: string): Promise<ReturnType<typeof parseRadl>> {
  const r = await call(server.url, 'GET', `/infrastructures/${im.infId}/vms/${vm}`, { auth: AUTH, accept: '*/*' });
  expect([r.status, r.type]).toEqual([200, 'text/plain']);
  answers.push(r.text);
  return parseRadl(r.text);
}

describe('im_client RADL commands', () => {
  test('create test_simple.radl', async () => {
    const r = await call(server.url, 'POST', '/infrastructures', { ...any, body: imTestFile('test_simple.radl') });
    expect(r.status).toBe(200);
    im.infId = r.text.split('/').pop()!;
    expect(await im.waitInfState('configured', 30_000)).toBe(true);
  });

  test('getvminfo: IM\'s features with current values', async () => {
    const front = (await getvminfo('0')).systems[0];
    expect(front.id).toBe('front');
    expect(front.getValue('state')).toBe('configured');
    expect(front.getValue('provider.type')).toBe('Dummy');
    expect(front.getValue('cpu.count')).toBe(1);
    expect(front.getValue('disk.0.os.credentials.username')).toBe('root');
    expect(typeof front.getValue('instance_id')).toBe('string');
    expect(String(front.getValue('net_interface.0.ip'))).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const prop = await call(server.url, 'GET', `/infrastructures/${im.infId}/vms/0/state`, { auth: AUTH, accept: '*/*' });
    expect([prop.status, prop.text]).toEqual([200, 'configured']);
  });

  test('addresource: references to the infrastructure\'s network and system', async () => {
    const r = await call(server.url, 'POST', `/infrastructures/${im.infId}`, { ...any, body: 'network privada\nsystem front\ndeploy front 1' });
    expect(r.status).toBe(200);
    expect(r.text.split('\n').map((u) => u.split('/').pop())).toEqual(['1']);
    expect(await im.waitInfState('configured', 30_000)).toBe(true);
    expect((await getvminfo('1')).systems[0].id).toBe('front');
  });

  test('addresource of an undefined system is a 400 naming it', async () => {
    const r = await call(server.url, 'POST', `/infrastructures/${im.infId}`, { ...any, body: 'system wnno deploy wnno 1' });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/^Error Adding resources: Error parsing RADL: radl:1:1 wnno: system "wnno" is not defined/);
  });

  test('alter: system front (cpu.count >= 2 and memory.size >= 4g)', async () => {
    const r = await call(server.url, 'PUT', `/infrastructures/${im.infId}/vms/0`, { ...any, body: 'system front (cpu.count >= 2 and memory.size >= 4g)' });
    expect(r.status).toBe(200);
    answers.push(r.text);
    const front = (await getvminfo('0')).systems[0];
    expect(front.getValue('cpu.count')).toBe(2);
    expect(Number(front.getValue('memory.size'))).toBeGreaterThanOrEqual(4e9);
  });

  test('destroy', async () => {
    expect((await call(server.url, 'DELETE', `/infrastructures/${im.infId}`, { auth: AUTH, accept: '*/*' })).status).toBe(200);
  });

  oracleTest('every RADL answer parses with grycap/RADL', () => {
    expect(answers.length).toBe(4);
    expect(judgeTexts(answers).map((a) => (a.ok ? 'ok' : a.error))).toEqual(answers.map(() => 'ok'));
  });
});

describe('RADL configure recipes', () => {
  test('are kept and handed to the configuration as an Ansible step (no more "not run" warning)', async () => {
    const radl = `${imTestFile('test_simple.radl').replace('contextualize ()', '')}
configure front (
@begin
---
  - tasks:
    - debug: msg=hello
@end
)
contextualize ( system front configure front )`;
    const r = await call(server.url, 'POST', '/infrastructures', { ...any, body: radl });
    expect(r.status).toBe(200);
    const id = r.text.split('/').pop()!;
    const msg = await call(server.url, 'GET', `/infrastructures/${id}/contmsg`, { auth: AUTH, accept: '*/*' });
    expect(msg.text).not.toContain('not run by this server');
    const stored = await call(server.url, 'GET', `/infrastructures/${id}/radl`, { auth: AUTH, accept: '*/*' });
    expect(stored.status).toBe(200);
    expect((await call(server.url, 'DELETE', `/infrastructures/${id}`, { auth: AUTH, accept: '*/*' })).status).toBe(200);
  });
});
