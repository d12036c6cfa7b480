/** Dependency order over requirement edges (a node after every node it requires); cycles are located errors. */
import type { ServiceTemplate } from '../template/model';

export function dependencyOrder(st: ServiceTemplate): string[] {
  const names = [...st.nodes.keys()];
  const deps = new Map<string, Set<string>>();
  for (const nt of st.nodes.values()) {
    const set = new Set<string>();
    for (const r of nt.requirements) if (r.target !== undefined && r.target !== nt.name) set.add(r.target);
    deps.set(nt.name, set);
  }
  const done = new Set<string>();
  const out: string[] = [];
  // Stable Kahn: repeatedly take, in template order, every node whose requirements are all placed
  let progress = true;
  while (out.length < names.length && progress) {
    progress = false;
    for (const n of names) {
      if (done.has(n)) continue;
      let ready = true;
      for (const d of deps.get(n)!) if (!done.has(d)) { ready = false; break; }
      if (ready) {
        done.add(n);
        out.push(n);
        progress = true;
      }
    }
  }
  if (out.length < names.length) throw cycleError(st, deps, done);
  return out;
}

function cycleError(st: ServiceTemplate, deps: Map<string, Set<string>>, done: Set<string>) {
  // walk unplaced nodes until one repeats: that loop is the cycle
  let cur = [...st.nodes.keys()].find((n) => !done.has(n))!;
  const trail: string[] = [];
  while (!trail.includes(cur)) {
    trail.push(cur);
    cur = [...deps.get(cur)!].find((d) => !done.has(d))!;
  }
  const cycle = [...trail.slice(trail.indexOf(cur)), cur];
  const first = st.nodes.get(cycle[0])!;
  const req = first.requirements.find((r) => r.target === cycle[1]);
  return first.file.error('cycle', `dependency cycle: ${cycle.join(' -> ')}`, req?.path ?? first.path);
}
