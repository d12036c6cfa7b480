/**
 * E-DOWN-6 (EC3 `ec3_reuse_nodes`): with `reuse_nodes`, a drained node's VM is stopped instead of
 * deleted, and stopped VMs are started before any new VM is added. decide() chooses; this module
 * carries out the `stop` and `start` intents for the manager and returns the state patches.
 */
import type { Intent } from './decide';
import type { ElasticActions } from './ports';
import type { ElasticEvent, ElasticState, NodeRecord } from './state';

type Patch = (s: ElasticState) => void;

/** What act() shares with this module (its event, node-patch and metric helpers). */
export interface ReuseCtx {
  infId: string;
  actions: ElasticActions;
  decided: ElasticState;
  now: () => number;
  patches: Patch[];
  ev(type: ElasticEvent['type'], reason: string, vmIds?: string[]): void;
  onNode(vmId: string, fn: (r: NodeRecord) => void): void;
  count(kind: string, ok: boolean): void;
  /** The LRMS clean-up on the master once a host is gone (kubectl delete node), best effort. */
  forget(host: string): Promise<void>;
}

/** Stop the drained VMs; one that cannot be stopped stays `stopping` and is tried again next tick. */
export async function stopNodes(x: ReuseCtx, i: Extract<Intent, { kind: 'stop' }>): Promise<void> {
  if (!x.actions.stopVms) {
    // An embedding without stop/start: fall back to removal rather than leave nodes half-way.
    try {
      await x.actions.removeVms(x.infId, i.vmIds);
      x.count('remove', true);
      for (const id of i.vmIds) {
        x.ev('NodeRemoved', 'drained (reuse_nodes: this engine cannot stop VMs)', [id]);
        x.patches.push((s) => { delete s.nodes[id]; });
      }
    } catch (e) {
      x.count('remove', false);
      x.ev('RemoveFailed', `will retry: ${(e as Error).message}`, i.vmIds);
    }
    return;
  }
  let failed: Record<string, string>;
  try {
    failed = await x.actions.stopVms(x.infId, i.vmIds);
  } catch (e) {
    failed = Object.fromEntries(i.vmIds.map((id) => [id, (e as Error).message]));
  }
  for (const id of i.vmIds) {
    const why = failed[id];
    x.count('stop', why === undefined);
    if (why !== undefined) {
      x.ev('StopFailed', `will retry: ${why}`, [id]);
      continue;
    }
    // A node object left behind (Kubernetes) would look joined the moment the VM is started again.
    const host = x.decided.nodes[id]?.host;
    if (host) await x.forget(host);
    const at = x.now();
    x.ev('NodeStopped', 'drained and stopped for reuse (reuse_nodes)', [id]);
    x.onNode(id, (r) => {
      r.phase = 'stopped';
      r.phaseSince = at;
      r.idleSince = r.busy = r.lrmsState = r.joinedAt = undefined;
      r.drainStartedAt = r.drainDeadline = r.drainIssuedAt = undefined;
    });
  }
}

/**
 * Start stopped VMs (decide() already put them back in `booting` with a fresh join deadline). A VM
 * the engine cannot start is flagged; the next decide() deletes it and counts a join failure.
 */
export async function startNodes(x: ReuseCtx, i: Extract<Intent, { kind: 'start' }>): Promise<void> {
  const now = x.now();
  let failed: Record<string, string>;
  if (!x.actions.startVms) {
    failed = Object.fromEntries(i.vmIds.map((id) => [id, 'this engine cannot start VMs']));
  } else {
    try {
      failed = await x.actions.startVms(x.infId, i.vmIds);
    } catch (e) {
      failed = Object.fromEntries(i.vmIds.map((id) => [id, (e as Error).message]));
    }
  }
  const started = i.vmIds.filter((id) => failed[id] === undefined);
  for (const id of i.vmIds) {
    x.count('start', failed[id] === undefined);
    if (failed[id] !== undefined) {
      x.ev('StartFailed', failed[id], [id]);
      x.onNode(id, (r) => { r.startFailed = failed[id]; });
    }
  }
  if (started.length) {
    x.ev('NodeStarted', `stopped node(s) started for reuse: ${x.decided.lastDecision?.reason ?? ''}`, started);
    x.patches.push((s) => { s.lastScaleUpAt = now; });
  }
}
