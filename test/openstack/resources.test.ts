/** Flavors, images, networks, security group rules and what a server is created with. */
import { randomUUID } from 'node:crypto';
import { OpenStackConnector } from '../../connectors/openstack';
import type { ComputePlan } from '../../tosca/plan';
import type { OpenStackSim } from '../../sims/openstack';
import { PUBLIC_KEY, compute, credential, deploy, startSim } from './helpers';

let sim: OpenStackSim;
let conn: OpenStackConnector;
beforeEach(async () => {
  sim = await startSim();
  conn = new OpenStackConnector(credential(sim));
});
afterEach(async () => sim.close());

const flavorOf = async (c: ComputePlan) => {
  const [vm] = await deploy(conn, randomUUID(), [c]);
  return sim.inspect().servers.find((s) => s.id === vm.handle.instanceId)!.flavor;
};

describe('flavor selection', () => {
  it.each([
    [{ numCpus: 1, memSizeMB: 512 }, 'm1.tiny'],
    [{ numCpus: 1, memSizeMB: 1024 }, 'm1.small'],
    [{ numCpus: 2, memSizeMB: 3000 }, 'm1.medium'],
    [{ numCpus: 1, memSizeMB: 512, diskSizeGB: 30 }, 'm1.medium'],
    [{ numCpus: 8, memSizeMB: 16384 }, 'm1.xlarge'], // a GPU flavor of the same size is never chosen without a GPU wish
    [{ numCpus: 2, numGpus: 1, gpuVendor: 'NVIDIA' }, 'g1.large.t4'],
    [{ numGpus: 1, gpuModel: 'A100' }, 'g2.xlarge.a100'],
    [{ numGpus: 2 }, 'g2.xlarge.a100'],
    [{ instanceType: 'm1.large', numCpus: 1 }, 'm1.large'],
  ])('%j → %s', async (host, expected) => {
    expect(await flavorOf(compute('n', { host }))).toBe(expected);
  });

  it('nothing fits → a clear error', async () => {
    await expect(flavorOf(compute('n', { host: { numCpus: 64, memSizeMB: 1 << 20 } }))).rejects.toMatchObject({
      code: 'NoFlavor', message: expect.stringContaining('satisfies 64 CPUs, 1048576 MB of memory'),
    });
    await expect(flavorOf(compute('n', { host: { instanceType: 'x9.huge' } }))).rejects.toMatchObject({
      code: 'FlavorNotFound', message: expect.stringContaining('"x9.huge" does not exist'),
    });
  });
});

describe('images', () => {
  const imageOf = async (image: string, os: ComputePlan['os'] = { image }) => {
    const [vm] = await deploy(conn, randomUUID(), [compute('n', { os })]);
    return sim.inspect().servers.find((s) => s.id === vm.handle.instanceId)!.image;
  };
  const UBUNTU = '0c1d2e3f-1111-4a2b-8c3d-000000000002';

  it('by name, by id and by IM ost:// URL', async () => {
    expect(await imageOf('ubuntu-22.04')).toBe(UBUNTU);
    expect(await imageOf(UBUNTU)).toBe(UBUNTU);
    const host = new URL(sim.url).host;
    expect(await imageOf(`ost://${host}/${UBUNTU}`)).toBe(UBUNTU);
  });

  it('unknown images and other sites → clear errors', async () => {
    await expect(imageOf('no-such-image')).rejects.toMatchObject({ code: 'ImageNotFound', message: expect.stringContaining('"no-such-image"') });
    await expect(imageOf(`ost://cloud.example.org/${UBUNTU}`)).rejects.toMatchObject({ message: expect.stringContaining('belongs to the OpenStack site "cloud.example.org"') });
    await expect(imageOf(`ost://127.0.0.1/${randomUUID()}`)).rejects.toMatchObject({ code: 'ImageNotFound' });
    await expect(deploy(conn, randomUUID(), [compute('n', { os: {} })])).rejects.toMatchObject({ code: 'NoImage' });
    await expect(deploy(conn, randomUUID(), [compute('n', { os: { distribution: 'centos', version: '7' } })])).rejects.toMatchObject({
      code: 'ImageNotFound', message: expect.stringContaining('No active image of centos 7'),
    });
  });

  it('by distribution and version when the template names no image (Glance os_distro/os_version)', async () => {
    expect(await imageOf(undefined as unknown as string, { distribution: 'Ubuntu', version: '22.04' })).toBe(UBUNTU);
    expect(await imageOf(undefined as unknown as string, { distribution: 'cirros' })).toBe('9b4e7c36-2f6c-4d1a-9a55-5c1f0d2b0a01');
  });
});

describe('networks', () => {
  it("uses the template's network, else the only tenant one; several → clear error", async () => {
    const extra = sim.state.addNetwork({ name: 'data', external: false, cidr: '10.9.0.0/24', projectId: sim.state.projects[0].id });
    await expect(deploy(conn, randomUUID(), [compute('n')])).rejects.toMatchObject({
      code: 'NoNetwork', message: expect.stringContaining('several tenant networks (private, data)'),
    });
    const [vm] = await deploy(conn, randomUUID(), [compute('n', { networks: ['data'] })]);
    expect(vm.obs.privateIps[0]).toMatch(/^10\.9\.0\./);
    const byOption = await deploy(new OpenStackConnector(credential(sim, { network: extra.id })), randomUUID(), [compute('n')]);
    expect(byOption[0].obs.privateIps[0]).toMatch(/^10\.9\.0\./);
    await expect(deploy(conn, randomUUID(), [compute('n', { networks: ['public'] })])).rejects.toMatchObject({ code: 'NetworkNotFound' });
  });
});

describe('per-infrastructure resources', () => {
  it('one security group with SSH, intra-group traffic and the public endpoint ports', async () => {
    const inf = randomUUID();
    await deploy(conn, inf, [
      compute('front', {
        publicIp: true,
        ports: [
          { from: 80, to: 80, protocol: 'tcp', source: '0.0.0.0/0', public: true },
          { from: 8000, to: 8100, protocol: 'tcp', source: '0.0.0.0/0', public: true },
          { from: 53, to: 53, protocol: 'udp', source: '192.168.0.0/16', public: true },
          { from: 9618, to: 9618, protocol: 'tcp', source: '0.0.0.0/0', public: false },
        ],
      }),
      compute('wn', { count: 2, ports: [{ from: 80, to: 80, protocol: 'tcp', source: '0.0.0.0/0', public: true }] }),
    ]);
    const groups = sim.inspect().securityGroups.filter((g) => g.name === `im-${inf}`);
    expect(groups).toHaveLength(1);
    const ingress = groups[0].rules.filter((r) => r.direction === 'ingress').map((r) => [r.protocol, r.from, r.to, r.remoteIpPrefix ?? `group:${r.remoteGroupId === groups[0].id}`]);
    expect(ingress.sort()).toEqual(
      [
        ['tcp', 22, 22, '0.0.0.0/0'],
        [null, null, null, 'group:true'],
        ['tcp', 80, 80, '0.0.0.0/0'],
        ['tcp', 8000, 8100, '0.0.0.0/0'],
        ['udp', 53, 53, '192.168.0.0/16'],
      ].sort(),
    );
    // Every server uses it, with the infrastructure's keypair.
    const servers = sim.inspect().servers.filter((s) => s.metadata.im_infrastructure_id === inf);
    expect(servers).toHaveLength(3);
    for (const s of servers) {
      expect(s.securityGroups).toEqual([`im-${inf}`]);
      expect(s.keyName).toBe(`im-${inf}`);
    }
    expect(sim.inspect().keypairs.find((k) => k.name === `im-${inf}`)!.publicKey).toBe(PUBLIC_KEY);
  });

  it('prepare is idempotent and adds rules for new nodes only', async () => {
    const inf = randomUUID();
    const scope = (ports: ComputePlan['ports']) => ({ infrastructureId: inf, publicKey: PUBLIC_KEY, computes: [compute('n', { ports })] });
    await conn.prepare(scope([{ from: 80, to: 80, protocol: 'tcp', source: '0.0.0.0/0', public: true }]));
    await conn.prepare(scope([{ from: 80, to: 80, protocol: 'tcp', source: '0.0.0.0/0', public: true }]));
    await conn.prepare(scope([{ from: 443, to: 443, protocol: 'tcp', source: '0.0.0.0/0', public: true }]));
    const s = sim.inspect();
    const groups = s.securityGroups.filter((g) => g.name === `im-${inf}`);
    expect(groups).toHaveLength(1);
    expect(groups[0].rules.filter((r) => r.direction === 'ingress').map((r) => r.from).sort()).toEqual([22, 443, 80, null].sort());
    expect(s.keypairs.filter((k) => k.name === `im-${inf}`)).toHaveLength(1);
    // The same name with another key is refused rather than silently used.
    await expect(conn.prepare({ ...scope([]), publicKey: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCother x@y' })).rejects.toMatchObject({ code: 'KeypairConflict' });
  });

  it('servers carry metadata naming infrastructure and node, and base64 cloud-init user data', async () => {
    const inf = randomUUID();
    const [vm] = await deploy(conn, inf, [compute('front')]);
    const s = sim.inspect().servers.find((x) => x.id === vm.handle.instanceId)!;
    expect(s.name).toBe(`im-${inf}-front-0`);
    expect(s.metadata).toMatchObject({ im_infrastructure_id: inf, im_node: 'front', im_vm_id: '0' });
    expect(s.userData).toContain('#cloud-config');
    expect(s.userData).toContain('name: "cloudadm"');
    expect(s.userData).toContain(PUBLIC_KEY);
    // The engine's own user data goes through as given.
    const handle = await conn.launch({ infrastructureId: inf, vmId: '1', nodeName: 'front', compute: compute('front'), publicKey: PUBLIC_KEY, adminUser: 'cloudadm', userData: '#!/bin/sh\necho hi\n', clientToken: randomUUID() });
    expect(sim.inspect().servers.find((x) => x.id === handle.instanceId)!.userData).toBe('#!/bin/sh\necho hi\n');
  });

  it('start, stop and reboot map to Nova actions', async () => {
    const [vm] = await deploy(conn, randomUUID(), [compute('n')]);
    await conn.stop(vm.handle);
    expect((await conn.describe(vm.handle)).state).toBe('stopped');
    await conn.start(vm.handle);
    expect((await conn.describe(vm.handle)).state).toBe('running');
    await conn.reboot(vm.handle);
    await conn.terminate(vm.handle, { releaseFloatingIps: false });
    expect((await conn.describe(vm.handle)).state).toBe('off');
    await conn.terminate(vm.handle, { releaseFloatingIps: false }); // idempotent
  });
});

describe('concurrent preparation', () => {
  it('a rule that another process added meanwhile (409 SecurityGroupRuleExists) does not fail prepare', async () => {
    const inf = randomUUID();
    const web = compute('n', { ports: [{ from: 80, to: 80, protocol: 'tcp', source: '0.0.0.0/0', public: true }] });
    await conn.prepare({ infrastructureId: inf, publicKey: PUBLIC_KEY, computes: [compute('n')] });
    sim.faults.errors.push({ match: /^POST \/network\/v2\.0\/security-group-rules$/, status: 409, count: 1, type: 'SecurityGroupRuleExists' });
    await conn.prepare({ infrastructureId: inf, publicKey: PUBLIC_KEY, computes: [web] });
    const group = sim.inspect().securityGroups.find((g) => g.name === `im-${inf}`)!;
    expect(group.rules.filter((r) => r.from === 80)).toHaveLength(1);
    expect(sim.requests.filter((r) => r.path === '/network/v2.0/security-group-rules').map((r) => r.status)).toEqual([201, 409, 201]);
    // Any other conflict is reported.
    sim.faults.errors.push({ match: /^POST \/network\/v2\.0\/security-group-rules$/, status: 409, count: 1, type: 'Conflict' });
    await expect(conn.prepare({ infrastructureId: inf, publicKey: PUBLIC_KEY, computes: [compute('n', { ports: [{ from: 443, to: 443, protocol: 'tcp', source: '0.0.0.0/0', public: true }] })] }))
      .rejects.toMatchObject({ message: expect.stringContaining('error 409 on POST /security-group-rules') });
  });
});
