/**
 * Which lifecycle operations a run executes, on which VM, after what. Pure: plan + VMs + change set
 * in, ordered steps out.
 *
 * - Per VM, the software hosted on it runs in the plan's dependency order, each node's
 *   create → configure → start in sequence.
 * - A node's first step waits for every step of the nodes it depends on (all their instances).
 * - Removal (teardownSteps): stop → delete of the software on the leaving VM, in reverse order.
 * - Full run: everything everywhere. Incremental run (a change set): added VMs, VMs in vm_list and
 *   VMs whose last configuration failed run their whole life cycle; every other VM re-runs only
 *   the operations whose inputs read (get_attribute) a compute node that gained or lost instances.
 */
import type { OperationPlan, Plan, SoftwarePlan } from '../../tosca/plan';
import { referencedComputes } from './attributes';
import type { ConfigState, ConfigureRequest, VmTarget } from './types';

export const LIFECYCLE: readonly string[] = ['create', 'configure', 'start'];

export interface Step {
  id: string;
  vm: VmTarget;
  software: SoftwarePlan;
  op: OperationPlan;
  /** Step ids that must finish (successfully or not) before this one. */
  after: string[];
  /** Why it runs: the whole life cycle, or only because of the changed nodes. */
  reason: 'lifecycle' | 'dependency';
}

export function stepId(vmId: string, node: string, op: OperationPlan): string {
  return `${vmId}/${node}/${op.interface}.${op.name}`;
}

/** What runs on a VM of this compute: the compute's own operations first, then its software in plan order. */
function softwareOn(plan: Plan, compute: string): SoftwarePlan[] {
  const rank = new Map(plan.order.map((n, i) => [n, i]));
  const hosted = plan.software
    .filter((s) => s.host === compute)
    .sort((a, b) => (rank.get(a.name) ?? 0) - (rank.get(b.name) ?? 0));
  const c = plan.computes.find((x) => x.name === compute);
  if (!c?.operations?.length) return hosted;
  const own: SoftwarePlan = { name: c.name, type: c.type, host: c.name, properties: {}, operations: c.operations, dependsOn: [] };
  return [own, ...hosted];
}

function lifecycleOps(sw: SoftwarePlan): OperationPlan[] {
  return sw.operations
    .filter((o) => LIFECYCLE.includes(o.name) && o.implementation)
    .sort((a, b) => LIFECYCLE.indexOf(a.name) - LIFECYCLE.indexOf(b.name));
}

export function isFullRun(req: Pick<ConfigureRequest, 'changes' | 'vmList'>): boolean {
  return !req.changes && !req.vmList;
}

/**
 * @param previous last known result per VM (the request's lastResult wins); a VM never seen counts
 *   as configured in an incremental run only if the engine says so, so pass what you know.
 */
export function planSteps(req: ConfigureRequest, previous: Record<string, ConfigState> = {}): Step[] {
  const { plan } = req;
  const full = isFullRun(req);
  const added = new Set(req.changes?.added ?? []);
  const wholeLifecycle = (vm: VmTarget) =>
    full || added.has(vm.vmId) || (req.vmList ?? []).includes(vm.vmId) || (vm.lastResult ?? previous[vm.vmId] ?? 'configured') !== 'configured';
  const changed = new Set<string>([
    ...req.vms.filter((v) => added.has(v.vmId)).map((v) => v.nodeName),
    ...(req.changes?.removed ?? []).map((r) => r.nodeName),
  ]);

  const steps: Step[] = [];
  const byNode = new Map<string, Step[]>();
  const firstOfNodeOnVm = new Map<string, Step>();
  for (const vm of req.vms) {
    const whole = wholeLifecycle(vm);
    let prev: Step | undefined;
    for (const sw of softwareOn(plan, vm.nodeName)) {
      for (const op of lifecycleOps(sw)) {
        const touched = !whole && [...referencedComputes(op.inputs as never, plan, vm.nodeName)].some((c) => changed.has(c));
        if (!whole && !touched) continue;
        const step: Step = { id: stepId(vm.vmId, sw.name, op), vm, software: sw, op, after: prev ? [prev.id] : [], reason: whole ? 'lifecycle' : 'dependency' };
        steps.push(step);
        if (!byNode.has(sw.name)) byNode.set(sw.name, []);
        byNode.get(sw.name)!.push(step);
        const key = `${vm.vmId}/${sw.name}`;
        if (!firstOfNodeOnVm.has(key)) firstOfNodeOnVm.set(key, step);
        prev = step;
      }
    }
  }
  for (const first of firstOfNodeOnVm.values()) {
    for (const dep of first.software.dependsOn) for (const d of byNode.get(dep) ?? []) first.after.push(d.id);
  }
  return topoSort(steps);
}

/**
 * What runs on a VM about to be removed: the Standard stop → delete operations of the software it
 * hosts, the software in reverse plan order (what was started last stops first), one after another.
 */
export function teardownSteps(plan: Plan, vm: VmTarget): Step[] {
  const steps: Step[] = [];
  for (const sw of [...softwareOn(plan, vm.nodeName)].reverse()) {
    for (const op of sw.teardown ?? []) {
      if (!op.implementation) continue;
      const prev = steps[steps.length - 1];
      steps.push({ id: stepId(vm.vmId, sw.name, op), vm, software: sw, op, after: prev ? [prev.id] : [], reason: 'lifecycle' });
    }
  }
  return steps;
}

/** Steps ordered so that every step comes after those it waits for (the plan guarantees no cycle). */
function topoSort(steps: Step[]): Step[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const out: Step[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (s: Step) => {
    const st = state.get(s.id);
    if (st === 2) return;
    if (st === 1) throw new Error(`configuration steps form a cycle at ${s.id}`);
    state.set(s.id, 1);
    for (const a of s.after) { const d = byId.get(a); if (d) visit(d); }
    state.set(s.id, 2);
    out.push(s);
  };
  for (const s of steps) visit(s);
  return out;
}
