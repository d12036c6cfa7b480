/**
 * The job half of PostgresStore. Jobs are claimed across replicas with FOR UPDATE SKIP LOCKED and a
 * lease (lease_owner, lease_until in epoch ms) that the holder renews; a job whose lease lapsed (its
 * replica died) is claimable again. Enqueues of one infrastructure take an advisory lock first, so
 * job ids of one infrastructure commit in id order and "no earlier unfinished job" (one job at a
 * time per infrastructure, FIFO) holds for a claimer on any replica.
 */
import { startsDuringConfigure, type InfrastructurePatch, type JobRecord, type NewJob, type VmChange } from './types';
import type { PgDb } from './postgres-db';
import { finishJobSql, infPatchSql, now, queuedJob, readJob, readOpenJobs, toJob, vmPatchSql } from './rows';

export abstract class PgJobs {
  protected constructor(protected readonly db: PgDb) {}

  protected async insertJob(tx: PgDb, job: NewJob, ts: string): Promise<JobRecord> {
    await tx.run('SELECT pg_advisory_xact_lock(hashtext(?))', [`job:${job.infrastructureId}`]);
    const row = await tx.get<{ id: string }>(
      `INSERT INTO jobs (infrastructure_id, kind, payload, status, attempts, created_at, updated_at) VALUES (?,?,?,'queued',0,?,?) RETURNING id`,
      [job.infrastructureId, job.kind, JSON.stringify(job.payload), ts, ts],
    );
    return queuedJob(Number(row!.id), job, ts);
  }

  async enqueueJob(job: NewJob, opts: { patch?: InfrastructurePatch; vmChanges?: VmChange[] } = {}) {
    const ts = now();
    return this.db.transaction(async (tx) => {
      if (opts.patch) await tx.run(...infPatchSql(job.infrastructureId, opts.patch, ts));
      for (const c of opts.vmChanges ?? []) await tx.run(...vmPatchSql(job.infrastructureId, c.vmId, c.patch, ts));
      return this.insertJob(tx, job, ts);
    });
  }

  async claimJob(runner: string, leaseMs: number, exclude: ReadonlySet<string> = new Set(), configuringOnly: ReadonlySet<string> = new Set()) {
    return this.db.transaction(async (tx) => {
      const t = Date.now();
      // As SqliteStore.claimJob: runnable = no earlier unfinished job of its infrastructure, bar a
      // startsDuringConfigure deploy passing configure jobs. Rows another replica is claiming are skipped.
      const candidates = await tx.all(
        `SELECT j.* FROM jobs j
          WHERE (j.status = 'queued' OR (j.status = 'running' AND j.lease_until < ?))
            AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.infrastructure_id = j.infrastructure_id AND e.id < j.id
                            AND e.status IN ('queued', 'running')
                            AND NOT (e.kind = 'configure' AND j.kind = 'deploy' AND COALESCE(CASE
                              WHEN json_typeof(j.payload::json -> 'removeVmIds') = 'array'
                              THEN json_array_length(j.payload::json -> 'removeVmIds') END, 0) = 0))
          ORDER BY j.id LIMIT ? FOR UPDATE OF j SKIP LOCKED`,
        [t, 2 * exclude.size + 1],
      );
      const row = candidates.map(toJob).find((j) => !exclude.has(j.infrastructureId)
        || (configuringOnly.has(j.infrastructureId) && startsDuringConfigure(j)));
      if (!row) return undefined;
      const ts = now();
      await tx.run(
        `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = ?`,
        [runner, t + leaseMs, ts, row.id],
      );
      return { ...row, status: 'running' as const, attempts: row.attempts + 1, leaseOwner: runner, leaseUntil: t + leaseMs, updatedAt: ts };
    });
  }

  async renewLease(jobId: number, runner: string, leaseMs: number) {
    const r = await this.db.run(`UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`, [Date.now() + leaseMs, jobId, runner]);
    return r.changes === 1;
  }

  async finishJob(jobId: number, outcome: { status: 'done' | 'failed'; error?: string; result?: unknown }, next?: NewJob) {
    const ts = now();
    return this.db.transaction(async (tx) => {
      await tx.run(...finishJobSql(jobId, outcome, ts));
      return next ? this.insertJob(tx, next, ts) : undefined;
    });
  }

  getJob(jobId: number) {
    return readJob(this.db, jobId);
  }

  listOpenJobs(infrastructureId?: string) {
    return readOpenJobs(this.db, infrastructureId);
  }

  /**
   * Other replicas may be alive: only a job whose lease lapsed (or that has no holder) and whose
   * holder the caller does not know to be alive goes back to the queue.
   */
  async requeueOrphanJobs(runnerAlive: (runner: string) => boolean) {
    const running = await this.db.all<{ id: string; lease_owner: string | null }>(
      `SELECT id, lease_owner FROM jobs WHERE status = 'running' AND (lease_owner IS NULL OR lease_until < ?)`, [Date.now()]);
    const orphans = running.filter((r) => !r.lease_owner || !runnerAlive(r.lease_owner)).map((r) => Number(r.id));
    if (orphans.length === 0) return 0;
    const r = await this.db.run(
      `UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ANY(?) AND status = 'running' AND (lease_owner IS NULL OR lease_until < ?)`,
      [now(), orphans, Date.now()]);
    return r.changes;
  }

  async pruneJobs(finishedBefore: Date) {
    const r = await this.db.run(`DELETE FROM jobs WHERE status IN ('done','failed') AND updated_at < ?`, [finishedBefore.toISOString()]);
    return r.changes;
  }
}
