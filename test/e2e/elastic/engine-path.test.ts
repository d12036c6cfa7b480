/**
 * Issue 7 end to end on the engine path (npm run e2e:elastic): the real `tosca-im serve`, sealed in
 * the lab's server namespace, with its built-in elasticity manager on the real clock; the OpenStack
 * simulator in host mode (every VM a real sshd host). A master + 0 workers cluster declares a
 * Scaling policy whose probe reads a queue in the master's home over the configuration's SSH
 * connection. 12 waiting jobs → 3 workers (4 slots each), added through the engine (the IM API shows
 * them), configured through the master, no new floating IP; jobs done → drained and removed back to
 * min, the busy worker kept until it is idle.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { nodeFile, SCRIPTS } from '../../lab/cluster-fixture';
import type { LabHost } from '../../lab/lab';
import { describeWithLab } from '../../lab/require-lab';
import { call, imAuth, type Reply } from '../../api/http';
import { startRig, SCRIPT_URL, type E2eRig } from '../ssh/harness';
import { PROBE } from './queue-probe';

jest.setTimeout(120_000);

const template = (image: string) => `tosca_definitions_version: tosca_simple_yaml_1_0
description: elastic HTCondor-like cluster, a public master and 0..3 private workers (tosca-im e2e)
node_types:
  e2e.nodes.CondorMaster:
    derived_from: tosca.nodes.SoftwareComponent
  e2e.nodes.CondorWorker:
    derived_from: tosca.nodes.SoftwareComponent
topology_template:
  node_templates:
    lrms_front:
      type: e2e.nodes.CondorMaster
      requirements:
        - host: front
      interfaces:
        Standard:
          create: ${SCRIPT_URL}front_create.sh
          configure:
            implementation: ${SCRIPT_URL}front_configure.sh
            inputs:
              WORKER_IPS: { get_attribute: [ wn, private_address ] }
    lrms_wn:
      type: e2e.nodes.CondorWorker
      requirements:
        - host: wn
        - dependency: lrms_front
      interfaces:
        Standard:
          create: ${SCRIPT_URL}wn_create.sh
          configure:
            implementation: ${SCRIPT_URL}wn_configure.sh
            inputs:
              FRONT_IP: { get_attribute: [ front, private_address, 0 ] }
              MY_IP: { get_attribute: [ HOST, private_address ] }
          start: ${SCRIPT_URL}wn_start.sh
    front:
      type: tosca.nodes.Compute
      capabilities:
        endpoint:
          properties: { network_name: PUBLIC }
        host:
          properties: { num_cpus: 1, mem_size: 1 GB }
        os:
          properties: { image: '${image}' }
    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable:
          properties: { count: 0 }
        host:
          properties: { num_cpus: 1, mem_size: 1 GB }
        os:
          properties: { image: '${image}' }
  policies:
    - scale_wn:
        type: tosca.policies.Scaling
        targets: [ wn ]
        properties:
          min_instances: 0
          max_instances: 3
          slots_per_node: 4
          check_every_s: 1
          scale_up_pending_for_s: 0
          idle_before_scale_down_s: 2
          scale_down_delay_after_add_s: 0
          join_timeout_s: 120
          probe_command: |-
            ${PROBE}
`;

interface Vm { id: string; node: string; privateIp: string; publicIp?: string; host: LabHost }

describeWithLab('issue 7 end to end on the engine path: tosca-im serve grows and shrinks an OpenStack cluster', () => {
  let rig: E2eRig;
  let auth: string;
  let infPath = '';
  let infId = '';

  beforeAll(async () => {
    rig = await startRig('openstack', SCRIPTS, { logLevel: 'info' }); // info: the elasticity events in the log
    auth = imAuth('alice', 'pw', rig.cloudLine);
  }, 90_000);
  afterAll(async () => {
    if (infPath) await api('DELETE', infPath).catch(() => undefined);
    await rig?.stop();
  }, 60_000);

  const api = (method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<Reply> =>
    call(rig.apiUrl, method, path, { auth, ...opts });
  const log = () => `\n--- server log ---\n${rig.serverLog().slice(-4000)}`;
  const vms = (): Vm[] => rig.cloud.vmsOf(infId)
    .map((v) => ({ id: v.imVmId, node: v.node, privateIp: v.privateIp, publicIp: v.publicIp, host: rig.cloud.hostMode.hostOf(v.simId)!.host }))
    .sort((a, b) => Number(a.id) - Number(b.id));
  const master = () => vms().find((v) => v.node === 'front')!;
  const workers = () => vms().filter((v) => v.node === 'wn');
  const put = (name: string, v: number) => writeFileSync(join(master().host.homeDir, name), `${v}\n`);
  const workerList = () => (nodeFile(master().host, 'worker_list') ?? '').split('\n').filter(Boolean).sort();
  const imVmIds = async () => (await api('GET', infPath)).text.split('\n').filter(Boolean).map((u) => u.split('/').pop()!);
  const state = async () => (await api('GET', `${infPath}/state`, { accept: 'application/json' })).json().state as { state: string; vm_states: Record<string, string> };
  const elasticity = async () => (await api('GET', `${infPath}/elasticity`, { accept: 'application/json' })).json().elasticity;

  async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await elasticity().catch(() => null))?.slice(0, 3000)}${log()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test('master + 0 workers: 12 waiting jobs → 3 workers configured through the master, no new floating IP', async () => {
    const r = await api('POST', '/infrastructures', { type: 'text/yaml', accept: 'application/json', body: template(rig.cloud.image) });
    if (r.status !== 200) throw new Error(`POST /infrastructures: ${r.status} ${r.text}${log()}`);
    infPath = new URL(r.json().uri as string).pathname;
    infId = infPath.split('/').pop()!;
    await until('configured', async () => ((await state()).state === 'configured' ? true : undefined));
    expect(await imVmIds()).toEqual(['0']);
    const fips = rig.cloud.publicAddresses().length;
    // The probe runs on the master over SSH: an empty queue, sensed.
    await until('a first sample', async () => ((await elasticity()).sensing.last_sample_at ? true : undefined));
    expect((await elasticity()).sensing.error).toBeNull();

    put('queue_waiting', 12);
    await until('3 workers configured and joined', async () => {
      const v = await elasticity();
      return v.capacity.joined === 3 && (await state()).state === 'configured' ? true : undefined;
    }, 90_000);
    expect(await imVmIds()).toEqual(['0', '1', '2', '3']);
    expect(workers()).toHaveLength(3);
    expect(workerList()).toEqual(workers().map((w) => w.privateIp).sort());
    for (const w of workers()) {
      expect(w.publicIp).toBeUndefined();
      expect(nodeFile(w.host, 'master_ip')?.trim()).toBe(master().privateIp);
      // Configured through the master: its sshd only ever saw the master.
      const logins = [...readFileSync(join(rig.lab.dir, w.host.name, 'sshd.log'), 'utf8').matchAll(/Accepted publickey for \S+ from (\S+)/g)].map((m) => m[1]);
      expect(logins.length).toBeGreaterThan(0);
      expect(new Set(logins)).toEqual(new Set([master().privateIp]));
    }
    expect(rig.cloud.publicAddresses()).toHaveLength(fips); // no new floating IP
    const tosca = parse((await api('GET', `${infPath}/tosca`)).text);
    expect(tosca.topology_template.node_templates.wn.capabilities.scalable.properties.count).toBe(3); // the IM API's count
    const events = (await elasticity()).events.map((e: { type: string }) => e.type);
    expect(events.filter((t: string) => t === 'ScaleUpRequested')).toHaveLength(1);
    expect(events.filter((t: string) => t === 'NodeJoined')).toHaveLength(3);
  });

  test('jobs done → drained and removed to min; the busy worker stays until it is idle', async () => {
    const [w1, w2, w3] = workers();
    put('queue_waiting', 0);
    put(`busy.${w1.privateIp}`, 0);
    put(`busy.${w2.privateIp}`, 1);
    put(`busy.${w3.privateIp}`, 0);
    await until('workers 1 and 3 removed', async () => (String(await imVmIds()) === `0,${w2.id}` ? true : undefined));
    await until('the master reconfigured', () => (String(workerList()) === w2.privateIp ? true : undefined));
    // Busy: kept for many idle periods.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await imVmIds()).toEqual(['0', w2.id]);
    expect(workers().map((w) => w.id)).toEqual([w2.id]);

    put(`busy.${w2.privateIp}`, 0);
    await until('back to min (0 workers)', async () => (String(await imVmIds()) === '0' ? true : undefined));
    await until('the master reconfigured', () => (workerList().length === 0 ? true : undefined));
    expect(workers()).toEqual([]);
    const removed = (await elasticity()).events.filter((e: { type: string }) => e.type === 'NodeRemoved').map((e: { vmIds: string[] }) => e.vmIds[0]);
    expect(removed.sort()).toEqual([w1.id, w2.id, w3.id].sort());
    // each was drained first: its DrainStarted comes before its NodeRemoved
    const events = (await elasticity()).events as { type: string; vmIds?: string[] }[];
    for (const w of [w1, w2, w3]) {
      const drained = events.findIndex((e) => e.type === 'DrainStarted' && e.vmIds?.includes(w.id));
      expect([w.id, drained >= 0]).toEqual([w.id, true]);
      expect(drained).toBeLessThan(events.findIndex((e) => e.type === 'NodeRemoved' && e.vmIds?.includes(w.id)));
    }
    // the same events in the server's log (pino JSON, msg "elastic")
    const logged = rig.serverLog().split('\n').filter((l) => l.includes('"msg":"elastic"')).map((l) => JSON.parse(l) as { inf: string; type: string; vmIds?: string[] });
    const mine = logged.filter((e) => e.inf === infId);
    expect(mine.filter((e) => e.type === 'ScaleUpRequested')).toHaveLength(1);
    expect(mine.filter((e) => e.type === 'NodeJoined')).toHaveLength(3);
    expect(mine.filter((e) => e.type === 'NodeRemoved').flatMap((e) => e.vmIds ?? []).sort()).toEqual([w1.id, w2.id, w3.id].sort());
    expect((await state()).state).toBe('configured');
  });
});
