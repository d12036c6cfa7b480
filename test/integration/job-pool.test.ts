/**
 * The job runner on a real SQLite file: jobs of different infrastructures run in parallel, but never
 * more at once than the pool allows; the others wait their turn and all finish.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore, type JobKind, type Store } from '../../server/store';
import { JobRunner, type JobHandler } from '../../server/engine/runner';
import { silentLogger } from '../../server/engine/logger';
import { sleep } from '../../lib/sleep';
import { tempDir } from '../engine-fixtures';

describe('the job pool', () => {
  let store: Store;
  const dir = tempDir('tosca-im-pool-');
  beforeAll(async () => { store = await openStore(`sqlite:${path.join(dir, 'pool.db')}`); });
  afterAll(async () => { await store.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  it.each([1, 3])('runs at most %i infrastructures at once, and uses them all', async (poolSize) => {
    let now = 0;
    let peak = 0;
    const handler: JobHandler = async (_job, signal) => {
      peak = Math.max(peak, ++now);
      await sleep(40, signal);
      now--;
      return {};
    };
    const handlers = Object.fromEntries(['deploy', 'configure', 'remove', 'destroy', 'action'].map((k) => [k, handler])) as Record<JobKind, JobHandler>;
    const jobs = [];
    for (let i = 0; i < 7; i++) jobs.push(await store.enqueueJob({ infrastructureId: `pool${poolSize}-${i}`, kind: 'deploy', payload: {} }));
    const runner = new JobRunner(store, handlers, { poolSize, logger: silentLogger, scanMs: 20 });
    await runner.start();
    try {
      for (const j of jobs) await runner.wait(j.id);
    } finally {
      await runner.close();
    }
    expect(peak).toBe(poolSize);
    for (const j of jobs) expect((await store.getJob(j.id))!.status).toBe('done');
  });
});
