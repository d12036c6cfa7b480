/**
 * End to end on the sealed SSH lab (npm run e2e:elastic): a master + 0 workers elastic cluster whose
 * generic probe reads a queue on the master over SSH. 12 waiting jobs grow it to 3 workers (4 slots
 * each), configured through the master with no public IP; when the jobs are done it drains and
 * shrinks back to min, and a worker marked busy is never removed.
 */
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateSshKeyPair } from '../../../server/configure/keys';
import { addMaster, addWorker, nodeFile, SCRIPTS, workerIp, type ClusterVm } from '../../lab/cluster-fixture';
import { createLab, type Lab } from '../../lab/lab';
import { describeWithLab } from '../../lab/require-lab';
import { startServerProcess, type ServerProcess } from '../../lab/server-process';
import { PROBE } from './queue-probe';

jest.setTimeout(120_000);

describeWithLab('elastic cluster on the SSH lab', () => {
  const key = generateSshKeyPair('elastic-e2e');
  let lab: Lab;
  let server: ServerProcess;
  let master: ClusterVm;
  const put = (name: string, v: number) => writeFileSync(join(master.host.homeDir, name), `${v}\n`);
  const tick = (ms: number) => server.call<{ intents: { kind: string; count?: number; vmIds?: string[] }[]; reason: string }>('tick', ms);
  const cluster = () => server.call<{ workers: string[]; removed: string[] }>('cluster');

  beforeAll(async () => {
    lab = await createLab({ name: 'ela' });
    master = await addMaster(lab, key);
    for (const i of [1, 2, 3]) await addWorker(lab, key, i); // the cloud's capacity: hosts the fake cloud hands out
    server = await startServerProcess(lab, require.resolve('./driver.ts'));
    await server.call('init', {
      workDir: join(lab.dir, 'server-work'), privateKey: key.privateKey, pool: [1, 2, 3], artifacts: SCRIPTS,
      // max 5, not 3: the 3 workers come from 12 jobs / 4 slots, not from a clamp
      policy: { probe_command: PROBE, slots_per_node: 4, min_nodes: 0, max_nodes: 5, idle_before_scale_down_s: 120, scale_down_delay_after_add_s: 120 },
    });
  });
  afterAll(async () => {
    await server?.call('release').catch(() => undefined);
    await server?.close();
    await lab?.destroy();
  });

  test('12 jobs → 3 workers through the master; done → back to min; the busy worker stays until idle', async () => {
    put('queue_waiting', 12);
    const up = await tick(0);
    // on failure, the decision's reason and the manager's events say why (probe error, breaker…)
    const why = up.intents.length ? '' : `${up.reason} ${JSON.stringify((await server.call<{ events: unknown[] }>('view')).events)}`;
    expect({ intents: up.intents, why }).toEqual({ intents: [{ kind: 'add', count: 3 }], why: '' });
    expect((await cluster()).workers).toEqual(['1', '2', '3']);
    // Configured through the master: its worker list names them; each worker knows the master.
    expect(nodeFile(master.host, 'worker_list')!.trim().split('\n')).toEqual([1, 2, 3].map(workerIp));
    // One direct SSH connection (the master, the only public IP); the workers through it.
    expect(await server.call('stats')).toMatchObject({ direct: 1, jumped: 3 });

    // The jobs start on the 3 workers.
    put('queue_waiting', 0);
    for (const i of [1, 2, 3]) put(`busy.${workerIp(i)}`, 4);
    await tick(15_000);
    expect((await server.call<{ capacity: unknown }>('view')).capacity).toMatchObject({ joined: 3, busy_slots: 12 });

    // Done, except one job on worker 2.
    for (const i of [1, 3]) put(`busy.${workerIp(i)}`, 0);
    put(`busy.${workerIp(2)}`, 1);
    for (let t = 0; t < 5 * 60_000; t += 15_000) await tick(15_000);
    expect(await cluster()).toEqual({ workers: ['2'], removed: expect.arrayContaining(['1', '3']) });
    expect(nodeFile(master.host, 'worker_list')!.trim().split('\n')).toEqual([workerIp(2)]);

    put(`busy.${workerIp(2)}`, 0);
    for (let t = 0; t < 4 * 60_000; t += 15_000) await tick(15_000);
    expect((await cluster()).workers).toEqual([]);
    expect(nodeFile(master.host, 'worker_list')?.trim() ?? '').toBe('');
    const events = (await server.call<{ events: { type: string; vmIds?: string[] }[] }>('view')).events;
    expect(events.filter((e) => e.type === 'NodeRemoved').map((e) => e.vmIds![0]).sort()).toEqual(['1', '2', '3']);
    for (const i of [1, 2, 3]) rmSync(join(master.host.homeDir, `busy.${workerIp(i)}`), { force: true });
  });
});
