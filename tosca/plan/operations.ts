/**
 * Lifecycle operations of a node with their implementation and resolved inputs, in the order they run:
 * create → pre_configure (relationship) → configure → post_configure (relationship) → start. The
 * relationship steps are the Configure operations of the relationships this node is the source or
 * target of (IM runs them with the node, e.g. grycap's GlusterFS mount).
 */
import { isUrl } from '../imports';
import type { OperationPlan } from '../plan';
import type { NodeTemplate, RequirementAssignment } from '../template/model';
import { mergeInterface, OperationDef } from '../types/registry';
import { asRecord, hasKey, isRecord, text } from '../util';
import type { PlanContext } from './context';

type Scope = { self: string; source?: string; target?: string };

export function lifecycleOperations(nt: NodeTemplate, ctx: PlanContext): OperationPlan[] {
  const std = nt.interfaces.get('Standard');
  const out: OperationPlan[] = [];
  const standard = (name: string): void => {
    const op = std?.operations.get(name);
    if (op && op.implementation !== undefined && op.implementation !== null) out.push(operationPlan(nt, 'Standard', name, op, { self: nt.name }, ctx));
  };
  const rel = relationshipSteps(nt, ctx);
  standard('create');
  out.push(...rel.pre);
  standard('configure');
  out.push(...rel.post);
  standard('start');
  return out;
}

/** Standard stop → delete (those with an implementation): what runs on a node's VM before it is removed. */
export function teardownOperations(nt: NodeTemplate, ctx: PlanContext): OperationPlan[] {
  const std = nt.interfaces.get('Standard');
  const out: OperationPlan[] = [];
  for (const name of ['stop', 'delete']) {
    const op = std?.operations.get(name);
    if (op && op.implementation !== undefined && op.implementation !== null) out.push(operationPlan(nt, 'Standard', name, op, { self: nt.name }, ctx));
  }
  return out;
}

/** Relationship Configure operations where `nt` is the source (…_source) or the target (…_target). */
function relationshipSteps(nt: NodeTemplate, ctx: PlanContext): { pre: OperationPlan[]; post: OperationPlan[] } {
  const pre: OperationPlan[] = [];
  const post: OperationPlan[] = [];
  const visit = (source: NodeTemplate, req: RequirementAssignment, side: 'source' | 'target'): void => {
    const ops = relationshipOperations(source, req, ctx);
    if (ops.size === 0) return;
    const scope = { self: source.name, source: source.name, target: req.target! };
    for (const [when, list] of [['pre', pre], ['post', post]] as const) {
      const name = `${when}_configure_${side}`;
      const op = ops.get(name);
      if (op && op.implementation !== undefined && op.implementation !== null) list.push(operationPlan(nt, 'Configure', name, op, scope, ctx));
    }
  };
  for (const req of nt.requirements) if (req.target !== undefined) visit(nt, req, 'source');
  for (const src of ctx.template.nodes.values()) {
    for (const req of src.requirements) if (req.target === nt.name && src !== nt) visit(src, req, 'target');
  }
  return { pre, post };
}

function relationshipOperations(source: NodeTemplate, req: RequirementAssignment, ctx: PlanContext): Map<string, OperationDef> {
  const written = Object.entries(asRecord(req.relationshipInterfaces));
  const tmpl = req.relationshipTemplate ? ctx.template.relationshipTemplates.get(req.relationshipTemplate) : undefined;
  const fromTemplate = Object.entries(asRecord(tmpl?.interfaces));
  const rtype = req.relationshipType ? ctx.template.registry.resolve('relationship', req.relationshipType) : undefined;
  const out = new Map<string, OperationDef>();
  for (const iface of rtype?.interfaces.values() ?? []) for (const [k, v] of iface.operations) out.set(k, v);
  if (written.length === 0 && fromTemplate.length === 0) return out;
  // IM accepts the Configure operations under any interface name (the corpus writes `Standard`)
  const merge = (entries: [string, unknown][], file: NodeTemplate['file'], base: (string | number)[]): void => {
    for (const [iname, idef] of entries) {
      const merged = mergeInterface(undefined, idef, { file, path: [...base, iname] });
      for (const [k, v] of merged.operations) out.set(k, v);
    }
  };
  if (tmpl) merge(fromTemplate, tmpl.file, [...tmpl.path, 'interfaces']);
  merge(written, source.file, [...req.path, 'relationship', 'interfaces']);
  return out;
}

function operationPlan(nt: NodeTemplate, iface: string, name: string, op: OperationDef, scope: Scope, ctx: PlanContext): OperationPlan {
  const inputs: OperationPlan['inputs'] = {};
  for (const [k, v] of Object.entries(op.inputs)) {
    const origin = op.inputOrigins[k] ?? op.origin;
    const value = isRecord(v) && 'type' in v && ('default' in v || 'description' in v) ? v.default : v; // 1.3 input definitions
    inputs[k] = ctx.resolver.evaluate(value, scope, { file: origin.file, path: origin.path });
  }
  return { interface: iface, name, implementation: implementationOf(nt, op), inputs };
}

function implementationOf(nt: NodeTemplate, op: OperationDef): OperationPlan['implementation'] {
  const impl = op.implementation;
  let primary: unknown = isRecord(impl) ? impl.primary : impl;
  const deps = isRecord(impl) && Array.isArray(impl.dependencies) ? impl.dependencies.map((d) => text(isRecord(d) ? d.file : d)) : undefined;
  let artifactType: string | undefined;
  if (isRecord(primary)) {
    artifactType = typeof primary.type === 'string' ? primary.type : undefined;
    primary = primary.file;
  }
  if (typeof primary !== 'string') return undefined;
  let path = primary;
  const artifact = hasKey(nt.artifacts, path) ? nt.artifacts[path] : undefined;
  if (artifact !== undefined) {
    const a = typeof artifact === 'string' ? { file: artifact } : asRecord(artifact);
    if (typeof a.file === 'string') path = a.file;
    if (typeof a.type === 'string') artifactType = a.type;
  }
  const base = op.origin.file.base;
  const url = !isUrl(path) && base && isUrl(base) ? new URL(path, base).href : isUrl(path) ? path : undefined;
  const kind = /\.sh$/i.test(path) || artifactType?.endsWith('.Bash')
    ? 'script'
    : /\.ya?ml$/i.test(path) || artifactType?.endsWith('.YAML') || artifactType?.includes('Ansible')
      ? 'ansible'
      : 'other';
  return { kind, path, ...(url && url !== path ? { url } : {}), ...(deps ? { dependencies: deps } : {}) };
}
