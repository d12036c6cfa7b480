/** Networks, ports binding computes to them, and block storage attachments. */
import type { ComputePlan, NetworkPlan, VolumePlan } from '../plan';
import type { NodeTemplate } from '../template/model';
import { sizeIn } from '../types/scalar';
import { applyNetworkName } from './compute';
import type { PlanContext } from './context';
import { str } from './values';

export function networkPlan(nt: NodeTemplate, ctx: PlanContext): NetworkPlan {
  const p = ctx.resolver.nodeProperties(nt);
  const networkName = str(p.network_name);
  const out: NetworkPlan = { name: nt.name, public: isPublicNetwork(nt, ctx), ...(networkName ? { networkName } : {}) };
  const cidr = str(p.cidr);
  if (cidr) out.cidr = cidr;
  return out;
}

function isPublicNetwork(nt: NodeTemplate, ctx: PlanContext): boolean {
  const p = ctx.resolver.nodeProperties(nt);
  return str(p.network_type)?.toLowerCase() === 'public' || str(p.network_name)?.toUpperCase() === 'PUBLIC';
}

/** A Port binds a compute (binding) to a network (link): public networks give the compute a public IP. */
export function applyPort(port: NodeTemplate, ctx: PlanContext, computes: Map<string, ComputePlan>): void {
  const reg = ctx.template.registry;
  const rel = (type: string) => port.requirements.find((r) => r.target !== undefined && r.relationshipType !== undefined && reg.isA('relationship', r.relationshipType, type));
  const binding = rel('tosca.relationships.network.BindsTo') ?? port.requirements.find((r) => r.name === 'binding');
  const link = rel('tosca.relationships.network.LinksTo') ?? port.requirements.find((r) => r.name === 'link');
  const compute = binding?.target !== undefined ? computes.get(ctx.computeOf(binding.target) ?? '') : undefined;
  const net = link?.target !== undefined ? ctx.template.nodes.get(link.target) : undefined;
  if (!compute || !net) return;
  const p = ctx.resolver.nodeProperties(net);
  if (isPublicNetwork(net, ctx)) {
    compute.publicIp = true;
    const pool = str(p.network_name);
    if (pool && pool.toUpperCase() !== 'PUBLIC') applyNetworkName(compute, `${pool}.PUBLIC`);
  } else {
    const name = str(p.network_name) ?? net.name;
    if (!compute.networks.includes(name)) compute.networks.push(name);
  }
  const dns = str(ctx.resolver.nodeProperties(port).dns_name);
  if (dns && !compute.dnsName) compute.dnsName = dns;
}

export function volumePlan(nt: NodeTemplate, ctx: PlanContext): VolumePlan {
  const p = ctx.resolver.nodeProperties(nt);
  const out: VolumePlan = { name: nt.name };
  const size = sizeIn(p.size, 'GB', 'GB');
  if (size !== undefined) out.sizeGB = size;
  const id = str(p.volume_id);
  if (id) out.volumeId = id;
  const type = str(p.type);
  if (type) out.type = type;
  // the attachment is written on the compute side: a requirement whose target is this volume
  for (const src of ctx.template.nodes.values()) {
    const req = src.requirements.find((r) => r.target === nt.name);
    if (!req) continue;
    out.attachedTo = ctx.computeOf(src.name) ?? src.name;
    const device = ctx.resolver.relationshipProperty(src.name, nt.name, 'device');
    const location = ctx.resolver.relationshipProperty(src.name, nt.name, 'location');
    const d = device.found ? str(device.value) : undefined;
    const l = location.found ? str(location.value) : undefined;
    if (d) out.device = d;
    if (l) out.location = l;
    break;
  }
  return out;
}

/** A FloatingIP node (OpenStack/Heat style) linked to a port or compute: that compute gets a public IP from its pool. */
export function applyFloatingIp(fip: NodeTemplate, ctx: PlanContext, computes: Map<string, ComputePlan>): void {
  for (const req of fip.requirements) {
    if (req.target === undefined) continue;
    const target = ctx.template.nodes.get(req.target)!;
    let computeName = ctx.computeOf(req.target);
    if (!computeName && ctx.isA(target, 'tosca.nodes.network.Port')) {
      const binding = target.requirements.find((r) => r.name === 'binding' && r.target !== undefined);
      computeName = binding ? ctx.computeOf(binding.target!) : undefined;
    }
    const compute = computeName ? computes.get(computeName) : undefined;
    if (!compute) continue;
    compute.publicIp = true;
    const pool = str(ctx.resolver.nodeProperties(fip).floating_network);
    if (pool) compute.publicNetwork = pool;
  }
}
