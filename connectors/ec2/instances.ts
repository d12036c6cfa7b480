/**
 * Reading instances. Concurrent `describe` calls (the engine polls every VM) are coalesced into one
 * DescribeInstances per short window, filtered by `instance-id`: a filter, unlike InstanceId.N,
 * does not fail the whole call when one id is unknown, so one missing VM cannot hide the others.
 */
import { Ec2Client, XmlNode, filterParams, items, tagsOf } from './client';

export type Ec2StateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

export interface Ec2Instance {
  id: string;
  state: Ec2StateName;
  type?: string;
  privateIp?: string;
  publicIp?: string;
  stateReason?: { code: string; message: string };
  tags: Record<string, string>;
}

export function parseInstance(x: XmlNode): Ec2Instance {
  const reason = x.stateReason && typeof x.stateReason === 'object' && x.stateReason.code ? x.stateReason : undefined;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    id: String(x.instanceId),
    state: String(x.instanceState?.name) as Ec2StateName,
    type: text(x.instanceType),
    privateIp: text(x.privateIpAddress),
    publicIp: text(x.ipAddress),
    stateReason: reason ? { code: String(reason.code), message: String(reason.message ?? reason.code) } : undefined,
    tags: tagsOf(x),
  };
}

export function instancesOf(answer: XmlNode): Ec2Instance[] {
  return items(answer.reservationSet).flatMap((r) => items(r.instancesSet).map(parseInstance));
}

/** EC2 caps filter values; stay well below. */
const MAX_IDS_PER_CALL = 150;

export class InstanceReader {
  private queue = new Map<string, { resolve: (i: Ec2Instance | undefined) => void; reject: (e: unknown) => void }[]>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly client: Ec2Client, private readonly windowMs = 15) {}

  /** The instance, or undefined when the cloud does not (or no longer) know it. */
  get(id: string): Promise<Ec2Instance | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.queue.get(id) ?? [];
      waiting.push({ resolve, reject });
      this.queue.set(id, waiting);
      this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
    });
  }

  /** Instances matching filters (not coalesced), every page. */
  async find(filters: Record<string, readonly string[]>): Promise<Ec2Instance[]> {
    const out: Ec2Instance[] = [];
    let token: string | undefined;
    do {
      const answer = await this.client.call('DescribeInstances', { ...filterParams(filters), MaxResults: 500, NextToken: token });
      out.push(...instancesOf(answer));
      token = typeof answer.nextToken === 'string' && answer.nextToken ? answer.nextToken : undefined;
    } while (token);
    return out;
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const batch = this.queue;
    this.queue = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_CALL) {
      const chunk = ids.slice(i, i + MAX_IDS_PER_CALL);
      try {
        const found = new Map((await this.find({ 'instance-id': chunk })).map((x) => [x.id, x]));
        for (const id of chunk) batch.get(id)!.forEach((w) => w.resolve(found.get(id)));
      } catch (err) {
        for (const id of chunk) batch.get(id)!.forEach((w) => w.reject(err));
      }
    }
  }
}
