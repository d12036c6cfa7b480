/**
 * Per-infrastructure resources: the imported key pair and the security group (one per
 * infrastructure, ingress from the plan's ports), and the crash-safe removal of everything an
 * infrastructure left, found by deterministic names and tags rather than local records.
 */
import { CloudError } from '../../lib/errors';
import type { ComputePlan, PortRule } from '../../tosca/plan';
import { TAG_INFRASTRUCTURE, infrastructureResourceName } from '../shared/naming';
import { PollOptions, pollUntil } from '../shared/poll';
import { Ec2ApiError, QueryParams, XmlNode, filterParams, items, listParams, tagSpecParams } from './client';
import type { Ec2Credential } from './credential';
import { parseImage } from './credential';
import type { Ec2Session, PreparedInfrastructure } from './session';
import { infrastructureTags } from './tags';

interface IngressRule {
  protocol: string;
  from: number;
  to: number;
  cidr?: string;
  /** 'self': the infrastructure's own group (all traffic between its VMs). */
  group?: 'self' | string;
}

const ruleKey = (r: IngressRule) => [r.protocol, r.from, r.to, r.cidr ?? '', r.group ?? ''].join('|');

/**
 * SSH from anywhere (the engine reaches the master; workers only through it), every public port
 * from its source, private ports with an explicit source, and all traffic inside the group, which
 * already covers the remaining private ports.
 */
export function ingressRules(computes: ComputePlan[]): IngressRule[] {
  const rules: IngressRule[] = [{ protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' }, { protocol: '-1', from: -1, to: -1, group: 'self' }];
  const portRule = (p: PortRule): IngressRule =>
    p.protocol === 'icmp' ? { protocol: 'icmp', from: -1, to: -1, cidr: p.source } : { protocol: p.protocol, from: p.from, to: p.to, cidr: p.source };
  for (const c of computes) {
    for (const p of c.ports) if (p.public || (p.source && p.source !== '0.0.0.0/0')) rules.push(portRule({ ...p, source: p.source || '0.0.0.0/0' }));
  }
  return [...new Map(rules.map((r) => [ruleKey(r), r])).values()];
}

function ruleParams(rules: IngressRule[], groupId: string): QueryParams {
  const out: QueryParams = {};
  rules.forEach((r, i) => {
    const p = `IpPermissions.${i + 1}`;
    out[`${p}.IpProtocol`] = r.protocol;
    if (r.protocol !== '-1') {
      out[`${p}.FromPort`] = r.from;
      out[`${p}.ToPort`] = r.to;
    }
    if (r.cidr) out[`${p}.IpRanges.1.CidrIp`] = r.cidr;
    if (r.group) out[`${p}.UserIdGroupPairs.1.GroupId`] = r.group === 'self' ? groupId : r.group;
  });
  return out;
}

function existingRules(group: XmlNode): Set<string> {
  const keys = new Set<string>();
  for (const p of items(group.ipPermissions)) {
    const protocol = String(p.ipProtocol);
    const from = protocol === '-1' ? -1 : Number(p.fromPort ?? -1);
    const to = protocol === '-1' ? -1 : Number(p.toPort ?? -1);
    for (const r of items(p.ipRanges)) keys.add(ruleKey({ protocol, from, to, cidr: String(r.cidrIp) }));
    for (const g of items(p.groups)) keys.add(ruleKey({ protocol, from, to, group: g.groupId === group.groupId ? 'self' : String(g.groupId) }));
  }
  return keys;
}

const isCode = (err: unknown, ...codes: string[]) => err instanceof Ec2ApiError && codes.includes(err.code);

async function importKeyPair(s: Ec2Session, infrastructureId: string, keyName: string, publicKey: string): Promise<void> {
  try {
    await s.client.call('ImportKeyPair', {
      KeyName: keyName,
      PublicKeyMaterial: Buffer.from(publicKey.trim()).toString('base64'),
      ...tagSpecParams(1, 'key-pair', infrastructureTags(infrastructureId)),
    });
  } catch (err) {
    // Already imported by an earlier (maybe crashed) run of this infrastructure: same deterministic name.
    if (!isCode(err, 'InvalidKeyPair.Duplicate')) throw err;
  }
}

async function checkImages(s: Ec2Session, cred: Ec2Credential, computes: ComputePlan[], cloudLabel: string): Promise<void> {
  const wanted = [...new Set(computes.map((c) => parseImage(c.os.image, cred)).filter((i) => i.region === s.region).map((i) => i.imageId))];
  const missing = wanted.filter((id) => !s.images.has(id));
  if (!missing.length) return;
  try {
    const answer = await s.client.call('DescribeImages', listParams('ImageId', missing));
    for (const img of items(answer.imagesSet)) s.images.set(String(img.imageId), { id: String(img.imageId), rootDeviceName: img.rootDeviceName || undefined });
  } catch (err) {
    if (!isCode(err, 'InvalidAMIID.NotFound', 'InvalidAMIID.Malformed', 'InvalidAMIID.Unavailable')) throw err;
  }
  const absent = missing.filter((id) => !s.images.has(id));
  if (absent.length) {
    throw new CloudError(`Image ${absent.join(', ')} does not exist in region ${s.region} of ${cloudLabel}`, 400, 'InvalidAMIID.NotFound');
  }
}

async function vpcOf(s: Ec2Session, computes: ComputePlan[], cloudLabel: string): Promise<string | undefined> {
  const subnets = [...new Set(computes.flatMap((c) => c.networks.filter((n) => n.startsWith('subnet-'))))];
  if (!subnets.length) return undefined;
  const answer = await s.client.call('DescribeSubnets', listParams('SubnetId', subnets));
  const vpcs = [...new Set(items(answer.subnetSet).map((x) => String(x.vpcId)))];
  if (vpcs.length > 1) {
    throw new CloudError(`Subnets ${subnets.join(', ')} of ${cloudLabel} are in different VPCs; one infrastructure uses one VPC`, 400, 'SubnetsInSeveralVpcs');
  }
  return vpcs[0];
}

/** Authorizes the rules not in `have` (rule keys, updated); concurrent duplicates are fine. */
async function authorizeMissing(s: Ec2Session, groupId: string, rules: IngressRule[], have: Set<string>): Promise<void> {
  const missing = rules.filter((r) => !have.has(ruleKey(r)));
  if (!missing.length) return;
  try {
    await s.client.call('AuthorizeSecurityGroupIngress', { GroupId: groupId, ...ruleParams(missing, groupId) });
  } catch (err) {
    if (!isCode(err, 'InvalidPermission.Duplicate')) throw err;
    // Another run added some of them meanwhile: one call rejects all if one exists, so go one by one.
    for (const r of missing) {
      await s.client.call('AuthorizeSecurityGroupIngress', { GroupId: groupId, ...ruleParams([r], groupId) }).catch((e) => {
        if (!isCode(e, 'InvalidPermission.Duplicate')) throw e;
      });
    }
  }
  missing.forEach((r) => have.add(ruleKey(r)));
}

async function ensureSecurityGroup(s: Ec2Session, infrastructureId: string, name: string, vpcId: string | undefined, rules: IngressRule[]) {
  let groupId: string;
  let have = new Set<string>();
  try {
    const created = await s.client.call('CreateSecurityGroup', {
      GroupName: name,
      GroupDescription: `tosca-im infrastructure ${infrastructureId}`,
      VpcId: vpcId,
      ...tagSpecParams(1, 'security-group', infrastructureTags(infrastructureId)),
    });
    groupId = String(created.groupId);
  } catch (err) {
    if (!isCode(err, 'InvalidGroup.Duplicate')) throw err;
    const found = await s.client.call('DescribeSecurityGroups', filterParams({ 'group-name': [name], ...(vpcId ? { 'vpc-id': [vpcId] } : {}) }));
    const group = items(found.securityGroupInfo)[0];
    if (!group) throw err;
    groupId = String(group.groupId);
    have = existingRules(group);
  }
  await authorizeMissing(s, groupId, rules, have);
  return { groupId, rules: have };
}

/**
 * Key pair, images and security group of an infrastructure in one region; idempotent and memoised
 * per session. A later call with other computes (add-resources, a launch after a restart) still
 * checks their images and opens their ports.
 */
export async function ensureInfrastructure(
  s: Ec2Session,
  cred: Ec2Credential,
  scope: { infrastructureId: string; computes: ComputePlan[]; publicKey: string },
  cloudLabel: string,
): Promise<PreparedInfrastructure> {
  const known = s.prepared.get(scope.infrastructureId);
  if (known) {
    const prepared = await known;
    await checkImages(s, cred, scope.computes, cloudLabel);
    await authorizeMissing(s, prepared.groupId, ingressRules(scope.computes), prepared.rules);
    return prepared;
  }
  const name = infrastructureResourceName(scope.infrastructureId);
  const work = (async () => {
    const [, , vpcId] = await Promise.all([
      importKeyPair(s, scope.infrastructureId, name, scope.publicKey),
      checkImages(s, cred, scope.computes, cloudLabel),
      vpcOf(s, scope.computes, cloudLabel),
    ]);
    const group = await ensureSecurityGroup(s, scope.infrastructureId, name, vpcId, ingressRules(scope.computes));
    return { ...group, keyName: name };
  })();
  s.prepared.set(scope.infrastructureId, work);
  work.catch(() => s.prepared.delete(scope.infrastructureId));
  return work;
}

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

/** Waits until none of `ids` is alive any more (terminated or forgotten by the cloud). */
export async function waitTerminated(s: Ec2Session, ids: string[], poll: Omit<PollOptions, 'what'>): Promise<void> {
  if (!ids.length) return;
  await pollUntil(async () => {
    const states = await Promise.all(ids.map((id) => s.reader.get(id)));
    return states.every((i) => !i || i.state === 'terminated') ? true : undefined;
  }, { ...poll, what: `instances ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''} to terminate` });
}

/** Instances of the infrastructure still alive, by tag (tags are set atomically by RunInstances). */
export function liveInstancesOf(s: Ec2Session, infrastructureId: string) {
  return s.reader.find({ [`tag:${TAG_INFRASTRUCTURE}`]: [infrastructureId], 'instance-state-name': LIVE_STATES });
}

export async function terminateInstances(s: Ec2Session, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    try {
      await s.client.call('TerminateInstances', listParams('InstanceId', chunk));
    } catch (err) {
      if (!isCode(err, 'InvalidInstanceID.NotFound')) throw err;
      // One vanished id fails the whole call: terminate the others one by one.
      for (const id of chunk) {
        await s.client.call('TerminateInstances', listParams('InstanceId', [id])).catch((e) => {
          if (!isCode(e, 'InvalidInstanceID.NotFound')) throw e;
        });
      }
    }
  }
}

/** The security group and key pair, once the instances that use them are gone. */
export async function deleteGroupAndKey(s: Ec2Session, infrastructureId: string, poll: Omit<PollOptions, 'what'>): Promise<void> {
  const name = infrastructureResourceName(infrastructureId);
  const deleteGroups = async () => {
    const found = await s.client.call('DescribeSecurityGroups', filterParams({ 'group-name': [name] }));
    for (const g of items(found.securityGroupInfo)) {
      // EC2 keeps a group "in use" for a while after its instances terminate: retry DependencyViolation.
      await pollUntil(async () => {
        try {
          await s.client.call('DeleteSecurityGroup', { GroupId: String(g.groupId) });
          return true;
        } catch (err) {
          if (isCode(err, 'InvalidGroup.NotFound')) return true;
          if (isCode(err, 'DependencyViolation', 'InvalidGroup.InUse')) return undefined;
          throw err;
        }
      }, { ...poll, what: `security group ${name} to be deletable` });
    }
  };
  // DeleteKeyPair succeeds for a key that does not exist: no need to look first.
  await Promise.all([deleteGroups(), s.client.call('DeleteKeyPair', { KeyName: name })]);
  s.prepared.delete(infrastructureId);
}
