/** Images, instance types, regions and zones, key pairs, and the generic tag calls. */
import { createHash } from 'node:crypto';
import { Ec2SimError, missing } from '../errors';
import { ACCOUNT_ID, Ec2Model, matchesFilters, newId } from '../model';
import { ActionContext, ActionTable, paginate } from './context';

function describeImages({ model, params }: ActionContext) {
  const ids = params.list('ImageId');
  const owners = params.list('Owner');
  for (const id of ids) {
    if (!/^ami-[0-9a-f]+$/.test(id)) throw new Ec2SimError('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
    if (!model.images.has(id)) throw new Ec2SimError('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
  }
  const filters = params.filters();
  const images = [...model.images.values()].filter(
    (i) =>
      (ids.length === 0 || ids.includes(i.id)) &&
      (owners.length === 0 ||
        owners.some((o) => o === i.owner || (o === ACCOUNT_ID && i.owner === 'self') || (o === 'amazon' && i.owner === 'amazon'))) &&
      matchesFilters(filters, model.tags.get(i.id), (n) =>
        ({
          'image-id': [i.id],
          name: [i.name],
          state: ['available'],
          architecture: [i.architecture],
          'owner-alias': [i.owner === 'amazon' ? 'amazon' : undefined],
          'owner-id': [i.owner === 'amazon' ? '137112412989' : ACCOUNT_ID],
          'image-type': ['machine'],
          'is-public': [i.owner === 'amazon'],
          'virtualization-type': ['hvm'],
          'root-device-type': ['ebs'],
        })[n],
      ),
  );
  return {
    imagesSet: images.map((i) => ({
      imageId: i.id,
      imageLocation: `${i.owner === 'amazon' ? 'amazon' : ACCOUNT_ID}/${i.name}`,
      imageState: 'available',
      imageOwnerId: i.owner === 'amazon' ? '137112412989' : ACCOUNT_ID,
      creationDate: '2024-01-01T00:00:00.000Z',
      isPublic: i.owner === 'amazon',
      architecture: i.architecture,
      imageType: 'machine',
      imageOwnerAlias: i.owner === 'amazon' ? 'amazon' : undefined,
      name: i.name,
      description: i.name,
      rootDeviceType: 'ebs',
      rootDeviceName: '/dev/xvda',
      blockDeviceMapping: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 8, deleteOnTermination: true, volumeType: 'gp3' } }],
      virtualizationType: 'hvm',
      hypervisor: 'xen',
      tagSet: model.tagSet(i.id),
    })),
  };
}

function describeInstanceTypes(ctx: ActionContext) {
  const { model, params } = ctx;
  const names = params.list('InstanceType');
  for (const n of names) {
    if (!model.instanceTypes.some((t) => t.name === n)) throw new Ec2SimError('InvalidInstanceType', `The following supplied instance types do not exist: [${n}]`);
  }
  const filters = params.filters();
  const types = model.instanceTypes.filter(
    (t) =>
      (names.length === 0 || names.includes(t.name)) &&
      matchesFilters(filters, undefined, (n) =>
        ({
          'instance-type': [t.name],
          'vcpu-info.default-vcpus': [t.vcpus],
          'memory-info.size-in-mib': [t.memoryMiB],
          'current-generation': [true],
        })[n],
      ),
  );
  const { page, nextToken } = paginate(types, ctx);
  return {
    instanceTypeSet: page.map((t) => ({
      instanceType: t.name,
      currentGeneration: true,
      freeTierEligible: t.name === 't2.micro',
      supportedUsageClasses: ['on-demand'],
      supportedRootDeviceTypes: ['ebs'],
      bareMetal: false,
      hypervisor: 'nitro',
      processorInfo: { supportedArchitectures: ['x86_64'] },
      vCpuInfo: { defaultVCpus: t.vcpus, defaultCores: Math.max(1, t.vcpus / 2), defaultThreadsPerCore: t.vcpus > 1 ? 2 : 1 },
      memoryInfo: { sizeInMiB: t.memoryMiB },
      instanceStorageSupported: false,
    })),
    nextToken,
  };
}

function describeRegions({ model, url }: ActionContext) {
  return { regionInfo: [{ regionName: model.region, regionEndpoint: url.replace(/^https?:\/\//, ''), optInStatus: 'opt-in-not-required' }] };
}

function describeAvailabilityZones({ model }: ActionContext) {
  return {
    availabilityZoneInfo: [...new Set([...model.subnets.values()].map((s) => s.az))].map((zoneName) => ({
      zoneName,
      zoneState: 'available',
      regionName: model.region,
      zoneId: 'use1-az1',
      zoneType: 'availability-zone',
      messageSet: [],
    })),
  };
}

// ---- key pairs ----

/** AWS shows an imported key's fingerprint as the colon-separated MD5 of the key blob. */
function fingerprint(blob: Buffer): string {
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

function importKeyPair({ model, params }: ActionContext) {
  const name = params.required('KeyName');
  const material = Buffer.from(params.required('PublicKeyMaterial'), 'base64').toString('utf8').trim();
  const m = /^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp\d+)\s+([A-Za-z0-9+/=]+)/.exec(material);
  if (!m) throw new Ec2SimError('InvalidKey.Format', 'Key is not in valid OpenSSH public key format');
  if ([...model.keyPairs.values()].some((k) => k.name === name)) {
    throw new Ec2SimError('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
  }
  const key = {
    id: newId('key'),
    name,
    fingerprint: fingerprint(Buffer.from(m[2], 'base64')),
    publicKey: material,
    type: m[1] === 'ssh-ed25519' ? 'ed25519' : 'rsa',
    created: new Date().toISOString(),
  };
  model.keyPairs.set(key.id, key);
  model.addTags(key.id, params.tagSpecs('key-pair'));
  return { keyFingerprint: key.fingerprint, keyName: key.name, keyPairId: key.id, tagSet: model.tagSet(key.id) };
}

/** EC2 answers true for a key pair that does not exist: deleting is idempotent. */
function deleteKeyPair({ model, params }: ActionContext) {
  const name = params.get('KeyName');
  const id = params.get('KeyPairId');
  if (!name && !id) throw missing('KeyName');
  for (const k of [...model.keyPairs.values()]) {
    if (k.name === name || k.id === id) {
      model.keyPairs.delete(k.id);
      model.tags.delete(k.id);
    }
  }
  return { return: true };
}

function describeKeyPairs({ model, params }: ActionContext) {
  const names = params.list('KeyName');
  const ids = params.list('KeyPairId');
  const all = [...model.keyPairs.values()];
  for (const n of names) if (!all.some((k) => k.name === n)) throw new Ec2SimError('InvalidKeyPair.NotFound', `The key pair '${n}' does not exist`);
  for (const i of ids) if (!all.some((k) => k.id === i)) throw new Ec2SimError('InvalidKeyPair.NotFound', `The key pair '${i}' does not exist`);
  const filters = params.filters();
  const keys = all.filter(
    (k) =>
      (names.length === 0 || names.includes(k.name)) &&
      (ids.length === 0 || ids.includes(k.id)) &&
      matchesFilters(filters, model.tags.get(k.id), (n) =>
        ({ 'key-name': [k.name], 'key-pair-id': [k.id], fingerprint: [k.fingerprint] })[n],
      ),
  );
  return {
    keySet: keys.map((k) => ({
      keyPairId: k.id,
      keyName: k.name,
      keyFingerprint: k.fingerprint,
      keyType: k.type,
      tagSet: model.tagSet(k.id),
      createTime: k.created,
    })),
  };
}

// ---- tags ----

type ResourceType = 'instance' | 'security-group' | 'elastic-ip' | 'key-pair' | 'vpc' | 'subnet' | 'image';

function resourceType(model: Ec2Model, id: string): ResourceType {
  const table: [string, ResourceType, () => boolean, string][] = [
    ['i-', 'instance', () => model.instances.has(id), 'InvalidInstanceID.NotFound'],
    ['sg-', 'security-group', () => model.securityGroups.has(id), 'InvalidGroup.NotFound'],
    ['eipalloc-', 'elastic-ip', () => model.addresses.has(id), 'InvalidAllocationID.NotFound'],
    ['key-', 'key-pair', () => model.keyPairs.has(id), 'InvalidKeyPairId.NotFound'],
    ['vpc-', 'vpc', () => model.vpcs.has(id), 'InvalidVpcID.NotFound'],
    ['subnet-', 'subnet', () => model.subnets.has(id), 'InvalidSubnetID.NotFound'],
    ['ami-', 'image', () => model.images.has(id), 'InvalidAMIID.NotFound'],
  ];
  const row = table.find(([prefix]) => id.startsWith(prefix));
  if (!row) throw new Ec2SimError('InvalidID', `The ID '${id}' is not valid`);
  if (!row[2]()) throw new Ec2SimError(row[3], `The ID '${id}' does not exist`);
  return row[1];
}

function createTags({ model, params }: ActionContext) {
  const ids = params.list('ResourceId');
  if (ids.length === 0) throw missing('ResourceId');
  const tags = params.tags();
  ids.forEach((id) => resourceType(model, id));
  ids.forEach((id) => model.addTags(id, tags));
  return { return: true };
}

function deleteTags({ model, params }: ActionContext) {
  const ids = params.list('ResourceId');
  const tags = params.structs('Tag').map((t) => ({ key: t.required('Key'), value: t.get('Value') }));
  for (const id of ids) {
    const have = model.tags.get(id);
    if (!have) continue;
    if (tags.length === 0) have.clear();
    for (const t of tags) if (t.value === undefined || have.get(t.key) === t.value) have.delete(t.key);
  }
  return { return: true };
}

function describeTags(ctx: ActionContext) {
  const { model, params } = ctx;
  const filters = params.filters();
  const rows: { resourceId: string; resourceType: ResourceType; key: string; value: string }[] = [];
  for (const [id, tags] of model.tags) {
    let type: ResourceType;
    try {
      type = resourceType(model, id);
    } catch {
      continue;
    }
    for (const [key, value] of tags) {
      const row = { resourceId: id, resourceType: type, key, value };
      const ok = matchesFilters(filters, undefined, (n) =>
        ({ 'resource-id': [id], 'resource-type': [type], key: [key], value: [value] })[n],
      );
      if (ok) rows.push(row);
    }
  }
  const { page, nextToken } = paginate(rows, ctx);
  return { tagSet: page, nextToken };
}

/** The account limits EC2 states itself: the model's limits, and AWS's defaults for the rest. */
function accountAttributes(model: Ec2Model): Record<string, string[]> {
  return {
    'supported-platforms': ['VPC'],
    'default-vpc': ['vpc-default'],
    'max-instances': [String(model.limits.instances)],
    'max-elastic-ips': [String(model.limits.addresses)],
    'vpc-max-elastic-ips': [String(model.limits.addresses)],
    'vpc-max-security-groups-per-interface': ['5'],
  };
}

function describeAccountAttributes({ model, params }: ActionContext) {
  const all = accountAttributes(model);
  const names = params.list('AttributeName');
  for (const n of names) {
    if (!(n in all)) throw new Ec2SimError('InvalidParameterValue', `Value (${n}) for parameter attributeName is invalid. Unknown attribute name.`);
  }
  const wanted = names.length ? names : Object.keys(all);
  return {
    accountAttributeSet: wanted.map((n) => ({ attributeName: n, attributeValueSet: all[n].map((v) => ({ attributeValue: v })) })),
  };
}

export const catalogActions: ActionTable = {
  DescribeAccountAttributes: describeAccountAttributes,
  DescribeImages: describeImages,
  DescribeInstanceTypes: describeInstanceTypes,
  DescribeRegions: describeRegions,
  DescribeAvailabilityZones: describeAvailabilityZones,
  ImportKeyPair: importKeyPair,
  DeleteKeyPair: deleteKeyPair,
  DescribeKeyPairs: describeKeyPairs,
  CreateTags: createTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
};
