/**
 * Run-time evaluation of Plan values: get_attribute against the deployed VMs with IM's attribute
 * names; tosca's evaluateValue walks the value and applies concat/join/token.
 */
import { evaluateValue } from '../../tosca';
import type { AttributeRef, Plan, PlanValue } from '../../tosca/plan';
import type { VmView } from './service';

export interface AttributeContext {
  plan: Plan;
  /** Live VMs of a compute node, in VM id order. */
  vmsOf(node: string): VmView[];
}

/** Resolves references in a plan value against the deployed VMs (tosca's evaluator, our lookup). */
export function evaluatePlanValue(value: PlanValue, ctx: AttributeContext): unknown {
  return evaluateValue(value, (ref) => evaluateAttribute(ref, ctx));
}

export function evaluateOutputs(ctx: AttributeContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(ctx.plan.outputs)) out[name] = evaluatePlanValue(o.value, ctx);
  return out;
}

function evaluateAttribute(ref: AttributeRef, ctx: AttributeContext): unknown {
  const compute = hostCompute(ref.node, ctx.plan);
  const [attr, ...rest] = ref.path;
  const vms = compute ? ctx.vmsOf(compute) : [];
  const perVm = (vm: VmView): unknown => dig(vmAttribute(vm, attr, ref.node), rest);
  // IM clamps an index past the end to the last VM (Tosca.py _get_attribute_result)
  const pick = (list: unknown[]): unknown => (ref.index === undefined ? list : list[Math.min(ref.index, list.length - 1)] ?? null);
  const nodeType = ctx.plan.nodes.find((n) => n.name === ref.node)?.type;
  if (compute && attr === 'endpoint' && rest[0] === 'credential') {
    // IM: the credential of every VM of the node, one when indexed
    return pick(vms.map((vm) => vmAttribute(vm, 'credential', ref.node)));
  }
  if (compute && (attr === 'public_address' || attr === 'private_address') && nodeType === INDIGO_COMPUTE) {
    // IM: an indigo Compute answers the list of its VMs' addresses, one when indexed
    return pick(vms.map(perVm));
  }
  if (compute && vmAttributeNames.has(attr)) {
    if (ref.index !== undefined) return vms[ref.index] ? perVm(vms[ref.index]) : null;
    if (vms.length === 0) return null;
    return vms.length === 1 ? perVm(vms[0]) : vms.map(perVm);
  }
  if (attr === 'tosca_name') return ref.node;
  // Anything else: a property of the node, as TOSCA lets get_attribute read properties too.
  const node = ctx.plan.nodes.find((n) => n.name === ref.node);
  const prop = node?.properties[attr];
  return prop === undefined ? null : dig(evaluatePlanValue(prop, ctx), rest);
}

const INDIGO_COMPUTE = 'tosca.nodes.indigo.Compute';
const vmAttributeNames = new Set(['public_address', 'private_address', 'ip_address', 'tosca_id', 'tosca_name', 'state', 'ctxt_log', 'credential', 'networks', 'public_ip', 'private_ip']);

function vmAttribute(vm: VmView, attr: string, node: string): unknown {
  switch (attr) {
    case 'public_address': case 'public_ip': return vm.publicIps[0] ?? null;
    case 'private_address': case 'private_ip': return vm.privateIps[0] ?? null;
    case 'ip_address': return vm.publicIps[0] ?? vm.privateIps[0] ?? null;
    case 'tosca_id': return vm.instanceId ?? null;
    case 'tosca_name': return node;
    case 'state': return vm.state;
    case 'ctxt_log': return vm.contmsg;
    case 'credential': {
      // IM's form: the user, then the password, a private key taking precedence over it
      if (!vm.credentials) return null;
      const c: Record<string, string> = { user: vm.credentials.username };
      if (vm.credentials.password) Object.assign(c, { token: vm.credentials.password, token_type: 'password' });
      if (vm.credentials.privateKey) Object.assign(c, { token_type: 'private_key', token: vm.credentials.privateKey });
      return c;
    }
    case 'networks': {
      const nets: Record<string, unknown> = {};
      vm.publicIps.forEach((ip, i) => { nets[`public${i || ''}`] = { network_name: 'PUBLIC', addresses: [ip] }; });
      vm.privateIps.forEach((ip, i) => { nets[`private${i || ''}`] = { network_name: 'PRIVATE', addresses: [ip] }; });
      return nets;
    }
    default: return null;
  }
}

/** The compute a node runs on (itself for a compute). */
function hostCompute(node: string, plan: Plan): string | undefined {
  if (plan.computes.some((c) => c.name === node)) return node;
  return plan.software.find((s) => s.name === node)?.host;
}

function dig(value: unknown, path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return null;
    v = (v as Record<string, unknown>)[key];
  }
  return v ?? null;
}
