/**
 * Issue 6 end to end, Ansible flavour (npm run e2e:ssh): a template whose operations are a
 * playbook given by URL (read through the server's import map) is deployed through the REST API on
 * the OpenStack simulator in host mode; the server checks Ansible on the master (contmsg says so),
 * copies the playbook and an inventory there and runs `ansible-playbook` ON THE MASTER, which
 * reaches the private workers directly, with get_attribute values as variables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFile } from '../lab/cluster-fixture';
import { describeWithLab } from '../lab/require-lab';
import { call, imAuth, type Reply } from '../api/http';
import { startRig, SCRIPT_URL, type E2eRig } from './ssh/harness';

jest.setTimeout(120_000);

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: leave proof of the variables
      copy:
        dest: /root/ansible_proof
        content: "front={{ FRONT_IP }} workers={{ WORKER_IPS | join(',') }} node={{ IM_NODE_NAME }}\\n"
`;

const TEMPLATE = `tosca_definitions_version: tosca_simple_yaml_1_0
node_types:
  e2e.nodes.Configured:
    derived_from: tosca.nodes.SoftwareComponent
topology_template:
  node_templates:
    front_conf:
      type: e2e.nodes.Configured
      requirements:
        - host: front
      interfaces:
        Standard:
          configure:
            implementation: ${SCRIPT_URL}site.yml
            inputs:
              FRONT_IP: { get_attribute: [ front, private_address, 0 ] }
              WORKER_IPS: { get_attribute: [ wn, private_address ] }
    wn_conf:
      type: e2e.nodes.Configured
      requirements:
        - host: wn
      interfaces:
        Standard:
          configure:
            implementation: ${SCRIPT_URL}site.yml
            inputs:
              FRONT_IP: { get_attribute: [ front, private_address, 0 ] }
              WORKER_IPS: { get_attribute: [ wn, private_address ] }
    front:
      type: tosca.nodes.Compute
      capabilities:
        endpoint:
          properties: { network_name: PUBLIC }
        os:
          properties: { image: ubuntu-22.04 }
    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable:
          properties: { count: 2 }
        os:
          properties: { image: ubuntu-22.04 }
`;

describeWithLab('issue 6 end to end: an Ansible playbook through the master, over the REST API', () => {
  let rig: E2eRig;
  let auth: string;

  beforeAll(async () => {
    rig = await startRig('openstack', { 'site.yml': PLAYBOOK });
    auth = imAuth('alice', 'pw', rig.cloudLine);
  }, 90_000);
  afterAll(async () => {
    await rig?.stop();
  }, 60_000);

  const api = (method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<Reply> =>
    call(rig.apiUrl, method, path, { auth, ...opts });

  test('the playbook runs on the master, for itself and for the private workers', async () => {
    const r = await api('POST', '/infrastructures', { type: 'text/yaml', accept: 'application/json', body: TEMPLATE });
    if (r.status !== 200) throw new Error(`POST /infrastructures: ${r.status} ${r.text}`);
    const infPath = new URL(r.json().uri as string).pathname;
    const infId = infPath.split('/').pop()!;
    let state = '';
    for (const deadline = Date.now() + 90_000; Date.now() < deadline; await new Promise((res) => setTimeout(res, 200))) {
      state = (await api('GET', `${infPath}/state`, { accept: 'application/json' })).json().state.state;
      if (!['pending', 'running'].includes(state)) break;
    }
    const contmsg = (await api('GET', `${infPath}/contmsg`)).text;
    expect([state, contmsg]).toEqual(['configured', contmsg]);
    expect(contmsg).toMatch(/ansible\.install: ok.*\n.*found ansible-playbook \[core [\d.]+\] on the master/);

    const vms = rig.cloud.vmsOf(infId).map((v) => ({ ...v, host: rig.cloud.hostMode.hostOf(v.simId)!.host }));
    const front = vms.find((v) => v.node === 'front')!;
    const workers = vms.filter((v) => v.node === 'wn').sort((a, b) => Number(a.imVmId) - Number(b.imVmId));
    expect(workers).toHaveLength(2);
    const ips = workers.map((w) => w.privateIp).join(',');
    expect(nodeFile(front.host, 'ansible_proof')).toBe(`front=${front.privateIp} workers=${ips} node=front\n`);
    for (const w of workers) {
      expect(nodeFile(w.host, 'ansible_proof')).toBe(`front=${front.privateIp} workers=${ips} node=wn\n`);
      // ansible's connections to a worker came from the master, never from the server
      const logins = [...readFileSync(join(rig.lab.dir, w.host.name, 'sshd.log'), 'utf8').matchAll(/Accepted publickey for \S+ from (\S+)/g)].map((m) => m[1]);
      expect(logins.length).toBeGreaterThan(0);
      expect(new Set(logins)).toEqual(new Set([front.privateIp]));
    }
    expect((await api('DELETE', infPath)).status).toBe(200);
  });
}, ['/usr/bin/ansible-playbook']);
