/**
 * Runs durable jobs: claims them from the store (one at a time per infrastructure, FIFO, except that
 * a pure add's deploy may start during configure jobs: types.ts startsDuringConfigure; different
 * infrastructures in parallel up to poolSize), keeps their lease alive, records the outcome and
 * enqueues the follow-up job atomically. Jobs interrupted by close() or a crash stay 'running' in
 * the store and are handed back at the next start, so handlers must be resumable.
 */
import * as crypto from 'crypto';
import type { JobKind, JobRecord, NewJob, Store } from '../store/types';
import { errorMessage } from './util';
import { AbortedError } from '../../lib/sleep';
import { ConflictError } from '../errors';
import type { Logger } from './logger';

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export interface JobOutcome {
  result?: unknown;
  /** Follow-up job, enqueued in the same transaction that finishes this one. */
  next?: NewJob;
}

export type JobHandler = (job: JobRecord, signal: AbortSignal) => Promise<JobOutcome>;

/** Why a running job was aborted. */
export class Shutdown extends Error {
  constructor() { super('Engine is closing'); }
}
/**
 * This runner's lease on a job lapsed and could not be renewed (a stalled process, a lost database
 * connection): another replica may hold the job now, so this one stops it and records nothing.
 */
export class LeaseLost extends Error {
  constructor(jobId: number) { super(`Lost the lease on job ${jobId}`); }
}
/** A job stopped because its infrastructure is being destroyed (409 to a waiting caller). */
export class Cancelled extends ConflictError {}

interface Waiter {
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

export interface RunnerOptions {
  poolSize: number;
  /** A job claimed more often than this (it keeps dying with its process) is failed. Default 5. */
  maxAttempts?: number;
  /** How long a claimed job stays this runner's without a renewal (renewed every third of it). Default 30 s. */
  leaseMs?: number;
  /** How often to look for jobs enqueued by others or with expired leases. */
  scanMs?: number;
  /** How often wait() looks at the store for a job another replica runs. Default 250 ms. */
  waitPollMs?: number;
  logger: Logger;
}

export class JobRunner {
  readonly runnerId = `runner-${crypto.randomUUID()}`;
  private readonly running = new Map<number, { job: JobRecord; controller: AbortController; done: Promise<void> }>();
  private readonly waiters = new Map<number, Waiter[]>();
  /** Errors of jobs finished in this process, for waiters (the store keeps only the message). */
  private readonly errors = new Map<number, unknown>();
  private claiming = false;
  private claimInFlight: Promise<void> = Promise.resolve();
  private again = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private readonly leaseMs: number;

  constructor(private readonly store: Store, private readonly handlers: Record<JobKind, JobHandler>, private readonly opts: RunnerOptions) {
    this.leaseMs = opts.leaseMs ?? 30_000;
  }

  async start(): Promise<void> {
    // A single-process store: every job still 'running' belongs to a runner that is gone.
    const requeued = await this.store.requeueOrphanJobs((r) => r === this.runnerId);
    if (requeued) this.opts.logger.info({ requeued }, 'resuming unfinished jobs');
    // Finished jobs are history; a week of it is plenty.
    await this.store.pruneJobs(new Date(Date.now() - 7 * 24 * 3600_000));
    this.timer = setInterval(() => this.kick(), this.opts.scanMs ?? 1000);
    this.timer.unref();
    this.kick();
  }

  /** Looks for runnable jobs now. */
  kick(): void {
    if (this.closed) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = true;
    this.claimInFlight = this.claimLoop().finally(() => {
      this.claiming = false;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async claimLoop(): Promise<void> {
    while (!this.closed && this.running.size < this.opts.poolSize) {
      let job: JobRecord | undefined;
      try {
        // A job running here may have an expired lease (a stalled event loop): never claim it or
        // anything else of its infrastructure again, bar a pure add's deploy during configure runs.
        const busy = new Set<string>();
        const notConfiguring = new Set<string>();
        for (const { job: j } of this.running.values()) {
          busy.add(j.infrastructureId);
          if (j.kind !== 'configure') notConfiguring.add(j.infrastructureId);
        }
        const configuringOnly = new Set([...busy].filter((id) => !notConfiguring.has(id)));
        job = await this.store.claimJob(this.runnerId, this.leaseMs, busy, configuringOnly);
      } catch (e) {
        if (!this.closed) this.opts.logger.error({ err: errorMessage(e) }, 'claiming a job failed');
        return;
      }
      if (!job) return;
      // Claimed while closing: leave it 'running' in the store; the next start hands it back.
      if (this.closed) return;
      this.launch(job);
    }
  }

  private launch(job: JobRecord): void {
    const controller = new AbortController();
    // A failed renewal (database unreachable) is retried at the next beat; a refused one means the
    // lease lapsed and another replica may have the job: stop it here.
    const renew = setInterval(() => {
      void this.store.renewLease(job.id, this.runnerId, this.leaseMs).then(
        (held) => { if (!held && !controller.signal.aborted) controller.abort(new LeaseLost(job.id)); },
        () => undefined,
      );
    }, Math.max(100, this.leaseMs / 3));
    renew.unref();
    const done = this.execute(job, controller.signal).finally(() => {
      clearInterval(renew);
      this.running.delete(job.id);
      this.kick();
    });
    this.running.set(job.id, { job, controller, done });
  }

  private async execute(job: JobRecord, signal: AbortSignal): Promise<void> {
    const log = this.opts.logger;
    log.debug({ job: job.id, kind: job.kind, inf: job.infrastructureId, attempt: job.attempts }, 'job started');
    let outcome: JobOutcome;
    const max = this.opts.maxAttempts ?? 5;
    if (job.attempts > max) {
      const err = new Error(`Gave up after ${max} attempts (the job was interrupted each time)`);
      log.error({ job: job.id, kind: job.kind, inf: job.infrastructureId }, err.message);
      await this.finish(job.id, { status: 'failed', error: err.message }, undefined, err);
      return;
    }
    try {
      const handler = this.handlers[job.kind];
      if (!handler) throw new Error(`No handler for job kind "${job.kind}"`);
      outcome = await handler(job, signal);
    } catch (e) {
      // Stays 'running': resumed at the next start, or by the replica that holds the lease now.
      if (signal.aborted && (signal.reason instanceof Shutdown || signal.reason instanceof LeaseLost)) return;
      const err = e instanceof AbortedError && signal.reason instanceof Error ? signal.reason : e;
      log.warn({ job: job.id, kind: job.kind, inf: job.infrastructureId, err: errorMessage(err) }, 'job failed');
      await this.finish(job.id, { status: 'failed', error: errorMessage(err) }, undefined, err);
      return;
    }
    await this.finish(job.id, { status: 'done', result: outcome.result }, outcome.next, undefined, outcome.result);
  }

  private async finish(jobId: number, status: { status: 'done' | 'failed'; error?: string; result?: unknown }, next: NewJob | undefined, err?: unknown, result?: unknown): Promise<void> {
    try {
      await this.store.finishJob(jobId, status, next);
    } catch (e) {
      if (this.closed) return;
      this.opts.logger.error({ job: jobId, err: errorMessage(e) }, 'recording a job outcome failed');
    }
    if (err !== undefined) {
      this.errors.set(jobId, err);
      // Only a waiter that arrives late needs it; keep the most recent ones.
      if (this.errors.size > 1000) this.errors.delete(this.errors.keys().next().value as number);
    }
    if (this.settle(jobId, err, result) && err !== undefined) this.errors.delete(jobId);
  }

  /** Answers every waiter of the job; false when there was none. */
  private settle(jobId: number, err: unknown, result: unknown): boolean {
    const ws = this.waiters.get(jobId) ?? [];
    this.waiters.delete(jobId);
    for (const w of ws) (err !== undefined ? w.reject(err) : w.resolve(result));
    return ws.length > 0;
  }

  /** Resolves with the job's result once it is done; rejects with its error when it failed. */
  async wait(jobId: number): Promise<unknown> {
    const pending = new Promise<unknown>((resolve, reject) => {
      const list = this.waiters.get(jobId) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(jobId, list);
    });
    // Settled (e.g. by close) while this loop awaits the store: handled here, still rejects for our caller.
    pending.catch(() => undefined);
    // The job may have finished before we registered, or may run on another replica (which tells
    // no waiter here): look at the store now and then until it is finished.
    while (this.waiters.has(jobId) && !this.closed) {
      const job = await this.store.getJob(jobId);
      if (!job) break;
      if (job.status === 'done' || job.status === 'failed') {
        const err = job.status === 'done' ? undefined : (this.errors.get(jobId) ?? new Error(job.error ?? 'Job failed'));
        this.errors.delete(jobId);
        this.settle(jobId, err, job.result);
        break;
      }
      const settled = await Promise.race([pending.then(() => true, () => true), sleepMs(this.opts.waitPollMs ?? 250).then(() => false)]);
      if (settled) break;
    }
    return pending;
  }

  /** Aborts the running jobs of an infrastructure (e.g. a deploy when destroy is asked). */
  cancelInfrastructure(infrastructureId: string, reason: Error): void {
    for (const r of this.running.values()) {
      if (r.job.infrastructureId === infrastructureId && r.job.kind !== 'destroy') r.controller.abort(reason);
    }
  }

  /** Stops claiming, aborts running jobs (they stay resumable) and waits for them to settle. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.claimInFlight;
    const all = [...this.running.values()];
    for (const r of all) r.controller.abort(new Shutdown());
    await Promise.allSettled(all.map((r) => r.done));
    for (const [, ws] of this.waiters) for (const w of ws) w.reject(new Shutdown());
    this.waiters.clear();
  }
}
