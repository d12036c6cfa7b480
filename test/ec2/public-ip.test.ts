/**
 * Elastic IPs follow the few-public-IPs policy: none by default, one per node that asks, free ones
 * reused first, kept on destroy, released only on request and only when this infrastructure allocated them.
 */
import { startEc2Sim, Ec2Sim } from '../../sims/ec2';
import { PUBLIC_KEY, compute, connector, deploy, infraState, launchRequest, newInfraId } from './helpers';

let sim: Ec2Sim;
beforeAll(async () => {
  sim = await startEc2Sim({ bootMs: 100, shutdownMs: 80, limits: { addresses: 20 } });
});
afterAll(() => sim.close());
beforeEach(() => {
  // Each test starts with no Elastic IPs in the account.
  sim.inspect.model.addresses.clear();
  sim.inspect.resetCounters();
});

/** An address of the account that nobody here allocated (e.g. made by hand in the console). */
function foreignAddress(): string {
  const m = sim.inspect.model;
  const a = { allocationId: `eipalloc-0000000000000${String(m.addresses.size).padStart(4, '0')}`, publicIp: m.allocatePublicIp() };
  m.addresses.set(a.allocationId, a);
  return a.allocationId;
}

test('no Elastic IP unless a node asks for one', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  const { obs } = await deploy(conn, inf, [compute('node', { count: 3 })]);
  expect(obs.every((o) => o.publicIps.length === 0 && o.privateIps.length === 1)).toBe(true);
  expect(sim.inspect.state().addresses).toEqual([]);
  const calls = sim.inspect.requests().byAction;
  expect(calls.AllocateAddress).toBeUndefined();
  expect(calls.AssociateAddress).toBeUndefined();
  await conn.cleanup(inf, { releaseFloatingIps: true });
});

test('master + N workers gets exactly one Elastic IP, on the master', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  const { handles, obs, reqs } = await deploy(conn, inf, [compute('front', { publicIp: true }), compute('wn', { count: 4 })]);
  const addresses = sim.inspect.state().addresses;
  expect(addresses).toHaveLength(1);
  const master = handles[reqs.findIndex((r) => r.nodeName === 'front')];
  expect(addresses[0].instanceId).toBe(master.instanceId);
  expect(addresses[0].tags).toEqual({ im_infrastructure_id: inf, im_allocated_by: `im:${inf}` });
  const publicCount = obs.filter((o) => o.publicIps.length > 0);
  expect(publicCount).toHaveLength(1);
  expect(publicCount[0].publicIps).toEqual([addresses[0].publicIp]);
  expect(sim.inspect.requests().byAction.AllocateAddress).toBe(1);
  await conn.cleanup(inf, { releaseFloatingIps: true });
  expect(sim.inspect.state().addresses).toEqual([]);
});

test('a free address of the account is reused before allocating', async () => {
  const foreign = foreignAddress();
  const conn = connector(sim);
  const inf = newInfraId();
  const { handles } = await deploy(conn, inf, [compute('front', { publicIp: true })]);
  const [addr] = sim.inspect.state().addresses;
  expect(addr.allocationId).toBe(foreign);
  expect(addr.instanceId).toBe(handles[0].instanceId);
  expect(sim.inspect.requests().byAction.AllocateAddress).toBeUndefined();
  // Not ours: even a release request keeps it.
  for (const h of handles) await conn.terminate(h, { releaseFloatingIps: true });
  await conn.cleanup(inf, { releaseFloatingIps: true });
  expect(sim.inspect.state().addresses.map((a) => [a.allocationId, a.instanceId])).toEqual([[foreign, undefined]]);
});

test('destroy keeps the address (disassociated) and the next infrastructure reuses it', async () => {
  const conn = connector(sim);
  const first = newInfraId();
  const a = await deploy(conn, first, [compute('front', { publicIp: true })]);
  for (const h of a.handles) await conn.terminate(h, { releaseFloatingIps: false });
  await conn.cleanup(first, { releaseFloatingIps: false });
  const kept = sim.inspect.state().addresses;
  expect(kept).toHaveLength(1);
  expect(kept[0].instanceId).toBeUndefined();
  expect(infraState(sim, first).live).toEqual([]);

  const second = newInfraId();
  const b = await deploy(conn, second, [compute('front', { publicIp: true })]);
  const now = sim.inspect.state().addresses;
  expect(now).toHaveLength(1);
  expect(now[0].allocationId).toBe(kept[0].allocationId);
  expect(now[0].instanceId).toBe(b.handles[0].instanceId);
  expect(b.obs[0].publicIps).toEqual([kept[0].publicIp]);
  expect(sim.inspect.requests().byAction.AllocateAddress).toBe(1);
  await conn.cleanup(second, { releaseFloatingIps: false });
});

test('release on request frees only the addresses this infrastructure allocated', async () => {
  const foreign = foreignAddress();
  const conn = connector(sim);
  const inf = newInfraId();
  const { handles } = await deploy(conn, inf, [compute('front', { publicIp: true }), compute('gw', { publicIp: true })]);
  const addresses = sim.inspect.state().addresses;
  expect(addresses).toHaveLength(2);
  expect(addresses.every((a) => a.instanceId)).toBe(true);
  for (const h of handles) await conn.terminate(h, { releaseFloatingIps: true });
  const left = sim.inspect.state().addresses;
  expect(left.map((a) => [a.allocationId, a.instanceId])).toEqual([[foreign, undefined]]);
  await conn.cleanup(inf, { releaseFloatingIps: true });
  expect(sim.inspect.state().addresses.map((a) => a.allocationId)).toEqual([foreign]);
});

test('the credential option delete_floating_ips releases ours on destroy', async () => {
  const conn = connector(sim, { delete_floating_ips: 'yes' });
  const inf = newInfraId();
  const { handles } = await deploy(conn, inf, [compute('front', { publicIp: true })]);
  expect(sim.inspect.state().addresses).toHaveLength(1);
  await conn.terminate(handles[0], { releaseFloatingIps: false });
  expect(sim.inspect.state().addresses).toEqual([]);
  await conn.cleanup(inf, { releaseFloatingIps: false });
});

test('no address to reuse and the limit reached: a clear quota error', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  for (let i = 0; i < 20; i++) sim.inspect.model.addresses.set(`eipalloc-${String(i).padStart(17, '0')}`, { allocationId: `eipalloc-${String(i).padStart(17, '0')}`, publicIp: `203.0.113.${200 + i}`, instanceId: 'i-00000000000000000', associationId: `eipassoc-${i}` });
  await expect(deploy(conn, inf, [compute('front', { publicIp: true })])).rejects.toMatchObject({
    status: 403,
    code: 'AddressLimitExceeded',
    message: expect.stringMatching(/Quota exceeded in EC2 cloud "ec2".*AddressLimitExceeded/),
  });
  sim.inspect.model.addresses.clear();
  await conn.cleanup(inf, { releaseFloatingIps: true });
  expect(infraState(sim, inf).live).toEqual([]);
});

test('a lost AllocateAddress answer: the relaunch reuses that address instead of allocating another', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  const plan = compute('front', { publicIp: true });
  await conn.prepare({ infrastructureId: inf, computes: [plan], publicKey: PUBLIC_KEY });
  sim.faults.add({ kind: 'drop', action: 'AllocateAddress' });
  // AllocateAddress has no idempotency token, so an uncertain failure is not retried blindly...
  await expect(conn.launch(launchRequest(inf, '0', plan))).rejects.toMatchObject({ status: 502 });
  expect(sim.inspect.state().addresses).toHaveLength(1);
  // ...the engine's retry of the same VM finds the same instance (ClientToken) and the address by its tag.
  const h = await conn.launch(launchRequest(inf, '0', plan));
  const addresses = sim.inspect.state().addresses;
  expect(addresses).toHaveLength(1);
  expect(addresses[0].instanceId).toBe(h.instanceId);
  expect(sim.inspect.requests().byAction).toMatchObject({ AllocateAddress: 1, RunInstances: 2 });
  expect(infraState(sim, inf).instances).toHaveLength(1);
  await conn.cleanup(inf, { releaseFloatingIps: true });
  expect(sim.inspect.state().addresses).toEqual([]);
});

test('two processes racing for the one free address: one gets it, the other allocates (Resource.AlreadyAssociated)', async () => {
  const free = foreignAddress();
  // Different options → different sessions, hence different in-process locks: like two servers.
  const a = connector(sim, {}, { batchWindowMs: 7 });
  const b = connector(sim, {}, { batchWindowMs: 9 });
  const inf = newInfraId();
  const plan = compute('front', { publicIp: true });
  await a.prepare({ infrastructureId: inf, computes: [plan], publicKey: PUBLIC_KEY });
  // The first association waits long enough for the other process to pick the same free address.
  sim.faults.add({ kind: 'latency', action: 'AssociateAddress', ms: 1000 });
  const [ha, hb] = await Promise.all([a.launch(launchRequest(inf, '0', plan)), b.launch(launchRequest(inf, '1', plan))]);
  const addresses = sim.inspect.state().addresses;
  expect(addresses).toHaveLength(2);
  expect(addresses.map((x) => x.instanceId).sort()).toEqual([ha.instanceId, hb.instanceId].sort());
  expect(addresses.find((x) => x.allocationId === free)!.instanceId).toBeDefined();
  expect(sim.inspect.requests().byAction).toMatchObject({ AllocateAddress: 1, AssociateAddress: 3 });
  await a.cleanup(inf, { releaseFloatingIps: true });
  expect(sim.inspect.state().addresses.map((x) => [x.allocationId, x.instanceId])).toEqual([[free, undefined]]);
});
