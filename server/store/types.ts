/**
 * The durable store: infrastructures, their VMs, durable jobs and a per-infrastructure key/value
 * space for the elasticity manager. SQL never leaves server/store; callers see these records only.
 *
 * Writes that must happen together (an infrastructure with its first VM rows and its job; new VM
 * rows with the job that launches them) are single methods so that every implementation can make
 * them atomic.
 */
import type { Plan } from '../../tosca/plan';
import type { VmHandle, VmState } from '../../connectors/types';

/**
 * The infrastructure's own phase, independent of its VMs (IM keeps the same facts as its
 * `configured` flag and `deleting` flag); the visible state is aggregated from both.
 */
export type InfrastructurePhase = 'deploying' | 'configuring' | 'configured' | 'unconfigured' | 'failed' | 'deleting';

/** One owner of an infrastructure: the keyed owner id and the IM user name shown for it. */
export interface OwnerEntry {
  id: string;
  username: string;
}

export interface InfrastructureRecord {
  /** UUID. */
  id: string;
  /** The first owner (the creator, unless IM's ChangeInfrastructureAuth replaced it). */
  owner: string;
  /** Every owner, `owner` first; absent while the creator is the only one (no name recorded then). */
  owners?: OwnerEntry[];
  createdAt: string;
  updatedAt: string;
  /** TOSCA text as it stands (merged after add-resources). */
  template: string;
  plan: Plan;
  /** Cloud credentials of the owner, sealed (encrypted) by the engine; opaque here. */
  credentials: string;
  sshPublicKey: string;
  /** Sealed private key. */
  sshPrivateKey: string;
  phase: InfrastructurePhase;
  contmsg: string;
  outputs: Record<string, unknown>;
  /** Next IM VM id ("0", "1", ...); ids are never reused within an infrastructure. */
  nextVmId: number;
}

export type NewInfrastructure = Omit<InfrastructureRecord, 'createdAt' | 'updatedAt' | 'nextVmId'> & { nextVmId?: number };
export type InfrastructurePatch = Partial<Omit<InfrastructureRecord, 'id' | 'owner' | 'owners' | 'createdAt' | 'updatedAt' | 'nextVmId'>>;

export interface VmRecord {
  infrastructureId: string;
  /** IM VM id within the infrastructure: "0", "1", ... */
  id: string;
  nodeName: string;
  cloudId: string;
  cloudType: string;
  /** Launch idempotency token, recorded before the cloud is asked. Unique in the store. */
  clientToken: string;
  /** What the connector returned from launch; null until the launch was accepted. */
  handle: VmHandle | null;
  /** State observed at the cloud (pending, running, stopped, off, failed, unknown, deleting). */
  state: VmState;
  /** IM's per-VM configured flag: null while not (yet) contextualised. */
  configured: boolean | null;
  privateIps: string[];
  publicIps: string[];
  contmsg: string;
  /** Being removed by a queued/running job. */
  removing: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A VM row to insert; the store assigns `id` from the infrastructure's counter unless given. */
export type NewVm = Omit<VmRecord, 'infrastructureId' | 'id' | 'createdAt' | 'updatedAt' | 'clientToken'> & {
  id?: string;
  /** Defaults to `${infrastructureId}-${id}`. */
  clientToken?: string;
};
export type VmPatch = Partial<Pick<VmRecord, 'handle' | 'state' | 'configured' | 'privateIps' | 'publicIps' | 'contmsg' | 'removing' | 'cloudId' | 'cloudType'>>;

export type JobKind = 'deploy' | 'configure' | 'remove' | 'destroy' | 'action' | 'alter';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface JobRecord {
  id: number;
  infrastructureId: string;
  kind: JobKind;
  payload: Record<string, unknown>;
  status: JobStatus;
  attempts: number;
  leaseOwner: string | null;
  /** Epoch ms until which the lease holder owns the job. */
  leaseUntil: number | null;
  error: string | null;
  result: unknown;
  createdAt: string;
  updatedAt: string;
}

/**
 * A deploy job that removes no VM (a pure add) launches its VMs while a configuration run of the
 * same infrastructure is in progress or queued, instead of after it (IM launches at once too): it
 * launches only its own new VM rows (the others it only describes), and their configuration is a
 * configure job, which waits for the current run. A deploy that also removes VMs runs a
 * configuration itself (its shrink step), so it waits.
 */
export function startsDuringConfigure(job: Pick<JobRecord, 'kind' | 'payload'>): boolean {
  const removing = job.payload.removeVmIds;
  return job.kind === 'deploy' && !(Array.isArray(removing) && removing.length > 0);
}

export interface NewJob {
  infrastructureId: string;
  kind: JobKind;
  payload: Record<string, unknown>;
}

export interface VmChange {
  vmId: string;
  patch: VmPatch;
}

/** An infrastructure's owners and phase with its VMs' states, ordered by numeric id (Store.getInfrastructureState). */
export interface InfrastructureStateRow extends Pick<InfrastructureRecord, 'owner' | 'owners' | 'phase'> {
  vms: Array<Pick<VmRecord, 'id' | 'state' | 'configured' | 'removing'>>;
}

export interface Store {
  /** Human-readable kind, e.g. "sqlite". */
  readonly kind: string;

  /** Inserts an infrastructure, its VM rows and (optionally) its first job, atomically. */
  createInfrastructure(inf: NewInfrastructure, vms: NewVm[], job?: NewJob): Promise<{ infrastructure: InfrastructureRecord; vms: VmRecord[]; job?: JobRecord }>;
  getInfrastructure(id: string): Promise<InfrastructureRecord | undefined>;
  /** Infrastructures of an owner (all when owner is undefined), oldest first. */
  listInfrastructures(owner?: string): Promise<InfrastructureRecord[]>;
  /** Ids of an owner's infrastructures, oldest first (the fast path of GET /infrastructures). */
  listInfrastructureIds(owner: string): Promise<string[]>;
  updateInfrastructure(id: string, patch: InfrastructurePatch): Promise<InfrastructureRecord>;
  /** Appends text to the infrastructure's contmsg (or a VM's), atomically; no-op when it is gone. */
  appendContmsg(infrastructureId: string, text: string, vmId?: string): Promise<void>;
  /**
   * Replaces the owners (IM's ChangeInfrastructureAuth): `owners[0]` becomes `owner`; every one of
   * them lists and reaches the infrastructure, nobody else does.
   */
  setOwners(id: string, owners: OwnerEntry[]): Promise<InfrastructureRecord>;
  /** Removes the infrastructure, its VMs and its key/value entries (job rows stay as history). */
  deleteInfrastructure(id: string): Promise<void>;

  /** What GET …/state needs (owners, phase, each VM's state) in one read; undefined when it is gone. */
  getInfrastructureState(id: string): Promise<InfrastructureStateRow | undefined>;
  /** VMs of an infrastructure ordered by numeric id. */
  listVms(infrastructureId: string): Promise<VmRecord[]>;
  getVm(infrastructureId: string, vmId: string): Promise<VmRecord | undefined>;
  /**
   * Allocates ids for and inserts new VM rows, applies the infrastructure patch and VM changes,
   * and enqueues the job, atomically.
   */
  addVms(infrastructureId: string, vms: NewVm[], opts?: { job?: NewJob; patch?: InfrastructurePatch; vmChanges?: VmChange[] }): Promise<{ vms: VmRecord[]; job?: JobRecord }>;
  updateVm(infrastructureId: string, vmId: string, patch: VmPatch): Promise<VmRecord>;
  deleteVms(infrastructureId: string, vmIds: string[]): Promise<void>;

  /** Enqueues a job with the infrastructure patch / VM changes that announce it, atomically. */
  enqueueJob(job: NewJob, opts?: { patch?: InfrastructurePatch; vmChanges?: VmChange[] }): Promise<JobRecord>;
  /**
   * Claims the oldest runnable job: queued (or running with an expired lease) and with no earlier
   * unfinished job of the same infrastructure, except that a job that `startsDuringConfigure` only
   * waits for earlier jobs that are not configure jobs. Increments attempts. Undefined when none.
   * Skips the infrastructures in `excludeInfrastructures` (the caller runs jobs of them), except for
   * a `startsDuringConfigure` job of one also in `configuringOnly` (the caller runs only configure
   * jobs of it).
   */
  claimJob(
    runner: string, leaseMs: number, excludeInfrastructures?: ReadonlySet<string>, configuringOnly?: ReadonlySet<string>,
  ): Promise<JobRecord | undefined>;
  /** Extends the lease; false when the runner no longer holds it. */
  renewLease(jobId: number, runner: string, leaseMs: number): Promise<boolean>;
  /** Finishes a job and, atomically, enqueues the follow-up job (e.g. configure after deploy). */
  finishJob(jobId: number, outcome: { status: 'done' | 'failed'; error?: string; result?: unknown }, next?: NewJob): Promise<JobRecord | undefined>;
  getJob(jobId: number): Promise<JobRecord | undefined>;
  /** Unfinished jobs (queued or running), oldest first; of one infrastructure when given. */
  listOpenJobs(infrastructureId?: string): Promise<JobRecord[]>;
  /**
   * Hands back jobs left 'running' by a runner that is gone (a single-process store calls this at
   * start: every running job is an orphan). Returns how many were requeued.
   */
  requeueOrphanJobs(runnerAlive: (runner: string) => boolean): Promise<number>;
  /** Deletes finished (done/failed) jobs last updated before the given time; returns how many. */
  pruneJobs(finishedBefore: Date): Promise<number>;

  /** Elasticity manager state, JSON values per (infrastructure, key). */
  getKv(infrastructureId: string, key: string): Promise<unknown | undefined>;
  putKv(infrastructureId: string, key: string, value: unknown): Promise<void>;
  deleteKv(infrastructureId: string, key: string): Promise<void>;
  listKv(infrastructureId: string): Promise<Record<string, unknown>>;

  /**
   * Records `value` under `key` unless a value is there already; returns the value in force. The
   * first replica to start sets the server key's check value; the others compare theirs with it.
   */
  claimSetting(key: string, value: string): Promise<string>;

  /**
   * Takes or renews a named lease (e.g. the elasticity manager of an infrastructure) for `ttlMs`:
   * true when `owner` holds it now (it was free, lapsed, or already its own).
   */
  claimLease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives a lease up (no-op unless `owner` holds it), so another replica may take it at once. */
  releaseLease(key: string, owner: string): Promise<void>;

  /**
   * A create budget shared by every replica (the elasticity manager's per-cloud-account rate,
   * E-RATE-1): atomically takes up to `want` tokens of `key` when fewer than `perWindow` were spent
   * in the `windowMs` before `now`; returns how many were granted (each recorded as spent at `now`).
   */
  takeBudget(key: string, perWindow: number, want: number, now: number, windowMs: number): Promise<number>;
  /** Gives back up to `n` tokens of `key` spent at `at` (the decision used fewer). */
  refundBudget(key: string, n: number, at: number): Promise<void>;

  close(): Promise<void>;
}
