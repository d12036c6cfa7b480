/**
 * Prometheus metrics of the elastic manager (E-OBS-3), on a registry the server can expose at
 * /metrics (pass the server's registry, or merge this one with Registry.merge).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodePhase } from './state';

const PHASES: NodePhase[] = ['booting', 'joined', 'stray', 'draining', 'removing'];

export class ElasticMetrics {
  readonly nodes: Gauge<'infrastructure' | 'state'>;
  readonly demand: Gauge<'infrastructure'>;
  readonly actions: Counter<'kind' | 'result'>;
  readonly joinSeconds: Histogram;
  readonly drainSeconds: Histogram;
  readonly loopSeconds: Histogram;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.nodes = new Gauge({ name: 'elastic_nodes', help: 'Elastic worker nodes by lifecycle state', labelNames: ['infrastructure', 'state'], registers });
    this.demand = new Gauge({ name: 'elastic_pending_demand', help: 'Waiting slots that waited long enough to ask for nodes', labelNames: ['infrastructure'], registers });
    this.actions = new Counter({ name: 'elastic_scale_actions_total', help: 'Scaling actions by kind and result', labelNames: ['kind', 'result'], registers });
    this.joinSeconds = new Histogram({ name: 'elastic_join_seconds', help: 'Request-to-LRMS-registration time of new nodes', buckets: [30, 60, 120, 300, 600, 900, 1200, 1800, 3600], registers });
    this.drainSeconds = new Histogram({ name: 'elastic_drain_seconds', help: 'Drain start to removal time', buckets: [5, 15, 30, 60, 120, 300, 600, 1200], registers });
    this.loopSeconds = new Histogram({ name: 'elastic_decision_loop_seconds', help: 'Duration of one manager tick (probe + decide + act)', buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30], registers });
  }

  setNodes(infId: string, counts: Partial<Record<NodePhase, number>>): void {
    for (const state of PHASES) this.nodes.set({ infrastructure: infId, state }, counts[state] ?? 0);
  }

  forget(infId: string): void {
    for (const state of PHASES) this.nodes.remove({ infrastructure: infId, state });
    this.demand.remove({ infrastructure: infId });
  }
}
