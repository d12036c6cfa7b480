/** The EC2 simulator's wire protocol, seen raw: signatures, documents, GET form, faults, inspection, transitions. */
import aws4 from 'aws4';
import { startEc2Sim, Ec2Sim } from '../../sims/ec2';

let sim: Ec2Sim;
beforeAll(async () => {
  sim = await startEc2Sim({ bootMs: 300, shutdownMs: 300, stopMs: 300 });
});
afterAll(() => sim.close());
beforeEach(() => sim.faults.clear());

interface CallOpts { method?: 'GET' | 'POST'; key?: string; secret?: string; date?: Date; unsigned?: boolean; tamper?: boolean }

async function call(params: Record<string, string>, o: CallOpts = {}) {
  const body = new URLSearchParams({ Version: '2016-11-15', ...params }).toString();
  const url = new URL(sim.url);
  const get = o.method === 'GET';
  const req = {
    service: 'ec2', region: 'us-east-1', method: o.method ?? 'POST', host: url.host,
    path: get ? `/?${body}` : '/', body: get ? undefined : body,
    headers: get ? {} : { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' } as Record<string, string>,
  };
  if (o.date) (req.headers as Record<string, string>)['X-Amz-Date'] = o.date.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const signed = o.unsigned ? req : aws4.sign(req, { accessKeyId: o.key ?? 'AKIDEXAMPLE', secretAccessKey: o.secret ?? 'SECRETEXAMPLE' });
  const headers = Object.fromEntries(Object.entries(signed.headers ?? {}).filter(([k]) => !/^(host|content-length)$/i.test(k)).map(([k, v]) => [k, String(v)]));
  // tamper: the body changes after signing, as a man in the middle would change it.
  const sent = o.tamper ? `${req.body}&DryRun=true` : req.body;
  const res = await fetch(`${sim.url}${req.path}`, { method: req.method, headers, body: sent });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

const code = (text: string) => /<Code>([^<]+)<\/Code>/.exec(text)?.[1];

test('answers are XML in the EC2 namespace with a requestId', async () => {
  const r = await call({ Action: 'DescribeRegions' });
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^text\/xml/);
  expect(r.text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<DescribeRegionsResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId><regionInfo><item><regionName>us-east-1<\/regionName>/);
});

test('the GET query form is accepted and signed over the query string', async () => {
  const r = await call({ Action: 'DescribeAvailabilityZones' }, { method: 'GET' });
  expect(r.status).toBe(200);
  expect(r.text).toContain('<zoneName>us-east-1a</zoneName>');
});

test('errors are <Response><Errors><Error> documents with RequestID; bad signatures are AuthFailure 401', async () => {
  const cases: [CallOpts, number, string][] = [
    [{ secret: 'WRONG' }, 401, 'AuthFailure'],
    [{ key: 'AKIDNOBODY' }, 401, 'AuthFailure'],
    [{ unsigned: true }, 401, 'AuthFailure'],
    [{ date: new Date(Date.now() - 3600_000) }, 400, 'RequestExpired'],
  ];
  for (const [opts, status, c] of cases) {
    const r = await call({ Action: 'DescribeRegions' }, opts);
    expect([r.status, code(r.text)]).toEqual([status, c]);
    expect(r.text).toMatch(/^<\?xml[^>]*>\n<Response><Errors><Error><Code>[^<]+<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/);
  }
  const tampered = await call({ Action: 'DescribeRegions' }, { tamper: true });
  expect([tampered.status, code(tampered.text)]).toEqual([401, 'AuthFailure']);
  const unknown = await call({ Action: 'LaunchRockets' });
  expect([unknown.status, code(unknown.text)]).toEqual([400, 'InvalidAction']);
  const missing = await call({ Action: 'RunInstances', MinCount: '1', MaxCount: '1' });
  expect([missing.status, code(missing.text)]).toEqual([400, 'MissingParameter']);
});

test('instances move pending → running, stopping → stopped, shutting-down → terminated and stay visible', async () => {
  const run = await call({ Action: 'RunInstances', ImageId: 'ami-0123456789abcdef0', MinCount: '1', MaxCount: '1', InstanceType: 't2.micro' });
  const id = /<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec(run.text)![1];
  expect(run.text).toContain('<instanceState><code>0</code><name>pending</name></instanceState>');
  const state = () => sim.inspect.state().instances.find((i) => i.id === id)!.state;
  const after = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await after(330);
  expect(state()).toBe('running');
  await call({ Action: 'StopInstances', 'InstanceId.1': id });
  expect(state()).toBe('stopping');
  await after(330);
  expect(state()).toBe('stopped');
  const term = await call({ Action: 'TerminateInstances', 'InstanceId.1': id });
  expect(term.text).toMatch(/<currentState><code>32<\/code><name>shutting-down<\/name><\/currentState><previousState><code>80<\/code><name>stopped<\/name>/);
  await after(330);
  const d = await call({ Action: 'DescribeInstances', 'InstanceId.1': id });
  expect(d.text).toContain('<name>terminated</name>');
  const missing = await call({ Action: 'DescribeInstances', 'InstanceId.1': 'i-0123456789abcdef0' });
  expect(code(missing.text)).toBe('InvalidInstanceID.NotFound');
});

test('faults: throttling, 5xx, lost answers and latency, set in process or over HTTP', async () => {
  sim.faults.add({ kind: 'throttle', action: 'DescribeRegions' });
  const t = await call({ Action: 'DescribeRegions' });
  expect([t.status, code(t.text)]).toEqual([503, 'RequestLimitExceeded']);
  expect((await call({ Action: 'DescribeRegions' })).status).toBe(200);

  const post = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'error', status: 500, times: 2 }) });
  expect(post.status).toBe(204);
  expect(code((await call({ Action: 'DescribeVpcs' })).text)).toBe('InternalError');
  expect(code((await call({ Action: 'DescribeSubnets' })).text)).toBe('InternalError');
  expect((await call({ Action: 'DescribeVpcs' })).status).toBe(200);

  const before = sim.inspect.state().keyPairs.length;
  sim.faults.add({ kind: 'drop', action: 'ImportKeyPair' });
  const material = Buffer.from('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlVd0Pi3qIhPNOOZMj1kaOtpc0ryyaH2cNRgZV5CuLd x').toString('base64');
  await expect(call({ Action: 'ImportKeyPair', KeyName: 'dropped', PublicKeyMaterial: material })).rejects.toThrow();
  expect(sim.inspect.state().keyPairs.length).toBe(before + 1); // performed, answer lost

  await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'latency', ms: 150 }) });
  const t0 = Date.now();
  await call({ Action: 'DescribeRegions' });
  expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' });
  expect(sim.faults.latencyMs).toBe(0);
});

test('GET /_sim/state shows resources with tags and counts requests by action', async () => {
  sim.inspect.resetCounters();
  await call({ Action: 'AllocateAddress', Domain: 'vpc', 'TagSpecification.1.ResourceType': 'elastic-ip', 'TagSpecification.1.Tag.1.Key': 'owner', 'TagSpecification.1.Tag.1.Value': 'me' });
  await call({ Action: 'DescribeAddresses' });
  const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as ReturnType<Ec2Sim['inspect']['state']>;
  expect(state.addresses).toEqual([expect.objectContaining({ publicIp: expect.stringMatching(/^198\.51\.100\./), tags: { owner: 'me' } })]);
  expect(state.requests).toEqual({ total: 2, byAction: { AllocateAddress: 1, DescribeAddresses: 1 } });
  expect(state.vpcs).toHaveLength(1);
});

test('a security group used by a live instance cannot be deleted (DependencyViolation)', async () => {
  const sg = await call({ Action: 'CreateSecurityGroup', GroupName: 'busy', GroupDescription: 'busy group' });
  const gid = /<groupId>(sg-[0-9a-f]+)<\/groupId>/.exec(sg.text)![1];
  await call({ Action: 'RunInstances', ImageId: 'ami-0123456789abcdef0', MinCount: '1', MaxCount: '1', InstanceType: 't2.micro', 'SecurityGroupId.1': gid });
  const del = await call({ Action: 'DeleteSecurityGroup', GroupId: gid });
  expect([del.status, code(del.text)]).toEqual([400, 'DependencyViolation']);
});
