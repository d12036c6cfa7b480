/**
 * Resizing a server in place (IM's AlterVM) against the Nova simulator: resize → VERIFY_RESIZE →
 * confirmResize → ACTIVE with the new flavor; a stopped server stays stopped; a resize found half
 * done is finished; and the simulator's Nova rules (409 outside ACTIVE/SHUTOFF, same flavor, disk).
 */
import { randomUUID } from 'node:crypto';
import { OpenStackConnector, openStackTuning } from '../../connectors/openstack';
import { OpenStackApiError } from '../../connectors/openstack/errors';
import type { OpenStackSim } from '../../sims/openstack';
import { until } from '../engine-fixtures';
import { compute, credential, deploy, startSim } from './helpers';

let sim: OpenStackSim;
let conn: OpenStackConnector;
beforeEach(async () => {
  sim = await startSim();
  openStackTuning.resizePoll = { intervalMs: 20, maxIntervalMs: 100, timeoutMs: 20_000 };
  conn = new OpenStackConnector(credential(sim));
});
afterEach(async () => sim.close());

const serverOf = (id: string) => sim.inspect().servers.find((s) => s.id === id)!;
const actions = (id: string) => sim.requests.filter((r) => r.method === 'POST' && r.path === `/compute/v2.1/servers/${id}/action`);
/** Until the simulated migration ends (RESIZE → VERIFY_RESIZE). */
const resized = (id: string) => until(async () => serverOf(id).status, (st) => st !== 'RESIZE');
const action = (id: string, body: unknown) => conn.cloud.api.call('compute', 'POST', `/servers/${id}/action`, { body });

async function tiny() {
  const [vm] = await deploy(conn, randomUUID(), [compute('n', { host: { numCpus: 1, memSizeMB: 512 } })]);
  expect(serverOf(vm.handle.instanceId)).toMatchObject({ flavor: 'm1.tiny', status: 'ACTIVE' });
  return vm.handle;
}

it('resizes to the smallest flavor that fits, confirms it, and the server is ACTIVE again', async () => {
  const handle = await tiny();
  const size = await conn.resizeVm(handle, { numCpus: 2, memSizeMB: 3000 });
  expect(size).toEqual({ cpus: 2, memoryMB: 4096, instanceType: 'm1.medium' });
  expect(serverOf(handle.instanceId)).toMatchObject({ flavor: 'm1.medium', status: 'ACTIVE' });
  expect(actions(handle.instanceId).map((r) => r.status)).toEqual([202, 204]); // resize, confirmResize
  expect((await conn.describe(handle)).state).toBe('running');
  // Already that size: nothing to ask of Nova.
  expect(await conn.resizeVm(handle, { numCpus: 2, memSizeMB: 4096 })).toMatchObject({ instanceType: 'm1.medium' });
  expect(actions(handle.instanceId)).toHaveLength(2);
});

it('takes an exact instance_type, and refuses one the cloud does not have', async () => {
  const handle = await tiny();
  expect(await conn.resizeVm(handle, { instanceType: 'm1.large', numCpus: 1 })).toEqual({ cpus: 4, memoryMB: 8192, instanceType: 'm1.large' });
  expect(serverOf(handle.instanceId).flavor).toBe('m1.large');
  await expect(conn.resizeVm(handle, { instanceType: 'x9.huge' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('x9.huge') });
});

it('never picks a flavor with a smaller root disk (Nova cannot shrink it): a smaller wish keeps the flavor', async () => {
  const handle = await tiny();
  await conn.resizeVm(handle, { numCpus: 2, memSizeMB: 4096 });
  expect(await conn.resizeVm(handle, { numCpus: 1, memSizeMB: 512 })).toMatchObject({ instanceType: 'm1.medium' });
  expect(serverOf(handle.instanceId).flavor).toBe('m1.medium');
});

it('keeps a stopped server stopped (Nova keeps the power state through a resize)', async () => {
  const handle = await tiny();
  await conn.stop(handle);
  await conn.resizeVm(handle, { numCpus: 4, memSizeMB: 8192 });
  expect(serverOf(handle.instanceId)).toMatchObject({ flavor: 'm1.large', status: 'SHUTOFF' });
  expect((await conn.describe(handle)).state).toBe('stopped');
});

it('finishes a resize found half done (a resumed job): waits for VERIFY_RESIZE and confirms it', async () => {
  const handle = await tiny();
  await action(handle.instanceId, { resize: { flavorRef: '3' } });
  expect(serverOf(handle.instanceId).status).toBe('RESIZE');
  expect(await conn.resizeVm(handle, { numCpus: 2, memSizeMB: 4096 })).toMatchObject({ instanceType: 'm1.medium' });
  expect(serverOf(handle.instanceId)).toMatchObject({ flavor: 'm1.medium', status: 'ACTIVE' });
  expect(actions(handle.instanceId).map((r) => r.status)).toEqual([202, 204]); // no second resize
});

describe('the simulator, as Nova', () => {
  const refused = async (id: string, body: unknown) => {
    const e = await action(id, body).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(OpenStackApiError);
    return { status: (e as OpenStackApiError).httpStatus, message: (e as OpenStackApiError).cloudMessage };
  };

  it('goes RESIZE → VERIFY_RESIZE (new flavor) → ACTIVE, and refuses actions that do not fit the state with 409', async () => {
    const handle = await tiny();
    const id = handle.instanceId;
    expect(await refused(id, { confirmResize: null })).toEqual({ status: 409, message: `Cannot 'confirmResize' instance ${id} while it is in vm_state active` });
    await action(id, { resize: { flavorRef: '2' } });
    const during = serverOf(id);
    expect([during.status, during.flavor]).toEqual(['RESIZE', 'm1.tiny']);
    expect(await refused(id, { resize: { flavorRef: '3' } })).toEqual({ status: 409, message: `Cannot 'resize' instance ${id} while it is in task_state resize_migrating` });
    expect(await refused(id, { 'os-stop': null })).toMatchObject({ status: 409 });
    await resized(id);
    expect(serverOf(id)).toMatchObject({ status: 'VERIFY_RESIZE', flavor: 'm1.small' });
    expect((await conn.describe(handle)).state).toBe('running');
    await action(id, { confirmResize: null });
    expect(serverOf(id)).toMatchObject({ status: 'ACTIVE', flavor: 'm1.small' });
  });

  it('reverts to the old flavor on revertResize; refuses the same flavor, a smaller disk and an unknown flavor with 400', async () => {
    const handle = await tiny();
    const id = handle.instanceId;
    expect(await refused(id, { resize: { flavorRef: '1' } })).toEqual({ status: 400, message: 'When resizing, instances must change flavor!' });
    expect(await refused(id, { resize: { flavorRef: '99' } })).toEqual({ status: 400, message: 'Unable to locate requested flavor' });
    await action(id, { resize: { flavorRef: '3' } });
    await resized(id);
    await action(id, { revertResize: null });
    expect(serverOf(id)).toMatchObject({ status: 'ACTIVE', flavor: 'm1.tiny' });
    await action(id, { resize: { flavorRef: '3' } });
    await resized(id);
    await action(id, { confirmResize: null });
    expect(await refused(id, { resize: { flavorRef: '2' } })).toEqual({ status: 400, message: 'Resize error: Unable to resize disk down' });
  });
});
