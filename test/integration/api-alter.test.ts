/**
 * IM's AlterVM (PUT /infrastructures/{id}/vms/{vmId}) over real HTTP on the real engine, SQLite and
 * the Dummy cloud: the TOSCA Compute node's host sizes become the VM's, as GET shows them after;
 * what the template leaves out is kept; bad input is a located 400, unknown ids and other owners 404.
 */
import '../../connectors/all';
import { DummyConnector } from '../../connectors/dummy';
import { registerConnector } from '../../connectors/registry';
import { inProcessServer, type TestServer } from './api-harness';
import { call, imAuth } from '../api/http';

const DUMMY = 'id = one; type = Dummy';
const ANN = imAuth('ann', 'ann-pw', DUMMY);
const BOB = imAuth('bob', 'bob-pw', DUMMY);

const CLUSTER = `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    front:
      type: tosca.nodes.Compute
      capabilities:
        host: { properties: { num_cpus: 1, mem_size: 1 GB } }
    wn:
      type: tosca.nodes.Compute
      capabilities:
        host: { properties: { num_cpus: 2, mem_size: 2 GB } }
`;

/** One Compute node with the given host properties (YAML flow text), named `node`. */
const resize = (host: string, node = 'front') => `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    ${node}:
      type: tosca.nodes.Compute
      capabilities:
        host: { properties: { ${host} } }
`;

const GB = 1024 ** 3;

let srv: TestServer;
let url: string;
beforeAll(async () => {
  srv = await inProcessServer();
  url = srv.url;
});
afterAll(() => srv.close());

async function create(body = CLUSTER, auth = ANN): Promise<string> {
  const r = await call(url, 'POST', '/infrastructures', { auth, type: 'text/yaml', body });
  expect(r.status).toBe(200);
  return r.headers.get('InfID')!;
}

const alter = (id: string, vm: string, body: string, opts: { auth?: string; type?: string; accept?: string } = {}) =>
  call(url, 'PUT', `/infrastructures/${id}/vms/${vm}`, { auth: opts.auth ?? ANN, type: opts.type ?? 'text/yaml', body, accept: opts.accept });

/** The system block of GET .../vms/{vm} in JSON RADL. */
async function system(id: string, vm: string): Promise<Record<string, unknown>> {
  const r = await call(url, 'GET', `/infrastructures/${id}/vms/${vm}`, { auth: ANN, accept: 'application/json' });
  expect(r.status).toBe(200);
  return r.json().radl.find((c: { class: string }) => c.class === 'system');
}

describe('PUT /infrastructures/{id}/vms/{vmId} (AlterVM)', () => {
  it('resizes the VM to num_cpus/mem_size, answers its new info, and GET shows it after', async () => {
    const id = await create();
    expect(await system(id, '0')).toMatchObject({ 'cpu.count': 1, 'memory.size': GB });
    const r = await alter(id, '0', resize('num_cpus: 4, mem_size: 8 GB'));
    expect([r.status, r.type]).toEqual([200, 'text/plain']);
    expect(r.text).toMatch(/^system front \(/m);
    expect(r.text).toContain('cpu.count = 4');
    expect(r.text).toContain('memory.size = 8192M');
    expect(await system(id, '0')).toMatchObject({ 'cpu.count': 4, 'memory.size': 8 * GB, state: 'configured' });
    // The other VMs, and the node's size for VMs added later, stay as they were.
    expect(await system(id, '1')).toMatchObject({ 'cpu.count': 2, 'memory.size': 2 * GB });
    const contmsg = await call(url, 'GET', `/infrastructures/${id}/vms/0/contmsg`, { auth: ANN });
    expect(contmsg.text).toContain('VM resized: 4 CPUs, 8192 MB of memory');
  });

  it('keeps what the template leaves out (IM\'s resize_vm_radl); instance_type is shown; JSON answers {"radl": [...]}', async () => {
    const id = await create();
    expect((await alter(id, '1', resize('num_cpus: 8'), { accept: 'application/json' })).status).toBe(200);
    expect(await system(id, '1')).toMatchObject({ 'cpu.count': 8, 'memory.size': 2 * GB });
    const r = await alter(id, '1', resize('mem_size: 16 GB, instance_type: big.one', 'wn'), { accept: 'application/json' });
    expect(r.status).toBe(200);
    const sys = r.json().radl.find((c: { class: string }) => c.class === 'system');
    expect(sys).toMatchObject({ id: 'wn', 'cpu.count': 8, 'memory.size': 16 * GB, instance_type: 'big.one' });
    expect(await system(id, '1')).toEqual(sys);
    // A template that asks for no size changes nothing and answers the VM as it is (as IM).
    const same = await alter(id, '1', resize('disk_size: 10 GB'), { accept: 'application/json' });
    expect(same.status).toBe(200);
    expect(same.json().radl.find((c: { class: string }) => c.class === 'system')).toEqual(sys);
  });

  it('takes the node named like the VM\'s when the template has several, and refuses when none is', async () => {
    const id = await create();
    const ok = await alter(id, '1', CLUSTER.replace('num_cpus: 2', 'num_cpus: 6'));
    expect(ok.status).toBe(200);
    expect(await system(id, '1')).toMatchObject({ 'cpu.count': 6 });
    expect(await system(id, '0')).toMatchObject({ 'cpu.count': 1 });
    const two = `${resize('num_cpus: 2', 'a')}    b: { type: tosca.nodes.Compute }\n`;
    const bad = await alter(id, '0', two);
    expect(bad.status).toBe(400);
    expect(bad.text).toBe(
      'Error modifying resources: The TOSCA template has 2 Compute nodes (a, b) and none is named "front", the node of VM 0: send only one, or the one named "front"',
    );
    const none = await alter(id, '0', 'tosca_definitions_version: tosca_simple_yaml_1_0\ntopology_template:\n  node_templates: {}\n');
    expect([none.status, none.text]).toEqual([400, 'Error modifying resources: The TOSCA template has no Compute node to take the VM\'s new size from']);
  });

  it('answers a bad template or bad RADL with a located 400, an empty body with 400; nothing changes', async () => {
    const id = await create();
    const bad = await alter(id, '0', resize('num_cpus: many'));
    expect(bad.status).toBe(400);
    // file:line:col path: message, as every template error.
    expect(bad.text).toMatch(/^Error modifying resources: Error parsing the TOSCA template: .*:7:\d+ .*num_cpus/);
    const radl = await alter(id, '0', 'system front ( cpu.count = )', { type: 'text/plain' });
    expect([radl.status, radl.text]).toEqual([400, 'Error modifying resources: Error parsing RADL: radl:1:28 (root): expected a number, a quoted string or a [list], found rparen ")"']);
    expect((await alter(id, '0', '[{"class": "system", "cpu.count": 2}]', { type: 'application/json' })).status).toBe(400);
    expect((await alter(id, '0', '')).status).toBe(400);
    expect(await system(id, '0')).toMatchObject({ 'cpu.count': 1, 'memory.size': GB });
  });

  it('answers 404 for an unknown VM or infrastructure, and 403 for another owner\'s', async () => {
    const id = await create();
    const vm = await alter(id, '9', resize('num_cpus: 2'));
    expect([vm.status, vm.text]).toEqual([404, `Error modifying resources: Invalid VM ID 9 in infrastructure ${id}`]);
    // The ids are checked before the body, as in IM: an unknown VM is 404 whatever is sent.
    expect((await alter(id, '9', 'system front ( cpu.count = 2 )', { type: 'text/plain' })).status).toBe(404);
    const inf = await alter('00000000-0000-4000-8000-000000000000', '0', resize('num_cpus: 2'));
    expect([inf.status, inf.text]).toEqual([404, 'Error modifying resources: Invalid infrastructure ID or access not granted.']);
    const bob = await alter(id, '0', resize('num_cpus: 2'), { auth: BOB });
    expect([bob.status, bob.text]).toEqual([403, 'Error modifying resources: Access to this infrastructure not granted.']);
    expect(await system(id, '0')).toMatchObject({ 'cpu.count': 1 });
  });

  it('answers 400 naming the cloud type when its connector cannot resize', async () => {
    // A cloud like Dummy in every way but resizing.
    registerConnector('Fixed', (cred) => {
      const d = new DummyConnector(cred);
      return {
        type: 'Fixed', prepare: (s) => d.prepare(s), launch: (r) => d.launch(r), describe: (v) => d.describe(v),
        terminate: (v, o) => d.terminate(v, o), start: (v) => d.start(v), stop: (v) => d.stop(v), reboot: (v) => d.reboot(v),
        cleanup: (i, o) => d.cleanup(i, o),
      };
    });
    const auth = imAuth('ann', 'ann-pw', 'id = fixed; type = Fixed');
    const id = await create(CLUSTER, auth);
    const r = await alter(id, '0', resize('num_cpus: 2'), { auth });
    expect([r.status, r.text]).toEqual([400, 'Error modifying resources: Cloud "fixed" (type Fixed) cannot resize a VM; supported for: Dummy, OpenStack, EC2']);
  });
});
