/** Builders for elastic tests: policies, node records, VMs and probe samples in a few words. */
import type { DecideInput, WorkerVm } from '../../server/elastic/decide';
import { DEFAULTS, type ElasticPolicy } from '../../server/elastic/policy';
import type { HostUsage, ProbeSample } from '../../server/elastic/probes/types';
import { type ElasticState, type NodeRecord, emptyState } from '../../server/elastic/state';

export const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
export const S = 1000;
export const MIN = 60 * S;

export function pol(o: Partial<ElasticPolicy> = {}): ElasticPolicy {
  return { ...DEFAULTS, target: 'wn', frontEnd: 'front', source: 'scaling-policy', max_nodes: 10, lrms: 'generic', probe_command: 'probe', ...o };
}

/** VM "vmN" has private IP 10.0.0.N. */
export const ipOf = (vmId: string) => `10.0.0.${Number(vmId.replace(/\D/g, '')) || 99}`;
export const vm = (vmId: string, state: WorkerVm['state'] = 'running'): WorkerVm => ({ vmId, state, privateIps: [ipOf(vmId)] });

export function rec(vmId: string, phase: NodeRecord['phase'], o: Partial<NodeRecord> = {}): NodeRecord {
  const base: NodeRecord = { vmId, phase, phaseSince: T0 - 60 * MIN, requestedAt: T0 - 60 * MIN };
  if (phase === 'booting') base.joinDeadline = T0 + 20 * MIN;
  if (phase === 'joined' || phase === 'draining') Object.assign(base, { joinedAt: T0 - 55 * MIN, host: `h-${vmId}`, lrmsState: 'idle', busy: 0 });
  return { ...base, ...o };
}

export function host(vmId: string, busy = 0, o: Partial<HostUsage> = {}): HostUsage {
  return { name: `h-${vmId}`, ips: [ipOf(vmId)], busy, state: busy > 0 ? 'busy' : 'idle', schedulable: true, ...o };
}

/** `n` waiting 1-slot jobs that started waiting at `since`. */
export function sample(at: number, hosts: HostUsage[], waiting = 0, since: number | null = at - 10 * MIN): ProbeSample {
  return { takenAt: at, hosts, waiting: waiting > 0 ? [{ cpus: 1, count: waiting, since: since ?? undefined }] : [] };
}

export function stateWith(nodes: NodeRecord[], o: Partial<ElasticState> = {}): ElasticState {
  const s = emptyState();
  for (const n of nodes) s.nodes[n.vmId] = n;
  // A good sample one period ago: no blind gap unless a test says so.
  s.lastSample = { takenAt: T0 - 15 * S, hosts: [], waiting: [] };
  s.joinedEver = true; // a proven worker image unless a test says otherwise
  return { ...s, ...o };
}

/** A decide() input: VMs default to the records' VMs; the sample defaults to every joined node idle. */
export function input(o: Partial<DecideInput> & { nodes?: NodeRecord[] } = {}): DecideInput {
  const nodes = o.nodes ?? [];
  const state = o.state ?? stateWith(nodes);
  return {
    policy: o.policy ?? pol(),
    state,
    now: o.now ?? T0,
    sample: 'sample' in o ? o.sample : sample(o.now ?? T0, nodes.filter((n) => n.phase !== 'booting').map((n) => host(n.vmId))),
    probeError: o.probeError,
    vms: o.vms ?? Object.keys(state.nodes).map((id) => vm(id)),
    masterVmIds: o.masterVmIds ?? ['vm0'],
    quotaLeft: o.quotaLeft,
  };
}
