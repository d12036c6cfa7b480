/**
 * What GET /clouds/{id}/images and /quotas ask of an EC2 account, in IM's shapes.
 *
 * Images, as IM's EC2 connector lists them: DescribeImages of the account's own and AWS Marketplace
 * images, 64-bit HVM EBS machine images that are available (the caller's filters are added and may
 * override), URI `aws://region/ami-id`, name `region/Name`; `region` among the filters picks the region.
 *
 * Quotas: EC2 itself states only a few limits (DescribeAccountAttributes: max-instances,
 * vpc-max-elastic-ips / max-elastic-ips); vCPU and security-group limits live in the Service Quotas
 * API, which we do not call, so their limit is -1 (unknown) while `used` is counted from the account.
 */
import type { CloudImage, CloudQuotas } from '../types';
import { filterParams, items, listParams, type XmlNode } from './client';
import { instancesOf } from './instances';
import type { Ec2Session } from './session';

const IMAGE_FILTERS: Record<string, string> = {
  architecture: 'x86_64', 'image-type': 'machine', 'virtualization-type': 'hvm', state: 'available', 'root-device-type': 'ebs',
};

export async function accountImages(s: Ec2Session, filters: Record<string, string> = {}): Promise<CloudImage[]> {
  const { region: _region, ...rest } = filters;
  const wanted = Object.fromEntries(Object.entries({ ...IMAGE_FILTERS, ...rest }).map(([k, v]) => [k, [v]]));
  const answer = await s.client.call('DescribeImages', { ...listParams('Owner', ['self', 'aws-marketplace']), ...filterParams(wanted) });
  return items(answer.imagesSet)
    // IM leaves out the old 8-hex-digit AMI ids.
    .filter((i) => String(i.imageId ?? '').length > 12)
    .map((i) => ({ uri: `aws://${s.region}/${String(i.imageId)}`, name: `${s.region}/${textOf(i.name)}` }));
}

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

export async function accountQuotas(s: Ec2Session): Promise<CloudQuotas> {
  const [attributes, instancesAnswer, addresses, groups, catalog] = await Promise.all([
    s.client.call('DescribeAccountAttributes', listParams('AttributeName', ['max-instances', 'vpc-max-elastic-ips', 'max-elastic-ips'])),
    s.client.call('DescribeInstances', filterParams({ 'instance-state-name': LIVE_STATES })),
    s.client.call('DescribeAddresses'),
    s.client.call('DescribeSecurityGroups'),
    s.instanceTypes(),
  ]);
  const limits = accountAttributes(attributes);
  const instances = instancesOf(instancesAnswer);
  const running = instances.filter((i) => i.state === 'pending' || i.state === 'running');
  let cores = 0;
  let ramMB = 0;
  for (const i of running) {
    const size = catalog.sizes.find((t) => t.name === i.type);
    cores += size?.cpus ?? 0;
    ramMB += size?.memoryMB ?? 0;
  }
  const limit = (...names: string[]) => {
    for (const n of names) if (Number.isFinite(limits[n])) return limits[n];
    return -1;
  };
  return {
    cores: { used: cores, limit: -1 },
    ram: { used: ramMB / 1024, limit: -1 },
    instances: { used: instances.length, limit: limit('max-instances') },
    floating_ips: { used: items(addresses.addressesSet).length, limit: limit('vpc-max-elastic-ips', 'max-elastic-ips') },
    security_groups: { used: items(groups.securityGroupInfo).length, limit: -1 },
  };
}

function accountAttributes(answer: XmlNode): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of items(answer.accountAttributeSet)) {
    const value = Number(textOf(items(a.attributeValueSet)[0]?.attributeValue));
    if (Number.isFinite(value)) out[textOf(a.attributeName)] = value;
  }
  return out;
}

function textOf(v: unknown): string {
  return v === undefined || v === null || typeof v === 'object' ? '' : String(v);
}
