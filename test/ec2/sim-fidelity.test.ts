/** The EC2 simulator judged by a client nobody here wrote: Debian's python3-boto3 via ec2_flow.py. */
import { startEc2Sim, Ec2Sim } from '../../sims/ec2';
import { boto3Available, runExtra, runProbe } from './probe';

let sim: Ec2Sim;
let haveBoto3 = false;

beforeAll(async () => {
  haveBoto3 = await boto3Available();
  if (!haveBoto3) {
    if (process.env.TOSCA_IM_REQUIRE_ALL === '1') throw new Error('python3-boto3 is required (TOSCA_IM_REQUIRE_ALL=1) but not importable by /usr/bin/python3');
    // eslint-disable-next-line no-console
    console.warn('SKIPPING the boto3 fidelity check: /usr/bin/python3 cannot import boto3 (apt-get install python3-boto3)');
  }
  sim = await startEc2Sim({ bootMs: 400, shutdownMs: 300 });
});
afterAll(() => sim?.close());

test('boto3 drives the whole EC2 flow against the simulator (ec2_flow.py exits 0)', async () => {
  if (!haveBoto3) return;
  const r = await runProbe(`${sim.url}/`);
  if (r.code !== 0) throw new Error(`ec2_flow.py failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  expect(r.stdout).toContain('ec2 flow: OK');
  // The flow really went through the simulator: one instance launched and terminated, address released.
  const state = sim.inspect.state();
  expect(state.instances.map((i) => i.state)).toEqual(['terminated']);
  expect(state.addresses).toEqual([]);
  expect(state.requests.byAction.RunInstances).toBe(2);
}, 120_000);

test('an access key the simulator does not know fails the flow with AuthFailure', async () => {
  if (!haveBoto3) return;
  const r = await runProbe(`${sim.url}/`, ['--access-key', 'AKIDUNKNOWN']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/AuthFailure/);
}, 60_000);

test('boto3 checks the calls the connector relies on beyond the shared probe (boto3_extra.py)', async () => {
  if (!haveBoto3) return;
  const limited = await startEc2Sim({ bootMs: 300, shutdownMs: 200, stopMs: 200, limits: { instances: 4, addresses: 1 } });
  try {
    const r = await runExtra(`${limited.url}/`);
    if (r.code !== 0) throw new Error(`boto3_extra.py failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    expect(r.stdout).toContain('ec2 extra: OK');
  } finally {
    await limited.close();
  }
}, 120_000);
