/** Quotas, boot failures, injected API errors, crashes: clear reports and nothing left behind. */
import { randomUUID } from 'node:crypto';
import { OpenStackConnector, resetOpenStackClouds } from '../../connectors/openstack';
import type { OpenStackSim } from '../../sims/openstack';
import { PUBLIC_KEY, compute, credential, deploy, resourcesOf, startSim } from './helpers';

let sim: OpenStackSim;
let conn: OpenStackConnector;
beforeEach(async () => {
  sim = await startSim();
  conn = new OpenStackConnector(credential(sim));
});
afterEach(async () => sim.close());

const launch = (inf: string, vmId: string, c = compute('wn'), clientToken = randomUUID()) =>
  conn.launch({ infrastructureId: inf, vmId, nodeName: c.name, compute: c, publicKey: PUBLIC_KEY, adminUser: 'cloudadm', clientToken });

describe('quotas', () => {
  it('instances over quota → QuotaExceeded naming the resource; the VMs that fit are kept', async () => {
    sim.state.quotaOf(sim.state.projects[0].id).instances = 2;
    const inf = randomUUID();
    await conn.prepare({ infrastructureId: inf, computes: [compute('wn')], publicKey: PUBLIC_KEY });
    const results = await Promise.allSettled([0, 1, 2].map((i) => launch(inf, String(i))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failure.reason).toMatchObject({ code: 'QuotaExceeded', status: 403, message: expect.stringContaining('Quota exceeded for instances: Requested 1, but already used 2 of 2 instances') });
    expect(resourcesOf(sim, inf).servers).toHaveLength(2);
  });

  it('cores over quota → QuotaExceeded', async () => {
    sim.state.quotaOf(sim.state.projects[0].id).cores = 3;
    await expect(deploy(conn, randomUUID(), [compute('big', { host: { numCpus: 4 } })])).rejects.toMatchObject({
      code: 'QuotaExceeded', message: expect.stringContaining('Quota exceeded for cores: Requested 4, but already used 0 of 3 cores'),
    });
  });

  it("Nova's conductor-time quota failure (POST accepted, then ERROR with a quota fault) fails at once, without relaunch", async () => {
    sim.faults.conductorQuota = true;
    sim.state.quotaOf(sim.state.projects[0].id).instances = 2;
    const inf = randomUUID();
    const vms = await deploy(conn, inf, [compute('wn', { count: 3 })]);
    const failed = vms.filter((v) => v.obs.state === 'failed');
    expect(vms.filter((v) => v.obs.state === 'running')).toHaveLength(2);
    expect(failed).toHaveLength(1);
    expect(failed[0].obs).toMatchObject({
      retryable: false, fault: 'OpenStack quota exceeded: Quota exceeded for instances: Requested 1, but already used 2 of 2 instances',
    });
    expect(sim.requestCount((r) => r.method === 'POST' && r.path === '/compute/v2.1/servers')).toBe(3);
  });

  it('a key pair that exists already is looked up, not POSTed again (no 409 on every re-prepare)', async () => {
    const inf = randomUUID();
    const scope = { infrastructureId: inf, computes: [compute('wn')], publicKey: PUBLIC_KEY };
    await conn.prepare(scope);
    sim.resetRequests();
    await conn.prepare(scope);
    expect(sim.requestCount((r) => r.path.startsWith('/compute/v2.1/os-keypairs') && r.method === 'POST')).toBe(0);
    expect(sim.requestCount((r) => r.status === 409)).toBe(0);
    await expect(conn.prepare({ ...scope, publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherKey00 x' })).rejects.toMatchObject({ code: 'KeypairConflict' });
  });

  it('floating IPs over quota → the public node is reported failed with the reason', async () => {
    sim.state.quotaOf(sim.state.projects[0].id).floatingips = 0;
    const [vm] = await deploy(conn, randomUUID(), [compute('front', { publicIp: true })], 1);
    expect(vm.obs).toMatchObject({ state: 'failed', fault: expect.stringMatching(/Could not attach a floating IP: OpenStack quota exceeded .*floatingip/) });
    expect(vm.obs.fault).toMatch(/\['floatingip'\]$/); // Neutron's full stop is dropped: the engine's line goes on after it
  });
});

describe('boot failures', () => {
  it('a VM that fails to boot twice is relaunched and succeeds on the third attempt', async () => {
    sim.faults.bootFailures.push({ pattern: /-wn-1$/, times: 2 });
    const inf = randomUUID();
    const vms = await deploy(conn, inf, [compute('wn', { count: 3 })]);
    expect(vms.map((v) => v.obs.state)).toEqual(['running', 'running', 'running']);
    const servers = resourcesOf(sim, inf).servers;
    expect(servers).toHaveLength(3); // the failed attempts were deleted
  });

  it('a VM that always fails is reported with the cloud fault; the others are kept', async () => {
    sim.faults.bootFailures.push({ pattern: /-wn-0$/, times: Infinity, message: 'No valid host was found. There are not enough hosts available.' });
    const inf = randomUUID();
    const vms = await deploy(conn, inf, [compute('wn', { count: 2 })]);
    expect(vms[0].obs).toMatchObject({ state: 'failed', fault: 'No valid host was found. There are not enough hosts available' });
    expect(vms[1].obs.state).toBe('running');
    const boots = sim.requests.filter((r) => r.method === 'POST' && r.path === '/compute/v2.1/servers');
    expect(boots).toHaveLength(4); // 3 attempts for wn-0, 1 for wn-1
  });
});

describe('API errors and idempotency', () => {
  it('transient 5xx on idempotent calls are retried', async () => {
    sim.faults.errors.push({ match: /^GET \/compute\/v2\.1\/servers\//, status: 503, count: 2 });
    sim.faults.errors.push({ match: /^GET \/network\/v2\.0\/networks$/, status: 500, count: 1 });
    const [vm] = await deploy(conn, randomUUID(), [compute('a')]);
    expect(vm.obs.state).toBe('running');
    expect(sim.requests.filter((r) => r.status >= 500)).toHaveLength(3);
  });

  it('a 500 on POST /servers is never blindly repeated: one server per client token', async () => {
    // The injected failure answers before the server is created, so a lookup finds nothing and it is created once.
    sim.faults.errors.push({ match: /^POST \/compute\/v2\.1\/servers$/, status: 500, count: 1 });
    const inf = randomUUID();
    await conn.prepare({ infrastructureId: inf, computes: [compute('wn')], publicKey: PUBLIC_KEY });
    const h = await launch(inf, '0');
    expect(resourcesOf(sim, inf).servers.map((s) => s.id)).toEqual([h.instanceId]);
    const lookups = sim.requests.filter((r) => r.path === '/compute/v2.1/servers/detail');
    expect(lookups.length).toBeGreaterThanOrEqual(2); // index + lookup before the second POST
  });

  it('a lost answer to POST /servers finds the server that was created instead of making a second', async () => {
    sim.faults.errors.push({ match: /^POST \/compute\/v2\.1\/servers$/, status: 502, count: 1, afterHandling: true });
    const inf = randomUUID();
    await conn.prepare({ infrastructureId: inf, computes: [compute('wn')], publicKey: PUBLIC_KEY });
    const h = await launch(inf, '0');
    expect(resourcesOf(sim, inf).servers.map((s) => s.id)).toEqual([h.instanceId]);
    expect(sim.requests.filter((r) => r.method === 'POST' && r.path === '/compute/v2.1/servers').map((r) => r.status)).toEqual([502]);
  });

  it('launch with the same client token returns the same server, even after a restart', async () => {
    const inf = randomUUID();
    await conn.prepare({ infrastructureId: inf, computes: [compute('wn')], publicKey: PUBLIC_KEY });
    const token = randomUUID();
    const a = await launch(inf, '0', compute('wn'), token);
    const b = await launch(inf, '0', compute('wn'), token);
    resetOpenStackClouds(); // a new process: nothing cached
    conn = new OpenStackConnector(credential(sim));
    const c = await launch(inf, '0', compute('wn'), token);
    expect(new Set([a.instanceId, b.instanceId, c.instanceId]).size).toBe(1);
    expect(resourcesOf(sim, inf).servers).toHaveLength(1);
  });
});

describe('crash during create', () => {
  it('cleanup after a crash leaves zero servers, ports, groups and keypairs of the infrastructure, and touches no other', async () => {
    sim.faults.activeDelayMs = 500; // still building when we "crash"
    const inf = randomUUID();
    const other = randomUUID();
    const otherVms = await deploy(conn, other, [compute('front', { publicIp: true }), compute('wn')]);
    await conn.prepare({ infrastructureId: inf, computes: [compute('front', { publicIp: true }), compute('wn')], publicKey: PUBLIC_KEY });
    await Promise.all([launch(inf, '0', compute('front', { publicIp: true })), launch(inf, '1'), launch(inf, '2')]);
    expect(resourcesOf(sim, inf).servers).toHaveLength(3);

    // The process dies; a new one only knows the infrastructure id.
    resetOpenStackClouds();
    const fresh = new OpenStackConnector(credential(sim));
    await fresh.cleanup(inf, { releaseFloatingIps: false });
    const left = resourcesOf(sim, inf);
    expect(left.servers).toEqual([]);
    expect(left.ports).toEqual([]);
    expect(left.groups).toEqual([]);
    expect(left.keypairs).toEqual([]);
    // Idempotent: running it again is fine.
    await fresh.cleanup(inf, { releaseFloatingIps: true });

    const theirs = resourcesOf(sim, other);
    expect(theirs.servers).toHaveLength(2);
    expect(theirs.groups).toHaveLength(1);
    expect(sim.inspect().floatingIps).toEqual([expect.objectContaining({ address: otherVms[0].obs.publicIps[0], portId: expect.any(String) })]);
  });

  it('cleanup also releases (when asked) a floating IP attached before the crash', async () => {
    const inf = randomUUID();
    await deploy(conn, inf, [compute('front', { publicIp: true })]);
    resetOpenStackClouds();
    await new OpenStackConnector(credential(sim)).cleanup(inf, { releaseFloatingIps: true });
    expect(sim.inspect().floatingIps).toEqual([]);
    expect(resourcesOf(sim, inf).servers).toEqual([]);
  });
});
