/**
 * What is shared by every connector object talking to one endpoint, region and key: the client,
 * the coalescing instance reader, and caches (instance types, images, per-infrastructure
 * resources). The engine may build a connector per call; sessions outlive them so that batching and
 * caches work across calls.
 */
import { createHash } from 'node:crypto';
import type { RetryPolicy } from '../shared/http';
import { KeyedSerial } from '../../lib/async';
import { Ec2Client } from './client';
import { Ec2Credential, endpointFor } from './credential';
import { InstanceTypeCatalog, loadInstanceTypes } from './instance-types';
import { InstanceReader } from './instances';

export interface PreparedInfrastructure {
  groupId: string;
  keyName: string;
  /** Keys of the ingress rules the group has (kept current as rules are added). */
  rules: Set<string>;
}

export interface ImageInfo {
  id: string;
  rootDeviceName?: string;
}

const TYPES_TTL_MS = 10 * 60 * 1000;

export class Ec2Session {
  readonly client: Ec2Client;
  readonly reader: InstanceReader;
  /** Serialises picking and associating Elastic IPs in this process, so two VMs never pick the same free one. */
  readonly addressLock = new KeyedSerial();
  /** Infrastructure id → its key pair and security group (a promise, so concurrent launches share one creation). */
  readonly prepared = new Map<string, Promise<PreparedInfrastructure>>();
  readonly images = new Map<string, ImageInfo>();
  private types?: { at: number; value: Promise<InstanceTypeCatalog> };

  constructor(readonly region: string, cred: Ec2Credential, retry: RetryPolicy | undefined, batchWindowMs: number) {
    this.client = new Ec2Client({
      endpoint: endpointFor(cred, region),
      region,
      accessKeyId: cred.accessKeyId,
      secretAccessKey: cred.secretAccessKey,
      sessionToken: cred.sessionToken,
      retry,
    });
    this.reader = new InstanceReader(this.client, batchWindowMs);
  }

  instanceTypes(): Promise<InstanceTypeCatalog> {
    if (!this.types || Date.now() - this.types.at > TYPES_TTL_MS) {
      const value = loadInstanceTypes(this.client);
      this.types = { at: Date.now(), value };
      value.catch(() => (this.types = undefined));
    }
    return this.types.value;
  }
}

const sessions = new Map<string, Ec2Session>();

export function sessionFor(cred: Ec2Credential, region: string, retry: RetryPolicy | undefined, batchWindowMs: number): Ec2Session {
  const secret = createHash('sha256').update(cred.secretAccessKey + '\0' + (cred.sessionToken ?? '')).digest('hex');
  const key = JSON.stringify([endpointFor(cred, region).toString(), region, cred.accessKeyId, secret, retry ?? null, batchWindowMs]);
  let s = sessions.get(key);
  if (!s) sessions.set(key, (s = new Ec2Session(region, cred, retry, batchWindowMs)));
  return s;
}
