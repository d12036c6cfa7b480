/**
 * SQLite implementation of Store (one file, WAL). One process owns the file, so infrastructures
 * and VMs are also kept in memory (loaded at open, written through on every change): reads never
 * touch the disk, which is what keeps GET /state fast. Jobs are read from the database.
 */
import {
  startsDuringConfigure,
  type InfrastructurePatch, type InfrastructureRecord, type JobRecord, type NewInfrastructure, type NewJob, type NewVm, type OwnerEntry,
  type Store, type VmChange, type VmPatch, type VmRecord,
} from './types';
import { SqliteDb } from './sqlite-db';
import { migrate } from './migrations';
import {
  BUDGET_REFUND, INF_INSERT, LEASE_CLAIM, LEASE_RELEASE, VM_INSERT, infInsertValues, infPatchSql, newVmRecords, now, ownerIds, queuedJob, toInfrastructureLazyPlan, toJob, toVm,
  finishJobSql, readJob, readOpenJobs, takeBudgetIn, vmInsertValues, vmPatchSql,
} from './rows';

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly infs = new Map<string, InfrastructureRecord>();
  /** infrastructure id → (vm id → record), kept in numeric id order. */
  private readonly vms = new Map<string, Map<string, VmRecord>>();
  /** owner → ids in creation order. */
  private readonly byOwner = new Map<string, Set<string>>();
  private closed = false;

  private constructor(private readonly db: SqliteDb) {}

  static async open(file: string): Promise<SqliteStore> {
    const db = await SqliteDb.open(file);
    if (file !== ':memory:') await db.exec('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode survives a killed process (not a power cut), at a fraction of FULL's cost.
    await db.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000');
    await migrate(db);
    const store = new SqliteStore(db);
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    const owners = new Map<string, OwnerEntry[]>();
    for (const r of await this.db.all('SELECT * FROM infrastructure_owners ORDER BY infrastructure_id, position')) {
      const id = String(r.infrastructure_id);
      owners.set(id, [...(owners.get(id) ?? []), { id: String(r.owner), username: String(r.username) }]);
    }
    for (const row of await this.db.all('SELECT * FROM infrastructures ORDER BY created_at, id')) {
      const inf = toInfrastructureLazyPlan(row);
      if (owners.has(inf.id)) inf.owners = owners.get(inf.id);
      this.infs.set(inf.id, inf);
      this.vms.set(inf.id, new Map());
      this.indexOwner(inf);
    }
    for (const row of await this.db.all('SELECT * FROM vms ORDER BY infrastructure_id, seq')) {
      const vm = toVm(row);
      this.vms.get(vm.infrastructureId)?.set(vm.id, vm);
    }
  }

  // ---- infrastructures -------------------------------------------------------------------------

  async createInfrastructure(input: NewInfrastructure, newVms: NewVm[], job?: NewJob) {
    const ts = now();
    const inf: InfrastructureRecord = { ...input, nextVmId: input.nextVmId ?? 0, createdAt: ts, updatedAt: ts };
    const { vms, job: jobRecord, nextVmId } = await this.db.transaction(async () => {
      await this.db.run(INF_INSERT, infInsertValues(inf));
      const inserted = await this.insertVms(inf.id, inf.nextVmId, newVms, ts);
      const j = job ? await this.insertJob(job, ts) : undefined;
      return { ...inserted, job: j };
    });
    inf.nextVmId = nextVmId;
    this.infs.set(inf.id, inf);
    this.indexOwner(inf);
    this.vms.set(inf.id, new Map(vms.map((v) => [v.id, v])));
    return { infrastructure: { ...inf }, vms: vms.map((v) => ({ ...v })), job: jobRecord };
  }

  async getInfrastructure(id: string) {
    const inf = this.infs.get(id);
    return inf ? { ...inf } : undefined;
  }

  async listInfrastructures(owner?: string) {
    if (owner === undefined) return [...this.infs.values()].map((i) => ({ ...i }));
    return [...(this.byOwner.get(owner) ?? [])].map((id) => ({ ...this.infs.get(id)! }));
  }

  async listInfrastructureIds(owner: string) {
    return [...(this.byOwner.get(owner) ?? [])];
  }

  async updateInfrastructure(id: string, patch: InfrastructurePatch) {
    const current = this.requireInf(id);
    const ts = now();
    await this.db.write(...infPatchSql(id, patch, ts));
    const next = { ...(this.infs.get(id) ?? current), ...patch, updatedAt: ts };
    this.infs.set(id, next);
    return { ...next };
  }

  async appendContmsg(infrastructureId: string, text: string, vmId?: string) {
    const ts = now();
    if (vmId === undefined) {
      if (!this.infs.has(infrastructureId)) return;
      await this.db.write('UPDATE infrastructures SET contmsg = contmsg || ?, updated_at = ? WHERE id = ?', [text, ts, infrastructureId]);
      const inf = this.infs.get(infrastructureId);
      if (inf) this.infs.set(infrastructureId, { ...inf, contmsg: inf.contmsg + text, updatedAt: ts });
      return;
    }
    if (!this.vms.get(infrastructureId)?.has(vmId)) return;
    await this.db.write('UPDATE vms SET contmsg = contmsg || ?, updated_at = ? WHERE infrastructure_id = ? AND id = ?', [text, ts, infrastructureId, vmId]);
    const vm = this.vms.get(infrastructureId)?.get(vmId);
    if (vm) this.vms.get(infrastructureId)!.set(vmId, { ...vm, contmsg: vm.contmsg + text, updatedAt: ts });
  }

  async setOwners(id: string, owners: OwnerEntry[]) {
    const current = this.requireInf(id);
    if (owners.length === 0) throw new Error(`Infrastructure ${id} needs at least one owner`);
    const ts = now();
    await this.db.transaction(async () => {
      await this.db.run('DELETE FROM infrastructure_owners WHERE infrastructure_id = ?', [id]);
      for (const [i, o] of owners.entries()) {
        await this.db.run('INSERT INTO infrastructure_owners (infrastructure_id, position, owner, username) VALUES (?,?,?,?)', [id, i, o.id, o.username]);
      }
      await this.db.run('UPDATE infrastructures SET owner = ?, updated_at = ? WHERE id = ?', [owners[0].id, ts, id]);
    });
    this.unindexOwner(current);
    const next: InfrastructureRecord = { ...(this.infs.get(id) ?? current), owner: owners[0].id, owners: owners.map((o) => ({ ...o })), updatedAt: ts };
    this.infs.set(id, next);
    this.indexOwner(next);
    return { ...next };
  }

  async deleteInfrastructure(id: string) {
    await this.db.transaction(async () => {
      await this.db.run('DELETE FROM infrastructure_owners WHERE infrastructure_id = ?', [id]);
      await this.db.run('DELETE FROM vms WHERE infrastructure_id = ?', [id]);
      await this.db.run('DELETE FROM elastic_state WHERE infrastructure_id = ?', [id]);
      await this.db.run('DELETE FROM infrastructures WHERE id = ?', [id]);
    });
    const inf = this.infs.get(id);
    if (inf) this.unindexOwner(inf);
    this.infs.delete(id);
    this.vms.delete(id);
  }

  // ---- VMs --------------------------------------------------------------------------------------

  async getInfrastructureState(id: string) {
    const inf = this.infs.get(id);
    if (!inf) return undefined;
    const vms = (await this.listVms(id)).map(({ id: vmId, state, configured, removing }) => ({ id: vmId, state, configured, removing }));
    return { owner: inf.owner, owners: inf.owners?.map((o) => ({ ...o })), phase: inf.phase, vms };
  }

  async listVms(infrastructureId: string) {
    const map = this.vms.get(infrastructureId);
    return map ? [...map.values()].map((v) => ({ ...v })) : [];
  }

  async getVm(infrastructureId: string, vmId: string) {
    const vm = this.vms.get(infrastructureId)?.get(vmId);
    return vm ? { ...vm } : undefined;
  }

  async addVms(infrastructureId: string, newVms: NewVm[], opts: { job?: NewJob; patch?: InfrastructurePatch; vmChanges?: VmChange[] } = {}) {
    const inf = this.requireInf(infrastructureId);
    const ts = now();
    const result = await this.db.transaction(async () => {
      // The counter is read inside the transaction: the cached copy may lag a concurrent addVms.
      const row = await this.db.get<{ next_vm_id: number }>('SELECT next_vm_id FROM infrastructures WHERE id = ?', [infrastructureId]);
      if (!row) throw new Error(`No infrastructure ${infrastructureId} in the store`);
      const inserted = await this.insertVms(infrastructureId, Number(row.next_vm_id), newVms, ts);
      if (opts.patch) await this.writeInfPatch(infrastructureId, opts.patch, ts);
      for (const c of opts.vmChanges ?? []) await this.writeVmPatch(infrastructureId, c.vmId, c.patch, ts);
      const job = opts.job ? await this.insertJob(opts.job, ts) : undefined;
      return { ...inserted, job };
    });
    this.infs.set(infrastructureId, { ...(this.infs.get(infrastructureId) ?? inf), ...(opts.patch ?? {}), nextVmId: result.nextVmId, updatedAt: ts });
    const map = this.vms.get(infrastructureId)!;
    for (const v of result.vms) map.set(v.id, v);
    this.applyVmChanges(infrastructureId, opts.vmChanges ?? [], ts);
    return { vms: result.vms.map((v) => ({ ...v })), job: result.job };
  }

  async updateVm(infrastructureId: string, vmId: string, patch: VmPatch) {
    const vm = this.vms.get(infrastructureId)?.get(vmId);
    if (!vm) throw new Error(`No VM ${vmId} in infrastructure ${infrastructureId}`);
    const ts = now();
    await this.db.write(...vmPatchSql(infrastructureId, vmId, patch, ts));
    const next = { ...(this.vms.get(infrastructureId)?.get(vmId) ?? vm), ...patch, updatedAt: ts };
    this.vms.get(infrastructureId)?.set(vmId, next);
    return { ...next };
  }

  async deleteVms(infrastructureId: string, vmIds: string[]) {
    if (vmIds.length === 0) return;
    await this.db.transaction(async () => {
      for (const id of vmIds) await this.db.run('DELETE FROM vms WHERE infrastructure_id = ? AND id = ?', [infrastructureId, id]);
    });
    const map = this.vms.get(infrastructureId);
    for (const id of vmIds) map?.delete(id);
  }

  // ---- jobs -------------------------------------------------------------------------------------

  async enqueueJob(job: NewJob, opts: { patch?: InfrastructurePatch; vmChanges?: VmChange[] } = {}) {
    const ts = now();
    const record = await this.db.transaction(async () => {
      if (opts.patch) await this.writeInfPatch(job.infrastructureId, opts.patch, ts);
      for (const c of opts.vmChanges ?? []) await this.writeVmPatch(job.infrastructureId, c.vmId, c.patch, ts);
      return this.insertJob(job, ts);
    });
    const inf = this.infs.get(job.infrastructureId);
    if (inf && opts.patch) this.infs.set(inf.id, { ...inf, ...opts.patch, updatedAt: ts });
    this.applyVmChanges(job.infrastructureId, opts.vmChanges ?? [], ts);
    return record;
  }

  async claimJob(runner: string, leaseMs: number, exclude: ReadonlySet<string> = new Set(), configuringOnly: ReadonlySet<string> = new Set()) {
    // Most claims find nothing (the runner looks again after every job it finishes): a plain read
    // answers those without a write transaction; a job queued meanwhile kicks the runner again.
    if (!(await this.runnableJob(Date.now(), exclude, configuringOnly))) return undefined;
    return this.db.transaction(async () => {
      const t = Date.now();
      const row = await this.runnableJob(t, exclude, configuringOnly);
      if (!row) return undefined;
      const ts = now();
      await this.db.run(
        `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = ?`,
        [runner, t + leaseMs, ts, row.id],
      );
      return { ...row, status: 'running' as const, attempts: row.attempts + 1, leaseOwner: runner, leaseUntil: t + leaseMs, updatedAt: ts };
    });
  }

  private async runnableJob(t: number, exclude: ReadonlySet<string>, configuringOnly: ReadonlySet<string>): Promise<JobRecord | undefined> {
    // A job is runnable when no earlier job of its infrastructure is unfinished: one at a time, in order.
    // The exception, startsDuringConfigure (types.ts, same test), passes earlier configure jobs.
    // So an infrastructure has at most two runnable jobs: its first unfinished one and such a deploy.
    const candidates = await this.db.all(
      `SELECT j.* FROM jobs j
        WHERE (j.status = 'queued' OR (j.status = 'running' AND j.lease_until < ?))
          AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.infrastructure_id = j.infrastructure_id AND e.id < j.id
                          AND e.status IN ('queued', 'running')
                          AND NOT (e.kind = 'configure' AND j.kind = 'deploy'
                                   AND COALESCE(json_array_length(j.payload, '$.removeVmIds'), 0) = 0))
        ORDER BY j.id LIMIT ?`,
      [t, 2 * exclude.size + 1],
    );
    return candidates.map(toJob).find((j) => !exclude.has(j.infrastructureId)
      || (configuringOnly.has(j.infrastructureId) && startsDuringConfigure(j)));
  }

  async renewLease(jobId: number, runner: string, leaseMs: number) {
    const r = await this.db.write(
      `UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`,
      [Date.now() + leaseMs, jobId, runner],
    );
    return r.changes === 1;
  }

  async finishJob(jobId: number, outcome: { status: 'done' | 'failed'; error?: string; result?: unknown }, next?: NewJob) {
    const ts = now();
    return this.db.transaction(async () => {
      await this.db.run(...finishJobSql(jobId, outcome, ts));
      return next ? this.insertJob(next, ts) : undefined;
    });
  }

  getJob(jobId: number) {
    return readJob(this.db, jobId);
  }

  listOpenJobs(infrastructureId?: string) {
    return readOpenJobs(this.db, infrastructureId);
  }

  async requeueOrphanJobs(runnerAlive: (runner: string) => boolean) {
    const running = await this.db.all<{ id: number; lease_owner: string | null }>(`SELECT id, lease_owner FROM jobs WHERE status = 'running'`);
    const orphans = running.filter((r) => !r.lease_owner || !runnerAlive(r.lease_owner));
    if (orphans.length === 0) return 0;
    const ts = now();
    await this.db.transaction(async () => {
      for (const o of orphans) {
        await this.db.run(`UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ?`, [ts, o.id]);
      }
    });
    return orphans.length;
  }

  async pruneJobs(finishedBefore: Date) {
    const r = await this.db.write(`DELETE FROM jobs WHERE status IN ('done','failed') AND updated_at < ?`, [finishedBefore.toISOString()]);
    return r.changes;
  }

  // ---- elasticity key/value ---------------------------------------------------------------------

  async getKv(infrastructureId: string, key: string) {
    const row = await this.db.get<{ value: string }>('SELECT value FROM elastic_state WHERE infrastructure_id = ? AND key = ?', [infrastructureId, key]);
    return row ? JSON.parse(row.value) : undefined;
  }

  async putKv(infrastructureId: string, key: string, value: unknown) {
    await this.db.write(
        `INSERT INTO elastic_state (infrastructure_id, key, value, updated_at) VALUES (?,?,?,?)
          ON CONFLICT (infrastructure_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [infrastructureId, key, JSON.stringify(value ?? null), now()],
      );
  }

  async deleteKv(infrastructureId: string, key: string) {
    await this.db.write('DELETE FROM elastic_state WHERE infrastructure_id = ? AND key = ?', [infrastructureId, key]);
  }

  async listKv(infrastructureId: string) {
    const rows = await this.db.all<{ key: string; value: string }>('SELECT key, value FROM elastic_state WHERE infrastructure_id = ? ORDER BY key', [infrastructureId]);
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  }

  async claimSetting(key: string, value: string) {
    await this.db.write('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]))!.value;
  }

  async claimLease(key: string, owner: string, ttlMs: number) {
    const t = Date.now();
    const r = await this.db.write(LEASE_CLAIM, [key, owner, t + ttlMs, t]);
    return r.changes === 1;
  }

  async releaseLease(key: string, owner: string) {
    await this.db.write(LEASE_RELEASE, [key, owner]);
  }

  async takeBudget(key: string, perWindow: number, want: number, now: number, windowMs: number) {
    return this.db.transaction((tx) => takeBudgetIn(tx, key, perWindow, want, now, windowMs));
  }

  async refundBudget(key: string, n: number, at: number) {
    if (n > 0) await this.db.write(BUDGET_REFUND, [key, at, n]);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private indexOwner(inf: InfrastructureRecord): void {
    for (const owner of ownerIds(inf)) {
      let ids = this.byOwner.get(owner);
      if (!ids) this.byOwner.set(owner, (ids = new Set()));
      ids.add(inf.id);
    }
  }

  private unindexOwner(inf: InfrastructureRecord): void {
    for (const owner of ownerIds(inf)) this.byOwner.get(owner)?.delete(inf.id);
  }

  private requireInf(id: string): InfrastructureRecord {
    const inf = this.infs.get(id);
    if (!inf) throw new Error(`No infrastructure ${id} in the store`);
    return inf;
  }

  private async insertVms(infrastructureId: string, firstId: number, newVms: NewVm[], ts: string) {
    const { vms, nextVmId } = newVmRecords(infrastructureId, firstId, newVms, ts);
    for (const vm of vms) await this.db.run(VM_INSERT, vmInsertValues(vm, ts));
    if (nextVmId !== firstId) await this.db.run('UPDATE infrastructures SET next_vm_id = ? WHERE id = ?', [nextVmId, infrastructureId]);
    return { vms, nextVmId };
  }

  private async insertJob(job: NewJob, ts: string): Promise<JobRecord> {
    const r = await this.db.run(
      `INSERT INTO jobs (infrastructure_id, kind, payload, status, attempts, created_at, updated_at) VALUES (?,?,?,'queued',0,?,?)`,
      [job.infrastructureId, job.kind, JSON.stringify(job.payload), ts, ts],
    );
    return queuedJob(r.lastID, job, ts);
  }

  private async writeInfPatch(id: string, patch: InfrastructurePatch, ts: string): Promise<void> {
    await this.db.run(...infPatchSql(id, patch, ts));
  }

  private async writeVmPatch(infrastructureId: string, vmId: string, patch: VmPatch, ts: string): Promise<void> {
    await this.db.run(...vmPatchSql(infrastructureId, vmId, patch, ts));
  }

  private applyVmChanges(infrastructureId: string, changes: VmChange[], ts: string): void {
    const map = this.vms.get(infrastructureId);
    if (!map) return;
    for (const c of changes) {
      const vm = map.get(c.vmId);
      if (vm) map.set(c.vmId, { ...vm, ...c.patch, updatedAt: ts });
    }
  }
}
