/**
 * Resizing an instance (IM's AlterVM) against the EC2 simulator: EC2 changes the type of a stopped
 * instance only, so StopInstances → stopped → ModifyInstanceAttribute → StartInstances → running;
 * a resize found half done finishes; and the simulator answers as EC2 does when the instance runs.
 */
import { parseEc2Credential } from '../../connectors/ec2/credential';
import { Ec2ApiError } from '../../connectors/ec2/client';
import { sessionFor } from '../../connectors/ec2/session';
import { startEc2Sim, Ec2Sim } from '../../sims/ec2';
import { FAST, compute, connector, credential, deploy, infraState, newInfraId, waitState } from './helpers';

let sim: Ec2Sim;
beforeAll(async () => {
  sim = await startEc2Sim({ bootMs: 100, shutdownMs: 80, stopMs: 50 });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.faults.clear();
  sim.inspect.resetCounters();
});

const instanceOf = (id: string) => sim.inspect.state().instances.find((i) => i.id === id)!;
const calls = (action: string) => sim.inspect.requests().byAction[action] ?? 0;
/** A raw EC2 client on the simulator, to drive it as another program would. */
const raw = () => sessionFor(parseEc2Credential(credential(sim)), 'us-east-1', FAST.retry, 15).client;

async function micro() {
  const conn = connector(sim);
  const inf = newInfraId();
  const { handles } = await deploy(conn, inf, [compute('n', { host: { numCpus: 1, memSizeMB: 1024 } })]);
  expect(instanceOf(handles[0].instanceId)).toMatchObject({ type: 't2.micro', state: 'running' });
  sim.inspect.resetCounters();
  return { conn, handle: handles[0], inf };
}

test('stops the instance, changes its type to the smallest that fits, and starts it again', async () => {
  const { conn, handle } = await micro();
  const size = await conn.resizeVm(handle, { numCpus: 4, memSizeMB: 10000 }, { running: true });
  expect(size).toEqual({ cpus: 4, memoryMB: 16384, instanceType: 'm5.xlarge' });
  expect(instanceOf(handle.instanceId)).toMatchObject({ type: 'm5.xlarge', state: 'running' });
  expect([calls('StopInstances'), calls('ModifyInstanceAttribute'), calls('StartInstances')]).toEqual([1, 1, 1]);
  expect((await conn.describe(handle)).state).toBe('running');
  // Already that type: no call changes anything.
  await conn.resizeVm(handle, { instanceType: 'm5.xlarge' }, { running: true });
  expect([calls('StopInstances'), calls('ModifyInstanceAttribute'), calls('StartInstances')]).toEqual([1, 1, 1]);
});

test('a stopped VM that is to stay stopped is resized without being started', async () => {
  const { conn, handle } = await micro();
  await conn.stop(handle);
  await waitState(conn, handle, 'stopped');
  expect(await conn.resizeVm(handle, { instanceType: 'c5.large' }, { running: false })).toEqual({ cpus: 2, memoryMB: 4096, instanceType: 'c5.large' });
  expect(instanceOf(handle.instanceId)).toMatchObject({ type: 'c5.large', state: 'stopped' });
  expect([calls('ModifyInstanceAttribute'), calls('StartInstances')]).toEqual([1, 0]);
});

test('finishes a resize interrupted after the type changed: starts the instance, changes nothing else', async () => {
  const { conn, handle } = await micro();
  await raw().call('StopInstances', { 'InstanceId.1': handle.instanceId });
  await waitState(conn, handle, 'stopped');
  await raw().call('ModifyInstanceAttribute', { InstanceId: handle.instanceId, 'InstanceType.Value': 't2.small' });
  sim.inspect.resetCounters();
  expect(await conn.resizeVm(handle, { numCpus: 1, memSizeMB: 2000 }, { running: true })).toMatchObject({ instanceType: 't2.small' });
  expect(instanceOf(handle.instanceId)).toMatchObject({ type: 't2.small', state: 'running' });
  expect([calls('StopInstances'), calls('ModifyInstanceAttribute'), calls('StartInstances')]).toEqual([0, 0, 1]);
});

test('refuses a type the cloud does not have, and a VM that is gone, leaving the instance as it was', async () => {
  const { conn, handle, inf } = await micro();
  await expect(conn.resizeVm(handle, { numCpus: 512 }, { running: true })).rejects.toMatchObject({ status: 400, code: 'NoFlavor' });
  expect(instanceOf(handle.instanceId)).toMatchObject({ type: 't2.micro', state: 'running' });
  await conn.terminate(handle, { releaseFloatingIps: false });
  await expect(conn.resizeVm(handle, { numCpus: 2 }, { running: true })).rejects.toMatchObject({ status: 404 });
  await conn.cleanup(inf, { releaseFloatingIps: false });
  expect(infraState(sim, inf).live).toEqual([]);
});

describe('the simulator\'s ModifyInstanceAttribute, as EC2', () => {
  const refusal = (params: Record<string, string>) => raw().call('ModifyInstanceAttribute', params).then(
    () => undefined,
    (e: unknown) => (e instanceof Ec2ApiError ? { code: e.code, message: e.message } : e),
  );

  it('refuses to change the type of an instance that is not stopped (IncorrectInstanceState), or to an unknown type', async () => {
    const { handle } = await micro();
    const id = handle.instanceId;
    expect(await refusal({ InstanceId: id, 'InstanceType.Value': 't2.small' })).toEqual({
      code: 'IncorrectInstanceState', message: expect.stringContaining(`The instance '${id}' is not in the 'stopped' state.`),
    });
    expect(instanceOf(id).type).toBe('t2.micro');
    expect(await refusal({ InstanceId: id, 'InstanceType.Value': 'x9.huge' })).toMatchObject({ code: 'InvalidInstanceAttributeValue' });
    expect(await refusal({ InstanceId: 'i-0000000000000dead', 'InstanceType.Value': 't2.small' })).toMatchObject({ code: 'InvalidInstanceID.NotFound' });
  });

  it('takes the older Attribute=instanceType&Value=T form (boto\'s modify_attribute) on a stopped instance', async () => {
    const { conn, handle } = await micro();
    await conn.stop(handle);
    await waitState(conn, handle, 'stopped');
    const answer = await raw().call('ModifyInstanceAttribute', { InstanceId: handle.instanceId, Attribute: 'instanceType', Value: 'm5.large' });
    expect(String(answer.return)).toBe('true');
    expect(instanceOf(handle.instanceId).type).toBe('m5.large');
  });
});
