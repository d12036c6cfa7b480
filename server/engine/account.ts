/**
 * The engine side of IM's smaller calls: owners of an infrastructure (authorization), a cloud's
 * images and quotas (GET /clouds/{cloudId}/...), and disk snapshots. Clouds answer through the
 * optional CloudConnector methods; a cloud type without one gets a 400 naming what it lacks.
 */
import { createHash } from 'node:crypto';
import type { CloudConnector, CloudCredential, CloudImage, CloudQuotas } from '../../connectors/types';
import { supportedCloudTypes } from '../../connectors/registry';
import type { InfrastructureRecord } from '../store/types';
import { InvalidInputError, VmNotFoundError } from '../errors';
import { isSecretField } from '../../lib/redact';
import type { Caller } from './service';
import { computeOf, liveVms, type EngineContext } from './context';
import { changedOwners, ownersOf, type NewOwner } from './owners';

type Owned = (caller: Caller, infId: string) => Promise<InfrastructureRecord>;

export class AccountOperations {
  constructor(private readonly ctx: EngineContext, private readonly owned: Owned, private readonly mutable: Owned) {}

  async owners(caller: Caller, infId: string): Promise<string[]> {
    const inf = await this.owned(caller, infId);
    return ownersOf(inf, caller).map((o) => o.username);
  }

  async changeOwners(caller: Caller, infId: string, added: NewOwner, overwrite: boolean): Promise<void> {
    const inf = await this.mutable(caller, infId);
    await this.ctx.store.setOwners(infId, changedOwners(ownersOf(inf, caller), added, overwrite));
    this.ctx.logger.info({ inf: infId, overwrite }, 'infrastructure owners changed');
  }

  async cloudImages(caller: Caller, cloudId: string, filters?: Record<string, string>): Promise<CloudImage[]> {
    const conn = this.cloud(caller, cloudId);
    if (!conn.listImages) throw unsupported(conn, cloudId, 'list its images', 'listImages');
    return conn.listImages(filters);
  }

  async cloudQuotas(caller: Caller, cloudId: string): Promise<CloudQuotas> {
    const conn = this.cloud(caller, cloudId);
    if (!conn.quotas) throw unsupported(conn, cloudId, 'report its quotas', 'quotas');
    return conn.quotas();
  }

  async snapshotDisk(caller: Caller, infId: string, vmId: string, disk: number, imageName: string): Promise<string> {
    const inf = await this.mutable(caller, infId);
    const vm = await this.ctx.store.getVm(infId, vmId);
    if (!vm || vm.removing) throw new VmNotFoundError(infId, vmId);
    if (!vm.handle) throw new InvalidInputError(`VM ${vmId} has not been launched yet: nothing to snapshot`);
    const conn = this.ctx.connector(this.credentials(inf, caller), vm.cloudId);
    if (!conn.snapshotDisk) throw unsupported(conn, vm.cloudId, 'snapshot a disk', 'snapshotDisk');
    return conn.snapshotDisk(vm.handle, disk, imageName);
  }

  /**
   * How many more VMs of `nodeName` the quota of its cloud allows (the elasticity manager's clamp);
   * undefined when the cloud states no limit or its connector cannot tell.
   */
  async quotaRoom(caller: Caller, infId: string, nodeName: string): Promise<number | undefined> {
    const next = await this.nextCloud(caller, infId, nodeName);
    if (!next) return undefined;
    const { creds, cloudId, compute, siblings } = next;
    const conn = this.ctx.connector(creds, cloudId);
    const room = await conn.roomFor?.(compute);
    if (room === undefined) return undefined;
    // Rows accepted but not yet launched are not in the cloud's figures, and will take their share.
    const unlaunched = siblings.filter((v) => v.cloudId === cloudId && !v.handle && v.state === 'pending').length;
    return Math.max(0, room - unlaunched);
  }

  /**
   * The cloud account the next VM of `nodeName` goes to, as an opaque key (the elasticity
   * manager's shared create budget, E-RATE-1): a hash of the credential's type and identifying
   * fields, so users with different line ids on one account share it and no secret is exposed.
   */
  async cloudAccountKey(caller: Caller, infId: string, nodeName: string): Promise<string | undefined> {
    const next = await this.nextCloud(caller, infId, nodeName);
    const cred = next && next.creds.find((c) => c.id === next.cloudId);
    return cred ? accountKeyOf(cred) : undefined;
  }

  /** Where the next VM of `nodeName` goes: beside its siblings, else where placement puts a new node. */
  private async nextCloud(caller: Caller, infId: string, nodeName: string) {
    const inf = await this.owned(caller, infId);
    const compute = computeOf(inf.plan, nodeName);
    if (!compute) return undefined;
    const creds = this.credentials(inf, caller);
    const siblings = liveVms(await this.ctx.store.listVms(infId)).filter((v) => v.nodeName === nodeName);
    // Its cloudId, else the first credential of a supported type.
    const supported = new Set(supportedCloudTypes());
    const cloudId = siblings.at(-1)?.cloudId ?? compute.cloudId ?? creds.find((c) => supported.has(c.type.toLowerCase()))?.id;
    return cloudId ? { compute, creds, cloudId, siblings } : undefined;
  }

  /** The stored credentials, with the caller's lines replacing those of the same id. */
  private credentials(inf: InfrastructureRecord, caller: Caller): CloudCredential[] {
    return [...this.ctx.credentialsOf(inf).filter((c) => !caller.credentials.some((x) => x.id === c.id)), ...caller.credentials];
  }

  /** The connector of one credential line of this request. */
  private cloud(caller: Caller, cloudId: string): CloudConnector {
    const cred = caller.credentials.find((c) => c.id === cloudId);
    if (!cred) {
      const ids = caller.credentials.map((c) => `"${c.id}"`).join(', ') || 'none';
      throw new InvalidInputError(`No credentials with id "${cloudId}" in the Authorization header (cloud ids sent: ${ids})`);
    }
    if (!supportedCloudTypes().includes(cred.type.toLowerCase())) {
      throw new InvalidInputError(`Cloud "${cloudId}" is of type "${cred.type}", which this server does not support (supported: ${supportedCloudTypes().join(', ')})`);
    }
    return this.ctx.connector(caller.credentials, cloudId);
  }
}


/** type + identifying fields (host, user, project, region…), hashed: the same for every user of one account. */
export function accountKeyOf(cred: CloudCredential): string {
  const fields = Object.entries(cred.fields)
    .filter(([k]) => !isSecretField(k)) // secrets authenticate rather than identify an account
    .map(([k, v]) => [k.toLowerCase(), v.trim()])
    .sort(([a], [b]) => a.localeCompare(b));
  const type = cred.type.toLowerCase();
  return `${type}:${createHash('sha256').update(JSON.stringify([type, fields])).digest('hex').slice(0, 16)}`;
}

/**
 * Which cloud types do it, named in the error so the caller knows what is supported. Kept here, by
 * hand: connectors are only built from credentials, so their optional methods cannot be probed.
 */
const ABLE: Record<'listImages' | 'quotas' | 'snapshotDisk', string> = {
  listImages: 'Dummy, OpenStack, EC2',
  quotas: 'Dummy, OpenStack, EC2',
  snapshotDisk: 'Dummy',
};

function unsupported(conn: CloudConnector, cloudId: string, what: string, method: keyof typeof ABLE): InvalidInputError {
  return new InvalidInputError(`Cloud "${cloudId}" (type ${conn.type}) cannot ${what} yet; supported for: ${ABLE[method]}`);
}
