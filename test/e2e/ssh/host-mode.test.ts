/**
 * The OpenStack simulator's host mode, driven through its API as a cloud client would: a booted
 * server is an sshd host with the keys of its keypair and cloud-init user data only; a floating IP
 * puts it on the public bridge (and follows the IP when it moves); deletion and boot failures leave
 * no host behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSshKeyPair } from '../../../server/configure/keys';
import { createLab, type Lab } from '../../lab/lab';
import { describeWithLab } from '../../lab/require-lab';
import { startServerProcess, type ServerProcess } from '../../lab/server-process';
import { startOpenStackSim, SimState, type OpenStackSim } from '../../../sims/openstack';
import { bootAccess } from '../../../sims/host-mode';
import { bootedServers } from '../../../sims/openstack/host-mode';
import type { Server } from '../../../sims/openstack/model';
import { bootedInstances } from '../../../sims/ec2/host-mode';
import { Ec2Model, type Instance } from '../../../sims/ec2/model';
import type { SshProbe } from './netns-side';

/** Running (a zombie waiting for the test process to reap it counts as ended). */
const alive = (pid: number) => {
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
};
const cloudConfig = (text: string) => Buffer.from(text).toString('base64');

describe('host mode: what a VM boots with (keypair, cloud-init)', () => {
  test('keypair for the default user, cloud-config users with their keys, top-level keys', () => {
    const userData = cloudConfig(['#cloud-config', 'ssh_authorized_keys:', '  - ssh-ed25519 AAAAtop t@x', 'users:', '  - default',
      '  - name: "cloudadm"', '    ssh_authorized_keys:', '      - "ssh-ed25519 AAAAcloudadm c@x"', '  - name: root'].join('\n'));
    expect(bootAccess({ keypairKey: 'ssh-ed25519 AAAAkeypair k@x', userData })).toEqual({
      keys: ['ssh-ed25519 AAAAkeypair k@x', 'ssh-ed25519 AAAAtop t@x', 'ssh-ed25519 AAAAcloudadm c@x'],
      users: ['cloudadm'],
    });
  });

  test('a shell-script or unparsable user data, or a bad user name, give nothing', () => {
    expect(bootAccess({ userData: cloudConfig('#!/bin/sh\necho ssh-ed25519 AAAAx') })).toEqual({ keys: [], users: [] });
    expect(bootAccess({ userData: cloudConfig('#cloud-config\nusers: [ {name: x') })).toEqual({ keys: [], users: [] });
    expect(bootAccess({ userData: cloudConfig('#cloud-config\nusers:\n  - name: "bad name; rm -rf /"\n') }).users).toEqual([]);
  });

  test('OpenStack: the server\'s own keypair only (keypairs are per user), private port, floating IP', () => {
    const state = new SimState();
    state.keypairs.push({ name: 'kp', publicKey: 'ssh-ed25519 AAAAmine', fingerprint: '', userId: 'u-demo', projectId: 'p', createdAt: 0 });
    state.keypairs.push({ name: 'kp', publicKey: 'ssh-ed25519 AAAAalt', fingerprint: '', userId: 'u-alt', projectId: 'p2', createdAt: 0 });
    const base: Omit<Server, 'id' | 'name' | 'userId'> = {
      projectId: state.projects[0].id, status: 'ACTIVE', imageId: 'i', flavorId: '1', keyName: 'kp', metadata: {}, tags: [], securityGroups: [],
      adminPass: '', createdAt: 0, updatedAt: 0, readyAt: 0,
    };
    state.servers.set('s1', { ...base, id: 's1', name: 'one', userId: 'u-demo' });
    state.servers.set('s2', { ...base, id: 's2', name: 'two', userId: 'u-alt', status: 'ERROR' });
    const net = state.networks.find((n) => n.name === 'private')!;
    const port = state.createPort({ networkId: net.id, projectId: base.projectId, deviceId: 's1' })!;
    state.createPort({ networkId: net.id, projectId: base.projectId, deviceId: 's2' });
    const ext = state.networks.find((n) => n.external)!;
    state.floatingIps.set('f', { id: 'f', address: '198.18.4.10', networkId: ext.id, portId: port.id, fixedIp: port.fixedIps[0].ip_address, projectId: base.projectId, description: '', status: 'ACTIVE', createdAt: 0 });
    expect(bootedServers(state)).toEqual([
      { id: 's1', name: 'one', privateIp: port.fixedIps[0].ip_address, publicIp: '198.18.4.10', keypairKey: 'ssh-ed25519 AAAAmine', userData: undefined },
    ]);
  });

  test('EC2: instances until they shut down, their key pair, their Elastic IP', () => {
    const model = new Ec2Model('us-east-1', { bootMs: 0, shutdownMs: 1e9, stopMs: 0, visibilityDelayMs: 0 }, { instances: 10, addresses: 5 }, [], []);
    model.keyPairs.set('key-1', { id: 'key-1', name: 'kp', publicKey: 'ssh-ed25519 AAAAkp', fingerprint: '', type: 'ed25519', created: '' });
    const inst = (id: string, state: Instance['state'], privateIp: string): Instance => ({
      id, reservationId: 'r', imageId: 'ami', type: 't3.micro', keyName: 'kp', groupIds: [], subnetId: 's', vpcId: 'v', privateIp,
      launchTime: '', launchIndex: 0, state, stateSince: Date.now(), userData: cloudConfig('#cloud-config\n'), visibleAt: 0,
    });
    for (const i of [inst('i-1', 'running', '172.31.0.14'), inst('i-2', 'stopped', '172.31.0.15'), inst('i-3', 'shutting-down', '172.31.0.16')]) model.instances.set(i.id, i);
    model.addTags('i-1', [{ key: 'Name', value: 'im-x-front-0' }]);
    model.addresses.set('eipalloc-1', { allocationId: 'eipalloc-1', publicIp: '198.18.12.11', instanceId: 'i-1', associationId: 'a' });
    expect(bootedInstances(model)).toEqual([
      { id: 'i-1', name: 'im-x-front-0', privateIp: '172.31.0.14', publicIp: '198.18.12.11', keypairKey: 'ssh-ed25519 AAAAkp', userData: cloudConfig('#cloud-config\n') },
      { id: 'i-2', name: 'i-2', privateIp: '172.31.0.15', publicIp: undefined, keypairKey: 'ssh-ed25519 AAAAkp', userData: cloudConfig('#cloud-config\n') },
    ]);
  });
});

describeWithLab('OpenStack simulator host mode', () => {
  const keyA = generateSshKeyPair('keypair');
  const keyB = generateSshKeyPair('cloud-init');
  const stranger = generateSshKeyPair('stranger');
  let lab: Lab;
  let sim: OpenStackSim;
  let side: ServerProcess;
  let token: string;

  beforeAll(async () => {
    lab = await createLab({ name: 'hm' });
    sim = await startOpenStackSim({ hostMode: { lab }, faults: { activeDelayMs: 50, deleteDelayMs: 20 } });
    side = await startServerProcess(lab, require.resolve('./netns-side.ts'));
    const auth = await fetch(`${sim.url}/identity/v3/auth/tokens`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ auth: {
        identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'default' }, password: 'secret' } } },
        scope: { project: { name: 'demo', domain: { id: 'default' } } },
      } }),
    });
    token = auth.headers.get('x-subject-token')!;
    await os('POST', '/compute/v2.1/os-keypairs', { keypair: { name: 'kp', public_key: keyA.publicKey } });
  }, 30_000);
  afterAll(async () => {
    // each step on its own: a failure in one must not leave the others running
    await side?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await lab?.destroy();
  }, 30_000);

  async function os<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(sim.url + path, { method, headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return (r.status === 204 || (r.status === 202 && method === 'DELETE') ? undefined : r.json()) as T;
  }
  const boot = async (name: string, extra: Record<string, unknown> = {}) =>
    (await os('POST', '/compute/v2.1/servers', { server: { name, imageRef: sim.state.images[0].id, flavorRef: '1', ...extra } })).server.id as string;
  const portOf = (serverId: string) => sim.inspect().ports.find((p) => p.deviceId === serverId)!;
  const ssh = (host: string, user: string, key: string, cmd = 'read -r h < /proc/sys/kernel/hostname; echo "$h $HOME $USER"') =>
    side.call<SshProbe>('directSsh', host, user, key, cmd);
  /** A login that must work: on failure the message carries the client's error and the host's sshd log. */
  const login = async (host: string, user: string, key: string, labHost: string) => {
    const probe = await ssh(host, user, key);
    const log = probe.ok ? '' : readFileSync(join(lab.dir, labHost, 'sshd.log'), 'utf8').slice(-2000);
    return { ...probe, ...(probe.ok ? {} : { sshdLog: log }) };
  };
  const loggedIn = (labHost: string, user: string) => ({ ok: true, output: `${labHost} /root ${user}\n`, ms: expect.any(Number) });

  let s1: string;
  let s2: string;
  let fip: { id: string; floating_ip_address: string };

  test('a booted server is a host on the private network; its floating IP puts it on the public bridge', async () => {
    const ud = cloudConfig(`#cloud-config\nusers:\n  - default\n  - name: cloudadm\n    ssh_authorized_keys:\n      - ${keyB.publicKey}\n`);
    s1 = await boot('one', { key_name: 'kp', user_data: ud });
    s2 = await boot('two', { key_name: 'kp' });
    await sim.hostMode!.settle();
    const h1 = sim.hostMode!.hostOf(s1)!;
    expect(h1.host.privateIp).toBe(portOf(s1).ip);
    expect(h1.users).toEqual(['cloudadm']);
    expect(sim.hostMode!.hostOf(s2)!.users).toEqual([]);

    const ext = sim.inspect().networks.find((n) => n.external)!;
    fip = (await os('POST', '/network/v2.0/floatingips', { floatingip: { floating_network_id: ext.id, port_id: portOf(s1).id } })).floatingip;
    expect(fip.floating_ip_address).toMatch(/^198\.18\.4\.\d+$/); // inside the lab's public range
    await sim.hostMode!.settle();
    expect(h1.publicIp).toBe(fip.floating_ip_address);

    // the keypair's key logs in as root (the image's user), cloud-init's as cloudadm; nothing else does
    expect(await login(fip.floating_ip_address, 'root', keyA.privateKey, h1.host.name)).toEqual(loggedIn(h1.host.name, 'root'));
    expect(await login(fip.floating_ip_address, 'cloudadm', keyB.privateKey, h1.host.name)).toEqual(loggedIn(h1.host.name, 'cloudadm'));
    expect(await ssh(fip.floating_ip_address, 'root', stranger.privateKey)).toMatchObject({ ok: false, error: expect.stringMatching(/authentication methods failed/) });
    // a server without a floating IP is not reachable from the server side
    expect(await ssh(portOf(s2).ip, 'root', keyA.privateKey)).toMatchObject({ ok: false, code: 'EHOSTUNREACH' });
    // ...but is from its neighbour on the private network
    const jumped = await side.call<SshProbe>('jumpSsh', fip.floating_ip_address, portOf(s2).ip, 'root', keyA.privateKey, 'read -r h < /proc/sys/kernel/hostname; echo $h');
    expect(jumped).toMatchObject({ ok: true, output: `${sim.hostMode!.hostOf(s2)!.host.name}\n` });
  });

  test('the floating IP moves with its association, and leaves with it', async () => {
    await os('PUT', `/network/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: portOf(s2).id } });
    await sim.hostMode!.settle();
    const h1 = sim.hostMode!.hostOf(s1)!;
    const h2 = sim.hostMode!.hostOf(s2)!;
    expect([h1.publicIp, h2.publicIp]).toEqual([undefined, fip.floating_ip_address]);
    expect(await login(fip.floating_ip_address, 'root', keyA.privateKey, h2.host.name)).toEqual(loggedIn(h2.host.name, 'root'));
    expect(await lab.exec(['ip', '-o', 'addr'], h1.host.ns)).not.toContain('198.18.');

    await os('PUT', `/network/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } });
    await sim.hostMode!.settle();
    expect(h2.publicIp).toBeUndefined();
    expect(await lab.exec(['ip', '-o', 'addr'], h2.host.ns)).not.toContain('198.18.');
  });

  test('deleting a server destroys its host; a server that fails to boot gets none', async () => {
    const h1 = sim.hostMode!.hostOf(s1)!;
    await os('DELETE', `/compute/v2.1/servers/${s1}`);
    await sim.hostMode!.settle();
    expect(sim.hostMode!.hostOf(s1)).toBeUndefined();
    expect(existsSync(`/run/netns/${h1.host.ns}`)).toBe(false);
    expect(alive(h1.host.sshdPid)).toBe(false);

    sim.faults.bootFailures.push({ pattern: /^doomed$/, times: 1 });
    const s3 = await boot('doomed', { key_name: 'kp' });
    await new Promise((r) => setTimeout(r, 100)); // past BUILD: ERROR
    await sim.hostMode!.settle();
    expect(sim.inspect().servers.find((s) => s.id === s3)?.status).toBe('ERROR');
    expect(sim.hostMode!.hostOf(s3)).toBeUndefined();
    expect(sim.hostMode!.all().map((h) => h.vmId)).toEqual([s2]);
    expect(sim.hostMode!.errors).toEqual([]);
  });
});
