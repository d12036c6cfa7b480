/** The few-floating-IPs policy, end to end against the simulator over HTTP. */
import { randomUUID } from 'node:crypto';
import { OpenStackConnector } from '../../connectors/openstack';
import type { OpenStackSim } from '../../sims/openstack';
import { compute, credential, deploy, resourcesOf, startSim } from './helpers';

let sim: OpenStackSim;
beforeEach(async () => {
  sim = await startSim();
});
afterEach(async () => sim.close());

const PUBLIC = '6f1a7a52-0d6f-4b7b-8a0e-000000000002';
const cluster = (workers: number) => [compute('front', { publicIp: true, ports: [{ from: 80, to: 80, protocol: 'tcp', source: '0.0.0.0/0', public: true }] }), compute('wn', { count: workers })];

/** A floating IP that exists in the project before the deployment, allocated by somebody else. */
async function preallocate(conn: OpenStackConnector, description = ''): Promise<{ id: string; floating_ip_address: string }> {
  const r = await conn.cloud.api.call('network', 'POST', '/floatingips', { body: { floatingip: { floating_network_id: PUBLIC, description } } });
  return r.body.floatingip;
}

describe('floating IPs', () => {
  it('1 master + 4 workers: exactly one floating IP, on the master', async () => {
    const conn = new OpenStackConnector(credential(sim));
    const inf = randomUUID();
    const vms = await deploy(conn, inf, cluster(4));
    expect(vms.map((v) => v.obs.state)).toEqual(Array(5).fill('running'));
    const master = vms.find((v) => v.node === 'front')!;
    expect(master.obs.publicIps).toHaveLength(1);
    for (const w of vms.filter((v) => v.node === 'wn')) {
      expect(w.obs.publicIps).toEqual([]);
      expect(w.obs.privateIps[0]).toMatch(/^10\.0\.0\./);
    }
    const s = sim.inspect();
    expect(s.floatingIps).toHaveLength(1);
    const masterPort = s.ports.find((p) => p.deviceId === master.handle.instanceId)!;
    expect(s.floatingIps[0]).toMatchObject({ portId: masterPort.id, address: master.obs.publicIps[0], description: `im:${inf}` });
    // Later observations report the same address and never allocate another.
    expect((await conn.describe(master.handle)).publicIps).toEqual(master.obs.publicIps);
    expect(sim.inspect().floatingIps).toHaveLength(1);
  });

  it('reuses a free floating IP of the project before allocating one', async () => {
    const conn = new OpenStackConnector(credential(sim));
    const free = await preallocate(conn, 'left by someone');
    const vms = await deploy(conn, randomUUID(), cluster(1));
    expect(vms[0].obs.publicIps).toEqual([free.floating_ip_address]);
    expect(sim.inspect().floatingIps).toHaveLength(1);
    expect(sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/floatingips'))).toHaveLength(1); // only our preallocation
  });

  it('never takes a floating IP that is attached to another server', async () => {
    const conn = new OpenStackConnector(credential(sim));
    const first = await deploy(conn, randomUUID(), cluster(0));
    const second = await deploy(conn, randomUUID(), cluster(0));
    expect(second[0].obs.publicIps).toHaveLength(1);
    expect(second[0].obs.publicIps[0]).not.toEqual(first[0].obs.publicIps[0]);
    expect(sim.inspect().floatingIps.every((f) => f.portId)).toBe(true);
  });

  it('keeps the floating IP on destroy: detached, still in the project', async () => {
    const conn = new OpenStackConnector(credential(sim));
    const inf = randomUUID();
    const vms = await deploy(conn, inf, cluster(2));
    const address = vms[0].obs.publicIps[0];
    for (const v of vms) await conn.terminate(v.handle, { releaseFloatingIps: false });
    await conn.cleanup(inf, { releaseFloatingIps: false });
    const left = resourcesOf(sim, inf);
    expect(left.servers).toEqual([]);
    expect(left.ports).toEqual([]);
    expect(left.groups).toEqual([]);
    expect(left.keypairs).toEqual([]);
    expect(left.floatingIps).toEqual([expect.objectContaining({ address, portId: null, fixedIp: null })]);
    // The next deployment gets the same address back without allocating.
    const again = await deploy(conn, randomUUID(), cluster(0));
    expect(again[0].obs.publicIps).toEqual([address]);
    expect(sim.inspect().floatingIps).toHaveLength(1);
  });

  it('releases on request only the floating IPs this infrastructure allocated', async () => {
    const conn = new OpenStackConnector(credential(sim));
    const foreign = await preallocate(conn, 'someone else');
    const inf = randomUUID();
    // Two public nodes: one reuses the foreign free address, the other allocates a new one.
    const vms = await deploy(conn, inf, [compute('a', { publicIp: true }), compute('b', { publicIp: true })]);
    const addresses = vms.map((v) => v.obs.publicIps[0]).sort();
    expect(addresses).toContain(foreign.floating_ip_address);
    // Another infrastructure's attached address must survive too.
    const other = randomUUID();
    const otherVms = await deploy(conn, other, cluster(0));
    for (const v of vms) await conn.terminate(v.handle, { releaseFloatingIps: true });
    await conn.cleanup(inf, { releaseFloatingIps: true });
    const fips = sim.inspect().floatingIps;
    expect(fips.map((f) => f.address).sort()).toEqual([foreign.floating_ip_address, otherVms[0].obs.publicIps[0]].sort());
    expect(fips.find((f) => f.address === foreign.floating_ip_address)!.portId).toBeNull();
    expect(fips.find((f) => f.address === otherVms[0].obs.publicIps[0])!.portId).not.toBeNull();
  });

  it('delete_floating_ips = true on the credential line releases ours; cleanup alone finds them', async () => {
    const conn = new OpenStackConnector(credential(sim, { delete_floating_ips: 'true' }));
    const inf = randomUUID();
    await deploy(conn, inf, cluster(1));
    expect(sim.inspect().floatingIps).toHaveLength(1);
    // Crash-safe path: no terminate, only cleanup from what the cloud says.
    await conn.cleanup(inf, { releaseFloatingIps: false });
    expect(sim.inspect().floatingIps).toEqual([]);
    expect(resourcesOf(sim, inf).servers).toEqual([]);
  });

  describe('pool selection', () => {
    it("uses the template's pool, else the credential's, else the only external network", async () => {
      const ext2 = sim.state.addNetwork({ name: 'public2', external: true, cidr: '172.25.0.0/24', projectId: 'admin' });
      const conn = new OpenStackConnector(credential(sim));
      const byTemplate = await deploy(conn, randomUUID(), [compute('m', { publicIp: true, publicNetwork: 'public2' })]);
      expect(byTemplate[0].obs.publicIps[0]).toMatch(/^172\.25\.0\./);
      const conn2 = new OpenStackConnector(credential(sim, { pool: ext2.id }));
      const byCredential = await deploy(conn2, randomUUID(), [compute('m', { publicIp: true })]);
      expect(byCredential[0].obs.publicIps[0]).toMatch(/^172\.25\.0\./);
      const conn3 = new OpenStackConnector(credential(sim, { pool: 'public2' }));
      const templateWins = await deploy(conn3, randomUUID(), [compute('m', { publicIp: true, publicNetwork: 'public' })]);
      expect(templateWins[0].obs.publicIps[0]).toMatch(/^172\.24\.4\./);
    });

    it('several external networks and no choice → a clear error before anything is created', async () => {
      sim.state.addNetwork({ name: 'public2', external: true, cidr: '172.25.0.0/24', projectId: 'admin' });
      const conn = new OpenStackConnector(credential(sim));
      await expect(deploy(conn, randomUUID(), cluster(1))).rejects.toMatchObject({
        code: 'AmbiguousPool', message: expect.stringMatching(/several external networks \(public, public2\).*"pool"/),
      });
      expect(sim.inspect().servers).toEqual([]);
      expect(sim.inspect().keypairs).toEqual([]);
    });

    it('an unknown pool → a clear error naming the choices', async () => {
      const conn = new OpenStackConnector(credential(sim, { pool: 'nope' }));
      await expect(deploy(conn, randomUUID(), cluster(0))).rejects.toMatchObject({
        code: 'PoolNotFound', message: expect.stringContaining(`"nope" asked by the credential's pool option is not an external network`),
      });
    });

    it('no external network → a clear error, but nodes without public IP deploy fine', async () => {
      sim.state.networks = sim.state.networks.filter((n) => !n.external);
      const conn = new OpenStackConnector(credential(sim));
      await expect(deploy(conn, randomUUID(), cluster(0))).rejects.toMatchObject({ code: 'NoPool' });
      const ok = await deploy(new OpenStackConnector(credential(sim)), randomUUID(), [compute('wn')]);
      expect(ok[0].obs.state).toBe('running');
    });
  });
});
