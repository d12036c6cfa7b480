/**
 * The few-public-IPs policy (see ARCHITECTURE.md), as pure decisions shared by the OpenStack
 * (floating IPs) and EC2 (Elastic IPs) connectors:
 *  - only VMs whose plan asks for a public IP get one;
 *  - a free address already in the project is reused before a new one is allocated;
 *  - on destroy addresses are detached and kept, unless release was asked for, and then only the
 *    ones this infrastructure allocated (marked with ownerMarker) are released.
 */
import { CloudError } from '../../lib/errors';
import type { ComputePlan } from '../../tosca/plan';
import { ownerMarker } from './naming';

/** Whether a VM gets a public address at all. Default: no. */
export function wantsPublicIp(compute: Pick<ComputePlan, 'publicIp'>): boolean {
  return compute.publicIp === true;
}

export interface PublicAddress {
  id: string;
  address: string;
  /** Port / network interface / instance it is attached to; null or undefined when free. */
  attachedTo?: string | null;
  /** Free-text owner marker (floating IP description, EIP tag). */
  owner?: string | null;
}

/**
 * A free address to reuse, or undefined when a new one must be allocated. Addresses marked by this
 * infrastructure come first (a retry after a crash gets its own address back), then unmarked or
 * foreign ones; ties broken by address so concurrent deployers tend to agree.
 */
export function pickReusableAddress<T extends PublicAddress>(
  candidates: T[],
  infrastructureId: string,
  exclude: ReadonlySet<string> = new Set(),
): T | undefined {
  const mine = ownerMarker(infrastructureId);
  const free = candidates.filter((a) => !a.attachedTo && !exclude.has(a.id));
  free.sort((a, b) => Number(b.owner === mine) - Number(a.owner === mine) || a.address.localeCompare(b.address));
  return free[0];
}

/** Whether destroying may release this address: only on request, only ours, never while attached elsewhere. */
export function mayRelease(addr: PublicAddress, infrastructureId: string, release: boolean, attachedToOurs = false): boolean {
  if (!release) return false;
  if (addr.owner !== ownerMarker(infrastructureId)) return false;
  return !addr.attachedTo || attachedToOurs;
}

export interface PoolCandidate {
  id: string;
  name: string;
}

/**
 * Choose the pool (OpenStack external network) for new floating IPs: the template's choice, else
 * the credential's option, else the only external network, else a clear error.
 */
export function choosePool(
  externalNetworks: PoolCandidate[],
  wish: { template?: string; credential?: string },
  cloudLabel: string,
): PoolCandidate {
  const asked = wish.template ?? wish.credential;
  if (asked) {
    const hit = externalNetworks.find((n) => n.id === asked) ?? externalNetworks.filter((n) => n.name === asked)[0];
    if (!hit) {
      const source = wish.template ? 'the template' : "the credential's pool option";
      throw new CloudError(
        `Floating IP pool "${asked}" asked by ${source} is not an external network of ${cloudLabel}` +
          ` (external networks: ${listNames(externalNetworks)})`,
        400,
        'PoolNotFound',
      );
    }
    return hit;
  }
  if (externalNetworks.length === 1) return externalNetworks[0];
  if (externalNetworks.length === 0) {
    throw new CloudError(`A public IP was asked for but ${cloudLabel} has no external network to allocate floating IPs from`, 400, 'NoPool');
  }
  throw new CloudError(
    `A public IP was asked for and ${cloudLabel} has several external networks (${listNames(externalNetworks)}):` +
      ' choose one with the template (network_name / floating pool) or the credential option "pool"',
    400,
    'AmbiguousPool',
  );
}

const listNames = (nets: PoolCandidate[]) => (nets.length ? nets.map((n) => n.name).join(', ') : 'none');
