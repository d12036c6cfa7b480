/**
 * Kubernetes: demand = pods the scheduler marked Unschedulable (what the Cluster Autoscaler reacts
 * to); per-node use = pods bound to the node that are not DaemonSet or mirror (static) pods,
 * since those run on every node and would make every node look busy forever.
 */
import { type HostUsage, type LrmsAdapter, type ProbeSample, type WaitingJob, ProbeError, run, shq } from './types';

export const KUBECTL_PODS = 'kubectl get pods -A -o json';
export const KUBECTL_NODES = 'kubectl get nodes -o json';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function items(stdout: string, what: string): Obj[] {
  let v: Obj;
  try {
    v = JSON.parse(stdout);
  } catch (e) {
    throw new ProbeError(`${what}: unparsable JSON output (${(e as Error).message})`);
  }
  if (!v || !Array.isArray(v.items)) throw new ProbeError(`${what}: no "items" list in the output`);
  return v.items;
}

/** "500m" → 0.5, "2" → 2; unparsable → 0 (the pod still counts as one slot). */
export function cpuQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return 0;
  const m = /^([0-9.]+)(m?)$/.exec(q.trim());
  if (!m) return 0;
  return m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
}

/** Slots a pod takes: its CPU requests rounded up, at least one. */
function podSlots(pod: Obj): number {
  const cs: Obj[] = pod.spec?.containers ?? [];
  const cpu = cs.reduce((s, c) => s + cpuQuantity(c.resources?.requests?.cpu), 0);
  return Math.max(1, Math.ceil(cpu - 1e-9));
}

function isDaemonOrMirror(pod: Obj): boolean {
  if ((pod.metadata?.ownerReferences ?? []).some((o: Obj) => o.kind === 'DaemonSet')) return true;
  return Boolean(pod.metadata?.annotations?.['kubernetes.io/config.mirror']);
}

function isUnschedulable(pod: Obj): boolean {
  return pod.status?.phase === 'Pending' && !pod.spec?.nodeName &&
    (pod.status?.conditions ?? []).some((c: Obj) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
}

export function parsePods(stdout: string): { waiting: WaitingJob[]; busyByNode: Map<string, number> } {
  const waiting: WaitingJob[] = [];
  const busyByNode = new Map<string, number>();
  for (const pod of items(stdout, 'kubectl get pods')) {
    if (isUnschedulable(pod)) {
      const t = Date.parse(pod.metadata?.creationTimestamp ?? '');
      waiting.push({ id: `${pod.metadata?.namespace}/${pod.metadata?.name}`, cpus: podSlots(pod), since: Number.isFinite(t) ? t : undefined });
      continue;
    }
    const node = pod.spec?.nodeName;
    const phase = pod.status?.phase;
    if (!node || phase === 'Succeeded' || phase === 'Failed' || isDaemonOrMirror(pod)) continue;
    busyByNode.set(node, (busyByNode.get(node) ?? 0) + podSlots(pod));
  }
  return { waiting, busyByNode };
}

export function parseNodes(stdout: string, busyByNode: Map<string, number>): HostUsage[] {
  return items(stdout, 'kubectl get nodes').map((n) => {
    const name: string = n.metadata?.name ?? '';
    const ips = (n.status?.addresses ?? []).filter((a: Obj) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a: Obj) => a.address);
    const ready = (n.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');
    const tainted = (n.spec?.taints ?? []).some((t: Obj) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    const busy = busyByNode.get(name) ?? 0;
    // A node that is not Ready may still run pods we cannot see being evicted: unknown, not idle.
    const state = ready?.status !== 'True' ? 'unknown' : busy > 0 ? 'busy' : 'idle';
    return { name, ips, busy, state, schedulable: !n.spec?.unschedulable && !tainted } as HostUsage;
  });
}

export function kubernetesAdapter(drainTimeoutS = 600): LrmsAdapter {
  return {
    kind: 'kubernetes',
    async sense(exec, now): Promise<ProbeSample> {
      const pods = parsePods(await run(exec, KUBECTL_PODS));
      const hosts = parseNodes(await run(exec, KUBECTL_NODES), pods.busyByNode);
      return { takenAt: now, waiting: pods.waiting, hosts };
    },
    // Cordon now; evict in the background (a drain may take up to its timeout, longer than one
    // SSH command should block a tick). The manager confirms it from the next samples.
    drainCommand: (host) =>
      `kubectl cordon ${shq(host)} && { nohup kubectl drain ${shq(host)} --ignore-daemonsets --delete-emptydir-data --timeout=${Math.ceil(drainTimeoutS)}s </dev/null >/dev/null 2>&1 & }`,
    undrainCommand: (host) => `kubectl uncordon ${shq(host)}`,
    forgetCommand: (host) => `kubectl delete node ${shq(host)} --ignore-not-found`,
  };
}
