/** RunInstances, DescribeInstances and the instance life cycle (terminate, start, stop, reboot, type change). */
import { Ec2SimError, invalidValue } from '../errors';
import { ACCOUNT_ID, Ec2Model, Instance, InstanceStateName, STATE_CODES, matchesFilters, newId } from '../model';
import type { XmlValue } from '../xml';
import { ActionContext, ActionTable, paginate } from './context';

const stateXml = (s: InstanceStateName) => ({ code: STATE_CODES[s], name: s });

export function instanceXml(model: Ec2Model, i: Instance): Record<string, XmlValue> {
  const addr = model.addressOf(i.id);
  const groups = i.groupIds.map((id) => ({ groupId: id, groupName: model.securityGroups.get(id)?.name }));
  const image = model.images.get(i.imageId);
  return {
    instanceId: i.id,
    imageId: i.imageId,
    instanceState: stateXml(i.state),
    privateDnsName: `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`,
    dnsName: addr ? `ec2-${addr.publicIp.replace(/\./g, '-')}.compute-1.amazonaws.com` : '',
    reason: i.stateReason ? i.stateReason.message : '',
    keyName: i.keyName,
    amiLaunchIndex: i.launchIndex,
    instanceType: i.type,
    launchTime: i.launchTime,
    placement: { availabilityZone: model.subnets.get(i.subnetId)?.az, groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: i.subnetId,
    vpcId: i.vpcId,
    privateIpAddress: i.state === 'terminated' ? undefined : i.privateIp,
    ipAddress: addr?.publicIp,
    sourceDestCheck: true,
    groupSet: groups,
    stateReason: i.stateReason,
    architecture: image?.architecture ?? 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    blockDeviceMapping: [],
    virtualizationType: 'hvm',
    clientToken: i.clientToken ?? '',
    tagSet: model.tagSet(i.id),
    hypervisor: 'xen',
    ebsOptimized: false,
  };
}

function reservationsXml(model: Ec2Model, instances: Instance[]): XmlValue[] {
  const byReservation = new Map<string, Instance[]>();
  for (const i of instances) {
    if (!byReservation.has(i.reservationId)) byReservation.set(i.reservationId, []);
    byReservation.get(i.reservationId)!.push(i);
  }
  return [...byReservation].map(([reservationId, list]) => ({
    reservationId,
    ownerId: ACCOUNT_ID,
    groupSet: [],
    instancesSet: list.map((i) => instanceXml(model, i)),
  }));
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** Instances by id, failing as EC2 does on a malformed or unknown id. */
export function findInstances(model: Ec2Model, ids: string[]): Instance[] {
  const bad = ids.find((id) => !INSTANCE_ID.test(id));
  if (bad) throw new Ec2SimError('InvalidInstanceID.Malformed', `Invalid id: "${bad}"`);
  const now = Date.now();
  const unknown = ids.filter((id) => !((model.instances.get(id)?.visibleAt ?? Infinity) <= now));
  if (unknown.length === 1) {
    throw new Ec2SimError('InvalidInstanceID.NotFound', `The instance ID '${unknown[0]}' does not exist`);
  }
  if (unknown.length > 1) {
    throw new Ec2SimError('InvalidInstanceID.NotFound', `The instance IDs '${unknown.join(', ')}' do not exist`);
  }
  return ids.map((id) => model.instances.get(id)!);
}

function runInstances({ model, params, inject }: ActionContext) {
  const imageId = params.required('ImageId');
  const min = params.int('MinCount', NaN);
  const max = params.int('MaxCount', NaN);
  if (!Number.isInteger(min) || min < 1) throw invalidValue('MinCount', params.get('MinCount') ?? '');
  if (!Number.isInteger(max) || max < min) throw invalidValue('MaxCount', params.get('MaxCount') ?? '');
  const type = params.get('InstanceType') ?? 'm1.small';
  const token = params.get('ClientToken');
  const fingerprint = [imageId, type, min, max, params.get('KeyName'), params.get('SubnetId')].join('|');
  if (token !== undefined) {
    // Idempotency: the same token returns the original reservation instead of launching again.
    const seen = model.clientTokens.get(token);
    if (seen) {
      if (seen.fingerprint !== fingerprint) {
        throw new Ec2SimError('IdempotentParameterMismatch', `Client token '${token}' was used with different parameters`);
      }
      const instances = [...model.instances.values()].filter((i) => i.reservationId === seen.reservationId);
      return reservationBody(model, seen.reservationId, instances);
    }
  }
  if (!/^ami-[0-9a-f]+$/.test(imageId)) throw new Ec2SimError('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
  if (!model.images.has(imageId)) {
    throw new Ec2SimError('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
  }
  if (!model.instanceTypes.some((t) => t.name === type)) {
    throw new Ec2SimError('InvalidParameterValue', `Invalid value '${type}' for InstanceType.`);
  }
  const keyName = params.get('KeyName');
  if (keyName !== undefined && ![...model.keyPairs.values()].some((k) => k.name === keyName)) {
    throw new Ec2SimError('InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`);
  }
  const subnetId = params.get('SubnetId') ?? model.defaultSubnet.id;
  const subnet = model.subnets.get(subnetId);
  if (!subnet) throw new Ec2SimError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
  const groupIds = params.list('SecurityGroupId');
  for (const name of params.list('SecurityGroup')) {
    const g = [...model.securityGroups.values()].find((s) => s.name === name && s.vpcId === subnet.vpcId);
    if (!g) throw new Ec2SimError('InvalidGroup.NotFound', `The security group '${name}' does not exist in VPC '${subnet.vpcId}'`);
    groupIds.push(g.id);
  }
  for (const id of groupIds) {
    if (!model.securityGroups.has(id)) throw new Ec2SimError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
  }
  if (groupIds.length === 0) {
    groupIds.push([...model.securityGroups.values()].find((s) => s.name === 'default' && s.vpcId === subnet.vpcId)!.id);
  }
  const userData = params.get('UserData');
  if (userData !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(userData)) {
    throw new Ec2SimError('InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
  }
  const room = model.limits.instances - model.liveInstances().length;
  if (room < min) {
    throw new Ec2SimError(
      'InstanceLimitExceeded',
      `You have requested more instances (${min}) than your current instance limit of ${model.limits.instances} ` +
        'allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.',
    );
  }
  const reservationId = newId('r');
  const now = Date.now();
  const tags = params.tagSpecs('instance');
  const launched: Instance[] = [];
  for (let n = 0; n < Math.min(max, room); n++) {
    const inst: Instance = {
      id: newId('i'),
      reservationId,
      imageId,
      type,
      keyName,
      groupIds: [...new Set(groupIds)],
      subnetId,
      vpcId: subnet.vpcId,
      privateIp: model.allocatePrivateIp(),
      launchTime: new Date(now).toISOString(),
      launchIndex: n,
      state: 'pending',
      stateSince: now,
      userData,
      clientToken: token,
      failBoot: inject?.bootFailure,
      visibleAt: now + model.timings.visibilityDelayMs,
    };
    model.instances.set(inst.id, inst);
    model.addTags(inst.id, tags);
    launched.push(inst);
  }
  if (token !== undefined) model.clientTokens.set(token, { reservationId, fingerprint });
  return reservationBody(model, reservationId, launched);
}

function reservationBody(model: Ec2Model, reservationId: string, instances: Instance[]) {
  return {
    reservationId,
    ownerId: ACCOUNT_ID,
    groupSet: [],
    instancesSet: instances.map((i) => instanceXml(model, i)),
  };
}

function instanceFilter(model: Ec2Model, i: Instance, name: string) {
  const addr = model.addressOf(i.id);
  const table: Record<string, (string | number | undefined)[]> = {
    'instance-id': [i.id],
    'instance-state-name': [i.state],
    'instance-state-code': [STATE_CODES[i.state]],
    'image-id': [i.imageId],
    'instance-type': [i.type],
    'key-name': [i.keyName],
    'subnet-id': [i.subnetId],
    'vpc-id': [i.vpcId],
    'private-ip-address': [i.privateIp],
    'ip-address': [addr?.publicIp],
    'client-token': [i.clientToken],
    'reservation-id': [i.reservationId],
    'availability-zone': [model.subnets.get(i.subnetId)?.az],
    'instance.group-id': i.groupIds,
    'group-id': i.groupIds,
    'instance.group-name': i.groupIds.map((g) => model.securityGroups.get(g)?.name),
  };
  return table[name];
}

function describeInstances(ctx: ActionContext) {
  const { model, params } = ctx;
  const ids = params.list('InstanceId');
  const filters = params.filters();
  const now = Date.now();
  const candidates = ids.length ? findInstances(model, ids) : [...model.instances.values()].filter((i) => i.visibleAt <= now);
  const matched = candidates.filter((i) => matchesFilters(filters, model.tags.get(i.id), (n) => instanceFilter(model, i, n)));
  const { page, nextToken } = paginate(matched, ctx);
  return { reservationSet: reservationsXml(model, page), nextToken };
}

type Transition = (model: Ec2Model, i: Instance) => void;

function changeStates(setName: string, transition: Transition) {
  return ({ model, params }: ActionContext) => {
    const ids = params.list('InstanceId');
    if (ids.length === 0) throw new Ec2SimError('MissingParameter', 'The request must contain the parameter InstanceId');
    const instances = findInstances(model, ids);
    const before = instances.map((i) => i.state);
    instances.forEach((i) => transition(model, i));
    return {
      [setName]: instances.map((i, n) => ({
        instanceId: i.id,
        currentState: stateXml(i.state),
        previousState: stateXml(before[n]),
      })),
    };
  };
}

const terminate: Transition = (model, i) => {
  if (i.state === 'terminated' || i.state === 'shutting-down') return;
  // EC2 disassociates an Elastic IP from an instance that terminates; the address stays allocated.
  const addr = model.addressOf(i.id);
  if (addr) {
    addr.instanceId = undefined;
    addr.associationId = undefined;
  }
  model.setState(i, 'shutting-down');
};

const stop: Transition = (model, i) => {
  if (i.state === 'stopped' || i.state === 'stopping') return;
  if (i.state !== 'running') {
    throw new Ec2SimError('IncorrectInstanceState', `This instance '${i.id}' is not in a state from which it can be stopped.`);
  }
  model.setState(i, 'stopping');
};

const start: Transition = (model, i) => {
  if (i.state === 'running' || i.state === 'pending') return;
  if (i.state !== 'stopped') {
    throw new Ec2SimError('IncorrectInstanceState', `The instance '${i.id}' is not in a state from which it can be started.`);
  }
  model.setState(i, 'pending');
};

function rebootInstances({ model, params }: ActionContext) {
  for (const i of findInstances(model, params.list('InstanceId'))) {
    if (i.state === 'terminated' || i.state === 'shutting-down') {
      throw new Ec2SimError('IncorrectInstanceState', `The instance '${i.id}' is not in a state from which it can be rebooted.`);
    }
  }
  return { return: true };
}

/**
 * ModifyInstanceAttribute for the instance type, in either of AWS's spellings (`InstanceType.Value=T`,
 * or the older `Attribute=instanceType&Value=T` that boto's modify_attribute sends). As AWS: only a
 * stopped instance changes type; other attributes are not modelled here.
 */
function modifyInstanceAttribute({ model, params }: ActionContext) {
  const [inst] = findInstances(model, [params.required('InstanceId')]);
  const attribute = params.get('Attribute');
  let type = params.get('InstanceType.Value');
  if (attribute !== undefined) {
    if (attribute !== 'instanceType') throw new Ec2SimError('UnsupportedOperation', `The simulator models only the instanceType attribute, not '${attribute}'.`);
    type = params.get('Value');
  }
  if (type === undefined) throw new Ec2SimError('MissingParameter', 'The request must contain the parameter InstanceType.Value or Attribute and Value');
  if (!model.instanceTypes.some((t) => t.name === type)) {
    throw new Ec2SimError('InvalidInstanceAttributeValue', `Value (${type}) for parameter instanceType is invalid. Unknown instance type.`);
  }
  if (inst.state !== 'stopped') throw new Ec2SimError('IncorrectInstanceState', `The instance '${inst.id}' is not in the 'stopped' state.`);
  inst.type = type;
  return { return: true };
}

export const instanceActions: ActionTable = {
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  TerminateInstances: changeStates('instancesSet', terminate),
  StopInstances: changeStates('instancesSet', stop),
  StartInstances: changeStates('instancesSet', start),
  RebootInstances: rebootInstances,
  ModifyInstanceAttribute: modifyInstanceAttribute,
};
