/**
 * The elasticity manager wired into the server, over real HTTP: the real engine, SQLite and the
 * Dummy cloud, the manager's loop on the real clock (1 s period). The batch system is a fake
 * generic probe (Dummy VMs have no shell): `{"waiting": N, "busy": {ip: jobs}}` from the test.
 * GET/PUT …/elasticity, /metrics, growth and shrink seen through the IM API, a restart that
 * resumes the manager's state with the same deadlines, the INDIGO/EC3 template of the corpus.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { loadOpenApi } from '../../server/api/openapi';
import { clusterTemplate, tempDir } from '../engine-fixtures';
import { elasticityPutSchema, elasticityViewSchema, toOpenApi30 } from '../../server/elastic/schema';
import type { RemoteExec } from '../../server/elastic/probes/types';
import { corpusDir } from '../tosca/corpus';
import { call, imAuth } from '../api/http';
import { waitFor } from './api-harness';
import { METRICS_TOKEN, startElasticServer, type ElasticServer } from './elastic-harness';

jest.setTimeout(60_000);

const ALICE = imAuth('alice', 'alice-pw', 'id = dummy; type = Dummy');
const BOB = imAuth('bob', 'bob-pw', 'id = dummy; type = Dummy');
const PROBE = 'cat /var/lib/queue.json';

/** Master + 0 workers; the Scaling policy reacts at once and forgets idle workers after 1 s. */
const template = (knobs = '') => clusterTemplate(0) + `  policies:
    - scale_wn:
        type: tosca.policies.Scaling
        targets: [ wn ]
        properties:
          min_instances: 0
          max_instances: 3
          probe_command: "${PROBE}"
          slots_per_node: 4
          check_every_s: 1
          scale_up_pending_for_s: 0
          idle_before_scale_down_s: 1
          scale_down_delay_after_add_s: 0
${knobs}`;

/** The batch system the fake probe reports. */
const queue = { waiting: 0, busy: {} as Record<string, number> };
const commands: string[] = [];
const exec: RemoteExec = async (cmd) => {
  commands.push(cmd);
  if (cmd === PROBE) return { code: 0, stdout: JSON.stringify(queue), stderr: '' };
  // The generic adapter's drain/undrain: nothing to tell a batch system it cannot talk to.
  if (cmd === 'true') return { code: 0, stdout: '', stderr: '' };
  return { code: 127, stdout: '', stderr: `${cmd}: not found` };
};

type Server = ElasticServer;

/** What `serve` wires, with the fake probe in place of SSH on the master. */
const startServer = (dbFile: string): Promise<Server> => startElasticServer(dbFile, exec);

describe('elasticity in the server (engine + SQLite + Dummy, real HTTP)', () => {
  const dir = tempDir('tosca-im-elastic-');
  const dbFile = path.join(dir, 'im.db');
  let srv: Server;
  beforeAll(async () => { srv = await startServer(dbFile); });
  afterAll(async () => {
    await srv?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const req = (method: string, p: string, o: { auth?: string; accept?: string; type?: string; body?: string } = {}) =>
    call(srv.url, method, p, { auth: ALICE, ...o });
  const view = async (id: string) => (await req('GET', `/infrastructures/${id}/elasticity`, { accept: 'application/json' })).json().elasticity;
  const vmIds = async (id: string) => (await req('GET', `/infrastructures/${id}`)).text.split('\n').filter(Boolean).map((u) => u.split('/').pop()!);
  const wnCount = async (id: string) => parse((await req('GET', `/infrastructures/${id}/tosca`)).text).topology_template.node_templates.wn.capabilities.scalable.properties.count;
  const privateIp = async (id: string, vm: string) => (await req('GET', `/infrastructures/${id}/vms/${vm}/net_interface.0.ip`)).text;
  const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, 20_000);

  let infId = '';

  test('a Dummy elastic cluster shows its policy; the manager grows it through the engine', async () => {
    queue.waiting = 0;
    const created = await req('POST', '/infrastructures', { type: 'text/yaml', body: template() });
    expect(created.status).toBe(200);
    infId = created.headers.get('InfID')!;

    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validView = ajv.compile(elasticityViewSchema());
    const v = await view(infId);
    expect(validView(v)).toBe(true);
    expect(v.policy).toMatchObject({ target: 'wn', min_nodes: 0, max_nodes: 3, slots_per_node: 4, lrms: 'generic', probe_command: PROBE, check_every_s: 1 });
    expect(await vmIds(infId)).toEqual(['0']);

    // Text form, as the other property routes.
    const text = await req('GET', `/infrastructures/${infId}/elasticity`);
    expect([text.status, text.type]).toEqual([200, 'text/plain']);
    expect(text.text).toContain('max_nodes: 3');

    // 12 waiting jobs, 4 slots a node: the manager's loop (not the test) adds 3 workers.
    queue.waiting = 12;
    await until('3 workers', async () => ((await vmIds(infId)).length === 4 ? true : undefined));
    expect(await vmIds(infId)).toEqual(['0', '1', '2', '3']);
    expect(await wnCount(infId)).toBe(3); // the IM API's template shows the new count
    // The manager records its request right after the engine call returns.
    const grown = await until('3 elastic nodes', async () => { const g = await view(infId); return g.nodes.length === 3 ? g : undefined; });
    expect(validView(grown)).toBe(true);
    expect(grown.nodes.map((n: { vm_id: string; state: string }) => [n.vm_id, n.state])).toEqual([['1', 'booting'], ['2', 'booting'], ['3', 'booting']]);
    expect(grown.events.map((e: { type: string }) => e.type)).toContain('ScaleUpRequested');
    expect(grown.last_decision.reason).toMatch(/scale-up/);
    for (const vm of ['1', '2', '3']) expect((await req('GET', `/infrastructures/${infId}/vms/${vm}/net_interface.0.ip`)).status).toBe(200);
  });

  test('PUT changes a knob and pauses live; a bad knob is a 400 naming it; other owners get 404', async () => {
    const put = (body: string, o: { auth?: string; type?: string } = {}) =>
      req('PUT', `/infrastructures/${infId}/elasticity`, { type: 'application/json', accept: 'application/json', body, ...o });
    const changed = await put('{"idle_for_time_s": 2, "paused": true}'); // an elastiq alias
    expect(changed.status).toBe(200);
    expect(changed.json().elasticity.policy).toMatchObject({ idle_before_scale_down_s: 2, paused: true });
    expect((await view(infId)).policy).toMatchObject({ idle_before_scale_down_s: 2, paused: true });

    const bad = await put('{"max_nodes": 0}');
    expect(bad.status).toBe(400);
    expect(bad.json().message).toMatch(/max_nodes/);
    const unknown = await put('{"max_nodez": 4}');
    expect([unknown.status, unknown.json().message]).toEqual([400, expect.stringContaining('max_nodez')]);
    expect((await put('not json')).status).toBe(400);
    expect((await put('{"max_nodes": 4}', { type: 'text/yaml' })).status).toBe(415);
    expect((await put('{"max_nodes": 4}', { type: 'text/plain' })).status).toBe(415);
    // IM clients often send no Content-Type: read as JSON.
    const untyped = await call(srv.url, 'PUT', `/infrastructures/${infId}/elasticity`, { auth: ALICE, body: '{"max_nodes": 3}' });
    expect([untyped.status, untyped.type]).toEqual([200, 'text/plain']);
    expect(untyped.text).toContain('max_nodes: 3');

    // Another owner: IM's 403, as on every route, for GET and PUT.
    const other = await call(srv.url, 'GET', `/infrastructures/${infId}/elasticity`, { auth: BOB });
    expect([other.status, other.text]).toEqual([403, 'Error Getting Inf. elasticity: Access to this infrastructure not granted.']);
    expect((await put('{"paused": false}', { auth: BOB })).status).toBe(403);
    expect((await view(infId)).policy.paused).toBe(true);
    expect((await call(srv.url, 'GET', `/infrastructures/${infId}/elasticity`)).status).toBe(401);

    // An infrastructure without elasticity: 404 that says so.
    const plain = await req('POST', '/infrastructures', { type: 'text/yaml', body: clusterTemplate(1) });
    const plainId = plain.headers.get('InfID')!;
    const none = await req('GET', `/infrastructures/${plainId}/elasticity`);
    expect([none.status, none.text]).toEqual([404, `Error Getting Inf. elasticity: Infrastructure ${plainId} has no elasticity policy`]);
    expect((await req('DELETE', `/infrastructures/${plainId}`)).status).toBe(200);

    // A template with a bad knob is refused before anything is created.
    const before = (await req('GET', '/infrastructures')).text;
    const refused = await req('POST', '/infrastructures', { type: 'text/yaml', body: template('          join_timeout_s: -5\n') });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/join_timeout_s/);
    expect((await req('GET', '/infrastructures')).text).toBe(before);
  });

  test('/metrics: the elastic gauges and the server metrics, in Prometheus text', async () => {
    const anonymous = await call(srv.url, 'GET', '/metrics');
    expect(anonymous.text).not.toContain(infId); // no infrastructure ids without the metrics token
    expect(anonymous.text).toMatch(/elastic_scale_actions_total\{kind="add",result="ok"\} 1/);
    const m = await call(srv.url, 'GET', '/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(m.status).toBe(200);
    expect(m.type).toBe('text/plain');
    expect(m.text).toContain(`elastic_nodes{infrastructure="${infId}",state="booting"} 3`);
    expect(m.text).toMatch(new RegExp(`elastic_pending_demand\\{infrastructure="${infId}"\\} \\d+`));
    expect(m.text).toMatch(/elastic_scale_actions_total\{kind="add",result="ok"\} 1/);
    expect(m.text).toMatch(/tosca_im_http_requests_total\{method="GET",route="\/infrastructures\/\{infId\}\/elasticity",status="200"\} \d+/);
    expect(m.text).toMatch(/tosca_im_http_requests_total\{method="PUT",route="\/infrastructures\/\{infId\}\/elasticity",status="400"\} [1-9]/);
    expect(m.text).toMatch(/tosca_im_infrastructures\{state="configured"\} 1/);
    expect(m.text).toMatch(/tosca_im_vms\{state="configured"\} 4/);
    expect(m.text).toContain('# TYPE tosca_im_jobs gauge');
  });

  test('a restart resumes the manager: same nodes, deadlines and live knobs; then it shrinks, sparing the busy worker', async () => {
    const before = await view(infId);
    await srv.close();
    srv = await startServer(dbFile);
    const after = await view(infId);
    expect(after.nodes).toEqual(before.nodes); // join deadlines included
    expect(after.policy).toEqual(before.policy); // the PUT (paused, idle 2 s) survived
    expect(after.events).toEqual(before.events);

    // The workers join and run the 12 jobs; then all but one job on worker 2 finish.
    const ip = Object.fromEntries(await Promise.all(['1', '2', '3'].map(async (vm) => [vm, await privateIp(infId, vm)])));
    queue.waiting = 0;
    queue.busy = { [ip['1']]: 0, [ip['2']]: 1, [ip['3']]: 0 };
    const resumed = await req('PUT', `/infrastructures/${infId}/elasticity`, { type: 'application/json', body: '{"paused": false}' });
    expect(resumed.status).toBe(200);
    await until('workers 1 and 3 removed', async () => (String(await vmIds(infId)) === '0,2' ? true : undefined));
    expect(await wnCount(infId)).toBe(1);
    // Worker 2 is busy: it stays, however long it runs.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await vmIds(infId)).toEqual(['0', '2']);
    const events = (await view(infId)).events.map((e: { type: string; vmIds?: string[] }) => `${e.type}:${(e.vmIds ?? []).join(',')}`);
    expect(events).toEqual(expect.arrayContaining(['NodeRemoved:1', 'NodeRemoved:3']));
    expect(events).not.toContain('NodeRemoved:2');
    expect(commands).toContain('true'); // the (generic) drain ran on the master before each removal

    queue.busy = { [ip['2']]: 0 };
    await until('back to min (0 workers)', async () => (String(await vmIds(infId)) === '0' ? true : undefined));

    // Destroy unregisters it.
    expect((await req('DELETE', `/infrastructures/${infId}`)).status).toBe(200);
    expect((await call(srv.url, 'GET', '/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).text).not.toContain(`infrastructure="${infId}"`);
  });

  test('the INDIGO/EC3 elastic cluster template (ElasticCluster + lrms + wn) deploys with its policy', async () => {
    const text = fs.readFileSync(path.join(corpusDir(), 'indigo-dc__tosca-types/examples/elastic_cluster_im.yaml'), 'utf8');
    const created = await req('POST', '/infrastructures', { type: 'text/yaml', body: text });
    expect(created.status).toBe(200);
    const id = created.headers.get('InfID')!;
    expect(await vmIds(id)).toEqual(['0']); // the front end alone: 0 workers
    const v = await view(id);
    expect(v.policy).toMatchObject({ source: 'elastic-cluster', target: 'wn', front_end: 'front', lrms: 'slurm', min_nodes: 0, max_nodes: 5, slots_per_node: 1 });
    expect((await req('DELETE', `/infrastructures/${id}`)).status).toBe(200);
  });

  test('export with delete forgets the policy; import manages the new infrastructure', async () => {
    queue.waiting = 0;
    queue.busy = {};
    const created = await req('POST', '/infrastructures', { type: 'text/yaml', body: template() });
    const id = created.headers.get('InfID')!;
    expect((await req('GET', `/infrastructures/${id}/elasticity`)).status).toBe(200);
    const data = (await req('GET', `/infrastructures/${id}/data?delete=yes`, { accept: 'application/json' })).json().data as string;
    expect((await req('GET', `/infrastructures/${id}/elasticity`)).status).toBe(404);
    expect((await call(srv.url, 'GET', '/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).text).not.toContain(`infrastructure="${id}"`);
    const imported = await req('PUT', '/infrastructures', { type: 'application/json', body: data });
    expect(imported.status).toBe(200);
    const newId = imported.text.split('/').pop()!;
    expect((await view(newId)).policy).toMatchObject({ target: 'wn', max_nodes: 3, probe_command: PROBE });
    expect((await req('DELETE', `/infrastructures/${newId}`)).status).toBe(200);
    expect((await req('GET', `/infrastructures/${newId}/elasticity`)).status).toBe(404);
  });

  test('workers the cloud fails: launched without waiting, then deleted and counted; the breaker stops after 3', async () => {
    const failing = imAuth('alice', 'alice-pw', 'id = dummy; type = Dummy; fail_nodes = wn');
    queue.waiting = 12;
    queue.busy = {};
    const created = await call(srv.url, 'POST', '/infrastructures', { auth: failing, type: 'text/yaml', body: template() });
    expect(created.status).toBe(200);
    const id = created.headers.get('InfID')!;
    const suspended = await until('scale-up suspended', async () => {
      const v = await view(id);
      return v.scale_up.suspended_until ? v : undefined;
    });
    expect(suspended.scale_up.consecutive_join_failures).toBe(3);
    const types = suspended.events.map((e: { type: string }) => e.type);
    expect(types).toContain('NodeFailed');
    expect(types).toContain('ScaleUpSuspended');
    // Exactly 3 VMs were asked for (the failure budget of an unproven image), and they are gone.
    const requested = suspended.events.filter((e: { type: string }) => e.type === 'ScaleUpRequested').flatMap((e: { vmIds: string[] }) => e.vmIds);
    expect(requested).toEqual(['1', '2', '3']);
    await until('failed workers deleted', async () => (String(await vmIds(id)) === '0' ? true : undefined));
    queue.waiting = 0;
    expect((await call(srv.url, 'DELETE', `/infrastructures/${id}`, { auth: failing })).status).toBe(200);
  });

  test('openapi.yaml carries the schemas of server/elastic/schema.ts', () => {
    const schemas = (loadOpenApi().doc as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
    expect(schemas.ElasticityView).toEqual(toOpenApi30(elasticityViewSchema()));
    expect(schemas.ElasticityChange).toEqual(toOpenApi30(elasticityPutSchema()));
  });
});
