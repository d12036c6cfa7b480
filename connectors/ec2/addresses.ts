/**
 * Elastic IPs under the shared few-public-IPs policy (connectors/shared/floating-ip-policy.ts):
 * reuse a free address of the account first, else allocate one marked as ours; on destroy
 * disassociate and keep it, releasing only on request and only the ones this infrastructure allocated.
 */
import { CloudError } from '../../lib/errors';
import { mayRelease, pickReusableAddress, PublicAddress } from '../shared/floating-ip-policy';
import { TAG_INFRASTRUCTURE, ownerMarker } from '../shared/naming';
import { Ec2ApiError, items, tagSpecParams, tagsOf } from './client';
import type { Ec2Session } from './session';
import { TAG_ALLOCATED_BY, allocationTags } from './tags';

export interface ElasticIp extends PublicAddress {
  /** allocation id */
  id: string;
  address: string;
  /** instance id when associated */
  attachedTo?: string;
  associationId?: string;
  /** TAG_ALLOCATED_BY: the owner marker of the infrastructure that allocated it. */
  owner?: string;
  /** TAG_INFRASTRUCTURE: the infrastructure that uses it now. */
  usedBy?: string;
}

/** What a VM handle remembers of its address (VmHandle.extra). */
export interface AddressRecord {
  allocationId: string;
  associationId: string;
  publicIp: string;
  /** Owner marker of the allocating infrastructure (as tagged), if any. */
  allocatedBy?: string;
}

const isCode = (err: unknown, ...codes: string[]) => err instanceof Ec2ApiError && codes.includes(err.code);

export async function listAddresses(s: Ec2Session): Promise<ElasticIp[]> {
  // No server-side filter: EC2-compatible clouds differ in the filters they know; accounts hold few addresses.
  const answer = await s.client.call('DescribeAddresses');
  return items(answer.addressesSet).filter((a) => typeof a.allocationId === 'string' && a.allocationId).map((a) => {
    const tags = tagsOf(a);
    const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    return {
      id: String(a.allocationId),
      address: String(a.publicIp),
      attachedTo: text(a.instanceId),
      associationId: text(a.associationId),
      owner: tags[TAG_ALLOCATED_BY],
      usedBy: tags[TAG_INFRASTRUCTURE],
    };
  });
}

/** Gives a running instance a public address; safe to call again for the same instance. */
export function attachPublicAddress(s: Ec2Session, infrastructureId: string, instanceId: string, cloudLabel: string): Promise<AddressRecord> {
  return s.addressLock.run('elastic-ip', async () => {
    const skip = new Set<string>();
    for (let attempt = 0; attempt < 5; attempt++) {
      const all = await listAddresses(s);
      const already = all.find((a) => a.attachedTo === instanceId);
      if (already) return { allocationId: already.id, associationId: already.associationId!, publicIp: already.address, allocatedBy: already.owner };
      let chosen: ElasticIp | undefined = pickReusableAddress(all, infrastructureId, skip);
      if (chosen) {
        await s.client.call('CreateTags', { 'ResourceId.1': chosen.id, 'Tag.1.Key': TAG_INFRASTRUCTURE, 'Tag.1.Value': infrastructureId });
      } else {
        // Not idempotent (EC2 has no token here); the tags make a duplicate from a lost answer findable.
        const got = await s.client
          .call('AllocateAddress', { Domain: 'vpc', ...tagSpecParams(1, 'elastic-ip', allocationTags(infrastructureId)) }, { idempotent: false })
          .catch((err) => {
            if (isCode(err, 'AddressLimitExceeded')) {
              throw new CloudError(
                `Quota exceeded in ${cloudLabel} (AddressLimitExceeded): no free Elastic IP to reuse and no new one can be allocated` +
                  ` (${err.message}); release unused addresses or raise the limit`,
                403,
                'AddressLimitExceeded',
              );
            }
            throw err;
          });
        chosen = { id: String(got.allocationId), address: String(got.publicIp), owner: ownerMarker(infrastructureId) };
      }
      try {
        const assoc = await s.client.call('AssociateAddress', { InstanceId: instanceId, AllocationId: chosen.id });
        return { allocationId: chosen.id, associationId: String(assoc.associationId), publicIp: chosen.address, allocatedBy: chosen.owner };
      } catch (err) {
        // Another deployer (another process) took this free address first: pick again.
        if (!isCode(err, 'Resource.AlreadyAssociated')) throw err;
        skip.add(chosen.id);
      }
    }
    throw new CloudError(`Could not associate an Elastic IP with ${instanceId} in ${cloudLabel}: every candidate was taken concurrently`, 409, 'AddressContention');
  });
}

/** Disassociates (keeping the address) and, when asked, releases it if this infrastructure allocated it. */
export async function detachPublicAddress(s: Ec2Session, infrastructureId: string, rec: AddressRecord, release: boolean): Promise<void> {
  await s.client.call('DisassociateAddress', { AssociationId: rec.associationId }).catch((err) => {
    if (!isCode(err, 'InvalidAssociationID.NotFound')) throw err;
  });
  if (!mayRelease({ id: rec.allocationId, address: rec.publicIp, owner: rec.allocatedBy }, infrastructureId, release)) return;
  await s.client.call('ReleaseAddress', { AllocationId: rec.allocationId }).catch((err) => {
    // Gone already, or someone associated it meanwhile (then it is theirs to keep).
    if (!isCode(err, 'InvalidAllocationID.NotFound', 'InvalidIPAddress.InUse')) throw err;
  });
}

/**
 * Cleanup of addresses by tags: disassociate the ones on the infrastructure's instances, release
 * (on request) the ones it allocated and nobody else uses now.
 */
export async function cleanupAddresses(s: Ec2Session, infrastructureId: string, ourInstances: Set<string>, release: boolean): Promise<void> {
  for (const a of await listAddresses(s)) {
    const onOurs = !!a.attachedTo && ourInstances.has(a.attachedTo);
    if (onOurs && a.associationId) {
      await detachPublicAddress(s, infrastructureId, { allocationId: a.id, associationId: a.associationId, publicIp: a.address, allocatedBy: a.owner }, false);
      a.attachedTo = undefined;
    }
    const reusedByOther = a.usedBy !== undefined && a.usedBy !== infrastructureId;
    if (!reusedByOther && mayRelease(a, infrastructureId, release)) {
      await s.client.call('ReleaseAddress', { AllocationId: a.id }).catch((err) => {
        if (!isCode(err, 'InvalidAllocationID.NotFound', 'InvalidIPAddress.InUse')) throw err;
      });
    }
  }
}
