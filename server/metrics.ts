/**
 * Server gauges for GET /metrics, read from the store when scraped: infrastructures by IM state,
 * VMs by IM state, and unfinished jobs by kind and status.
 */
import { Gauge, type Registry } from 'prom-client';
import type { StateView } from './engine/service';
import { stateView } from './engine/state';
import type { Store } from './store/types';

export function storeMetrics(registry: Registry, store: Store): void {
  const views = async (): Promise<StateView[]> =>
    Promise.all((await store.listInfrastructures()).map(async (inf) => stateView(await store.listVms(inf.id), inf.phase)));
  const setCounts = (g: Gauge<string>, values: Record<string, string>[]) => {
    const counts = new Map<string, { labels: Record<string, string>; n: number }>();
    for (const labels of values) {
      const k = JSON.stringify(labels);
      const c = counts.get(k) ?? { labels, n: 0 };
      c.n += 1;
      counts.set(k, c);
    }
    g.reset();
    for (const c of counts.values()) g.set(c.labels, c.n);
  };
  new Gauge({
    name: 'tosca_im_infrastructures', help: 'Infrastructures by state (IM aggregation)', labelNames: ['state'], registers: [registry],
    async collect() { setCounts(this, (await views()).map((v) => ({ state: v.state }))); },
  });
  new Gauge({
    name: 'tosca_im_vms', help: 'VMs by state (IM visible state)', labelNames: ['state'], registers: [registry],
    async collect() { setCounts(this, (await views()).flatMap((v) => Object.values(v.vm_states).map((state) => ({ state })))); },
  });
  new Gauge({
    name: 'tosca_im_jobs', help: 'Unfinished engine jobs by kind and status', labelNames: ['kind', 'status'], registers: [registry],
    async collect() { setCounts(this, (await store.listOpenJobs()).map((j) => ({ kind: j.kind, status: j.status }))); },
  });
}
