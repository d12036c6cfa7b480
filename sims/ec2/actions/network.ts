/** Security groups, Elastic IP addresses, VPCs and subnets. */
import { Ec2SimError, missing } from '../errors';
import { ACCOUNT_ID, Address, Permission, SecurityGroup, matchesFilters, newId, Ec2Model } from '../model';
import type { Params } from '../params';
import { ActionContext, ActionTable } from './context';
import { findInstances } from './instances';

// ---- security groups ----

function groupByIdOrName(model: Ec2Model, params: Params): SecurityGroup {
  const id = params.get('GroupId');
  const name = params.get('GroupName');
  if (id) {
    const g = model.securityGroups.get(id);
    if (!g) throw new Ec2SimError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    return g;
  }
  if (name) {
    const g = [...model.securityGroups.values()].find((s) => s.name === name && s.vpcId === model.defaultVpc.id);
    if (!g) {
      throw new Ec2SimError('InvalidGroup.NotFound', `The security group '${name}' does not exist in default VPC '${model.defaultVpc.id}'`);
    }
    return g;
  }
  throw missing('GroupId');
}

const PROTOCOLS: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', all: '-1' };

function parsePermissions(params: Params): Permission[] {
  const structured = params.structs('IpPermissions').map((p) => ({
    protocol: p.required('IpProtocol'),
    from: p.get('FromPort'),
    to: p.get('ToPort'),
    cidrs: p.structs('IpRanges').map((r) => r.required('CidrIp')),
    groupIds: p.structs('UserIdGroupPairs').map((g) => g.required('GroupId')),
  }));
  // The legacy flat form (IpProtocol/FromPort/ToPort/CidrIp) is still accepted by EC2.
  if (structured.length === 0 && params.get('IpProtocol')) {
    structured.push({
      protocol: params.required('IpProtocol'),
      from: params.get('FromPort'),
      to: params.get('ToPort'),
      cidrs: params.get('CidrIp') ? [params.get('CidrIp')!] : [],
      groupIds: [],
    });
  }
  if (structured.length === 0) throw missing('IpPermissions');
  return structured.map((p) => {
    const protocol = PROTOCOLS[p.protocol.toLowerCase()] ?? p.protocol.toLowerCase();
    if (!['tcp', 'udp', 'icmp', '-1'].includes(protocol)) {
      throw new Ec2SimError('InvalidParameterValue', `Invalid value '${p.protocol}' for IP protocol. Unknown protocol.`);
    }
    const ranged = protocol === 'tcp' || protocol === 'udp' || protocol === 'icmp';
    const from = p.from === undefined ? undefined : Number(p.from);
    const to = p.to === undefined ? undefined : Number(p.to);
    if (ranged && (from === undefined || to === undefined || Number.isNaN(from) || Number.isNaN(to))) {
      throw new Ec2SimError('InvalidParameterValue', `Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`);
    }
    if ((protocol === 'tcp' || protocol === 'udp') && (from! < 0 || to! > 65535 || from! > to!)) {
      throw new Ec2SimError('InvalidParameterValue', `Invalid TCP/UDP port range: ${from}-${to}`);
    }
    for (const c of p.cidrs) {
      if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(c)) throw new Ec2SimError('InvalidParameterValue', `CIDR block ${c} is malformed`);
    }
    return { protocol, from: ranged ? from : undefined, to: ranged ? to : undefined, cidrs: p.cidrs, groupIds: p.groupIds };
  });
}

const sameRange = (a: Permission, b: Permission) => a.protocol === b.protocol && a.from === b.from && a.to === b.to;

function authorizeIngress({ model, params }: ActionContext) {
  const group = groupByIdOrName(model, params);
  const perms = parsePermissions(params);
  for (const p of perms) {
    for (const gid of p.groupIds) {
      if (!model.securityGroups.has(gid)) throw new Ec2SimError('InvalidGroup.NotFound', `The security group '${gid}' does not exist`);
    }
    for (const existing of group.ingress.filter((e) => sameRange(e, p))) {
      const peer = p.cidrs.find((c) => existing.cidrs.includes(c)) ?? p.groupIds.find((g) => existing.groupIds.includes(g));
      if (peer !== undefined) {
        throw new Ec2SimError(
          'InvalidPermission.Duplicate',
          `the specified rule "peer: ${peer}, ${p.protocol.toUpperCase()}, from port: ${p.from}, to port: ${p.to}, ALLOW" already exists`,
        );
      }
    }
  }
  const rules = [];
  for (const p of perms) {
    group.ingress.push(p);
    for (const cidr of p.cidrs) rules.push({ ...ruleXml(group, p), cidrIpv4: cidr });
    for (const gid of p.groupIds) rules.push({ ...ruleXml(group, p), referencedGroupInfo: { groupId: gid, userId: ACCOUNT_ID } });
  }
  return { return: true, securityGroupRuleSet: rules };
}

const ruleXml = (g: SecurityGroup, p: Permission) => ({
  securityGroupRuleId: newId('sgr'),
  groupId: g.id,
  groupOwnerId: ACCOUNT_ID,
  isEgress: false,
  ipProtocol: p.protocol,
  fromPort: p.from ?? -1,
  toPort: p.to ?? -1,
});

const permissionXml = (p: Permission) => ({
  ipProtocol: p.protocol,
  fromPort: p.from,
  toPort: p.to,
  groups: p.groupIds.map((groupId) => ({ userId: ACCOUNT_ID, groupId })),
  ipRanges: p.cidrs.map((cidrIp) => ({ cidrIp })),
  ipv6Ranges: [],
  prefixListIds: [],
});

function createSecurityGroup({ model, params }: ActionContext) {
  const name = params.required('GroupName');
  const description = params.required('GroupDescription');
  const vpcId = params.get('VpcId') ?? model.defaultVpc.id;
  if (!model.vpcs.has(vpcId)) throw new Ec2SimError('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
  if (name === 'default') throw new Ec2SimError('InvalidGroup.Reserved', "The security group 'default' is reserved");
  if ([...model.securityGroups.values()].some((g) => g.name === name && g.vpcId === vpcId)) {
    throw new Ec2SimError('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
  }
  const group: SecurityGroup = {
    id: newId('sg'),
    name,
    description,
    vpcId,
    ingress: [],
    egress: [{ protocol: '-1', cidrs: ['0.0.0.0/0'], groupIds: [] }],
  };
  model.securityGroups.set(group.id, group);
  model.addTags(group.id, params.tagSpecs('security-group'));
  return { return: true, groupId: group.id, tagSet: model.tagSet(group.id) };
}

function deleteSecurityGroup({ model, params }: ActionContext) {
  const group = groupByIdOrName(model, params);
  if (group.name === 'default') throw new Ec2SimError('CannotDelete', `the specified group: "${group.id}" name: "default" cannot be deleted by a user`);
  if (model.liveInstances().some((i) => i.groupIds.includes(group.id))) {
    throw new Ec2SimError('DependencyViolation', `resource ${group.id} has a dependent object`);
  }
  model.securityGroups.delete(group.id);
  model.tags.delete(group.id);
  return { return: true };
}

function describeSecurityGroups({ model, params }: ActionContext) {
  const ids = params.list('GroupId');
  const names = params.list('GroupName');
  for (const id of ids) {
    if (!model.securityGroups.has(id)) throw new Ec2SimError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
  }
  for (const n of names) {
    if (![...model.securityGroups.values()].some((g) => g.name === n)) {
      throw new Ec2SimError('InvalidGroup.NotFound', `The security group '${n}' does not exist in default VPC '${model.defaultVpc.id}'`);
    }
  }
  const filters = params.filters();
  const groups = [...model.securityGroups.values()].filter(
    (g) =>
      (ids.length === 0 || ids.includes(g.id)) &&
      (names.length === 0 || names.includes(g.name)) &&
      matchesFilters(filters, model.tags.get(g.id), (n) =>
        ({ 'group-id': [g.id], 'group-name': [g.name], 'vpc-id': [g.vpcId], description: [g.description], 'owner-id': [ACCOUNT_ID] })[n],
      ),
  );
  return {
    securityGroupInfo: groups.map((g) => ({
      ownerId: ACCOUNT_ID,
      groupId: g.id,
      groupName: g.name,
      groupDescription: g.description,
      vpcId: g.vpcId,
      ipPermissions: g.ingress.map(permissionXml),
      ipPermissionsEgress: g.egress.map(permissionXml),
      tagSet: model.tagSet(g.id),
    })),
  };
}

// ---- Elastic IP addresses ----

function addressByAllocation(model: Ec2Model, id: string): Address {
  const a = model.addresses.get(id);
  if (!a) throw new Ec2SimError('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`);
  return a;
}

function addressByPublicIp(model: Ec2Model, ip: string): Address {
  const a = [...model.addresses.values()].find((x) => x.publicIp === ip);
  if (!a) throw new Ec2SimError('InvalidAddress.NotFound', `Address '${ip}' not found.`);
  return a;
}

function allocateAddress({ model, params }: ActionContext) {
  if (model.addresses.size >= model.limits.addresses) {
    throw new Ec2SimError('AddressLimitExceeded', 'The maximum number of addresses has been reached.');
  }
  const a: Address = { allocationId: newId('eipalloc'), publicIp: model.allocatePublicIp() };
  model.addresses.set(a.allocationId, a);
  model.addTags(a.allocationId, params.tagSpecs('elastic-ip'));
  return {
    publicIp: a.publicIp,
    domain: 'vpc',
    allocationId: a.allocationId,
    publicIpv4Pool: 'amazon',
    networkBorderGroup: model.region,
  };
}

function associateAddress({ model, params }: ActionContext) {
  const allocationId = params.get('AllocationId');
  const addr = allocationId ? addressByAllocation(model, allocationId) : addressByPublicIp(model, params.required('PublicIp'));
  const [inst] = findInstances(model, [params.required('InstanceId')]);
  if (inst.state !== 'running' && inst.state !== 'stopped') {
    throw new Ec2SimError('IncorrectInstanceState', `The instance '${inst.id}' is not in a valid state for this operation.`);
  }
  if (addr.instanceId && addr.instanceId !== inst.id && !params.bool('AllowReassociation')) {
    throw new Ec2SimError(
      'Resource.AlreadyAssociated',
      `resource ${addr.allocationId} is already associated with associate-id ${addr.associationId}`,
    );
  }
  // An instance has one primary public address: associating another one replaces it.
  const previous = model.addressOf(inst.id);
  if (previous && previous !== addr) {
    previous.instanceId = undefined;
    previous.associationId = undefined;
  }
  addr.instanceId = inst.id;
  addr.associationId = newId('eipassoc');
  return { return: true, associationId: addr.associationId };
}

function disassociateAddress({ model, params }: ActionContext) {
  const assoc = params.get('AssociationId');
  const addr = assoc
    ? [...model.addresses.values()].find((a) => a.associationId === assoc)
    : addressByPublicIp(model, params.required('PublicIp'));
  if (!addr) throw new Ec2SimError('InvalidAssociationID.NotFound', `The association ID '${assoc}' does not exist`);
  addr.instanceId = undefined;
  addr.associationId = undefined;
  return { return: true };
}

function releaseAddress({ model, params }: ActionContext) {
  const id = params.get('AllocationId');
  const addr = id ? addressByAllocation(model, id) : addressByPublicIp(model, params.required('PublicIp'));
  if (addr.associationId) throw new Ec2SimError('InvalidIPAddress.InUse', `Address ${addr.publicIp} is in use.`);
  model.addresses.delete(addr.allocationId);
  model.tags.delete(addr.allocationId);
  return { return: true };
}

function describeAddresses({ model, params }: ActionContext) {
  const ids = params.list('AllocationId');
  const ips = params.list('PublicIp');
  ids.forEach((id) => addressByAllocation(model, id));
  ips.forEach((ip) => addressByPublicIp(model, ip));
  const filters = params.filters();
  const list = [...model.addresses.values()].filter((a) => {
    const inst = a.instanceId ? model.instances.get(a.instanceId) : undefined;
    return (
      (ids.length === 0 || ids.includes(a.allocationId)) &&
      (ips.length === 0 || ips.includes(a.publicIp)) &&
      matchesFilters(filters, model.tags.get(a.allocationId), (n) =>
        ({
          'allocation-id': [a.allocationId],
          'association-id': [a.associationId],
          'instance-id': [a.instanceId],
          'public-ip': [a.publicIp],
          domain: ['vpc'],
          'private-ip-address': [inst?.privateIp],
        })[n],
      )
    );
  });
  return {
    addressesSet: list.map((a) => ({
      publicIp: a.publicIp,
      allocationId: a.allocationId,
      domain: 'vpc',
      instanceId: a.instanceId,
      associationId: a.associationId,
      privateIpAddress: a.instanceId ? model.instances.get(a.instanceId)?.privateIp : undefined,
      tagSet: model.tagSet(a.allocationId),
      publicIpv4Pool: 'amazon',
      networkBorderGroup: model.region,
    })),
  };
}

// ---- VPCs and subnets ----

function describeVpcs({ model, params }: ActionContext) {
  const ids = params.list('VpcId');
  for (const id of ids) if (!model.vpcs.has(id)) throw new Ec2SimError('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
  const filters = params.filters();
  const vpcs = [...model.vpcs.values()].filter(
    (v) =>
      (ids.length === 0 || ids.includes(v.id)) &&
      matchesFilters(filters, model.tags.get(v.id), (n) =>
        ({ 'vpc-id': [v.id], isDefault: [v.isDefault], 'is-default': [v.isDefault], 'cidr-block': [v.cidr], cidr: [v.cidr], state: ['available'] })[n],
      ),
  );
  return {
    vpcSet: vpcs.map((v) => ({
      vpcId: v.id,
      ownerId: ACCOUNT_ID,
      state: 'available',
      cidrBlock: v.cidr,
      dhcpOptionsId: 'dopt-0123456789abcdef0',
      instanceTenancy: 'default',
      isDefault: v.isDefault,
      tagSet: model.tagSet(v.id),
    })),
  };
}

function describeSubnets({ model, params }: ActionContext) {
  const ids = params.list('SubnetId');
  for (const id of ids) if (!model.subnets.has(id)) throw new Ec2SimError('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
  const filters = params.filters();
  const subnets = [...model.subnets.values()].filter(
    (s) =>
      (ids.length === 0 || ids.includes(s.id)) &&
      matchesFilters(filters, model.tags.get(s.id), (n) =>
        ({
          'subnet-id': [s.id],
          'vpc-id': [s.vpcId],
          'availability-zone': [s.az],
          'default-for-az': [s.isDefault],
          defaultForAz: [s.isDefault],
          'cidr-block': [s.cidr],
          state: ['available'],
        })[n],
      ),
  );
  return {
    subnetSet: subnets.map((s) => ({
      subnetId: s.id,
      subnetArn: `arn:aws:ec2:${model.region}:${ACCOUNT_ID}:subnet/${s.id}`,
      state: 'available',
      ownerId: ACCOUNT_ID,
      vpcId: s.vpcId,
      cidrBlock: s.cidr,
      availableIpAddressCount: 4091,
      availabilityZone: s.az,
      availabilityZoneId: `use1-az1`,
      defaultForAz: s.isDefault,
      mapPublicIpOnLaunch: false,
      tagSet: model.tagSet(s.id),
    })),
  };
}

export const networkActions: ActionTable = {
  CreateSecurityGroup: createSecurityGroup,
  AuthorizeSecurityGroupIngress: authorizeIngress,
  DeleteSecurityGroup: deleteSecurityGroup,
  DescribeSecurityGroups: describeSecurityGroups,
  AllocateAddress: allocateAddress,
  AssociateAddress: associateAddress,
  DisassociateAddress: disassociateAddress,
  ReleaseAddress: releaseAddress,
  DescribeAddresses: describeAddresses,
  DescribeVpcs: describeVpcs,
  DescribeSubnets: describeSubnets,
};
