/** Shared set-up for the OpenStack connector tests: a simulator, credentials, hand-built plans, a tiny deploy loop. */
import { randomUUID } from 'node:crypto';
import type { ComputePlan } from '../../tosca/plan';
import type { CloudCredential, VmHandle, VmObservation } from '../../connectors/types';
import { OpenStackConnector, openStackTuning, resetOpenStackClouds } from '../../connectors/openstack';
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';

export const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkQ1mD5cF9o9n3D2QeF3p7yJt8mXw2Q3b4nS6kP0aZr tosca-im@test';

export async function startSim(opts: Parameters<typeof startOpenStackSim>[0] = {}): Promise<OpenStackSim> {
  resetOpenStackClouds();
  openStackTuning.deletePoll = { intervalMs: 30, maxIntervalMs: 200, timeoutMs: 20_000 };
  return startOpenStackSim({ ...opts, faults: { activeDelayMs: 40, deleteDelayMs: 20, ...opts.faults } });
}

export function credential(sim: OpenStackSim, fields: Record<string, string> = {}, id = 'ost'): CloudCredential {
  return {
    id,
    type: 'OpenStack',
    fields: { host: sim.authUrl, username: 'demo', password: 'secret', tenant: 'demo', domain: 'Default', auth_version: '3.x_password', ...fields },
  };
}

export function compute(name: string, over: Partial<ComputePlan> = {}): ComputePlan {
  return {
    name, type: 'tosca.nodes.indigo.Compute', count: 1, removalList: [], host: { numCpus: 1, memSizeMB: 512 },
    os: { image: 'cirros-0.6.2-x86_64-disk' }, publicIp: false, networks: [], ports: [], software: [], ...over,
  };
}

export interface Deployed {
  vmId: string;
  node: string;
  handle: VmHandle;
  obs: VmObservation;
}

/**
 * What the engine does, condensed: prepare, launch every VM with a stable client token, poll until
 * no VM is pending, and relaunch a VM whose boot failed (up to IM's MAX_VM_FAILS = 3 attempts).
 */
export async function deploy(conn: OpenStackConnector, infId: string, computes: ComputePlan[], maxAttempts = 3): Promise<Deployed[]> {
  await conn.prepare({ infrastructureId: infId, computes, publicKey: PUBLIC_KEY });
  const vms = computes.flatMap((c) => Array.from({ length: c.count }, () => c));
  return Promise.all(
    vms.map(async (c, i) => {
      let last: Deployed | undefined;
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const handle = await conn.launch({
          infrastructureId: infId, vmId: String(i), nodeName: c.name, compute: c, publicKey: PUBLIC_KEY, adminUser: 'cloudadm', clientToken: randomUUID(),
        });
        const obs = await waitSettled(conn, handle);
        last = { vmId: String(i), node: c.name, handle, obs };
        // As the engine: a failure a relaunch cannot help (quota) is final at once.
        if (obs.state !== 'failed' || obs.retryable === false) return last;
        if (attempt < maxAttempts) await conn.terminate(handle, { releaseFloatingIps: false });
      }
      return last!;
    }),
  );
}

export async function waitSettled(conn: OpenStackConnector, handle: VmHandle): Promise<VmObservation> {
  for (let i = 0; i < 200; i++) {
    const obs = await conn.describe(handle);
    if (obs.state !== 'pending') return obs;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`VM ${handle.instanceId} stayed pending`);
}

/** Resources of one infrastructure as the simulator sees them. */
export function resourcesOf(sim: OpenStackSim, infId: string) {
  const s = sim.inspect();
  const servers = s.servers.filter((x) => x.metadata.im_infrastructure_id === infId);
  const serverIds = new Set(servers.map((x) => x.id));
  const groups = s.securityGroups.filter((g) => g.name === `im-${infId}`);
  return {
    servers,
    ports: s.ports.filter((p) => serverIds.has(p.deviceId) || groups.some((g) => p.securityGroupIds.includes(g.id))),
    groups,
    keypairs: s.keypairs.filter((k) => k.name === `im-${infId}`),
    floatingIps: s.floatingIps,
  };
}
