/**
 * Run-time values of operation inputs: get_attribute over the VMs as they are now, and the
 * deferred concat/join/token around them. Also answers "which compute nodes does this input
 * depend on", which decides what re-runs when a cluster grows or shrinks.
 */
import type { AttributeRef, ComputePlan, DeferredFunction, Plan, PlanValue } from '../../tosca/plan';
import { AttributeResolutionError } from './errors';
import type { VmTarget } from './types';

type Resolved = null | boolean | number | string | Resolved[] | { [k: string]: Resolved };

export interface ResolveContext {
  plan: Plan;
  /** All VMs of the infrastructure now. */
  vms: VmTarget[];
  /** The VM the operation runs on (SELF/HOST already named by the plan, so "own" means same compute). */
  self: VmTarget;
}

const CAPABILITIES = new Set(['endpoint', 'host', 'os', 'scalable', 'binding', 'admin_endpoint']);

function isRef(v: PlanValue): v is AttributeRef | DeferredFunction | { $ref: 'get_operation_output' } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { $ref?: unknown }).$ref === 'string';
}

/** The compute a node runs on (itself for a compute). */
export function computeOf(plan: Plan, node: string): ComputePlan | undefined {
  const c = plan.computes.find((x) => x.name === node);
  if (c) return c;
  const sw = plan.software.find((s) => s.name === node);
  return sw?.host ? plan.computes.find((x) => x.name === sw.host) : undefined;
}

/** A compute whose get_attribute yields a list (IM: indigo.Compute, or any node that can scale). */
function isScalable(plan: Plan, c: ComputePlan): boolean {
  return /indigo\.Compute$/.test(c.type) || c.count !== 1 || (c.maxInstances ?? 1) > 1 ||
    (c.minInstances !== undefined && c.minInstances !== c.maxInstances) || plan.elastic.some((e) => e.target === c.name);
}

/**
 * SELF/HOST (or the own compute when it cannot scale) mean the running instance; a scalable node
 * named explicitly means all its instances, as in IM (`[wn, private_address]` is every worker's IP).
 */
function readsOwnInstance(ref: AttributeRef, compute: ComputePlan, plan: Plan, selfCompute: string): boolean {
  if (compute.name !== selfCompute || ref.index !== undefined) return false;
  return ref.keyword === 'SELF' || ref.keyword === 'HOST' || !isScalable(plan, compute);
}

const byVmId = (a: VmTarget, b: VmTarget) => Number(a.vmId) - Number(b.vmId) || a.vmId.localeCompare(b.vmId);

function instanceAttribute(vm: VmTarget, attr: string, plan: Plan): Resolved {
  switch (attr) {
    case 'private_address': return vm.privateIp;
    case 'public_address': return vm.publicIp ?? null;
    case 'ip_address': return vm.publicIp ?? vm.privateIp;
    case 'tosca_id': return vm.vmId;
    case 'tosca_name': return vm.nodeName;
    default: {
      const props = plan.nodes.find((n) => n.name === vm.nodeName)?.properties ?? {};
      if (attr in props && !isRef(props[attr])) return props[attr] as Resolved;
      throw new AttributeResolutionError(`get_attribute: attribute "${attr}" of node ${vm.nodeName} is not known at run time`);
    }
  }
}

function resolveAttribute(ref: AttributeRef, ctx: ResolveContext): Resolved {
  const attr = ref.path.find((p) => !CAPABILITIES.has(p)) ?? ref.path[ref.path.length - 1];
  if (!attr) throw new AttributeResolutionError(`get_attribute on ${ref.node}: no attribute name`);
  const sw = ctx.plan.software.find((s) => s.name === ref.node);
  if (sw && !['private_address', 'public_address', 'ip_address', 'tosca_id', 'tosca_name'].includes(attr)) {
    const v = sw.properties[attr];
    if (v !== undefined && !isRef(v)) return v as Resolved;
  }
  const compute = computeOf(ctx.plan, ref.node);
  if (!compute) throw new AttributeResolutionError(`get_attribute: node "${ref.node}" is not a compute node nor hosted on one`);
  if (attr === 'tosca_name' && sw) return sw.name;
  if (readsOwnInstance(ref, compute, ctx.plan, ctx.self.nodeName)) return instanceAttribute(ctx.self, attr, ctx.plan);
  const instances = ctx.vms.filter((v) => v.nodeName === compute.name).sort(byVmId);
  const values = instances.map((v) => instanceAttribute(v, attr, ctx.plan));
  if (ref.index !== undefined) return values[ref.index] ?? null;
  return isScalable(ctx.plan, compute) ? values : (values[0] ?? null);
}

function asText(v: Resolved): string {
  if (v === null) return '';
  if (Array.isArray(v)) return v.map(asText).join(',');
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function resolveFunction(fn: DeferredFunction, ctx: ResolveContext): Resolved {
  const args = fn.args.map((a) => resolveValue(a, ctx));
  switch (fn.$ref) {
    case 'concat':
      return args.map(asText).join('');
    case 'join': {
      const [list, delim] = args;
      return (Array.isArray(list) ? list : [list]).map(asText).join(delim === undefined || delim === null ? '' : asText(delim));
    }
    case 'token': {
      const [text, seps, idx] = args;
      const parts = asText(text).split(new RegExp(`[${asText(seps).replace(/[\\\]^-]/g, '\\$&')}]`));
      return parts[Number(idx)] ?? null;
    }
  }
}

/** The value with every reference replaced by what the VMs show now. */
export function resolveValue(v: PlanValue, ctx: ResolveContext): Resolved {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, ctx));
  if (isRef(v)) {
    if (v.$ref === 'get_attribute') return resolveAttribute(v as AttributeRef, ctx);
    if (v.$ref === 'concat' || v.$ref === 'join' || v.$ref === 'token') return resolveFunction(v as DeferredFunction, ctx);
    throw new AttributeResolutionError(`${v.$ref} is not supported in operation inputs yet`);
  }
  const out: Record<string, Resolved> = {};
  for (const [k, x] of Object.entries(v)) out[k] = resolveValue(x as PlanValue, ctx);
  return out;
}

export function resolveInputs(inputs: Record<string, PlanValue>, ctx: ResolveContext): Record<string, Resolved> {
  const out: Record<string, Resolved> = {};
  for (const [k, v] of Object.entries(inputs)) out[k] = resolveValue(v, ctx);
  return out;
}

/**
 * Compute node names whose set of instances an input value reads (get_attribute anywhere inside it).
 * A reference to the running instance itself (SELF/HOST) does not change when the cluster grows
 * or shrinks: it is left out.
 */
export function referencedComputes(v: PlanValue, plan: Plan, selfCompute: string, into = new Set<string>()): Set<string> {
  if (v === null || typeof v !== 'object') return into;
  if (Array.isArray(v)) { for (const x of v) referencedComputes(x, plan, selfCompute, into); return into; }
  if (isRef(v)) {
    if (v.$ref === 'get_attribute') {
      const ref = v as AttributeRef;
      const c = computeOf(plan, ref.node);
      if (c && !readsOwnInstance(ref, c, plan, selfCompute)) into.add(c.name);
    } else if ('args' in v) for (const a of (v as DeferredFunction).args) referencedComputes(a, plan, selfCompute, into);
    return into;
  }
  for (const x of Object.values(v)) referencedComputes(x as PlanValue, plan, selfCompute, into);
  return into;
}

export type { Resolved as ResolvedValue };
