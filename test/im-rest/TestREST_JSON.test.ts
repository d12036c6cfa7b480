/**
 * grycap/im test/integration/TestREST_JSON.py (v1.19.2) ported case by case against tosca-im with the Dummy
 * cloud: JSON RADL in (application/json) and out (Accept: application/json). test_55_reconfigure posts a new
 * configure recipe to reconfigure and expects its debug output in contmsg: Dummy VMs have nothing to run
 * Ansible on, so here the same request must be taken (200, configured again) and the infrastructure's RADL
 * must carry the new recipe; the recipe's run on real VMs is test/e2e/ssh-radl.test.ts. The JSON RADL
 * answer and the RADL after the reconfigure are also judged by grycap/RADL.
 */
import { parseRadlJson } from '../../radl';
import { inProcessServer, type TestServer } from '../integration/api-harness';
import { judgeTexts, oracleTest } from '../radl/oracle';
import { ImSuite, imTestFile } from './im-suite';

const RADL_ADD = `[{"class":"network","reference":true,"id":"publica"},
{"class":"system","reference":true,"id":"front"},{"vm_number":1,"class":"deploy","system":"front"}]`;

let server: TestServer;
const im = new ImSuite(() => server.url);
const radlAnswers: unknown[] = [];

beforeAll(async () => { server = await inProcessServer(); });
afterAll(async () => {
  await im.request('DELETE', `/infrastructures/${im.infId}`).catch(() => undefined);
  await server.close();
});

describe('TestREST_JSON.py', () => {
  test('test_20_create', async () => {
    const resp = await im.request('POST', '/infrastructures', { headers: { 'Content-type': 'application/json' }, body: imTestFile('test_simple.json') });
    expect(resp.status).toBe(200);
    im.infId = resp.text.split('/').pop()!;
    expect(await im.waitInfState('configured', 60_000)).toBe(true);
  });

  test('test_30_get_vm_info', async () => {
    const vmIds = await im.vmIds();
    const resp = await im.request('GET', new URL(vmIds[0]).pathname, { headers: { Accept: 'application/json' } });
    expect(resp.status).toBe(200);
    expect(resp.headers.get('content-type')?.split(';')[0]).toBe('application/json');
    const radl = resp.json().radl;
    expect(() => parseRadlJson(radl)).not.toThrow();
    radlAnswers.push(radl);
  });

  test('test_40_addresource', async () => {
    const resp = await im.request('POST', `/infrastructures/${im.infId}`, { headers: { 'Content-type': 'application/json' }, body: RADL_ADD });
    expect(resp.status).toBe(200);
    // The original asserts 2 VMs, but its test_simple.json deploys front and wn, so IM itself answers 3
    // here (this case fails on the real IM too); we assert what IM does: one more front.
    expect(await im.vmIds()).toHaveLength(3);
    expect(await im.waitInfState('configured', 60_000)).toBe(true);
  });

  test('test_55_reconfigure', async () => {
    const newConfig = `
[
{
"class": "configure",
"id": "front",
"recipes": "---\\n  - tasks:\\n    - debug: msg=RECONTEXTUALIZAMOS!\\n\\n"
}
]
        `;
    const resp = await im.request('PUT', `/infrastructures/${im.infId}/reconfigure`, { headers: { 'Content-type': 'application/json' }, body: newConfig });
    expect(resp.status).toBe(200);
    expect(await im.waitInfState('configured', 60_000)).toBe(true);
    const contmsg = await im.request('GET', `/infrastructures/${im.infId}/contmsg`);
    expect(contmsg.status).toBe(200);
    // (IM: the recipe's output "RECONTEXTUALIZAMOS" in contmsg; see the header)
    const radl = await im.request('GET', `/infrastructures/${im.infId}/radl`);
    expect(radl.status).toBe(200);
    expect(radl.text).toMatch(/configure front \(\s*@begin[\s\S]*debug: msg=RECONTEXTUALIZAMOS![\s\S]*@end\s*\)/);
    radlAnswers.push(radl.text);
  });

  test('test_95_destroy', async () => {
    expect((await im.request('DELETE', `/infrastructures/${im.infId}`)).status).toBe(200);
  });

  oracleTest('the JSON RADL answer and the RADL after reconfigure parse with grycap/RADL', () => {
    expect(radlAnswers).toHaveLength(2);
    const texts = radlAnswers.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)));
    expect(judgeTexts(texts).map((a) => (a.ok ? 'ok' : a.error))).toEqual(['ok', 'ok']);
  });
});
