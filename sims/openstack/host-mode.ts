/**
 * The OpenStack simulator's host mode (see ../host-mode.ts): a server not in ERROR nor being
 * deleted, with a port on a private network, is a lab host with that port's IP; the floating IP
 * associated with that port is its public address; its keypair (Nova `key_name`, the caller's)
 * and user data give the keys. External networks move into the lab's public range at start.
 */
import { HostMode, HostModeError, labPublicRange, type BootedVm, type HostModeOptions } from '../host-mode';
import type { SimState } from './model';

export { HostMode, HostModeError, type HostModeOptions, type SimHost } from '../host-mode';

export async function startOpenStackHostMode(state: SimState, opts: HostModeOptions = {}): Promise<HostMode> {
  const mode = await HostMode.start(() => bootedServers(state), opts);
  try {
    readdressExternalNetworks(state);
  } catch (err) {
    await mode.close();
    throw err;
  }
  return mode;
}

/** The servers that should be hosts now, as the cloud's records say. */
export function bootedServers(state: SimState): BootedVm[] {
  state.tick();
  const out: BootedVm[] = [];
  for (const s of state.servers.values()) {
    if (s.goneAt !== undefined || s.status === 'ERROR') continue;
    const port = state.serverPorts(s.id).find((p) => !state.networks.find((n) => n.id === p.networkId)?.external && p.fixedIps.length > 0);
    if (!port) continue;
    const fip = [...state.floatingIps.values()].find((f) => f.portId === port.id);
    const kp = s.keyName ? state.keypairs.find((k) => k.name === s.keyName && k.userId === s.userId) : undefined;
    out.push({ id: s.id, name: s.name, privateIp: port.fixedIps[0].ip_address, publicIp: fip?.address, keypairKey: kp?.publicKey, userData: s.userData });
  }
  return out;
}

/** The seed's 172.24.4.0/24 is sealed off from the lab's server namespace: floating IPs come from its public range. */
function readdressExternalNetworks(state: SimState): void {
  state.networks.filter((n) => n.external).forEach((net, i) => {
    if ([...state.floatingIps.values()].some((f) => f.networkId === net.id)) {
      throw new HostModeError(`network ${net.name} already has floating IPs; start the host mode before allocating any`);
    }
    const { prefix, cidr } = labPublicRange(i);
    for (const sub of state.subnets.filter((s) => s.networkId === net.id)) Object.assign(sub, { cidr, prefix, gatewayIp: `${prefix}.1` });
  });
}
