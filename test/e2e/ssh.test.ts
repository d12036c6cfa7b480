/**
 * Issue 6 end to end (npm run e2e:ssh): the real `tosca-im serve`, sealed in the lab's server
 * namespace, deploys an HTCondor-like cluster (a master with a floating IP + private workers) on the
 * OpenStack and on the EC2 simulator in host mode — every VM a real sshd host — and configures it
 * over SSH through the master. Then: +5 workers with one POST (only the master's worker list is redone on old
 * nodes), −2 named workers (the floating IP stays), a failing step on one worker, reconfigure, a
 * worker leaving mid-run (DELETE of the VM, or a POST whose removal_list names it).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFile, SCRIPTS, stepCount } from '../lab/cluster-fixture';
import { SERVER_PUBLIC_IP, type LabHost } from '../lab/lab';
import { describeWithLab } from '../lab/require-lab';
import { call, imAuth, type Reply } from '../api/http';
import { scaleTemplate } from '../engine-fixtures';
import type { CloudKind } from './ssh/clouds';
import { startRig, SCRIPT_URL, type E2eRig } from './ssh/harness';
import type { SshProbe } from './ssh/netns-side';

jest.setTimeout(90_000);

const template = (workers: number, image: string) => `tosca_definitions_version: tosca_simple_yaml_1_0
description: HTCondor-like cluster, a public master and private workers (tosca-im e2e)
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
          stop:
            implementation: ${SCRIPT_URL}wn_stop.sh
            inputs:
              FRONT_IP: { get_attribute: [ front, private_address, 0 ] }
          delete: ${SCRIPT_URL}wn_delete.sh
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
          properties: { count: ${workers} }
        host:
          properties: { num_cpus: 1, mem_size: 1 GB }
        os:
          properties: { image: '${image}' }
`;

/** Run on a worker before it is removed (its own hostname proves where): stop, then delete. */
const TEARDOWN_SCRIPTS: Record<string, string> = {
  'wn_stop.sh': '#!/bin/sh\nset -e\nread -r h < /proc/sys/kernel/hostname\necho "condor stopped on $h, leaving $FRONT_IP"\n',
  'wn_delete.sh': '#!/bin/sh\nset -e\nread -r h < /proc/sys/kernel/hostname\necho "condor removed from $h"\n',
};

/** The worker's configure step, broken: it fails where the VM has a marker file. */
const BROKEN_WN_CONFIGURE = SCRIPTS['wn_configure.sh'].replace('set -e\n',
  'set -e\nif [ -e "$HOME/broken" ]; then echo "E2E-FAILURE: condor_collector unreachable from $MY_IP" >&2; exit 7; fi\n');

/** The worker's start step, slow (60 s) where the VM has a marker file: a run still in progress. */
const SLOW_WN_START = SCRIPTS['wn_start.sh'].replace('#!/bin/sh\n', '#!/bin/sh\nif [ -e "$HOME/slow" ]; then sleep 60; fi\n');

interface Vm { id: string; node: string; privateIp: string; publicIp?: string; host: LabHost }

for (const kind of ['openstack', 'ec2'] as CloudKind[]) describeWithLab(`issue 6 end to end on ${kind}: SSH configuration through the master, over the REST API`, () => {
  let rig: E2eRig;
  let auth: string;
  let infPath: string;
  let infId: string;
  let privateKey: string;
  let user: string;
  /** The workers removed by the removal test. */
  let removed: Vm[] = [];

  beforeAll(async () => {
    rig = await startRig(kind, { ...SCRIPTS, ...TEARDOWN_SCRIPTS });
    auth = imAuth('alice', 'pw', rig.cloudLine);
  }, 90_000);
  afterAll(async () => {
    await rig?.stop();
  }, 60_000);

  const api = (method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<Reply> =>
    call(rig.apiUrl, method, path, { auth, ...opts });
  const failWith = (what: string, r: Reply) => new Error(`${what}: HTTP ${r.status} ${r.text}\n--- server log ---\n${rig.serverLog().slice(-4000)}`);

  /** Polls the state until it is no longer running/pending; returns the final view. */
  async function settledState(timeoutMs = 60_000): Promise<{ state: string; vm_states: Record<string, string> }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await api('GET', `${infPath}/state`, { accept: 'application/json' });
      if (r.status !== 200) throw failWith('GET state', r);
      const view = r.json().state as { state: string; vm_states: Record<string, string> };
      if (!['pending', 'running'].includes(view.state)) return view;
      if (Date.now() > deadline) throw new Error(`still ${view.state} after ${timeoutMs} ms: ${JSON.stringify(view)}\n--- server log ---\n${rig.serverLog().slice(-4000)}`);
      await new Promise((r2) => setTimeout(r2, 100));
    }
  }

  async function waitUntil(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function waitUntilAsync(what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The infrastructure's VMs as the cloud and the lab see them (by IM VM id). */
  function vms(): Vm[] {
    return rig.cloud.vmsOf(infId)
      .map((v) => {
        const host = rig.cloud.hostMode.hostOf(v.simId);
        if (!host) throw new Error(`VM ${v.imVmId} (${v.simId}) has no lab host`);
        return { id: v.imVmId, node: v.node, privateIp: v.privateIp, publicIp: v.publicIp, host: host.host };
      })
      .sort((a, b) => Number(a.id) - Number(b.id));
  }
  const hostMode = () => rig.cloud.hostMode;
  const publicAddresses = () => rig.cloud.publicAddresses();
  const master = () => vms().find((v) => v.node === 'front')!;
  const workers = () => vms().filter((v) => v.node === 'wn');
  const lines = (text: string | undefined) => (text ?? '').split('\n').filter(Boolean);
  const workerList = () => lines(nodeFile(master().host, 'worker_list'));
  const sorted = (a: string[]) => [...a].sort();
  /** Source addresses of the SSH logins a VM's sshd accepted (its own log). */
  const loginsOn = (v: Vm) => [...readFileSync(join(rig.lab.dir, v.host.name, 'sshd.log'), 'utf8').matchAll(/Accepted publickey for \S+ from (\S+)/g)].map((m) => m[1]);
  const vmIdsOf = (r: Reply) => (r.json()['uri-list'] as { uri: string }[]).map((u) => u.uri.split('/').pop()!);

  test('create: a master with a floating IP and 3 private workers, configured through the master', async () => {
    const r = await api('POST', '/infrastructures', { type: 'text/yaml', accept: 'application/json', body: template(3, rig.cloud.image) });
    if (r.status !== 200) throw failWith('POST /infrastructures', r);
    infPath = new URL(r.json().uri as string).pathname;
    infId = infPath.split('/').pop()!;
    const view = await settledState();
    expect(view.state).toBe('configured');
    expect(Object.values(view.vm_states)).toEqual(['configured', 'configured', 'configured', 'configured']);
    await hostMode().settle();
    expect(hostMode().errors).toEqual([]);

    const m = master();
    expect(workers()).toHaveLength(3);
    // exactly one floating IP, on the master
    const fips = publicAddresses();
    expect(fips).toHaveLength(1);
    expect(m.publicIp).toBe(fips[0].address);
    expect(workers().every((w) => w.publicIp === undefined && w.host.publicIp === undefined)).toBe(true);

    // the files the scripts left prove each node was configured, with the others' addresses
    expect(sorted(workerList())).toEqual(sorted(workers().map((w) => w.privateIp)));
    for (const w of workers()) {
      expect(nodeFile(w.host, 'master_ip')?.trim()).toBe(m.privateIp);
      expect(nodeFile(w.host, 'hostname')?.trim()).toBe(w.host.name);
      for (const op of ['create', 'configure', 'start']) expect(stepCount(w.host, 'lrms_wn', op)).toBe(1);
    }
    expect(stepCount(m.host, 'lrms_front', 'create')).toBe(1);
    expect(stepCount(m.host, 'lrms_front', 'configure')).toBe(1);

    // the sshds' own logs: one connection from the server to the master, the workers' only from the master
    expect(loginsOn(m)).toEqual([SERVER_PUBLIC_IP]);
    for (const w of workers()) expect(new Set(loginsOn(w))).toEqual(new Set([m.privateIp]));

    // the credentials IM returns to the owner are those the cloud injected (keypair + cloud-init user)
    const info = await api('GET', `${infPath}/vms/${m.id}`, { accept: 'application/json' });
    const system = (info.json().radl as Record<string, string>[]).find((x) => x.class === 'system')!;
    privateKey = system['disk.0.os.credentials.private_key'];
    user = system['disk.0.os.credentials.username'];
    expect(privateKey).toContain('PRIVATE KEY');
    expect(hostMode().hostOf(rig.cloud.vmsOf(infId).find((v) => v.imVmId === m.id)!.simId)!.users).toEqual([user]);
  });

  test('from the server namespace a worker is unreachable directly, reachable through the master', async () => {
    const w = workers()[0];
    const direct = await rig.side.call<SshProbe>('directSsh', w.privateIp, user, privateKey);
    expect(direct.ok).toBe(false);
    expect(direct.code).toBe('EHOSTUNREACH'); // the unreachable route answers at once
    expect(direct.ms).toBeLessThan(3000);
    const jumped = await rig.side.call<SshProbe>('jumpSsh', master().publicIp!, w.privateIp, user, privateKey, 'cat "$HOME/master_ip"; ip route');
    expect(jumped).toMatchObject({ ok: true });
    expect(jumped.output).toContain(master().privateIp);
    // sealed: neither the server's namespace nor the VMs have a default route
    expect(jumped.output).not.toMatch(/^default/m);
    expect(await rig.lab.exec(['ip', 'route'])).not.toMatch(/^default/m);
  });

  test('one POST adds 5 workers: they are configured, the master lists 8, old workers do not redo their life cycle', async () => {
    const before = workers().map((w) => w.id);
    const loginsBefore = loginsOn(master()).filter((ip) => ip === SERVER_PUBLIC_IP).length;
    const r = await api('POST', infPath, { type: 'text/yaml', accept: 'application/json', body: template(8, rig.cloud.image) });
    if (r.status !== 200) throw failWith('POST add resources', r);
    const added = vmIdsOf(r);
    expect(added).toHaveLength(5);
    const view = await settledState();
    expect(view.state).toBe('configured');
    expect(Object.keys(view.vm_states)).toHaveLength(9);
    expect(Object.values(view.vm_states).every((s) => s === 'configured')).toBe(true);
    await hostMode().settle();

    const all = workers();
    expect(all).toHaveLength(8);
    expect(sorted(workerList())).toEqual(sorted(all.map((w) => w.privateIp)));
    for (const w of all) {
      expect(nodeFile(w.host, 'master_ip')?.trim()).toBe(master().privateIp);
      // old or new, each worker ran each step exactly once: the old ones did not re-run
      for (const op of ['create', 'configure', 'start']) expect([w.id, op, stepCount(w.host, 'lrms_wn', op)]).toEqual([w.id, op, 1]);
    }
    expect(sorted(all.map((w) => w.id).filter((id) => !before.includes(id)))).toEqual(sorted(added));
    // the master re-ran only the operation reading the worker list
    expect(stepCount(master().host, 'lrms_front', 'create')).toBe(1);
    expect(stepCount(master().host, 'lrms_front', 'configure')).toBe(2);
    expect(publicAddresses()).toHaveLength(1);
    // the server's connection to the master was reused: no new login from the server side
    expect(loginsOn(master()).filter((ip) => ip === SERVER_PUBLIC_IP)).toHaveLength(loginsBefore);
    for (const w of all) expect(new Set(loginsOn(w))).toEqual(new Set([master().privateIp]));
  });

  test('removing 2 named workers: the master lists 6, the VMs and their hosts are gone, the floating IP stays', async () => {
    const all = workers();
    const gone = [all[1], all[5]]; // one of the first workers, one of the added ones
    removed = gone;
    const r = await api('DELETE', `${infPath}/vms/${gone.map((v) => v.id).join(',')}`);
    if (r.status !== 200) throw failWith('DELETE vms', r);
    await waitUntil('the master to list 6 workers', () => workerList().length === 6);

    // issue 6's order, from contmsg: the master was re-configured without the two workers BEFORE
    // they were deleted (so it stops sending them work), and not again after
    const ids = gone.map((v) => v.id).join(', ');
    const header = (await api('GET', `${infPath}/contmsg?headeronly=true`, { accept: 'text/plain' })).text;
    const since = header.slice(header.indexOf(`Removing VM(s) ${ids}: re-configuring the nodes that depend on them first.`));
    expect(since.length).toBeLessThan(header.length); // found
    const inOrder = (lines: string[]) => {
      const at = lines.map((line) => [line, since.indexOf(line)] as const);
      expect(at.filter(([, i]) => i < 0)).toEqual([]);
      expect(at.map(([line]) => line)).toEqual([...at].sort((x, y) => x[1] - y[1]).map(([line]) => line));
    };
    const finished = 'Contextualization finished successfully.';
    const tornDown = `Stop/delete operations of VM(s) ${ids} finished.`;
    inOrder(['Removing VM(s)', 'Contextualization started.', finished, tornDown, `Removed VM(s) ${ids}.`]);
    // in between, on each leaving worker (in parallel), its software's stop → delete, with inputs;
    // their lines go to the infrastructure's log, as the VMs' own logs go with them
    for (const v of gone) {
      inOrder([finished, `VM ${v.id} lrms_wn Standard.stop: ok, exit 0`, `| condor stopped on ${v.host.name}, leaving ${master().privateIp}`,
        `VM ${v.id} lrms_wn Standard.delete: ok, exit 0`, `| condor removed from ${v.host.name}`, tornDown]);
    }
    expect(since).not.toContain(': failed');
    expect(since.slice(since.indexOf(`Removed VM(s) ${ids}.`))).not.toContain('Contextualization started.');
    // the master's run (its own contmsg) wrote the list of the 6 that stay
    const masterLog = (await api('GET', `${infPath}/vms/${master().id}/contmsg`, { accept: 'text/plain' })).text;
    const runOutput = masterLog.slice(masterLog.lastIndexOf('lrms_front Standard.configure: ok'));
    const listed = /\| workers: (.*)/.exec(runOutput)?.[1].trim().split(/\s+/) ?? [];
    expect(sorted(listed)).toEqual(sorted(all.filter((w) => !gone.includes(w)).map((w) => w.privateIp)));
    const view = await settledState();
    expect(view.state).toBe('configured');
    expect(Object.keys(view.vm_states)).toHaveLength(7);
    await hostMode().settle();

    const left = workers();
    expect(left.map((w) => w.id)).toEqual(all.filter((w) => !gone.includes(w)).map((w) => w.id));
    expect(sorted(workerList())).toEqual(sorted(left.map((w) => w.privateIp)));
    expect(stepCount(master().host, 'lrms_front', 'configure')).toBe(3);
    for (const v of gone) {
      expect((await api('GET', `${infPath}/vms/${v.id}`)).status).toBe(404);
      expect(rig.cloud.vmsOf(infId).some((c) => c.imVmId === v.id)).toBe(false);
      // the VM's namespace, sshd, host key and authorised keys went with it
      expect(existsSync(join(rig.lab.dir, v.host.name))).toBe(false);
      expect(existsSync(`/run/netns/${v.host.ns}`)).toBe(false);
    }
    for (const w of left) for (const op of ['create', 'start']) expect(stepCount(w.host, 'lrms_wn', op)).toBe(1);
    expect(publicAddresses()).toEqual([{ address: master().publicIp, attached: true }]);
  });

  test('a failing step leaves only its worker unconfigured, with its output in contmsg; reconfigure (vm_list) after the fix re-runs only it', async () => {
    const bad = workers()[2];
    writeFileSync(join(rig.scriptsDir, 'wn_configure.sh'), BROKEN_WN_CONFIGURE);
    writeFileSync(join(bad.host.homeDir, 'broken'), '');
    rmSync(join(bad.host.homeDir, 'master_ip'));

    expect((await api('PUT', `${infPath}/reconfigure`)).status).toBe(200);
    const failed = await settledState();
    expect(failed.state).toBe('unconfigured');
    for (const [id, s] of Object.entries(failed.vm_states)) expect([id, s]).toEqual([id, id === bad.id ? 'unconfigured' : 'configured']);
    const vmLog = (await api('GET', `${infPath}/vms/${bad.id}/contmsg`)).text;
    expect(vmLog).toContain('E2E-FAILURE: condor_collector unreachable from ' + bad.privateIp);
    expect((await api('GET', `${infPath}/contmsg`)).text).toContain('E2E-FAILURE');
    expect(nodeFile(bad.host, 'master_ip')).toBeUndefined();
    for (const w of workers().filter((x) => x.id !== bad.id)) expect(nodeFile(w.host, 'master_ip')?.trim()).toBe(master().privateIp);

    // fixed: reconfigure only that VM (vm_list); it runs its whole life cycle again, nothing else runs
    writeFileSync(join(rig.scriptsDir, 'wn_configure.sh'), SCRIPTS['wn_configure.sh']);
    const counts = () => vms().map((v) => [v.id, ...['create', 'configure', 'start'].map((op) => stepCount(v.host, v.node === 'front' ? 'lrms_front' : 'lrms_wn', op))]);
    const before = counts();
    expect((await api('PUT', `${infPath}/reconfigure?vm_list=${bad.id}`)).status).toBe(200);
    const fixed = await settledState();
    expect(fixed.state).toBe('configured');
    expect(Object.values(fixed.vm_states).every((s) => s === 'configured')).toBe(true);
    expect(nodeFile(bad.host, 'master_ip')?.trim()).toBe(master().privateIp);
    expect(counts()).toEqual(before.map(([id, ...n]) => (id === bad.id ? [id, ...n.map((x) => Number(x) + 1)] : [id, ...n])));
    expect(sorted(workerList())).toEqual(sorted(workers().map((w) => w.privateIp)));
  });

  test('a new worker given a removed worker\'s address is configured (host keys are per VM, not per address)', async () => {
    const reused = removed[0];
    rig.cloud.reuseAddressNext(reused.privateIp);
    const r = await api('POST', infPath, { type: 'text/yaml', accept: 'application/json', body: template(7, rig.cloud.image) });
    if (r.status !== 200) throw failWith('POST add resources', r);
    const [id] = vmIdsOf(r);
    const view = await settledState();
    expect(view.state).toBe('configured');
    const fresh = workers().find((w) => w.id === id)!;
    expect(fresh.privateIp).toBe(reused.privateIp);
    expect(fresh.host.name).not.toBe(reused.host.name);
    expect(nodeFile(fresh.host, 'master_ip')?.trim()).toBe(master().privateIp);
    expect(stepCount(fresh.host, 'lrms_wn', 'create')).toBe(1);
    expect(sorted(workerList())).toEqual(sorted(workers().map((w) => w.privateIp)));
    expect(workerList()).toHaveLength(7);
  });

  // Two ways a VM leaves mid-run: its own DELETE, or a POST whose removal_list names it (the rest stay).
  const leaveBy: [string, (victim: Vm) => Promise<Reply>][] = [
    ['deleting its VM', (victim) => api('DELETE', `${infPath}/vms/${victim.id}`)],
    ['a POST with a removal_list naming its VM', (victim) => api('POST', infPath, {
      type: 'text/yaml', body: scaleTemplate({ wn: workers().length - 1 }, { wn: [victim.id] }),
    })],
  ];
  test.each(leaveBy)('contmsg shows a step while it runs; %s mid-run cancels its steps and the run ends', async (_how, leave) => {
    const victim = workers()[1];
    const others = workers().filter((w) => w.id !== victim.id);
    writeFileSync(join(rig.scriptsDir, 'wn_start.sh'), SLOW_WN_START);
    writeFileSync(join(victim.host.homeDir, 'slow'), '');
    try {
      // a full reconfigure (no vm_list): every VM runs everything; the victim's start hangs
      const running = new RegExp(`^\\S.*: VM ${victim.id} lrms_wn Standard\\.start: running$`, 'mg');
      const runningLines = (text: string) => text.match(running)?.length ?? 0;
      const earlier = runningLines((await api('GET', `${infPath}/contmsg`)).text); // the runs before this one
      expect((await api('PUT', `${infPath}/reconfigure`)).status).toBe(200);
      let log = '';
      await waitUntilAsync('the running step in contmsg', async () => runningLines(log = (await api('GET', `${infPath}/contmsg`)).text) > earlier);
      // while it runs: IM's state is `running`, the steps done so far are there with time, VM, node, exit status
      expect((await api('GET', `${infPath}/state`, { accept: 'application/json' })).json().state.state).toBe('running');
      expect(log).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d[ T]\\d\\d:\\d\\d:\\d\\d.*: VM ${victim.id} lrms_wn Standard\\.configure: ok, exit 0`, 'm'));
      expect(runningLines((await api('GET', `${infPath}/vms/${victim.id}/contmsg`)).text)).toBe(earlier + 1);

      const t0 = Date.now();
      const r = await leave(victim);
      if (r.status !== 200) throw failWith('removing the VM', r);
      // the 60 s step was cancelled: neither the run nor the removal waited for it
      expect(Date.now() - t0).toBeLessThan(20_000);
      const view = await settledState();
      expect(view.state).toBe('configured');
      expect(Object.keys(view.vm_states).sort()).toEqual([master().id, ...others.map((w) => w.id)].sort());
      expect((await api('GET', `${infPath}/vms/${victim.id}`)).status).toBe(404);
      expect(sorted(workerList())).toEqual(sorted(others.map((w) => w.privateIp)));
      expect((await api('GET', `${infPath}/contmsg?headeronly=true`, { accept: 'text/plain' })).text).toContain(`Removed VM(s) ${victim.id}.`);
    } finally {
      writeFileSync(join(rig.scriptsDir, 'wn_start.sh'), SCRIPTS['wn_start.sh']);
    }
  });

  test('destroy: every server and host gone, the floating IP kept in the project', async () => {
    const fip = master().publicIp;
    const r = await api('DELETE', infPath);
    if (r.status !== 200) throw failWith('DELETE infrastructure', r);
    expect(rig.cloud.vmsOf(infId)).toEqual([]);
    await hostMode().settle();
    expect(hostMode().all()).toEqual([]);
    expect(publicAddresses()).toEqual([{ address: fip, attached: false }]);
    expect(hostMode().errors).toEqual([]);
  });
});
