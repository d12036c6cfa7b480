/**
 * Elasticity declarations → ElasticPolicyPlan: tosca.policies.Scaling on computes (or their software),
 * and the INDIGO/EC3 ElasticCluster node whose `lrms` names the front end and each `wn` a worker pool.
 */
import type { ComputePlan, ElasticPolicyPlan, PlanValue } from '../plan';
import type { NodeTemplate, PolicyDef } from '../template/model';
import type { PlanContext } from './context';
import { num } from './values';
import { hasKey } from '../util';

export function isElasticCluster(nt: NodeTemplate): boolean {
  return nt.type.chain.some((t) => /(^|\.)ElasticCluster$/.test(t)) && nt.requirements.some((r) => r.name === 'wn');
}

export function elasticClusterPolicies(nt: NodeTemplate, ctx: PlanContext, computes: Map<string, ComputePlan>): ElasticPolicyPlan[] {
  const lrms = nt.requirements.find((r) => r.name === 'lrms')?.target;
  const frontEnd = ctx.computeOf(lrms ?? nt.name) ?? ctx.computeOf(nt.name);
  const options = ctx.resolver.nodeProperties(nt);
  const out: ElasticPolicyPlan[] = [];
  for (const req of nt.requirements) {
    if (req.name !== 'wn' || req.target === undefined) continue;
    const target = ctx.computeOf(req.target);
    const compute = target ? computes.get(target) : undefined;
    if (!target || !compute) continue;
    const wn = ctx.template.nodes.get(req.target)!;
    const wnCap = wn.type.capabilities.has('wn') || hasKey(wn.capabilities, 'wn') ? ctx.resolver.capabilityProperties(wn, 'wn') : {};
    out.push({
      source: 'elastic-cluster',
      target,
      ...(frontEnd ? { frontEnd } : {}),
      minInstances: num(wnCap.min_instances) ?? compute.minInstances ?? 0,
      maxInstances: num(wnCap.max_instances) ?? compute.maxInstances ?? compute.count,
      defaultInstances: compute.count,
      options: { ...options, workerNode: req.target },
    });
  }
  return out;
}

export function scalingPolicies(policy: PolicyDef, ctx: PlanContext, computes: Map<string, ComputePlan>): ElasticPolicyPlan[] {
  const props: Record<string, PlanValue> = {};
  for (const [k, v] of Object.entries(policy.properties)) {
    props[k] = ctx.resolver.evaluate(v, {}, { file: policy.file, path: [...policy.path, 'properties', k] });
  }
  const out: ElasticPolicyPlan[] = [];
  for (const target of targetComputes(policy, ctx)) {
    const c = computes.get(target)!;
    const { min_instances, max_instances, default_instances, ...options } = props;
    out.push({
      source: 'scaling-policy',
      target,
      minInstances: num(min_instances) ?? c.minInstances ?? 0,
      maxInstances: num(max_instances) ?? c.maxInstances ?? c.count,
      defaultInstances: num(default_instances) ?? c.count,
      options: { ...options, policy: policy.name },
    });
  }
  return out;
}

/** Compute names a policy targets (group members and software nodes are mapped to their hosts). */
export function targetComputes(policy: PolicyDef, ctx: PlanContext): string[] {
  const names = policy.targets.flatMap((t) => ctx.template.groups.get(t)?.members ?? [t]);
  const out: string[] = [];
  for (const n of names) {
    const c = ctx.computeOf(n);
    if (c && !out.includes(c)) out.push(c);
  }
  return out;
}
