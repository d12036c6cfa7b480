/** Shared per-plan facts the planner steps need (what is a compute, who hosts whom). */
import type { NodeTemplate, ServiceTemplate } from '../template/model';
import type { TemplateResolver } from '../template/resolve';

export class PlanContext {
  private readonly computeHost = new Map<string, string | undefined>();

  constructor(readonly template: ServiceTemplate, readonly resolver: TemplateResolver) {}

  isA(nt: NodeTemplate, type: string): boolean {
    return this.template.registry.isA('node', nt.type.name, type);
  }

  isCompute(nt: NodeTemplate): boolean {
    return this.isA(nt, 'tosca.nodes.Compute');
  }

  /** The compute at the end of a node's HostedOn chain (the node itself if it is a compute). */
  computeOf(name: string): string | undefined {
    if (this.computeHost.has(name)) return this.computeHost.get(name);
    const seen = new Set<string>();
    let cur: string | undefined = name;
    let found: string | undefined;
    while (cur !== undefined && !seen.has(cur)) {
      seen.add(cur);
      const nt = this.template.nodes.get(cur);
      if (nt && this.isCompute(nt)) {
        found = cur;
        break;
      }
      cur = this.resolver.hostOf(cur);
    }
    this.computeHost.set(name, found);
    return found;
  }
}
