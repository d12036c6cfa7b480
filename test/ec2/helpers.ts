/** Building blocks for the EC2 connector tests: hand-made plans, credentials and fast connectors. */
import type { CloudCredential, LaunchRequest } from '../../connectors/types';
import type { ComputePlan } from '../../tosca/plan';
import { Ec2Connector, Ec2ConnectorOptions } from '../../connectors/ec2';
import type { Ec2Sim } from '../../sims/ec2';

export const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlVd0Pi3qIhPNOOZMj1kaOtpc0ryyaH2cNRgZV5CuLd test@tosca-im';
export const IMAGE = 'aws://us-east-1/ami-0123456789abcdef0';

export function compute(name: string, over: Partial<ComputePlan> = {}): ComputePlan {
  return {
    name,
    type: 'tosca.nodes.indigo.Compute',
    count: 1,
    removalList: [],
    host: { numCpus: 1, memSizeMB: 1024 },
    os: { image: IMAGE },
    publicIp: false,
    networks: [],
    ports: [],
    software: [],
    ...over,
  };
}

export function credential(sim: Ec2Sim, fields: Record<string, string> = {}): CloudCredential {
  return {
    id: 'ec2',
    type: 'EC2',
    fields: { username: 'AKIDEXAMPLE', password: 'SECRETEXAMPLE', host: `${sim.url}/`, region: 'us-east-1', ...fields },
  };
}

/** Short polls and retries so that tests run in a fraction of a second per VM. */
export const FAST: Partial<Ec2ConnectorOptions> = {
  pollIntervalMs: 50,
  maxPollIntervalMs: 200,
  launchTimeoutMs: 15_000,
  terminateTimeoutMs: 15_000,
  retry: { retries: 4, baseDelayMs: 20, maxDelayMs: 200 },
};

export function connector(sim: Ec2Sim, fields: Record<string, string> = {}, opts: Partial<Ec2ConnectorOptions> = {}): Ec2Connector {
  return new Ec2Connector(credential(sim, fields), { ...FAST, ...opts });
}

export function launchRequest(infrastructureId: string, vmId: string, plan: ComputePlan): LaunchRequest {
  return {
    infrastructureId,
    vmId,
    nodeName: plan.name,
    compute: plan,
    publicKey: PUBLIC_KEY,
    adminUser: 'cloudadm',
    clientToken: `${infrastructureId}-${vmId}`,
  };
}

let counter = 0;
/** A fresh infrastructure id per test (one simulator is shared by a file's tests). */
export const newInfraId = () => `inf-${process.pid}-${Date.now().toString(36)}-${counter++}`;

/** What the simulator holds for one infrastructure (by tag / deterministic name). */
export function infraState(sim: Ec2Sim, infraId: string) {
  const s = sim.inspect.state();
  return {
    instances: s.instances.filter((i) => i.tags.im_infrastructure_id === infraId),
    live: s.instances.filter((i) => i.tags.im_infrastructure_id === infraId && i.state !== 'terminated'),
    groups: s.securityGroups.filter((g) => g.name === `im-${infraId}`),
    keys: s.keyPairs.filter((k) => k.name === `im-${infraId}`),
    addresses: s.addresses,
  };
}

/** prepare + launch every compute (count each) + wait until all describe as running. */
export async function deploy(conn: Ec2Connector, infraId: string, plans: ComputePlan[]) {
  await conn.prepare({ infrastructureId: infraId, computes: plans, publicKey: PUBLIC_KEY });
  let vm = 0;
  const reqs = plans.flatMap((p) => Array.from({ length: p.count }, () => launchRequest(infraId, String(vm++), p)));
  const handles = await Promise.all(reqs.map((r) => conn.launch(r)));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const obs = await Promise.all(handles.map((h) => conn.describe(h)));
    if (obs.every((o) => o.state === 'running')) return { handles, obs, reqs };
    if (Date.now() > deadline) throw new Error(`not running: ${JSON.stringify(obs)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls describe() until the VM reports `state`; returns the states seen on the way. */
export async function waitState(conn: Ec2Connector, h: import('../../connectors/types').VmHandle, state: string): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = (await conn.describe(h)).state;
    if (seen[seen.length - 1] !== s) seen.push(s);
    if (s === state) return seen;
    if (Date.now() > deadline) throw new Error(`VM ${h.instanceId} never reached ${state}: ${seen.join(' → ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
