/** ServiceTemplate + resolver → Plan: every step reads the resolved template and fills its part. */
import type { ComputePlan, Plan, PlanValue, SoftwarePlan } from '../plan';
import type { ServiceTemplate } from '../template/model';
import type { TemplateResolver } from '../template/resolve';
import { computePlan, portsOf, MAX_COUNT } from './compute';
import { PlanContext } from './context';
import { elasticClusterPolicies, isElasticCluster, scalingPolicies, targetComputes } from './elastic';
import { applyFloatingIp, applyPort, networkPlan, volumePlan } from './network';
import { lifecycleOperations, teardownOperations } from './operations';
import { dependencyOrder } from './order';
import { str } from './values';
import { hasKey } from '../util';

export function buildPlan(st: ServiceTemplate, resolver: TemplateResolver): Plan {
  const ctx = new PlanContext(st, resolver);
  const order = dependencyOrder(st);
  const plan: Plan = {
    toscaVersion: st.version,
    ...(st.description !== undefined ? { description: st.description } : {}),
    inputs: resolver.allInputs(),
    nodes: [],
    computes: [],
    software: [],
    volumes: [],
    networks: [],
    order,
    outputs: {},
    elastic: [],
  };
  const computes = new Map<string, ComputePlan>();
  let vms = 0;
  for (const nt of st.nodes.values()) {
    plan.nodes.push({ name: nt.name, type: nt.type.name, properties: resolver.nodeProperties(nt) });
    if (ctx.isCompute(nt)) {
      const c = computePlan(nt, ctx);
      vms += c.count;
      if (vms > MAX_COUNT) throw nt.file.error('constraint', `the template asks for more than ${MAX_COUNT} VMs in all`, nt.path);
      const ops = lifecycleOperations(nt, ctx);
      if (ops.length) c.operations = ops;
      computes.set(nt.name, c);
    }
  }
  for (const nt of st.nodes.values()) {
    if (ctx.isCompute(nt)) continue;
    if (ctx.isA(nt, 'tosca.nodes.network.Network')) plan.networks.push(networkPlan(nt, ctx));
    else if (ctx.isA(nt, 'tosca.nodes.network.Port')) applyPort(nt, ctx, computes);
    else if (ctx.template.registry.has('node', 'tosca.nodes.network.FloatingIP') && ctx.isA(nt, 'tosca.nodes.network.FloatingIP')) applyFloatingIp(nt, ctx, computes);
    else if (ctx.isA(nt, 'tosca.nodes.BlockStorage')) plan.volumes.push(volumePlan(nt, ctx));
    else plan.software.push(softwarePlan(nt.name, ctx, computes));
  }
  const rank = new Map(order.map((n, i) => [n, i]));
  plan.software.sort((a, b) => rank.get(a.name)! - rank.get(b.name)!);
  for (const sw of plan.software) if (sw.host) computes.get(sw.host)?.software.push(sw.name);
  for (const policy of st.policies) {
    if (st.registry.isA('policy', policy.type.name, 'tosca.policies.Scaling')) plan.elastic.push(...scalingPolicies(policy, ctx, computes));
    else if (st.registry.isA('policy', policy.type.name, 'tosca.policies.Placement')) applyPlacement(policy, ctx, computes);
  }
  for (const nt of st.nodes.values()) if (isElasticCluster(nt)) plan.elastic.push(...elasticClusterPolicies(nt, ctx, computes));
  plan.computes = [...computes.values()];
  // a compute that got its public IP from a network port exposes its endpoint ports there too
  for (const c of plan.computes) if (c.publicIp) for (const p of c.ports) p.public = true;
  if (st.substitutionMappings) plan.substitutionMappings = st.substitutionMappings as Record<string, PlanValue>;
  if (st.groups.size) {
    plan.groups = {};
    for (const g of st.groups.values()) plan.groups[g.name] = { type: g.type, members: g.members };
  }
  for (const out of st.outputs.values()) {
    const value = resolver.evaluate(out.value, {}, { file: out.file, path: [...out.path, 'value'] });
    plan.outputs[out.name] = { ...(out.description !== undefined ? { description: out.description } : {}), value };
  }
  return plan;
}

function softwarePlan(name: string, ctx: PlanContext, computes: Map<string, ComputePlan>): SoftwarePlan {
  const nt = ctx.template.nodes.get(name)!;
  const host = ctx.computeOf(name);
  const direct = ctx.resolver.hostOf(name);
  const dependsOn: string[] = [];
  for (const r of nt.requirements) {
    if (r.target === undefined || r.target === direct || r.target === host || dependsOn.includes(r.target)) continue;
    dependsOn.push(r.target);
  }
  const compute = host ? computes.get(host) : undefined;
  if (compute) exposeEndpoints(nt, ctx, compute);
  const teardown = teardownOperations(nt, ctx);
  return {
    name,
    type: nt.type.name,
    ...(host ? { host } : {}),
    properties: ctx.resolver.nodeProperties(nt),
    operations: lifecycleOperations(nt, ctx),
    ...(teardown.length ? { teardown } : {}),
    dependsOn,
  };
}

/** Endpoint capabilities of hosted software marked PUBLIC open their ports on the host and make it public. */
function exposeEndpoints(nt: ServiceTemplate['nodes'] extends Map<string, infer N> ? N : never, ctx: PlanContext, compute: ComputePlan): void {
  for (const cap of nt.type.capabilities.values()) {
    if (!hasKey(nt.capabilities, cap.name)) continue;
    if (!ctx.template.registry.isA('capability', cap.type, 'tosca.capabilities.Endpoint')) continue;
    const props = ctx.resolver.capabilityProperties(nt, cap.name);
    if (str(props.network_name)?.toUpperCase() !== 'PUBLIC') continue;
    compute.publicIp = true;
    for (const rule of portsOf(props, true)) {
      if (!compute.ports.some((p) => p.from === rule.from && p.to === rule.to && p.protocol === rule.protocol)) compute.ports.push(rule);
    }
  }
}

function applyPlacement(policy: ServiceTemplate['policies'][number], ctx: PlanContext, computes: Map<string, ComputePlan>): void {
  const cloud = policy.properties.cloud_id;
  const v: PlanValue = ctx.resolver.evaluate(cloud, {}, { file: policy.file, path: [...policy.path, 'properties', 'cloud_id'] });
  const id = str(v);
  if (!id) return;
  for (const t of targetComputes(policy, ctx)) {
    const c = computes.get(t);
    if (c && c.cloudId === undefined) c.cloudId = id;
  }
}
