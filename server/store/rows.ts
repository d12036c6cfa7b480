/**
 * What both SQL stores share: rows ↔ records and the columns a patch writes. JSON fields are TEXT
 * and booleans INTEGER 0/1 in both schemas, so one mapping serves SQLite and PostgreSQL.
 */
import type { InfrastructurePatch, InfrastructureRecord, JobRecord, NewJob, NewVm, VmPatch, VmRecord } from './types';

export type Row = Record<string, unknown>;

export const now = (): string => new Date().toISOString();

export function boolToDb(v: boolean | null): number | null {
  return v === null ? null : v ? 1 : 0;
}

const nullable = <T>(v: unknown, f: (x: unknown) => T): T | null => (v === null || v === undefined ? null : f(v));

export function toInfrastructure(r: Row): InfrastructureRecord {
  return {
    id: String(r.id), owner: String(r.owner), createdAt: String(r.created_at), updatedAt: String(r.updated_at),
    template: String(r.template), plan: JSON.parse(String(r.plan)), credentials: String(r.credentials),
    sshPublicKey: String(r.ssh_public_key), sshPrivateKey: String(r.ssh_private_key),
    phase: String(r.phase) as InfrastructureRecord['phase'], contmsg: String(r.contmsg), outputs: JSON.parse(String(r.outputs)),
    nextVmId: Number(r.next_vm_id),
  };
}

/**
 * toInfrastructure with the plan parsed when first read: the hot reads (state, VM lists, ownership)
 * never read it, and a thousand parsed plans held in memory cost far more than their text.
 */
export function toInfrastructureLazyPlan(r: Row): InfrastructureRecord {
  const planText = String(r.plan);
  const inf = toInfrastructure({ ...r, plan: 'null' });
  lazyJson(inf, 'plan', planText);
  return inf;
}

/** Defines `obj[key]` as JSON.parse(text) on first read (or the value first written), then a plain property. */
function lazyJson<T extends object>(obj: T, key: keyof T & string, text: string): void {
  const settle = (value: unknown) => {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
    return value;
  };
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get: () => settle(JSON.parse(text)),
    set: (value: unknown) => void settle(value),
  });
}

export function toVm(r: Row): VmRecord {
  return {
    infrastructureId: String(r.infrastructure_id), id: String(r.id), nodeName: String(r.node_name), cloudId: String(r.cloud_id),
    cloudType: String(r.cloud_type), clientToken: String(r.client_token), handle: r.handle ? JSON.parse(String(r.handle)) : null,
    state: String(r.state) as VmRecord['state'], configured: r.configured === null ? null : Number(r.configured) === 1,
    privateIps: JSON.parse(String(r.private_ips)), publicIps: JSON.parse(String(r.public_ips)), contmsg: String(r.contmsg),
    removing: Number(r.removing) === 1, createdAt: String(r.created_at), updatedAt: String(r.updated_at),
  };
}

export function toJob(r: Row): JobRecord {
  return {
    id: Number(r.id), infrastructureId: String(r.infrastructure_id), kind: String(r.kind) as JobRecord['kind'],
    payload: JSON.parse(String(r.payload)), status: String(r.status) as JobRecord['status'], attempts: Number(r.attempts),
    leaseOwner: nullable(r.lease_owner, String),
    leaseUntil: nullable(r.lease_until, Number),
    error: nullable(r.error, String),
    result: nullable(r.result, (x) => JSON.parse(String(x))),
    createdAt: String(r.created_at), updatedAt: String(r.updated_at),
  };
}

/** A freshly inserted, queued job's record. */
export function queuedJob(id: number, job: NewJob, ts: string): JobRecord {
  return {
    id, infrastructureId: job.infrastructureId, kind: job.kind, payload: job.payload, status: 'queued', attempts: 0,
    leaseOwner: null, leaseUntil: null, error: null, result: null, createdAt: ts, updatedAt: ts,
  };
}

/** The values of a VM row in the column order of VM_INSERT. */
export function vmInsertValues(vm: VmRecord, ts: string): unknown[] {
  return [vm.infrastructureId, vm.id, Number(vm.id), vm.nodeName, vm.cloudId, vm.cloudType, vm.clientToken,
    vm.handle ? JSON.stringify(vm.handle) : null, vm.state, boolToDb(vm.configured), JSON.stringify(vm.privateIps),
    JSON.stringify(vm.publicIps), vm.contmsg, vm.removing ? 1 : 0, ts, ts];
}

export const VM_INSERT = `INSERT INTO vms (infrastructure_id, id, seq, node_name, cloud_id, cloud_type, client_token, handle, state, configured,
  private_ips, public_ips, contmsg, removing, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`;

export const INF_INSERT = `INSERT INTO infrastructures (id, owner, created_at, updated_at, template, plan, credentials, ssh_public_key,
  ssh_private_key, phase, contmsg, outputs, next_vm_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`;

export function infInsertValues(inf: InfrastructureRecord): unknown[] {
  return [inf.id, inf.owner, inf.createdAt, inf.updatedAt, inf.template, JSON.stringify(inf.plan), inf.credentials, inf.sshPublicKey,
    inf.sshPrivateKey, inf.phase, inf.contmsg, JSON.stringify(inf.outputs), inf.nextVmId];
}

/** `UPDATE infrastructures SET … WHERE id = ?` for a patch (updated_at always), with its values. */
export function infPatchSql(id: string, patch: InfrastructurePatch, ts: string): [string, unknown[]] {
  const cols: [string, unknown][] = [];
  if (patch.template !== undefined) cols.push(['template', patch.template]);
  if (patch.plan !== undefined) cols.push(['plan', JSON.stringify(patch.plan)]);
  if (patch.credentials !== undefined) cols.push(['credentials', patch.credentials]);
  if (patch.sshPublicKey !== undefined) cols.push(['ssh_public_key', patch.sshPublicKey]);
  if (patch.sshPrivateKey !== undefined) cols.push(['ssh_private_key', patch.sshPrivateKey]);
  if (patch.phase !== undefined) cols.push(['phase', patch.phase]);
  if (patch.contmsg !== undefined) cols.push(['contmsg', patch.contmsg]);
  if (patch.outputs !== undefined) cols.push(['outputs', JSON.stringify(patch.outputs)]);
  cols.push(['updated_at', ts]);
  return [`UPDATE infrastructures SET ${cols.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`, [...cols.map(([, v]) => v), id]];
}

/** `UPDATE vms SET … WHERE infrastructure_id = ? AND id = ?` for a patch, with its values. */
export function vmPatchSql(infrastructureId: string, vmId: string, patch: VmPatch, ts: string): [string, unknown[]] {
  const cols: [string, unknown][] = [];
  if (patch.handle !== undefined) cols.push(['handle', patch.handle ? JSON.stringify(patch.handle) : null]);
  if (patch.state !== undefined) cols.push(['state', patch.state]);
  if (patch.configured !== undefined) cols.push(['configured', boolToDb(patch.configured)]);
  if (patch.privateIps !== undefined) cols.push(['private_ips', JSON.stringify(patch.privateIps)]);
  if (patch.publicIps !== undefined) cols.push(['public_ips', JSON.stringify(patch.publicIps)]);
  if (patch.contmsg !== undefined) cols.push(['contmsg', patch.contmsg]);
  if (patch.removing !== undefined) cols.push(['removing', patch.removing ? 1 : 0]);
  if (patch.cloudId !== undefined) cols.push(['cloud_id', patch.cloudId]);
  if (patch.cloudType !== undefined) cols.push(['cloud_type', patch.cloudType]);
  cols.push(['updated_at', ts]);
  return [`UPDATE vms SET ${cols.map(([c]) => `${c} = ?`).join(', ')} WHERE infrastructure_id = ? AND id = ?`, [...cols.map(([, v]) => v), infrastructureId, vmId]];
}

/** Builds VM records for new rows starting at the counter; returns them and the next counter. */
export function newVmRecords(infrastructureId: string, firstId: number, newVms: NewVm[], ts: string): { vms: VmRecord[]; nextVmId: number } {
  let next = firstId;
  const vms: VmRecord[] = [];
  for (const nv of newVms) {
    const id = nv.id ?? String(next);
    next = Math.max(next, Number(id) + 1);
    const { clientToken, ...rest } = nv;
    vms.push({ ...rest, id, infrastructureId, clientToken: clientToken ?? `${infrastructureId}-${id}`, createdAt: ts, updatedAt: ts });
  }
  return { vms, nextVmId: next };
}

/** The owner ids an infrastructure is listed under. */
export function ownerIds(inf: InfrastructureRecord): string[] {
  return inf.owners ? inf.owners.map((o) => o.id) : [inf.owner];
}

/** Upsert of a lease: taken when free, lapsed (until < now) or already the owner's. Params: key, owner, until, now. */
export const LEASE_CLAIM = `INSERT INTO leases (key, owner, until) VALUES (?, ?, ?)
  ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until = excluded.until
  WHERE leases.owner = excluded.owner OR leases.until < ?`;
export const LEASE_RELEASE = 'DELETE FROM leases WHERE key = ? AND owner = ?';

/** What takeBudget/refundBudget need of a transaction (SqliteDb and PgDb both have it). */
interface BudgetTx {
  run(sql: string, params?: unknown[]): Promise<unknown>;
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
}

/** The body of Store.takeBudget, inside the caller's transaction (which orders concurrent takers). */
export async function takeBudgetIn(tx: BudgetTx, key: string, perWindow: number, want: number, now: number, windowMs: number): Promise<number> {
  await tx.run('DELETE FROM budget_spent WHERE key = ? AND spent_at <= ?', [key, now - windowMs]);
  const row = await tx.get<{ n: unknown }>('SELECT count(*) AS n FROM budget_spent WHERE key = ?', [key]);
  const granted = Math.min(Math.max(0, Math.floor(want)), Math.max(0, perWindow - Number(row?.n ?? 0)));
  for (let i = 0; i < granted; i++) await tx.run('INSERT INTO budget_spent (key, spent_at) VALUES (?, ?)', [key, now]);
  return granted;
}

/** Store.refundBudget: deletes up to n of the key's tokens spent at `at`. */
export const BUDGET_REFUND = `DELETE FROM budget_spent WHERE rowid IN (SELECT rowid FROM budget_spent WHERE key = ? AND spent_at = ? LIMIT ?)`;

/** What the shared job reads need of a database (SqliteDb and PgDb both have it). */
interface ReadDb {
  get<T = Row>(sql: string, params?: unknown[]): Promise<T | undefined>;
  all<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
}

export async function readJob(db: ReadDb, jobId: number): Promise<JobRecord | undefined> {
  const row = await db.get('SELECT * FROM jobs WHERE id = ?', [jobId]);
  return row ? toJob(row) : undefined;
}

export async function readOpenJobs(db: ReadDb, infrastructureId?: string): Promise<JobRecord[]> {
  const rows = infrastructureId === undefined
    ? await db.all(`SELECT * FROM jobs WHERE status IN ('queued','running') ORDER BY id`)
    : await db.all(`SELECT * FROM jobs WHERE status IN ('queued','running') AND infrastructure_id = ? ORDER BY id`, [infrastructureId]);
  return rows.map(toJob);
}

/** The UPDATE that records a job's outcome and drops its lease, with its values. */
export function finishJobSql(jobId: number, outcome: { status: 'done' | 'failed'; error?: string; result?: unknown }, ts: string): [string, unknown[]] {
  return [
    `UPDATE jobs SET status = ?, error = ?, result = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ?`,
    [outcome.status, outcome.error ?? null, outcome.result === undefined ? null : JSON.stringify(outcome.result), ts, jobId],
  ];
}
