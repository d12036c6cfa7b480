import { openStore, type JobKind, type JobRecord, type Store } from '../store';
import { Cancelled, JobRunner, type JobHandler } from './runner';
import { silentLogger } from './logger';
import { sleep } from '../../lib/sleep';
import { CloudError, imStatus } from '../errors';

let store: Store;
beforeEach(async () => { store = await openStore('sqlite::memory:'); });
afterEach(() => store.close());

function runnerWith(handler: JobHandler, opts: { poolSize?: number; maxAttempts?: number; leaseMs?: number } = {}) {
  const handlers = Object.fromEntries(['deploy', 'configure', 'remove', 'destroy', 'action'].map((k) => [k, handler])) as Record<JobKind, JobHandler>;
  return new JobRunner(store, handlers, { poolSize: opts.poolSize ?? 4, maxAttempts: opts.maxAttempts, leaseMs: opts.leaseMs, logger: silentLogger, scanMs: 50, waitPollMs: 20 });
}

test('jobs of one infrastructure run in order, one at a time; results and follow-ups', async () => {
  const log: string[] = [];
  const runner = runnerWith(async (job: JobRecord, signal) => {
    log.push(`start ${job.infrastructureId}:${job.kind}`);
    await sleep(30, signal);
    log.push(`end ${job.infrastructureId}:${job.kind}`);
    return job.kind === 'deploy' ? { result: 'deployed', next: { infrastructureId: job.infrastructureId, kind: 'configure', payload: {} } } : { result: job.kind };
  });
  const a1 = await store.enqueueJob({ infrastructureId: 'a', kind: 'deploy', payload: {} });
  const a2 = await store.enqueueJob({ infrastructureId: 'a', kind: 'action', payload: {} });
  const b1 = await store.enqueueJob({ infrastructureId: 'b', kind: 'remove', payload: {} });
  await runner.start();
  expect(await runner.wait(a1.id)).toBe('deployed');
  expect(await runner.wait(b1.id)).toBe('remove');
  expect(await runner.wait(a2.id)).toBe('action');
  await new Promise((r) => setTimeout(r, 100));
  const aLog = log.filter((l) => l.includes('a:'));
  expect(aLog).toEqual(['start a:deploy', 'end a:deploy', 'start a:action', 'end a:action', 'start a:configure', 'end a:configure']);
  // b ran while a's first job was running
  expect(log.indexOf('start b:remove')).toBeLessThan(log.indexOf('end a:deploy'));
  await runner.close();
});

test('a failing job rejects its waiter with the original error, also when waited late', async () => {
  const runner = runnerWith(async () => { throw new CloudError('quota exceeded', 403); });
  await runner.start();
  const j = await store.enqueueJob({ infrastructureId: 'a', kind: 'deploy', payload: {} });
  runner.kick();
  const err = (await runner.wait(j.id).catch((e: unknown) => e)) as CloudError;
  expect(err).toBeInstanceOf(CloudError);
  expect(err.status).toBe(403);
  expect(await store.getJob(j.id)).toMatchObject({ status: 'failed', error: 'quota exceeded' });
  await expect(runner.wait(j.id)).rejects.toThrow('quota exceeded');
  await runner.close();
});

test('cancelInfrastructure stops the running job with Cancelled; close leaves jobs resumable', async () => {
  const runner = runnerWith(async (_job, signal) => { await sleep(10_000, signal); return {}; });
  await runner.start();
  const j = await store.enqueueJob({ infrastructureId: 'a', kind: 'deploy', payload: {} });
  const k = await store.enqueueJob({ infrastructureId: 'b', kind: 'deploy', payload: {} });
  runner.kick();
  await new Promise((r) => setTimeout(r, 50));
  const waited = runner.wait(j.id).then(() => undefined, (e: unknown) => e as Cancelled);
  runner.cancelInfrastructure('a', new Cancelled('being destroyed'));
  const err = await waited;
  expect(err).toBeInstanceOf(Cancelled);
  expect(imStatus(err!)).toBe(409);
  const pending = runner.wait(k.id).then(() => undefined, (e: unknown) => e as Error);
  await runner.close();
  expect((await pending)?.message).toMatch(/closing/);
  expect((await store.getJob(k.id))!.status).toBe('running');
  expect(await store.requeueOrphanJobs(() => false)).toBe(1);
});

test('a job that keeps getting interrupted is given up after maxAttempts', async () => {
  const j = await store.enqueueJob({ infrastructureId: 'a', kind: 'deploy', payload: {} });
  for (let i = 0; i < 3; i++) await store.claimJob('dead', -1);
  let ran = false;
  const runner = runnerWith(async () => { ran = true; return {}; }, { maxAttempts: 3 });
  await runner.start();
  await expect(runner.wait(j.id)).rejects.toThrow(/Gave up after 3 attempts/);
  expect(ran).toBe(false);
  await runner.close();
});

test('a lapsed lease: another replica takes the job over, this runner stops it and records nothing; its waiter follows the store', async () => {
  const seen: string[] = [];
  const runner = runnerWith(async (job, signal) => {
    seen.push(`attempt ${job.attempts}`);
    try {
      await sleep(10_000, signal); // stalls past its lease
    } catch (e) {
      seen.push(`stopped: ${(signal.reason as Error).constructor.name}`);
      throw e;
    }
    return {};
  }, { poolSize: 1, leaseMs: 150 });
  await runner.start();
  const j = await store.enqueueJob({ infrastructureId: 'a', kind: 'deploy', payload: {} });
  runner.kick();
  await sleep(20);
  const waited = runner.wait(j.id);
  // The lease lapses (a stalled process) and another replica claims the job.
  expect(await store.renewLease(j.id, runner.runnerId, -1)).toBe(true);
  expect((await store.claimJob('replica-2', 10_000))?.id).toBe(j.id);
  await sleep(200); // this runner's next renewal is refused
  expect(seen).toEqual(['attempt 1', 'stopped: LeaseLost']);
  expect(await store.getJob(j.id)).toMatchObject({ status: 'running', leaseOwner: 'replica-2' });
  await store.finishJob(j.id, { status: 'done', result: 'done by replica-2' });
  expect(await waited).toBe('done by replica-2');
  await runner.close();
});
