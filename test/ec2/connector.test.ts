/** The EC2 connector against the simulator over HTTP: life cycle, sizing, idempotency, errors, crash-safe cleanup. */
import '../../connectors/all';
import { connectorFor } from '../../connectors/registry';
import { Ec2Connector } from '../../connectors/ec2';
import { CloudError } from '../../server/errors';
import { startEc2Sim, Ec2Sim } from '../../sims/ec2';
import { FAST, IMAGE, PUBLIC_KEY, compute, connector, credential, deploy, infraState, launchRequest, newInfraId, waitState } from './helpers';

let sim: Ec2Sim;
beforeAll(async () => {
  sim = await startEc2Sim({ bootMs: 100, shutdownMs: 80, stopMs: 50 });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.faults.clear();
  sim.inspect.resetCounters();
});

test('type = EC2 credential lines get the EC2 connector', () => {
  expect(connectorFor(credential(sim))).toBeInstanceOf(Ec2Connector);
  expect(connectorFor({ ...credential(sim), type: 'ec2' }).type).toBe('EC2');
});

test('life cycle: key pair, security group, tagged instance with user data, power actions, terminate, cleanup', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  const plan = compute('front', {
    ports: [
      { from: 8080, to: 8080, protocol: 'tcp', source: '0.0.0.0/0', public: true },
      { from: 9618, to: 9618, protocol: 'tcp', source: '0.0.0.0/0', public: false },
    ],
  });
  const { handles, obs } = await deploy(conn, inf, [plan]);
  const st = infraState(sim, inf);
  expect(st.keys).toHaveLength(1);
  expect(st.groups).toHaveLength(1);
  const rules = st.groups[0].ingress.map((r) => `${r.protocol}:${r.from ?? ''}-${r.to ?? ''}:${[...r.cidrs, ...r.groupIds].join(',')}`).sort();
  expect(rules).toEqual([`-1:-:${st.groups[0].id}`, 'tcp:22-22:0.0.0.0/0', 'tcp:8080-8080:0.0.0.0/0']);
  const [inst] = st.instances;
  expect(inst).toMatchObject({ keyName: `im-${inf}`, groupIds: [st.groups[0].id], type: 't2.micro', imageId: 'ami-0123456789abcdef0' });
  expect(inst.tags).toMatchObject({ Name: `im-${inf}-front-0`, im_infrastructure_id: inf, im_node: 'front', im_vm_id: '0' });
  expect(inst.userData).toContain('cloudadm');
  expect(inst.userData).toContain(PUBLIC_KEY);
  expect(obs[0].privateIps).toEqual([inst.privateIp]);

  await conn.stop(handles[0]);
  await waitState(conn, handles[0], 'stopped');
  await conn.start(handles[0]);
  expect((await waitState(conn, handles[0], 'running')).every((s) => s === 'pending' || s === 'running')).toBe(true);
  await conn.reboot(handles[0]);
  expect((await conn.describe(handles[0])).state).toBe('running');

  await conn.terminate(handles[0], { releaseFloatingIps: false });
  // 'deleting' (shutting-down) may pass unseen on a slow machine; nothing else may show up.
  expect((await waitState(conn, handles[0], 'off')).every((s) => s === 'deleting' || s === 'off')).toBe(true);
  await conn.terminate(handles[0], { releaseFloatingIps: false }); // idempotent
  await conn.cleanup(inf, { releaseFloatingIps: false });
  await conn.cleanup(inf, { releaseFloatingIps: false }); // idempotent
  const after = infraState(sim, inf);
  expect([after.live, after.groups, after.keys]).toEqual([[], [], []]);
});

test('instance type: smallest fitting num_cpus/mem_size, or the exact instance_type', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  const { handles } = await deploy(conn, inf, [
    compute('small', { host: { numCpus: 1, memSizeMB: 2000 } }),
    compute('big', { host: { numCpus: 4, memSizeMB: 10000 } }),
    compute('memory', { host: { numCpus: 2, memSizeMB: 16000 } }),
    compute('exact', { host: { numCpus: 1, instanceType: 'm5.2xlarge' } }),
  ]);
  const types = Object.fromEntries(infraState(sim, inf).instances.map((i) => [i.tags.im_node, i.type]));
  expect(types).toEqual({ small: 't2.small', big: 'm5.xlarge', memory: 'r5.large', exact: 'm5.2xlarge' });
  expect(handles).toHaveLength(4);
  // One DescribeInstanceTypes serves every launch of the session.
  expect(sim.inspect.requests().byAction.DescribeInstanceTypes ?? 0).toBeLessThanOrEqual(1);
  await expect(conn.launch(launchRequest(inf, '9', compute('bad', { host: { instanceType: 'x9.huge' } })))).rejects.toMatchObject({
    status: 400,
    message: expect.stringContaining('x9.huge'),
  });
  await expect(conn.launch(launchRequest(inf, '9', compute('huge', { host: { numCpus: 512 } })))).rejects.toMatchObject({
    status: 400,
    message: expect.stringContaining('512 CPUs'),
  });
  await conn.cleanup(inf, { releaseFloatingIps: false });
});

test('a cloud without DescribeInstanceTypes: the built-in table chooses, exact types pass through', async () => {
  const bare = await startEc2Sim({ bootMs: 50, shutdownMs: 50, describeInstanceTypes: false });
  try {
    const conn = connector(bare);
    const inf = newInfraId();
    await deploy(conn, inf, [compute('a', { host: { numCpus: 2, memSizeMB: 4000 } }), compute('b', { host: { instanceType: 't2.medium' } })]);
    const types = Object.fromEntries(infraState(bare, inf).instances.map((i) => [i.tags.im_node, i.type]));
    expect(types).toEqual({ a: 'c5.large', b: 't2.medium' });
    expect(bare.inspect.requests().byAction.DescribeInstanceTypes).toBe(1);
    await conn.cleanup(inf, { releaseFloatingIps: false });
  } finally {
    await bare.close();
  }
});

test('a RunInstances whose answer is lost is retried with the same ClientToken: exactly one instance', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  await conn.prepare({ infrastructureId: inf, computes: [compute('front')], publicKey: PUBLIC_KEY });
  sim.faults.add({ kind: 'drop', action: 'RunInstances' });
  const req = launchRequest(inf, '0', compute('front'));
  const handle = await conn.launch(req);
  expect(sim.inspect.requests().byAction.RunInstances).toBe(2);
  const st = infraState(sim, inf);
  expect(st.instances.map((i) => i.id)).toEqual([handle.instanceId]);
  expect(st.instances[0].clientToken).toBe(req.clientToken);
  // A restarted engine relaunching the same VM gets the same instance back.
  const again = await connector(sim).launch(req);
  expect(again.instanceId).toBe(handle.instanceId);
  expect(infraState(sim, inf).instances).toHaveLength(1);
  await conn.cleanup(inf, { releaseFloatingIps: false });
});

test('throttling and 5xx answers are retried with backoff', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  sim.faults.add({ kind: 'throttle', action: 'CreateSecurityGroup', times: 2 });
  sim.faults.add({ kind: 'error', status: 503, action: 'RunInstances' });
  sim.faults.add({ kind: 'reset', action: 'DescribeInstances' });
  sim.faults.add({ kind: 'throttle', action: 'AllocateAddress' });
  const { handles } = await deploy(conn, inf, [compute('front', { publicIp: true })]);
  expect(handles).toHaveLength(1);
  const calls = sim.inspect.requests().byAction;
  expect(calls.CreateSecurityGroup).toBe(3);
  expect(calls.RunInstances).toBe(2);
  expect(calls.AllocateAddress).toBe(2);
  expect(infraState(sim, inf).instances).toHaveLength(1);
  await conn.cleanup(inf, { releaseFloatingIps: true });
});

test('bad keys: a 401 CloudError that says the credentials were rejected', async () => {
  const scope = { infrastructureId: newInfraId(), computes: [compute('front')], publicKey: PUBLIC_KEY };
  const badLines: Record<string, string>[] = [{ password: 'WRONGSECRET' }, { username: 'AKIDUNKNOWN' }];
  for (const fields of badLines) {
    const err = await connector(sim, fields).prepare(scope).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ status: 401, code: 'AuthFailure' });
    expect((err as Error).message).toMatch(/EC2 cloud "ec2" rejected the credentials .*access key \(username\) and secret key \(password\)/);
  }
  expect(sim.inspect.state().keyPairs.some((k) => k.name === `im-${scope.infrastructureId}`)).toBe(false);
});

test('bad input: missing keys, unknown image, malformed image are 400s naming the problem', async () => {
  expect(() => new Ec2Connector({ id: 'ec2', type: 'EC2', fields: { host: sim.url } })).toThrow(/needs username \(the access key\) and password/);
  const conn = connector(sim);
  const inf = newInfraId();
  await expect(conn.prepare({ infrastructureId: inf, computes: [compute('a', { os: { image: 'aws://us-east-1/ami-00000000dead' } })], publicKey: PUBLIC_KEY }))
    .rejects.toMatchObject({ status: 400, message: expect.stringContaining('ami-00000000dead does not exist in region us-east-1') });
  await expect(conn.launch(launchRequest(inf, '0', compute('a', { os: { image: 'ost://cloud/1234' } })))).rejects.toMatchObject({
    name: 'InvalidInputError',
    message: expect.stringContaining('expected aws://region/ami-id'),
  });
  await conn.cleanup(inf, { releaseFloatingIps: false });
});

test('instance quota: InstanceLimitExceeded becomes a clear CloudError', async () => {
  const small = await startEc2Sim({ bootMs: 50, shutdownMs: 50, limits: { instances: 2 } });
  try {
    const conn = connector(small);
    const inf = newInfraId();
    await deploy(conn, inf, [compute('wn', { count: 2 })]);
    const err = await conn.launch(launchRequest(inf, '2', compute('wn'))).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'InstanceLimitExceeded' });
    expect((err as Error).message).toMatch(/^Quota exceeded in EC2 cloud "ec2" \(InstanceLimitExceeded\): You have requested more instances/);
    await conn.cleanup(inf, { releaseFloatingIps: false });
  } finally {
    await small.close();
  }
});

test('a crash in the middle of a create, then cleanup by tags, leaves nothing behind', async () => {
  const inf = newInfraId();
  const plans = [compute('front', { publicIp: true }), compute('wn', { count: 3 })];
  // The crashing process: prepares, launches some VMs, and loses a RunInstances answer with no retry left.
  const crashing = connector(sim, {}, { retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } });
  await crashing.prepare({ infrastructureId: inf, computes: plans, publicKey: PUBLIC_KEY });
  await crashing.launch(launchRequest(inf, '0', plans[0]));
  await crashing.launch(launchRequest(inf, '1', plans[1]));
  sim.faults.add({ kind: 'drop', action: 'RunInstances' });
  await expect(crashing.launch(launchRequest(inf, '2', plans[1]))).rejects.toBeInstanceOf(CloudError);
  const before = infraState(sim, inf);
  expect(before.live).toHaveLength(3);
  expect(before.addresses.filter((a) => a.tags.im_infrastructure_id === inf)).toHaveLength(1);

  // A fresh process knows nothing but the infrastructure id and the credential.
  const fresh = new Ec2Connector(credential(sim), { ...FAST, batchWindowMs: 5 });
  await fresh.cleanup(inf, { releaseFloatingIps: true });
  const after = infraState(sim, inf);
  expect(after.live).toEqual([]);
  expect(after.groups).toEqual([]);
  expect(after.keys).toEqual([]);
  expect(after.addresses.filter((a) => a.tags.im_infrastructure_id === inf)).toEqual([]);
});

test('image given as a plain ami id uses the credential region', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  const { handles } = await deploy(conn, inf, [compute('a', { os: { image: 'ami-0fedcba9876543210' } })]);
  expect(handles[0].extra).toMatchObject({ region: 'us-east-1' });
  expect(infraState(sim, inf).instances[0].imageId).toBe('ami-0fedcba9876543210');
  await conn.cleanup(inf, { releaseFloatingIps: false });
});


test('a VM that dies while booting is reported failed with the cloud\'s reason; the others run', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  const plan = compute('wn', { count: 2 });
  await conn.prepare({ infrastructureId: inf, computes: [plan], publicKey: PUBLIC_KEY });
  sim.faults.add({ kind: 'boot-failure', action: 'RunInstances' });
  const dying = await conn.launch(launchRequest(inf, '0', plan));
  const healthy = await conn.launch(launchRequest(inf, '1', plan));
  expect((await waitState(conn, dying, 'failed')).every((s) => s === 'pending' || s === 'failed')).toBe(true);
  expect((await conn.describe(dying)).fault).toBe('Server.InternalError: Server.InternalError: Internal error on launch');
  await waitState(conn, healthy, 'running');
  await conn.cleanup(inf, { releaseFloatingIps: false });
  expect(infraState(sim, inf).live).toEqual([]);
});

test('EC2 eventual consistency: a just-launched instance it does not list yet is pending, not gone', async () => {
  const slow = await startEc2Sim({ bootMs: 50, shutdownMs: 50, visibilityDelayMs: 400 });
  try {
    const conn = connector(slow);
    const inf = newInfraId();
    const plan = compute('wn');
    const h = await conn.launch(launchRequest(inf, '0', plan));
    const seen = await waitState(conn, h, 'running');
    expect(seen[0]).toBe('pending');
    expect(seen).not.toContain('off');
    // A public node waits for running across the invisible period before associating its address.
    const front = await conn.launch(launchRequest(inf, '1', compute('front', { publicIp: true })));
    expect(slow.inspect.state().addresses[0].instanceId).toBe(front.instanceId);
    await conn.cleanup(inf, { releaseFloatingIps: true });
    expect(infraState(slow, inf).live).toEqual([]);
  } finally {
    await slow.close();
  }
});

test('ports of computes added later (add-resources, another process) are opened in the same group', async () => {
  const conn = connector(sim);
  const inf = newInfraId();
  const port = (n: number) => ({ from: n, to: n, protocol: 'tcp' as const, source: '0.0.0.0/0', public: true });
  const web = compute('web', { ports: [port(80)] });
  await deploy(conn, inf, [web]);
  await conn.prepare({ infrastructureId: inf, computes: [compute('api', { ports: [port(8443)] })], publicKey: PUBLIC_KEY });
  // A fresh process (another session) launching a node with yet another port, without prepare.
  const other = connector(sim, {}, { batchWindowMs: 3 });
  await other.launch(launchRequest(inf, '5', compute('mon', { ports: [port(3000)] })));
  const [group] = infraState(sim, inf).groups;
  const tcp = group.ingress.filter((r) => r.protocol === 'tcp').map((r) => r.from).sort((a, b) => a! - b!);
  expect(tcp).toEqual([22, 80, 3000, 8443]);
  expect(infraState(sim, inf).instances.every((i) => i.groupIds[0] === group.id)).toBe(true);
  await conn.cleanup(inf, { releaseFloatingIps: false });
  expect(infraState(sim, inf).groups).toEqual([]);
});
