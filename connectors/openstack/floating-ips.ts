/**
 * Floating IPs under the few-public-IPs policy (shared/floating-ip-policy.ts): attach one to a VM
 * that asked for it, reusing a free one of the pool first; on removal detach and keep it, releasing
 * only the ones this infrastructure allocated (marked in their description) and only on request.
 */
import { CloudError } from '../../lib/errors';
import { mayRelease, pickReusableAddress, type PublicAddress } from '../shared/floating-ip-policy';
import { ownerMarker } from '../shared/naming';
import type { OpenStackCloud } from './cloud';
import { OpenStackApiError } from './errors';
import { listAll } from './paging';

export interface NeutronFloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  description?: string;
}
interface NeutronPort { id: string; network_id: string; device_id: string; fixed_ips: { ip_address: string }[] }

export interface AttachedFloatingIp {
  id: string;
  address: string;
  /** Whether this infrastructure allocated it (and may release it). */
  ours: boolean;
}

const asAddress = (f: NeutronFloatingIp): PublicAddress & { raw: NeutronFloatingIp } => ({
  id: f.id, address: f.floating_ip_address, attachedTo: f.port_id, owner: f.description ?? null, raw: f,
});

const listFloatingIps = (cloud: OpenStackCloud, query: Record<string, string>) =>
  listAll<NeutronFloatingIp>(cloud.api, 'network', '/floatingips', 'floatingips', { query });

async function serverPorts(cloud: OpenStackCloud, serverId: string): Promise<NeutronPort[]> {
  return listAll<NeutronPort>(cloud.api, 'network', '/ports', 'ports', { query: { device_id: serverId } });
}

/** Give the server a floating IP from `poolId` (idempotent: an address already on its port is kept). */
export async function attachFloatingIp(cloud: OpenStackCloud, serverId: string, infrastructureId: string, poolId: string): Promise<AttachedFloatingIp> {
  const ports = await serverPorts(cloud, serverId);
  const port = ports[0];
  if (!port) throw new CloudError(`Server ${serverId} has no network port yet to attach a floating IP to`, 503, 'NoPort');
  const mine = ownerMarker(infrastructureId);
  // Picking a free address and taking it must not interleave with another VM of this process.
  return cloud.locks.run(`fip:${poolId}`, async () => {
    const listed = await listFloatingIps(cloud, { floating_network_id: poolId });
    const already = listed.find((f) => f.port_id === port.id);
    if (already) return { id: already.id, address: already.floating_ip_address, ours: already.description === mine };
    const tried = new Set<string>();
    for (;;) {
      const free = pickReusableAddress(listed.filter((f) => f.floating_network_id === poolId).map(asAddress), infrastructureId, tried);
      if (!free) break;
      try {
        const r = await cloud.api.call<{ floatingip: NeutronFloatingIp }>('network', 'PUT', `/floatingips/${free.id}`, { body: { floatingip: { port_id: port.id } } });
        return { id: r.body.floatingip.id, address: r.body.floatingip.floating_ip_address, ours: free.owner === mine };
      } catch (e) {
        // Taken or deleted by someone else in the meantime: try the next free one.
        if (e instanceof OpenStackApiError && (e.httpStatus === 404 || e.httpStatus === 409)) {
          tried.add(free.id);
          continue;
        }
        throw e;
      }
    }
    const r = await cloud.api.call<{ floatingip: NeutronFloatingIp }>('network', 'POST', '/floatingips', {
      body: { floatingip: { floating_network_id: poolId, port_id: port.id, description: mine } },
    });
    return { id: r.body.floatingip.id, address: r.body.floatingip.floating_ip_address, ours: true };
  });
}

/** Detach every floating IP of the server's ports; release the ones this infrastructure allocated when asked. */
export async function detachFloatingIps(cloud: OpenStackCloud, serverId: string, infrastructureId: string, release: boolean): Promise<void> {
  for (const port of await serverPorts(cloud, serverId)) {
    const fips = await listFloatingIps(cloud, { port_id: port.id });
    for (const f of fips.filter((x) => x.port_id === port.id)) {
      if (mayRelease(asAddress(f), infrastructureId, release, true)) {
        await cloud.api.call('network', 'DELETE', `/floatingips/${f.id}`, { accept: [404] });
      } else {
        await cloud.api.call('network', 'PUT', `/floatingips/${f.id}`, { body: { floatingip: { port_id: null } }, accept: [404] });
      }
    }
  }
}

/** Release the unattached floating IPs this infrastructure allocated (cleanup with release asked). */
export async function releaseOurFloatingIps(cloud: OpenStackCloud, infrastructureId: string): Promise<number> {
  const mine = ownerMarker(infrastructureId);
  const fips = await listFloatingIps(cloud, { description: mine });
  let n = 0;
  for (const f of fips) {
    if (!mayRelease(asAddress(f), infrastructureId, true)) continue;
    await cloud.api.call('network', 'DELETE', `/floatingips/${f.id}`, { accept: [404] });
    n++;
  }
  return n;
}
