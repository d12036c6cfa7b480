/**
 * One Compute node → ComputePlan: count (IM's rule), sizing, OS, and the network wishes. A public IP is
 * planned only when the template asks for one (public endpoint, public network port, public software
 * endpoint hosted on it); private is the default.
 */
import type { ComputePlan, PlanValue, PortRule } from '../plan';
import type { NodeTemplate } from '../template/model';
import { sizeIn } from '../types/scalar';
import { hasKey, isRecord, text } from '../util';
import type { PlanContext } from './context';
import { bool, num, str, unwrapClause } from './values';

type Props = Record<string, PlanValue>;

/**
 * VMs a template may ask for, per node and in all: more than a cloud account holds, and a typo such as
 * `count: 1e9` must not have the engine build a billion VM records (it stalled the whole server,
 * even for a dry run).
 */
export const MAX_COUNT = 1000;

export function computePlan(nt: NodeTemplate, ctx: PlanContext): ComputePlan {
  const r = ctx.resolver;
  const capOfType = (type: string, fallback: string): string | undefined => {
    if (nt.type.capabilities.has(fallback) || hasKey(nt.capabilities, fallback)) return fallback;
    for (const c of nt.type.capabilities.values()) if (ctx.template.registry.isA('capability', c.type, type)) return c.name;
    return undefined;
  };
  const caps = (type: string, name: string): Props => {
    const c = capOfType(type, name);
    return c ? r.capabilityProperties(nt, c) : {};
  };
  const scalable = caps('tosca.capabilities.Scalable', 'scalable');
  const host = caps('tosca.capabilities.Compute', 'host');
  const os = caps('tosca.capabilities.OperatingSystem', 'os');
  const endpointName = capOfType('tosca.capabilities.Endpoint', 'endpoint');
  const endpoint = endpointName ? r.capabilityProperties(nt, endpointName) : {};
  const props = r.nodeProperties(nt);

  const minInstances = num(scalable.min_instances);
  const maxInstances = num(scalable.max_instances);
  const count = num(scalable.count) ?? num(scalable.default_instances) ?? minInstances ?? 1;
  if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
    throw nt.file.error('constraint', `count ${count} is out of range: a node has 0 to ${MAX_COUNT} instances`,
      [...nt.path, 'capabilities', 'scalable', 'properties', 'count']);
  }
  const removal = Array.isArray(scalable.removal_list) ? scalable.removal_list.map((x) => text(x)) : [];

  const plan: ComputePlan = {
    name: nt.name,
    type: nt.type.name,
    count,
    ...(minInstances !== undefined ? { minInstances } : {}),
    ...(maxInstances !== undefined ? { maxInstances } : {}),
    removalList: removal,
    host: definedOnly({
      numCpus: num(host.num_cpus),
      memSizeMB: sizeIn(unwrapClause(host.mem_size), 'MB', 'MB'),
      diskSizeGB: sizeIn(unwrapClause(host.disk_size), 'GB', 'GB'),
      instanceType: str(host.instance_type),
      numGpus: num(host.num_gpus),
      gpuVendor: str(host.gpu_vendor),
      gpuModel: str(host.gpu_model),
      preemptible: bool(host.preemtible_instance ?? host.preemptible_instance),
    }),
    os: definedOnly({
      image: str(os.image) ?? str(props.image),
      distribution: str(os.distribution),
      version: versionText(nt, ctx, os.version),
      type: str(os.type),
      architecture: str(os.architecture),
      credentials: credentialsOf(os.credential),
    }),
    publicIp: false,
    networks: [],
    ports: [],
    software: [],
  };

  const endpointPublic = endpointName !== undefined &&
    ctx.template.registry.isA('capability', nt.type.capabilities.get(endpointName)?.type ?? '', 'tosca.capabilities.Endpoint.Public');
  applyNetworkName(plan, str(endpoint.network_name), endpointPublic);
  plan.ports.push(...portsOf(endpoint, plan.publicIp));
  const dns = str(endpoint.dns_name);
  if (dns) plan.dnsName = dns;
  return plan;
}

/** PUBLIC, "<provider>.PUBLIC" or "<provider>.PUBLIC,<pool>" ask for a public IP; other names are private nets. */
export function applyNetworkName(plan: ComputePlan, name: string | undefined, forcedPublic = false): void {
  if (forcedPublic) plan.publicIp = true;
  if (!name) return;
  const [net, pool] = name.split(',').map((s) => s.trim());
  if (net.toUpperCase() === 'PUBLIC' || /\.PUBLIC$/i.test(net)) {
    plan.publicIp = true;
    const provider = net.toUpperCase() === 'PUBLIC' ? undefined : net.replace(/\.PUBLIC$/i, '');
    const wanted = pool || provider;
    if (wanted) plan.publicNetwork = wanted;
  } else if (net.toUpperCase() !== 'PRIVATE') {
    // "<provider network>.PRIVATE" names a private network by id
    const priv = net.replace(/\.PRIVATE$/i, '');
    if (!plan.networks.includes(priv)) plan.networks.push(priv);
  }
}

export function portsOf(endpoint: Props, isPublic: boolean): PortRule[] {
  const out: PortRule[] = [];
  const ports = endpoint.ports;
  if (isRecord(ports) && !('$ref' in ports)) {
    for (const spec of Object.values(ports)) {
      if (!isRecord(spec)) continue;
      const rule = portRule(spec as Props, isPublic);
      if (rule) out.push(rule);
    }
  }
  const single = num(endpoint.port);
  if (single !== undefined) {
    out.push({ from: single, to: single, protocol: protocolOf(endpoint.protocol), source: '0.0.0.0/0', public: isPublic });
  }
  return out;
}

function portRule(spec: Props, isPublic: boolean): PortRule | undefined {
  const range = Array.isArray(spec.source_range) ? spec.source_range : Array.isArray(spec.target_range) ? spec.target_range : undefined;
  let from = num(spec.source) ?? num(spec.target);
  let to = from;
  if (from === undefined && range) {
    from = num(range[0]);
    to = num(range[1]);
  }
  if (from === undefined || to === undefined) return undefined;
  return { from, to, protocol: protocolOf(spec.protocol), source: str(spec.remote_cidr) ?? '0.0.0.0/0', public: isPublic };
}

function protocolOf(v: PlanValue | undefined): PortRule['protocol'] {
  const p = str(v)?.toLowerCase();
  return p === 'udp' || p === 'icmp' ? p : 'tcp';
}

/** os.version as written ("7.10", not the float 7.1). */
function versionText(nt: NodeTemplate, ctx: PlanContext, v: PlanValue | undefined): string | undefined {
  const x = unwrapClause(v);
  if (typeof x === 'number') {
    return nt.file.numberText(x);
  }
  return str(x);
}

function credentialsOf(v: PlanValue | undefined): ComputePlan['os']['credentials'] {
  if (!isRecord(v) || '$ref' in v) return undefined;
  const c = v as Props;
  const out = definedOnly({ user: str(c.user), token: str(c.token), tokenType: str(c.token_type) });
  return Object.keys(out).length ? out : undefined;
}

function definedOnly<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
