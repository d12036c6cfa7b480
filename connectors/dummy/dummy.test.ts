import { connectorFor } from '../registry';
import '../all';
import type { ComputePlan } from '../../tosca/plan';
import type { LaunchRequest } from '../types';

const compute = (publicIp: boolean): ComputePlan => ({
  name: 'front', type: 'tosca.nodes.Compute', count: 1, removalList: [], host: {}, os: {}, publicIp, networks: [], ports: [], software: [],
});
const req = (token: string, publicIp = false, nodeName = 'front'): LaunchRequest => ({
  infrastructureId: 'inf', vmId: '0', nodeName, compute: compute(publicIp), publicKey: 'ssh-ed25519 AAA', adminUser: 'cloudadm', clientToken: token,
});

test('registered as type Dummy (case-insensitive); bad delay_ms is a 400', () => {
  expect(connectorFor({ id: 'd', type: 'dummy', fields: {} }).type).toBe('Dummy');
  expect(() => connectorFor({ id: 'd', type: 'Dummy', fields: { delay_ms: 'soon' } })).toThrow(/delay_ms/);
});

test('launch is idempotent by clientToken, across connector instances', async () => {
  const a = connectorFor({ id: 'd', type: 'Dummy', fields: {} });
  const b = connectorFor({ id: 'd', type: 'Dummy', fields: {} });
  const h1 = await a.launch(req('tok-1', true));
  const h2 = await b.launch(req('tok-1', true));
  const h3 = await a.launch(req('tok-2', true));
  expect(h2.instanceId).toBe(h1.instanceId);
  expect(h3.instanceId).not.toBe(h1.instanceId);
  const o1 = await a.describe(h1);
  const o2 = await b.describe(h2);
  expect(o2).toEqual(o1);
  expect(o1.state).toBe('running');
  expect(o1.privateIps[0]).toMatch(/^10\.\d+\.\d+\.\d+$/);
  expect(o1.publicIps[0]).toMatch(/^(198\.51\.100|203\.0\.113)\.\d+$/);
});

test('no public IP unless the node asks for one', async () => {
  const c = connectorFor({ id: 'd', type: 'Dummy', fields: {} });
  expect((await c.describe(await c.launch(req('tok-private')))).publicIps).toEqual([]);
});

test('delay_ms keeps VMs pending; fail_nodes fails named nodes', async () => {
  const slow = connectorFor({ id: 'd', type: 'Dummy', fields: { delay_ms: '150' } });
  const h = await slow.launch(req('tok-slow'));
  expect((await slow.describe(h)).state).toBe('pending');
  await new Promise((r) => setTimeout(r, 170));
  expect((await slow.describe(h)).state).toBe('running');
  const failing = connectorFor({ id: 'd', type: 'Dummy', fields: { fail_nodes: 'wn, other' } });
  const bad = await failing.describe(await failing.launch(req('tok-f1', false, 'wn')));
  expect(bad.state).toBe('failed');
  expect(bad.fault).toMatch(/wn/);
  expect((await failing.describe(await failing.launch(req('tok-f2', false, 'front')))).state).toBe('running');
});

test('stop, start, terminate', async () => {
  const c = connectorFor({ id: 'd', type: 'Dummy', fields: {} });
  const h = await c.launch(req('tok-power'));
  await c.stop(h);
  expect((await c.describe(h)).state).toBe('stopped');
  await c.start(h);
  expect((await c.describe(h)).state).toBe('running');
  await c.reboot(h);
  expect((await c.describe(h)).state).toBe('running');
  await c.terminate(h, { releaseFloatingIps: false });
  await c.terminate(h, { releaseFloatingIps: false }); // idempotent
  expect((await c.describe(h)).state).toBe('off');
  await c.start(h);
  expect((await c.describe(h)).state).toBe('off');
  await c.cleanup('inf', { releaseFloatingIps: true });
});
