/**
 * PostgreSQL implementation of Store, for several replicas on one database. Nothing is cached: any
 * replica answers any request from the database (read-your-writes across replicas). Jobs are
 * claimed with FOR UPDATE SKIP LOCKED and a lease (postgres-jobs.ts); an infrastructure's row is
 * locked while its VM counter moves.
 */
import {
  type InfrastructurePatch, type InfrastructureRecord, type NewInfrastructure, type NewJob, type NewVm, type OwnerEntry,
  type Store, type VmChange, type VmPatch, type VmRecord,
} from './types';
import { PgDb } from './postgres-db';
import { migratePg } from './postgres-migrations';
import { PgJobs } from './postgres-jobs';
import {
  BUDGET_REFUND, INF_INSERT, LEASE_CLAIM, LEASE_RELEASE, VM_INSERT, infInsertValues, infPatchSql, newVmRecords, now, toInfrastructureLazyPlan, toVm, takeBudgetIn, vmInsertValues, vmPatchSql, type Row,
} from './rows';

/** The infrastructure row with its owners (JSON, in order; null while the creator is the only one). */
const INF_SELECT = `SELECT i.*, (SELECT json_agg(json_build_object('id', o.owner, 'username', o.username) ORDER BY o.position)
  FROM infrastructure_owners o WHERE o.infrastructure_id = i.id) AS owners_json FROM infrastructures i`;

function withOwners(r: Row): InfrastructureRecord {
  const inf = toInfrastructureLazyPlan(r);
  if (r.owners_json) inf.owners = r.owners_json as OwnerEntry[];
  return inf;
}

export class PostgresStore extends PgJobs implements Store {
  readonly kind = 'postgres';
  private closed = false;

  private constructor(db: PgDb) {
    super(db);
  }

  static async open(url: string, poolSize?: number): Promise<PostgresStore> {
    const db = await PgDb.open(url, poolSize);
    try {
      await migratePg(db);
    } catch (e) {
      await db.close();
      throw e;
    }
    return new PostgresStore(db);
  }

  // ---- infrastructures -------------------------------------------------------------------------

  async createInfrastructure(input: NewInfrastructure, newVms: NewVm[], job?: NewJob) {
    const ts = now();
    const inf: InfrastructureRecord = { ...input, nextVmId: input.nextVmId ?? 0, createdAt: ts, updatedAt: ts };
    return this.db.transaction(async (tx) => {
      await tx.run(INF_INSERT, infInsertValues(inf));
      const { vms, nextVmId } = await insertVms(tx, inf.id, inf.nextVmId, newVms, ts);
      const j = job ? await this.insertJob(tx, job, ts) : undefined;
      return { infrastructure: { ...inf, nextVmId }, vms, job: j };
    });
  }

  async getInfrastructure(id: string) {
    const row = await this.db.get(`${INF_SELECT} WHERE i.id = ?`, [id]);
    return row ? withOwners(row) : undefined;
  }

  async listInfrastructures(owner?: string) {
    const rows = owner === undefined
      ? await this.db.all(`${INF_SELECT} ORDER BY i.created_at, i.id`)
      : await this.db.all(`${INF_SELECT} WHERE ${OWNED} ORDER BY i.created_at, i.id`, [owner, owner]);
    return rows.map(withOwners);
  }

  async listInfrastructureIds(owner: string) {
    // Two index scans (the owner's own rows: index-only on (owner, created_at, id); shared ones), no wide rows read.
    const rows = await this.db.all<{ id: string }>(
      `SELECT id FROM (SELECT id, created_at FROM infrastructures WHERE owner = ?
          UNION SELECT i.id, i.created_at FROM infrastructure_owners o JOIN infrastructures i ON i.id = o.infrastructure_id WHERE o.owner = ?) x
        ORDER BY created_at, id`, [owner, owner]);
    return rows.map((r) => r.id);
  }

  async updateInfrastructure(id: string, patch: InfrastructurePatch) {
    const r = await this.db.run(...infPatchSql(id, patch, now()));
    if (r.changes === 0) throw new Error(`No infrastructure ${id} in the store`);
    return (await this.getInfrastructure(id))!;
  }

  async appendContmsg(infrastructureId: string, text: string, vmId?: string) {
    const ts = now();
    if (vmId === undefined) await this.db.run('UPDATE infrastructures SET contmsg = contmsg || ?, updated_at = ? WHERE id = ?', [text, ts, infrastructureId]);
    else await this.db.run('UPDATE vms SET contmsg = contmsg || ?, updated_at = ? WHERE infrastructure_id = ? AND id = ?', [text, ts, infrastructureId, vmId]);
  }

  async setOwners(id: string, owners: OwnerEntry[]) {
    if (owners.length === 0) throw new Error(`Infrastructure ${id} needs at least one owner`);
    await this.db.transaction(async (tx) => {
      const r = await tx.run('UPDATE infrastructures SET owner = ?, updated_at = ? WHERE id = ?', [owners[0].id, now(), id]);
      if (r.changes === 0) throw new Error(`No infrastructure ${id} in the store`);
      await tx.run('DELETE FROM infrastructure_owners WHERE infrastructure_id = ?', [id]);
      for (const [i, o] of owners.entries()) {
        await tx.run('INSERT INTO infrastructure_owners (infrastructure_id, position, owner, username) VALUES (?,?,?,?)', [id, i, o.id, o.username]);
      }
    });
    return (await this.getInfrastructure(id))!;
  }

  async deleteInfrastructure(id: string) {
    await this.db.transaction(async (tx) => {
      // The owners and VMs go with the row (ON DELETE CASCADE).
      await tx.run('DELETE FROM elastic_state WHERE infrastructure_id = ?', [id]);
      await tx.run('DELETE FROM infrastructures WHERE id = ?', [id]);
    });
  }

  // ---- VMs --------------------------------------------------------------------------------------

  async getInfrastructureState(id: string) {
    // One round trip: the state poll is the hottest read, and a second query doubled its latency.
    const row = await this.db.get(
      `SELECT i.owner, i.phase, (SELECT json_agg(json_build_object('id', o.owner, 'username', o.username) ORDER BY o.position)
          FROM infrastructure_owners o WHERE o.infrastructure_id = i.id) AS owners_json,
        (SELECT json_agg(json_build_array(v.id, v.state, v.configured, v.removing) ORDER BY v.seq)
          FROM vms v WHERE v.infrastructure_id = i.id) AS vms_json
        FROM infrastructures i WHERE i.id = ?`, [id]);
    if (!row) return undefined;
    const vms = ((row.vms_json ?? []) as Array<[string, VmRecord['state'], number | null, number]>).map(([vmId, state, configured, removing]) => (
      { id: vmId, state, configured: configured === null ? null : Number(configured) === 1, removing: Number(removing) === 1 }));
    return { owner: String(row.owner), owners: (row.owners_json ?? undefined) as OwnerEntry[] | undefined, phase: String(row.phase) as InfrastructureRecord['phase'], vms };
  }

  async listVms(infrastructureId: string) {
    return (await this.db.all('SELECT * FROM vms WHERE infrastructure_id = ? ORDER BY seq', [infrastructureId])).map(toVm);
  }

  async getVm(infrastructureId: string, vmId: string) {
    const row = await this.db.get('SELECT * FROM vms WHERE infrastructure_id = ? AND id = ?', [infrastructureId, vmId]);
    return row ? toVm(row) : undefined;
  }

  async addVms(infrastructureId: string, newVms: NewVm[], opts: { job?: NewJob; patch?: InfrastructurePatch; vmChanges?: VmChange[] } = {}) {
    const ts = now();
    return this.db.transaction(async (tx) => {
      // The row lock orders concurrent addVms of one infrastructure, from any replica.
      const row = await tx.get<{ next_vm_id: number }>('SELECT next_vm_id FROM infrastructures WHERE id = ? FOR UPDATE', [infrastructureId]);
      if (!row) throw new Error(`No infrastructure ${infrastructureId} in the store`);
      const { vms } = await insertVms(tx, infrastructureId, Number(row.next_vm_id), newVms, ts);
      if (opts.patch) await tx.run(...infPatchSql(infrastructureId, opts.patch, ts));
      for (const c of opts.vmChanges ?? []) await tx.run(...vmPatchSql(infrastructureId, c.vmId, c.patch, ts));
      const job = opts.job ? await this.insertJob(tx, opts.job, ts) : undefined;
      return { vms, job };
    });
  }

  async updateVm(infrastructureId: string, vmId: string, patch: VmPatch) {
    const [sql, params] = vmPatchSql(infrastructureId, vmId, patch, now());
    const row = await this.db.get(`${sql} RETURNING *`, params);
    if (!row) throw new Error(`No VM ${vmId} in infrastructure ${infrastructureId}`);
    return toVm(row);
  }

  async deleteVms(infrastructureId: string, vmIds: string[]) {
    if (vmIds.length === 0) return;
    await this.db.run('DELETE FROM vms WHERE infrastructure_id = ? AND id = ANY(?)', [infrastructureId, vmIds]);
  }

  // ---- elasticity key/value, settings -----------------------------------------------------------

  async getKv(infrastructureId: string, key: string) {
    const row = await this.db.get<{ value: string }>('SELECT value FROM elastic_state WHERE infrastructure_id = ? AND key = ?', [infrastructureId, key]);
    return row ? JSON.parse(row.value) : undefined;
  }

  async putKv(infrastructureId: string, key: string, value: unknown) {
    await this.db.run(
      `INSERT INTO elastic_state (infrastructure_id, key, value, updated_at) VALUES (?,?,?,?)
        ON CONFLICT (infrastructure_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [infrastructureId, key, JSON.stringify(value ?? null), now()],
    );
  }

  async deleteKv(infrastructureId: string, key: string) {
    await this.db.run('DELETE FROM elastic_state WHERE infrastructure_id = ? AND key = ?', [infrastructureId, key]);
  }

  async listKv(infrastructureId: string) {
    const rows = await this.db.all<{ key: string; value: string }>('SELECT key, value FROM elastic_state WHERE infrastructure_id = ? ORDER BY key', [infrastructureId]);
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  }

  async claimSetting(key: string, value: string) {
    await this.db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]))!.value;
  }

  async claimLease(key: string, owner: string, ttlMs: number) {
    const t = Date.now();
    return (await this.db.run(LEASE_CLAIM, [key, owner, t + ttlMs, t])).changes === 1;
  }

  async releaseLease(key: string, owner: string) {
    await this.db.run(LEASE_RELEASE, [key, owner]);
  }

  async takeBudget(key: string, perWindow: number, want: number, now: number, windowMs: number) {
    return this.db.transaction(async (tx) => {
      await tx.run('SELECT pg_advisory_xact_lock(hashtext(?))', [`budget:${key}`]); // replicas take one after another
      return takeBudgetIn(tx, key, perWindow, want, now, windowMs);
    });
  }

  async refundBudget(key: string, n: number, at: number) {
    // PostgreSQL has no rowid: ctid names the row.
    if (n > 0) await this.db.run(BUDGET_REFUND.replace(/rowid/g, 'ctid'), [key, at, n]);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}

/**
 * Listed for an owner: the first owner, or one of the owners ChangeInfrastructureAuth set. A UNION
 * of two index lookups, where an OR across the tables would scan every infrastructure.
 */
const OWNED = `i.id IN (SELECT id FROM infrastructures WHERE owner = ? UNION SELECT infrastructure_id FROM infrastructure_owners WHERE owner = ?)`;

async function insertVms(tx: PgDb, infrastructureId: string, firstId: number, newVms: NewVm[], ts: string): Promise<{ vms: VmRecord[]; nextVmId: number }> {
  const out = newVmRecords(infrastructureId, firstId, newVms, ts);
  for (const vm of out.vms) await tx.run(VM_INSERT, vmInsertValues(vm, ts));
  if (out.nextVmId !== firstId) await tx.run('UPDATE infrastructures SET next_vm_id = ? WHERE id = ?', [out.nextVmId, infrastructureId]);
  return out;
}
