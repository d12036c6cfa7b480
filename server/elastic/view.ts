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

/** The text/plain answer of GET/PUT …/elasticity: the same facts, for a terminal. */
export function elasticityText(v: ElasticityView): string {
  const lines: string[] = [`infrastructure: ${v.infrastructure_id}`, 'policy:'];
  for (const [k, val] of Object.entries(v.policy)) if (val !== null) lines.push(`  ${k}: ${typeof val === 'string' ? val : JSON.stringify(val)}`);
  const c = v.capacity;
  lines.push(`capacity: ${c.nodes} node(s) (${c.booting} booting, ${c.joined} joined, ${c.draining} draining, ${c.removing} removing), ${c.busy_slots}/${c.slots} slots busy`);
  if (v.demand) lines.push(`demand: ${v.demand.waiting_jobs} waiting job(s), ${v.demand.waiting_slots} slot(s), ${v.demand.eligible_slots} eligible, ${v.demand.in_flight_slots} in flight, ${v.demand.nodes_wanted} node(s) wanted`);
  lines.push(`sensing: last sample ${v.sensing.last_sample_at ?? 'never'}${v.sensing.stale ? ' (stale)' : ''}${v.sensing.error ? `, error: ${v.sensing.error}` : ''}`);
  if (v.scale_up.suspended_until) lines.push(`scale-up suspended until ${v.scale_up.suspended_until} (${v.scale_up.consecutive_join_failures} join failure(s) in a row)`);
  lines.push('nodes:');
  for (const n of v.nodes) {
    lines.push(`  VM ${n.vm_id}: ${n.state} since ${n.since}${n.host ? `, host ${n.host}` : ''}${n.lrms_state ? `, ${n.lrms_state}` : ''}${n.busy_slots !== null ? ` (${n.busy_slots} busy)` : ''}${n.protected ? ', protected' : ''}`);
  }
  const d = v.last_decision;
  lines.push(`last decision: ${d ? `${d.at}: ${d.reason}` : 'none yet'}`);
  lines.push('events:');
  for (const e of v.events) lines.push(`  ${e.at} ${e.type}${e.vmIds?.length ? ` [${e.vmIds.join(',')}]` : ''}${e.dryRun ? ' (dry run)' : ''}: ${e.reason}`);
  return lines.join('\n') + '\n';
}
