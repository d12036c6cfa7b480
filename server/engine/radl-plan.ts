/**
 * RADL means the same Plan as TOSCA (one model, two front ends): each deployed `system` is a compute
 * (cpu.count, memory.size, instance_type, disk.0.image.url, credentials user, net_interface.N.connection
 * to networks; a connection to an `outbound = 'yes'` network asks for a public IP, so the floating-IP policy
 * applies unchanged), `deploy` lines give the counts and the cloud id, networks keep their provider_id.
 * Sizes follow IM's reading: memory in decimal megabytes (getValue('M')), disks in gigabytes.
 * `configure` recipes become Ansible software nodes in contextualize order (./radl-configure).
 */
import { FeatureAspect, parseRadl, RadlError, type Radl } from '../../radl';
import type { ComputePlan, NetworkPlan, Plan, PortRule } from '../../tosca/plan';
import { InvalidInputError } from '../errors';
import { radlConfigureSoftware } from './radl-configure';

const KEYWORD_LINE = /^\s*(network|system|configure|contextualize|deploy|description|ansible)(\s|\(|$)/;

/** Whether stored/posted template text is RADL: its first meaningful line starts with a RADL keyword. */
export function isRadlText(text: string): boolean {
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    return KEYWORD_LINE.test(t) && !/^\w+\s*:/.test(t);
  }
  return false;
}

/** Parse RADL for the engine: a RadlError becomes IM's 400 with our location. */
export function parseRadlOrReject(text: string): Radl {
  try {
    return parseRadl(text, 'radl');
  } catch (e) {
    if (e instanceof RadlError) throw new InvalidInputError(`Error parsing RADL: ${e.message}`);
    throw e;
  }
}

function num(s: FeatureAspect, prop: string, divisor = 1): number | undefined {
  const v = s.getValue(prop);
  return typeof v === 'number' ? v / divisor : undefined;
}

/** `outports`: "80,443/tcp,8000:8010/udp,22/tcp-2222/tcp" (remote[-local]); the VM's side is the local port. */
export function parseOutports(text: string): PortRule[] {
  const rules: PortRule[] = [];
  for (const raw of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const local = raw.includes('-') ? raw.split('-')[1] : raw;
    const [ports, proto = 'tcp'] = local.split('/');
    const [from, to = from] = ports.split(':').map(Number);
    const protocol = proto.toLowerCase();
    if (!Number.isInteger(from) || !Number.isInteger(to) || !['tcp', 'udp', 'icmp'].includes(protocol)) {
      throw new InvalidInputError(`Error parsing RADL: invalid outports "${text}"`);
    }
    rules.push({ from, to, protocol: protocol as PortRule['protocol'], source: '0.0.0.0/0', public: true });
  }
  return rules;
}

function isPublic(n: FeatureAspect | undefined): boolean {
  return String(n?.getValue('outbound') ?? 'no').toLowerCase() === 'yes';
}

function computeOf(radl: Radl, s: FeatureAspect, count: number, cloudId?: string): ComputePlan {
  const image = s.getValue('disk.0.image.url');
  const c: ComputePlan = {
    name: s.id, type: 'tosca.nodes.indigo.Compute', count, removalList: [], host: {}, os: {},
    publicIp: false, networks: [], ports: [], software: [],
  };
  const cpus = num(s, 'cpu.count');
  if (cpus !== undefined) c.host.numCpus = cpus;
  const mem = num(s, 'memory.size', 1e6);
  if (mem !== undefined) c.host.memSizeMB = mem;
  const disk = num(s, 'disks.free_size', 1e9) ?? num(s, 'disk.0.free_size', 1e9);
  if (disk !== undefined) c.host.diskSizeGB = disk;
  const it = s.getString('instance_type');
  if (it) c.host.instanceType = it;
  const gpus = num(s, 'gpu.count');
  if (gpus !== undefined) c.host.numGpus = gpus;
  const str = (p: string) => s.getString(p);
  if (typeof image === 'string') c.os.image = image;
  else if (Array.isArray(image) && image.length) c.os.image = image[0];
  if (str('disk.0.os.flavour')) c.os.distribution = str('disk.0.os.flavour');
  if (str('disk.0.os.version')) c.os.version = str('disk.0.os.version');
  if (str('disk.0.os.name')) c.os.type = str('disk.0.os.name');
  if (str('cpu.arch')) c.os.architecture = str('cpu.arch');
  if (str('disk.0.os.credentials.username')) c.os.credentials = { user: str('disk.0.os.credentials.username') };
  for (let i = 0; ; i++) {
    const conn = s.getString(`net_interface.${i}.connection`);
    if (conn === undefined) break;
    const net = radl.getNetwork(conn);
    const provider = net?.getString('provider_id');
    if (isPublic(net)) {
      c.publicIp = true;
      if (provider) c.publicNetwork = provider;
      const outports = net?.getString('outports');
      if (outports) c.ports.push(...parseOutports(outports));
    } else if (provider) c.networks.push(provider);
    const dns = s.getString(`net_interface.${i}.dns_name`);
    if (dns && !c.dnsName) c.dnsName = dns;
  }
  if (cloudId) c.cloudId = cloudId;
  return c;
}

/** The Plan of a RADL document: a compute per deployed system, the networks, no outputs. */
export function radlToPlan(radl: Radl): Plan {
  const counts = new Map<string, { n: number; cloud?: string }>();
  for (const d of radl.deploys) {
    if (!radl.getSystem(d.system)) throw new InvalidInputError(`Error parsing RADL: radl:${d.loc.line}:${d.loc.column} deploy of an undefined system "${d.system}"`);
    const prev = counts.get(d.system);
    counts.set(d.system, { n: (prev?.n ?? 0) + d.vmNumber, cloud: d.cloud ?? prev?.cloud });
  }
  // every defined system is a compute (an undeployed one with count 0), so AlterVM's `system front (…)` sizes it
  const computes = radl.systems.map((s) => computeOf(radl, s, counts.get(s.id)?.n ?? 0, counts.get(s.id)?.cloud));
  const networks: NetworkPlan[] = radl.networks.map((n) => {
    const p: NetworkPlan = { name: n.id, public: isPublic(n) };
    const provider = n.getString('provider_id');
    if (provider) p.networkName = provider;
    const cidr = n.getString('cidr');
    if (cidr) p.cidr = cidr;
    return p;
  });
  // deploy order: the systems as their first deploy line names them
  const deployed = [...counts.keys()];
  const { software, warnings } = radlConfigureSoftware(radl, deployed);
  for (const c of computes) c.software = software.filter((s) => s.host === c.name).map((s) => s.name);
  return {
    ...(warnings.length ? { warnings } : {}),
    toscaVersion: 'radl', inputs: {},
    nodes: [...computes, ...software].map((n) => ({ name: n.name, type: n.type, properties: {} })),
    computes, software, volumes: [], networks, order: [...computes, ...software].map((n) => n.name), outputs: {}, elastic: [],
  };
}

/**
 * RADL AddResource: `deploy front 2` adds two VMs to what runs (TOSCA's count is the new total instead).
 * The computes posted, with the features of the merged document and the total each system reaches.
 */
export function radlAdditions(posted: Plan, merged: Plan, running: (node: string) => number): ComputePlan[] {
  return posted.computes.filter((c) => c.count > 0).map((c) => {
    const full = merged.computes.find((m) => m.name === c.name) ?? c;
    return { ...full, count: running(c.name) + c.count, cloudId: c.cloudId ?? full.cloudId };
  });
}
