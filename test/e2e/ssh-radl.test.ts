/**
 * RADL configure recipes end to end (npm run e2e:ssh): a RADL document posted as text to the REST API
 * on the OpenStack simulator in host mode; its `contextualize` block names a recipe per system, and each
 * recipe's Ansible YAML runs ON THE MASTER against the VMs of its system, as a TOSCA Ansible operation
 * does. Each recipe leaves a file on its VMs; `wn` (step 1) finishes on every worker before `front`
 * (step 2) starts (contmsg's times show it). A reconfigure with a JSON RADL body then replaces the front's
 * recipe, which runs.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { nodeFile } from '../lab/cluster-fixture';
import { describeWithLab } from '../lab/require-lab';
import { call, imAuth, type Reply } from '../api/http';
import { startRig, type E2eRig } from './ssh/harness';

jest.setTimeout(120_000);

const RADL = `network publica (outbound = 'yes')
network privada ()
system front (
  cpu.count >= 1 and memory.size >= 512m and
  net_interface.0.connection = 'publica' and net_interface.1.connection = 'privada' and
  disk.0.image.url = 'ost://127.0.0.1/ubuntu-22.04'
)
system wn (
  cpu.count >= 1 and net_interface.0.connection = 'privada' and
  disk.0.image.url = 'ost://127.0.0.1/ubuntu-22.04'
)
configure wn (
@begin
- name: leave proof of the worker's recipe
  copy:
    dest: /root/radl_proof
    content: "recipe=wn node={{ IM_NODE_NAME }}\\n"
@end
)
configure front (
@begin
---
  - gather_facts: false
    tasks:
      - copy:
          dest: /root/radl_proof
          content: "recipe=front node={{ IM_NODE_NAME }}\\n"
@end
)
contextualize (
  system wn configure wn step 1
  system front configure front step 2
)
deploy front 1
deploy wn 2
`;

describeWithLab('RADL configure recipes through the master, over the REST API', () => {
  let rig: E2eRig;
  let auth: string;

  beforeAll(async () => {
    rig = await startRig('openstack', {});
    auth = imAuth('alice', 'pw', rig.cloudLine);
  }, 90_000);
  afterAll(async () => {
    await rig?.stop();
  }, 60_000);

  const api = (method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<Reply> =>
    call(rig.apiUrl, method, path, { auth, ...opts });

  test('each recipe runs on the VMs of its system, in contextualize order', async () => {
    const r = await api('POST', '/infrastructures', { type: 'text/plain', accept: 'application/json', body: RADL });
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
    expect(contmsg).not.toMatch(/not run/);

    const vms = rig.cloud.vmsOf(infId).map((v) => ({ ...v, host: rig.cloud.hostMode.hostOf(v.simId)!.host }));
    const front = vms.find((v) => v.node === 'front')!;
    const workers = vms.filter((v) => v.node === 'wn');
    expect(workers).toHaveLength(2);
    expect(nodeFile(front.host, 'radl_proof')).toBe('recipe=front node=front\n');
    for (const w of workers) {
      expect(nodeFile(w.host, 'radl_proof')).toBe('recipe=wn node=wn\n');
      // the recipe reached the worker from the master, never from the server
      const logins = [...readFileSync(join(rig.lab.dir, w.host.name, 'sshd.log'), 'utf8').matchAll(/Accepted publickey for \S+ from (\S+)/g)].map((m) => m[1]);
      expect(new Set(logins)).toEqual(new Set([front.privateIp]));
    }
    // the order: every wn step ended before the front's began (contmsg lines are in time order)
    // the order: every wn step ended before the front's began (contmsg's times)
    const at = (re: RegExp) => [...contmsg.matchAll(new RegExp(`^(\\S+ \\S+): ${re.source}`, 'gm'))].map((m) => Date.parse(m[1].replace(' ', 'T').slice(0, 23) + 'Z'));
    const wnDone = at(/VM \d+ wn Standard\.configure: ok/);
    const frontStart = at(/VM \d+ front Standard\.configure: running/);
    expect([wnDone.length, frontStart.length]).toEqual([2, 1]);
    expect(frontStart[0]).toBeGreaterThanOrEqual(Math.max(...wnDone));

    // VM info as IM writes it: the cloud's name of the VM and the cloud's server
    const info = await api('GET', `${infPath}/vms/${front.imVmId}`, { accept: 'text/plain' });
    expect(info.text).toMatch(new RegExp(`instance_name = 'im-[^']*-front-${front.imVmId}'`));
    expect(info.text).toContain("provider.type = 'OpenStack'");
    expect(info.text).toContain("provider.host = '127.0.0.1'");

    // IM's reconfigure with a (JSON) RADL body: the posted recipe replaces the front's and runs
    const recipe = '- copy:\n    dest: /root/radl_proof\n    content: "recipe=front-v2 node={{ IM_NODE_NAME }}\\n"\n';
    const re = await api('PUT', `${infPath}/reconfigure`, { type: 'application/json', body: JSON.stringify([{ class: 'configure', id: 'front', recipes: recipe }]) });
    expect(re.status).toBe(200);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((res) => setTimeout(res, 200))) {
      state = (await api('GET', `${infPath}/state`, { accept: 'application/json' })).json().state.state;
      if (!['pending', 'running'].includes(state)) break;
    }
    expect(state).toBe('configured');
    expect(nodeFile(front.host, 'radl_proof')).toBe('recipe=front-v2 node=front\n');
    expect((await api('DELETE', infPath)).status).toBe(200);
  });
}, ['/usr/bin/ansible-playbook']);
