/**
 * The simulated account: its resources, their tags, and time-driven instance state transitions
 * (pending → running, stopping → stopped, shutting-down → terminated), evaluated lazily on access.
 */
import { randomBytes } from 'node:crypto';
import { Ec2SimError } from './errors';
import type { Filter, Tag } from './params';

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
export const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface Image {
  id: string;
  name: string;
  /** 'amazon' or the account id ('self'). */
  owner: 'amazon' | 'self';
  architecture: string;
}
export interface InstanceType {
  name: string;
  vcpus: number;
  memoryMiB: number;
}
export interface Instance {
  id: string;
  reservationId: string;
  imageId: string;
  type: string;
  keyName?: string;
  groupIds: string[];
  subnetId: string;
  vpcId: string;
  privateIp: string;
  launchTime: string;
  launchIndex: number;
  state: InstanceStateName;
  stateSince: number;
  /** Base64 as received. */
  userData?: string;
  clientToken?: string;
  stateReason?: { code: string; message: string };
  /** Injected: the instance dies while booting (pending → terminated, Server.InternalError). */
  failBoot?: boolean;
  /** Before this time DescribeInstances does not know the instance yet (EC2's eventual consistency). */
  visibleAt: number;
}
export interface Permission {
  protocol: string;
  from?: number;
  to?: number;
  cidrs: string[];
  groupIds: string[];
}
export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  ingress: Permission[];
  egress: Permission[];
}
export interface KeyPair {
  id: string;
  name: string;
  fingerprint: string;
  publicKey: string;
  type: string;
  created: string;
}
export interface Address {
  allocationId: string;
  publicIp: string;
  instanceId?: string;
  associationId?: string;
}
export interface Vpc {
  id: string;
  cidr: string;
  isDefault: boolean;
}
export interface Subnet {
  id: string;
  vpcId: string;
  cidr: string;
  az: string;
  isDefault: boolean;
}

export interface Timings {
  /** pending → running */
  bootMs: number;
  /** shutting-down → terminated */
  shutdownMs: number;
  /** stopping → stopped */
  stopMs: number;
  /** How long a new instance stays unknown to DescribeInstances (default 0). */
  visibilityDelayMs: number;
}

export interface Limits {
  /** Instances not terminated (AWS's On-Demand instance limit, counted per instance here). */
  instances: number;
  /** Elastic IP addresses allocated to the account. */
  addresses: number;
}

export const ACCOUNT_ID = '123456789012';

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

const glob = (pattern: string) =>
  new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');

/**
 * AWS filter semantics: every filter must match (AND), any of a filter's values may match (OR),
 * values may use * and ? wildcards. `resolve` gives the resource's values for a filter name, or
 * undefined when the name is not a filter of this resource type (→ InvalidParameterValue).
 */
export function matchesFilters(
  filters: Filter[],
  tags: Map<string, string> | undefined,
  resolve: (name: string) => (string | number | boolean | undefined)[] | undefined,
): boolean {
  return filters.every((f) => {
    let have: (string | number | boolean | undefined)[] | undefined;
    if (f.name.startsWith('tag:')) have = [tags?.get(f.name.slice(4))];
    else if (f.name === 'tag-key') have = [...(tags?.keys() ?? [])];
    else if (f.name === 'tag-value') have = [...(tags?.values() ?? [])];
    else have = resolve(f.name);
    if (have === undefined) throw new Ec2SimError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
    const values = have.filter((v) => v !== undefined).map(String);
    return f.values.some((p) => values.some((v) => glob(p).test(v)));
  });
}

export class Ec2Model {
  readonly images = new Map<string, Image>();
  readonly instanceTypes: InstanceType[];
  readonly instances = new Map<string, Instance>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly keyPairs = new Map<string, KeyPair>();
  readonly addresses = new Map<string, Address>();
  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  /** resource id → tag key → value */
  readonly tags = new Map<string, Map<string, string>>();
  /** ClientToken → reservation id and a fingerprint of the parameters that launched it. */
  readonly clientTokens = new Map<string, { reservationId: string; fingerprint: string }>();
  readonly defaultVpc: Vpc;
  readonly defaultSubnet: Subnet;
  private nextPrivate = 10;
  private nextPublic = 1;

  constructor(
    readonly region: string,
    readonly timings: Timings,
    readonly limits: Limits,
    images: Image[],
    instanceTypes: InstanceType[],
  ) {
    for (const i of images) this.images.set(i.id, i);
    this.instanceTypes = instanceTypes;
    this.defaultVpc = { id: newId('vpc'), cidr: '172.31.0.0/16', isDefault: true };
    this.vpcs.set(this.defaultVpc.id, this.defaultVpc);
    this.defaultSubnet = {
      id: newId('subnet'),
      vpcId: this.defaultVpc.id,
      cidr: '172.31.0.0/20',
      az: `${region}a`,
      isDefault: true,
    };
    this.subnets.set(this.defaultSubnet.id, this.defaultSubnet);
    const sg: SecurityGroup = {
      id: newId('sg'),
      name: 'default',
      description: 'default VPC security group',
      vpcId: this.defaultVpc.id,
      ingress: [],
      egress: [{ protocol: '-1', cidrs: ['0.0.0.0/0'], groupIds: [] }],
    };
    sg.ingress.push({ protocol: '-1', cidrs: [], groupIds: [sg.id] });
    this.securityGroups.set(sg.id, sg);
  }

  /** Moves instances along their transitions according to the clock. */
  advance(now = Date.now()): void {
    for (const i of this.instances.values()) {
      const age = now - i.stateSince;
      if (i.state === 'pending' && age >= this.timings.bootMs) {
        this.setState(i, i.failBoot ? 'terminated' : 'running', i.stateSince + this.timings.bootMs);
        if (i.failBoot) i.stateReason = { code: 'Server.InternalError', message: 'Server.InternalError: Internal error on launch' };
      }
      else if (i.state === 'stopping' && age >= this.timings.stopMs) this.setState(i, 'stopped', i.stateSince + this.timings.stopMs);
      else if (i.state === 'shutting-down' && age >= this.timings.shutdownMs) {
        this.setState(i, 'terminated', i.stateSince + this.timings.shutdownMs);
      }
    }
  }

  setState(i: Instance, state: InstanceStateName, since = Date.now()): void {
    i.state = state;
    i.stateSince = since;
  }

  allocatePrivateIp(): string {
    const n = this.nextPrivate++;
    return `172.31.${Math.floor(n / 250)}.${(n % 250) + 4}`;
  }

  allocatePublicIp(): string {
    const n = this.nextPublic++;
    // Documentation ranges (RFC 5737): never routable, so nothing can mistake them for real hosts.
    return n <= 250 ? `198.51.100.${n}` : `203.0.113.${n - 250}`;
  }

  tagsOf(id: string): Map<string, string> {
    let t = this.tags.get(id);
    if (!t) this.tags.set(id, (t = new Map()));
    return t;
  }

  addTags(id: string, tags: Tag[]): void {
    if (tags.length === 0) return;
    const t = this.tagsOf(id);
    for (const { key, value } of tags) t.set(key, value);
  }

  tagSet(id: string): { key: string; value: string }[] | undefined {
    const t = this.tags.get(id);
    if (!t || t.size === 0) return undefined;
    return [...t].map(([key, value]) => ({ key, value }));
  }

  /** Live (not terminated) instances, for limits and dependency checks. */
  liveInstances(): Instance[] {
    return [...this.instances.values()].filter((i) => i.state !== 'terminated');
  }

  addressOf(instanceId: string): Address | undefined {
    for (const a of this.addresses.values()) if (a.instanceId === instanceId) return a;
    return undefined;
  }
}
