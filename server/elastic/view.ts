/** GET …/elasticity: the policy, nodes, demand, capacity and the last decision with its reason (E-OBS-1). */
import type { ElasticPolicy } from './policy';
import { policyView } from './policy';
import { staleAfterMs } from './decide';
import type { DemandView, ElasticEvent, ElasticState } from './state';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export interface ElasticityView {
  infrastructure_id: string;
  policy: Record<string, unknown>;
  nodes: {
    vm_id: string; state: string; since: string | null; host: string | null; lrms_state: string | null;
    busy_slots: number | null; idle_since: string | null; join_deadline: string | null;
    drain_deadline: string | null; adopted: boolean; protected: boolean;
  }[];
  demand: DemandView | null;
  capacity: { nodes: number; booting: number; joined: number; draining: number; removing: number; slots: number; busy_slots: number };
  sensing: { last_sample_at: string | null; stale: boolean; error: string | null };
  scale_up: { consecutive_join_failures: number; suspended_until: string | null };
  last_decision: { at: string | null; add: number; drain: string[]; undrain: string[]; remove: string[]; reason: string } | null;
  events: (Omit<ElasticEvent, 'at'> & { at: string })[];
}

export function elasticityView(infId: string, p: ElasticPolicy, s: ElasticState, now: number, lastEvents = 50): ElasticityView {
  const nodes = Object.values(s.nodes).sort((a, b) => a.requestedAt - b.requestedAt || a.vmId.localeCompare(b.vmId));
  const by = (ph: string) => nodes.filter((n) => n.phase === ph).length;
  const joined = nodes.filter((n) => n.phase === 'joined' || n.phase === 'draining');
  const d = s.lastDecision;
  return {
    infrastructure_id: infId,
    policy: policyView(p),
    nodes: nodes.map((n) => ({
      vm_id: n.vmId, state: n.phase, since: iso(n.phaseSince), host: n.host ?? null, lrms_state: n.lrmsState ?? null,
      busy_slots: n.busy ?? null, idle_since: iso(n.idleSince), join_deadline: n.phase === 'booting' ? iso(n.joinDeadline) : null,
      drain_deadline: n.phase === 'draining' ? iso(n.drainDeadline) : null, adopted: Boolean(n.adopted), protected: Boolean(n.protected),
    })),
    demand: s.lastDemand ?? null,
    capacity: {
      nodes: nodes.length, booting: by('booting'), joined: by('joined'), draining: by('draining'), removing: by('removing'),
      slots: joined.length * p.slots_per_node, busy_slots: joined.reduce((t, n) => t + (n.busy ?? 0), 0),
    },
    sensing: {
      last_sample_at: iso(s.lastSample?.takenAt),
      stale: !s.lastSample || now - s.lastSample.takenAt > staleAfterMs(p),
      error: s.lastProbeError ?? null,
    },
    scale_up: { consecutive_join_failures: s.consecutiveJoinFailures, suspended_until: iso(s.suspendedUntil) },
    last_decision: d ? { at: iso(d.at), add: d.add, drain: d.drain, undrain: d.undrain, remove: d.remove, reason: d.reason } : null,
    events: s.events.slice(-lastEvents).map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  };
}
