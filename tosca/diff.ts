/**
 * IM's add-resources rules between the running plan and a new one: per compute, the new count is the
 * total wanted; VMs named in removal_list go first, then the newest ones; missing ones are added.
 * Computes absent from the new plan are left alone (IM only adds/removes what the template names).
 */
import type { Plan } from './plan';

export interface PlanDiff {
  add: { node: string; count: number }[];
  /** VM ids to remove. */
  remove: string[];
}

/** `vmsByNode` lists each compute's VM ids, oldest first. */
export function diffPlans(current: Plan, next: Plan, vmsByNode: Record<string, string[]>): PlanDiff {
  const out: PlanDiff = { add: [], remove: [] };
  const known = new Set(current.computes.map((c) => c.name));
  for (const c of next.computes) {
    const existing = vmsByNode[c.name] ?? (known.has(c.name) ? [] : []);
    const listed = c.removalList.filter((id) => existing.includes(id));
    const kept = existing.filter((id) => !listed.includes(id));
    const removeNewest = Math.max(0, kept.length - c.count);
    const newest = removeNewest > 0 ? kept.slice(kept.length - removeNewest) : [];
    out.remove.push(...listed, ...newest);
    const remaining = kept.length - newest.length;
    if (c.count > remaining) out.add.push({ node: c.name, count: c.count - remaining });
  }
  return out;
}
