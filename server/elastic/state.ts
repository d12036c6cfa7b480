/**
 * The manager's durable state per infrastructure: plain JSON with absolute deadlines, so a
 * restarted server resumes every timer where it was (E-STATE-1). Persisted through a port.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import type { KnobName } from './policy';
import type { ProbeSample } from './probes/types';

/**
 * booting  – requested, not yet seen in the LRMS (capacity on its way)
 * joined   – registered in the LRMS (idle or busy)
 * stray    – a VM the manager did not create that never showed up in the LRMS: kept, reported
 * draining – drain command issued, waiting for a fresh sample showing it empty
 * removing – removal requested (drained, or join timeout), waiting for the engine
 * stopping – drained with reuse_nodes (E-DOWN-6): stop requested, waiting for the engine
 * stopped  – VM stopped, kept for reuse: no capacity, but a VM of the infrastructure (max_nodes)
 */
export type NodePhase = 'booting' | 'joined' | 'stray' | 'draining' | 'removing' | 'stopping' | 'stopped';

export interface NodeRecord {
  vmId: string;
  phase: NodePhase;
  phaseSince: number;
  requestedAt: number;
  /** booting: absolute deadline to appear in the LRMS. */
  joinDeadline?: number;
  joinedAt?: number;
  /** LRMS host name once matched. */
  host?: string;
  /** Start of the current unbroken, positively idle stretch. */
  idleSince?: number;
  busy?: number;
  lrmsState?: 'idle' | 'busy' | 'unknown' | 'absent';
  drainStartedAt?: number;
  drainDeadline?: number;
  /** When the drain command finished successfully; only samples taken after it may confirm the drain. */
  drainIssuedAt?: number;
  /** Why it is being removed. */
  removeReason?: 'join-timeout' | 'drained' | 'vm-failed' | 'start-failed';
  /** Started again from `stopped`: put back in service in the LRMS (undrain) once it has joined. */
  reused?: boolean;
  /** The engine could not start this stopped node: deleted and counted as a join failure next tick. */
  startFailed?: string;
  /** Created outside the manager (at deployment or by the user). */
  adopted?: boolean;
  /** An undrain command failed: retried every tick until it succeeds. */
  undrainPending?: boolean;
  /** Operator opt-out (E-OBS-4): never drained or removed by the manager. */
  protected?: boolean;
}

export type ElasticEventType =
  | 'ScaleUpRequested' | 'ScaleUpFailed' | 'NodeJoined' | 'JoinTimeout' | 'NodeFailed' | 'DrainStarted'
  | 'DrainAborted' | 'NodeRemoved' | 'RemoveFailed' | 'QuotaLimited' | 'RateLimited' | 'ScaleUpSuspended' | 'SensingFailed'
  | 'Paused' | 'Resumed' | 'PolicyChanged' | 'NodeVanished' | 'TickFailed'
  | 'NodeStopped' | 'StopFailed' | 'NodeStarted' | 'StartFailed';

export interface ElasticEvent {
  at: number;
  type: ElasticEventType;
  reason: string;
  vmIds?: string[];
  /** Decided in dry-run mode: logged, not done. */
  dryRun?: boolean;
}

export interface DecisionSummary {
  at: number;
  add: number;
  drain: string[];
  undrain: string[];
  remove: string[];
  reason: string;
}

export interface DemandView {
  waiting_jobs: number;
  waiting_slots: number;
  /** Slots of jobs that waited at least scale_up_pending_for_s. */
  eligible_slots: number;
  /** Jobs asking for more slots than a node has: no scale-up can serve them. */
  unsatisfiable_jobs: number;
  /** Waiting slots beyond every free slot of the nodes in service: asked for without waiting. */
  overflow_slots?: number;
  /** Slots already on their way (booting, or joined too recently to have taken work). */
  in_flight_slots: number;
  nodes_wanted: number;
}

export interface ElasticState {
  version: 1;
  /** Live knob changes (PUT …/elasticity), re-applied over the template's policy on load. */
  policyChanges: Partial<Record<KnobName, unknown>>;
  nodes: Record<string, NodeRecord>;
  /** Since when waiting work has been above the threshold (for jobs without their own age). */
  pressureSince?: number;
  lastScaleUpAt?: number;
  lastSample?: ProbeSample;
  lastProbeError?: string;
  consecutiveJoinFailures: number;
  /** Some node of this infrastructure has registered in the LRMS at least once (the image works). */
  joinedEver?: boolean;
  backoffLevel: number;
  suspendedUntil?: number;
  /** Last limiting condition reported, so QuotaLimited/Paused are events once, not every tick. */
  lastLimit?: string;
  lastDecision?: DecisionSummary;
  lastDemand?: DemandView;
  events: ElasticEvent[];
}

export const MAX_EVENTS = 500;

export function emptyState(): ElasticState {
  return { version: 1, policyChanges: {}, nodes: {}, consecutiveJoinFailures: 0, backoffLevel: 0, events: [] };
}

/** Persistence port: the engine's store implements it; JSON in, JSON out. */
export interface ElasticStateStore {
  load(infId: string): Promise<ElasticState | undefined>;
  save(infId: string, state: ElasticState): Promise<void>;
  delete?(infId: string): Promise<void>;
}

export class MemoryStateStore implements ElasticStateStore {
  private readonly m = new Map<string, string>();
  async load(infId: string) { const s = this.m.get(infId); return s ? (JSON.parse(s) as ElasticState) : undefined; }
  async save(infId: string, state: ElasticState) { this.m.set(infId, JSON.stringify(state)); }
  async delete(infId: string) { this.m.delete(infId); }
}

/** The server's store (server/store: getKv/putKv, table elastic_state), one key per infrastructure. */
export interface KvStore {
  getKv(infrastructureId: string, key: string): Promise<unknown | undefined>;
  putKv(infrastructureId: string, key: string, value: unknown): Promise<void>;
  deleteKv(infrastructureId: string, key: string): Promise<void>;
}

export class KvStateStore implements ElasticStateStore {
  constructor(private readonly kv: KvStore, private readonly key = 'manager') {}
  async load(infId: string) { return (await this.kv.getKv(infId, this.key)) as ElasticState | undefined; }
  async save(infId: string, state: ElasticState) { await this.kv.putKv(infId, this.key, state); }
  async delete(infId: string) { await this.kv.deleteKv(infId, this.key); }
}

/** One JSON file per infrastructure, written atomically (temp file + rename). */
export class FileStateStore implements ElasticStateStore {
  constructor(private readonly dir: string) {}
  private file(infId: string) { return path.join(this.dir, `${encodeURIComponent(infId)}.elastic.json`); }
  async load(infId: string) {
    try {
      return JSON.parse(await fs.readFile(this.file(infId), 'utf8')) as ElasticState;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  async save(infId: string, state: ElasticState) {
    await fs.mkdir(this.dir, { recursive: true });
    const tmp = `${this.file(infId)}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
    await fs.rename(tmp, this.file(infId));
  }
  async delete(infId: string) { await fs.rm(this.file(infId), { force: true }); }
}
