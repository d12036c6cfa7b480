/**
 * What the infrastructure pages show, read from the engine with the person's Caller: one summary
 * per infrastructure for the list, the live facts of one (state, VMs, contmsg tail, outputs) for the
 * detail page and its polling, and a small time series of the elasticity manager's view.
 */
import { parse } from 'yaml';
import type { Caller, InfrastructureService, VmView } from '../engine/service';
import type { ElasticityApi } from '../api/routes/elasticity';
import { NoElasticityError } from '../elastic/manager';
import type { ElasticityView } from '../elastic/view';

export interface VmRow { id: string; node: string; state: string; privateIps: string[]; publicIps: string[]; cloudId: string; instanceId: string }

export interface LiveView {
  state: string;
  vms: VmRow[];
  contmsg: string;
  elastic?: { samples: ElasticSample[]; events: { at: string; type: string; reason: string }[]; policy: Record<string, unknown> };
}

export interface ElasticSample { t: number; queue: number; running: number; idle: number; booting: number; decision?: string }

const CONTMSG_TAIL = 20_000;
const MAX_SAMPLES = 240;
const SAMPLE_EVERY_MS = 900;

export function vmRow(v: VmView): VmRow {
  return { id: v.id, node: v.nodeName, state: v.state, privateIps: v.privateIps, publicIps: v.publicIps, cloudId: v.cloudId, instanceId: v.instanceId ?? '' };
}

export async function vmRows(svc: InfrastructureService, caller: Caller, infId: string): Promise<VmRow[]> {
  const ids = await svc.vmIds(caller, infId);
  const vms = await Promise.all(ids.map((id) => svc.vmInfo(caller, infId, id).catch(() => undefined)));
  return vms.filter((v): v is VmView => v !== undefined).map(vmRow);
}

/** Node templates a person can grow: those with a scalable capability or a Compute type. */
export function scalableNodes(toscaText: string): string[] {
  const doc = parse(toscaText) as { topology_template?: { node_templates?: Record<string, { type?: string; capabilities?: Record<string, unknown> }> } };
  return Object.entries(doc?.topology_template?.node_templates ?? {})
    .filter(([, n]) => n?.capabilities?.scalable !== undefined || /Compute$/.test(String(n?.type ?? '')))
    .map(([name]) => name);
}

/** Samples of each elastic infrastructure's view, taken when someone looks (at most ~1 a second). */
export class ElasticSeries {
  private readonly series = new Map<string, ElasticSample[]>();

  constructor(private readonly elastic: ElasticityApi) {}

  async view(infId: string): Promise<ElasticityView | undefined> {
    try {
      return await this.elastic.view(infId);
    } catch (err) {
      if (err instanceof NoElasticityError) return undefined;
      throw err;
    }
  }

  async sample(infId: string): Promise<LiveView['elastic']> {
    const v = await this.view(infId);
    if (!v) return undefined;
    const list = this.series.get(infId) ?? [];
    const now = Date.now();
    if (!list.length || now - list[list.length - 1].t >= SAMPLE_EVERY_MS) {
      const joined = v.nodes.filter((n) => n.state === 'joined' || n.state === 'draining');
      const d = v.last_decision;
      list.push({
        t: now,
        queue: v.demand?.waiting_jobs ?? 0,
        running: joined.filter((n) => (n.busy_slots ?? 1) > 0).length,
        idle: joined.filter((n) => n.busy_slots === 0).length,
        booting: v.capacity.booting,
        decision: d && (d.add || d.remove.length || d.drain.length) ? d.reason : undefined,
      });
      if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES);
      this.series.set(infId, list);
    }
    return { samples: list, events: v.events.slice(-15).map((e) => ({ at: e.at, type: e.type, reason: e.reason })), policy: v.policy };
  }

  forget(infId: string): void {
    this.series.delete(infId);
  }
}

export async function liveView(svc: InfrastructureService, series: ElasticSeries, caller: Caller, infId: string): Promise<LiveView> {
  const [state, vms, contmsg] = await Promise.all([
    svc.state(caller, infId), vmRows(svc, caller, infId), svc.contmsg(caller, infId, false),
  ]);
  return { state: state.state, vms, contmsg: contmsg.slice(-CONTMSG_TAIL), elastic: await series.sample(infId) };
}
