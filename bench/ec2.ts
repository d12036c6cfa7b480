/**
 * `npm run bench:ec2`: 1 master (public IP) + 50 workers through the EC2 connector against the
 * simulator with 200 ms injected latency on every call; create then destroy, with bounded
 * parallelism as the engine would. Prints total time, a critical-path estimate and API calls per VM.
 * Targets: total ≤ 1.5 × critical path, ≤ 8 API calls per VM.
 */
import { Ec2Connector } from '../connectors/ec2';
import type { VmHandle } from '../connectors/types';
import { mapBounded } from '../lib/async';
import { sleep } from '../lib/sleep';
import type { ComputePlan } from '../tosca/plan';
import { startEc2Sim } from '../sims/ec2';

const WORKERS = 50;
const LATENCY_MS = 200;
const BOOT_MS = 3000;
const SHUTDOWN_MS = 1000;
const PARALLELISM = 20;
const ENGINE_POLL_MS = 250;
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlVd0Pi3qIhPNOOZMj1kaOtpc0ryyaH2cNRgZV5CuLd bench@tosca-im';

const plan = (name: string, publicIp: boolean, count: number): ComputePlan => ({
  name, type: 'tosca.nodes.indigo.Compute', count, removalList: [], host: { numCpus: 2, memSizeMB: 4096 },
  os: { image: 'aws://us-east-1/ami-0123456789abcdef0' }, publicIp, networks: [], ports: [], software: [],
});

async function main(): Promise<void> {
  const sim = await startEc2Sim({ bootMs: BOOT_MS, shutdownMs: SHUTDOWN_MS, latencyMs: LATENCY_MS });
  try {
    const conn = new Ec2Connector(
      { id: 'bench', type: 'EC2', fields: { username: 'AKIDEXAMPLE', password: 'SECRETEXAMPLE', host: `${sim.url}/` } },
      { pollIntervalMs: ENGINE_POLL_MS, maxPollIntervalMs: 1000 },
    );
    const infrastructureId = `bench-${Date.now().toString(36)}`;
    const computes = [plan('front', true, 1), plan('wn', false, WORKERS)];
    const vms = computes.flatMap((c) => Array.from({ length: c.count }, () => c)).map((c, i) => ({ compute: c, vmId: String(i) }));

    const t0 = Date.now();
    await conn.prepare({ infrastructureId, computes, publicKey: PUBLIC_KEY });
    // Launch calls are bounded like the engine's per-cloud parallelism; waiting is not a slot.
    const handles: VmHandle[] = await mapBounded(vms, PARALLELISM, ({ compute, vmId }) =>
      conn.launch({
        infrastructureId, vmId, nodeName: compute.name, compute, publicKey: PUBLIC_KEY, adminUser: 'cloudadm',
        clientToken: `${infrastructureId}-${vmId}`,
      }),
    );
    // The engine's reconcile loop polls every VM (the connector batches these reads into one call).
    while ((await Promise.all(handles.map((h) => conn.describe(h)))).some((o) => o.state !== 'running')) await sleep(ENGINE_POLL_MS);
    const created = Date.now();
    const createCalls = sim.inspect.requests();
    const publicIps = (await Promise.all(handles.map((h) => conn.describe(h)))).filter((o) => o.publicIps.length).length;

    await mapBounded(handles, PARALLELISM, (h) => conn.terminate(h, { releaseFloatingIps: false }));
    await conn.cleanup(infrastructureId, { releaseFloatingIps: false });
    const done = Date.now();
    const calls = sim.inspect.requests();
    const state = sim.inspect.state();

    // Critical path with unbounded parallelism: the longest chain of dependent calls, plus the cloud's
    // own waits and one engine poll interval per wait.
    const rtt = LATENCY_MS + 5;
    const createChain = 3 /* key+images ‖, security group, ingress */ + 1 /* RunInstances */ + 1 /* sees running */ +
      3; /* DescribeAddresses, AllocateAddress, AssociateAddress (master) */
    const destroyChain = 2 /* Disassociate, Terminate */ + 1 /* cleanup: DescribeInstances */ + 1 /* sees terminated */ +
      2; /* DescribeSecurityGroups, DeleteSecurityGroup ‖ DeleteKeyPair */
    const critical = (createChain + destroyChain) * rtt + BOOT_MS + SHUTDOWN_MS + 2 * ENGINE_POLL_MS;
    const total = done - t0;
    const perVm = calls.total / vms.length;
    const live = state.instances.filter((i) => i.state !== 'terminated').length;

    const lines = [
      `EC2 bench: 1 + ${WORKERS} VMs, ${LATENCY_MS} ms latency per call, boot ${BOOT_MS} ms, shutdown ${SHUTDOWN_MS} ms, parallelism ${PARALLELISM}`,
      `  create:  ${((created - t0) / 1000).toFixed(2)} s  (${createCalls.total} calls)`,
      `  destroy: ${((done - created) / 1000).toFixed(2)} s  (${calls.total - createCalls.total} calls)`,
      `  total:   ${(total / 1000).toFixed(2)} s; critical-path estimate ${(critical / 1000).toFixed(2)} s; ratio ${(total / critical).toFixed(2)} (target ≤ 1.5)`,
      `  API calls: ${calls.total} = ${perVm.toFixed(2)} per VM (target ≤ 8)`,
      `  by action: ${Object.entries(calls.byAction).sort((a, b) => b[1] - a[1]).map(([a, n]) => `${a} ${n}`).join(', ')}`,
      `  public IPs while running: ${publicIps}; Elastic IPs kept after destroy: ${state.addresses.length}; live instances left: ${live}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    const ok = total <= 1.5 * critical && perVm <= 8 && publicIps === 1 && live === 0;
    process.stdout.write(ok ? 'targets met\n' : 'TARGETS MISSED\n');
    if (!ok) process.exitCode = 1;
  } finally {
    await sim.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
