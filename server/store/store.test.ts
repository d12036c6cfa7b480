import * as path from 'path';
import * as fs from 'fs';
import * as os from 'os';
import { openStore, StoreUrlError, type JobKind, type NewInfrastructure, type NewVm, type Store } from '.';
import { SqliteDb } from './sqlite-db';
import { migrate, migrations } from './migrations';
import { describeWithPostgres, startPgCluster, type PgCluster } from '../../test/pg/cluster';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tosca-im-store-'));
let n = 0;
const freshFile = () => path.join(dir, `s${n++}`, 'store.db');

function inf(id: string, owner = 'o1'): NewInfrastructure {
  return {
    id, owner, template: `tosca: ${id}`, plan: { toscaVersion: 'x', inputs: {}, nodes: [], computes: [], software: [], volumes: [], networks: [], order: [], outputs: {}, elastic: [] },
    credentials: 'v1:sealed', sshPublicKey: 'ssh-ed25519 AAA', sshPrivateKey: 'v1:key', phase: 'deploying', contmsg: '', outputs: {},
  };
}
function vm(nodeName = 'wn'): NewVm {
  return { nodeName, cloudId: 'c', cloudType: 'Dummy', handle: null, state: 'pending', configured: null, privateIps: [], publicIps: [], contmsg: '', removing: false };
}

describe('openStore', () => {
  test('creates the directory and file; rejects other URLs clearly', async () => {
    const file = freshFile();
    const s = await openStore(`sqlite:${file}`);
    expect(fs.existsSync(file)).toBe(true);
    await s.close();
    // an unreachable PostgreSQL: a clear error without the password (port 1 on loopback refuses at once)
    await expect(openStore('postgres://u:secret@127.0.0.1:1/db')).rejects.toThrow(/Cannot connect to PostgreSQL/);
    await expect(openStore('postgres://u:secret@127.0.0.1:1/db')).rejects.not.toThrow(/secret/);
    await expect(openStore('mysql://x')).rejects.toBeInstanceOf(StoreUrlError);
    await expect(openStore('sqlite:')).rejects.toBeInstanceOf(StoreUrlError);
    const mem = await openStore('sqlite::memory:');
    expect(mem.kind).toBe('sqlite');
    await mem.close();
  });

  test('migrations are recorded and applied once', async () => {
    const db = await SqliteDb.open(':memory:');
    expect(await migrate(db)).toEqual(migrations.map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
    const rows = await db.all<{ version: number }>('SELECT version FROM schema_migrations');
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    // a later migration is applied on top
    expect(await migrate(db, [...migrations, { version: 99, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER)' }])).toEqual([99]);
    await db.close();
  });
});

/** One backend of the contract: a fresh, empty store URL per test. */
interface Backend {
  kind: string;
  /** Several replicas share it: running jobs of live runners are not the caller's orphans. */
  shared: boolean;
  setUp?(): Promise<void>;
  tearDown?(): Promise<void>;
  freshUrl(): Promise<string>;
}

const sqliteBackend: Backend = { kind: 'sqlite', shared: false, freshUrl: async () => `sqlite:${freshFile()}` };
let pg: PgCluster | undefined;
const postgresBackend: Backend = {
  kind: 'postgres',
  shared: true,
  setUp: async () => { pg = await startPgCluster(); },
  tearDown: async () => { await pg?.stop(); },
  freshUrl: () => pg!.createDatabase(),
};

describe('SqliteStore', () => contract(sqliteBackend));
describeWithPostgres('PostgresStore', () => contract(postgresBackend));

function contract(backend: Backend): void {
  let store: Store;
  let url: string;
  beforeAll(async () => { await backend.setUp?.(); }, 60_000);
  afterAll(async () => { await backend.tearDown?.(); });
  beforeEach(async () => {
    url = await backend.freshUrl();
    store = await openStore(url);
    expect(store.kind).toBe(backend.kind);
  });
  afterEach(() => store.close());

  test('infrastructures and VMs: create, read, update, ids never reused, survive reopen', async () => {
    const { infrastructure, vms, job } = await store.createInfrastructure(inf('a'), [vm('front'), vm(), vm()], { infrastructureId: 'a', kind: 'deploy', payload: { x: 1 } });
    expect(infrastructure.nextVmId).toBe(3);
    expect(vms.map((v) => [v.id, v.clientToken])).toEqual([['0', 'a-0'], ['1', 'a-1'], ['2', 'a-2']]);
    expect(job).toMatchObject({ kind: 'deploy', status: 'queued', payload: { x: 1 } });
    await store.createInfrastructure(inf('b', 'o2'), []);
    expect((await store.listInfrastructures('o1')).map((i) => i.id)).toEqual(['a']);
    expect((await store.listInfrastructures()).map((i) => i.id)).toEqual(['a', 'b']);
    expect(await store.listInfrastructureIds('o1')).toEqual(['a']);
    expect(await store.listInfrastructureIds('nobody')).toEqual([]);

    await store.updateVm('a', '1', { handle: { cloudId: 'c', instanceId: 'i-1' }, state: 'running', privateIps: ['10.0.0.1'], configured: true });
    await store.deleteVms('a', ['2']);
    const added = await store.addVms('a', [vm()], { patch: { phase: 'configuring' }, vmChanges: [{ vmId: '0', patch: { removing: true } }] });
    expect(added.vms.map((v) => v.id)).toEqual(['3']); // "2" is never given again
    await store.updateInfrastructure('a', { contmsg: 'li', outputs: { ip: '1.2.3.4' } });
    await Promise.all([store.appendContmsg('a', 'ne\n'), store.appendContmsg('a', 'vm\n', '1'), store.appendContmsg('gone', 'x'), store.appendContmsg('a', 'x', '99')]);

    // returned records are copies: changing them does not change the store
    const copy = await store.getInfrastructure('a');
    copy!.contmsg = 'tampered';
    expect((await store.getInfrastructure('a'))!.contmsg).toBe('line\n');

    await store.close();
    store = await openStore(url);
    const a = await store.getInfrastructure('a');
    expect(a).toMatchObject({ phase: 'configuring', contmsg: 'line\n', outputs: { ip: '1.2.3.4' }, nextVmId: 4 });
    expect(a!.plan).toEqual(inf('a').plan);
    expect({ ...a }.plan).toEqual(inf('a').plan); // a copy carries the plan too
    const list = await store.listVms('a');
    expect(list.map((v) => v.id)).toEqual(['0', '1', '3']);
    expect(list[0].removing).toBe(true);
    expect(list[1]).toMatchObject({ handle: { instanceId: 'i-1' }, state: 'running', privateIps: ['10.0.0.1'], configured: true, contmsg: 'vm\n' });
    expect(list[2].configured).toBeNull();
    expect(await store.getInfrastructureState('a')).toEqual({
      owner: 'o1', owners: undefined, phase: 'configuring',
      vms: [{ id: '0', state: 'pending', configured: null, removing: true }, { id: '1', state: 'running', configured: true, removing: false },
        { id: '3', state: 'pending', configured: null, removing: false }],
    });
    expect(await store.getInfrastructureState('gone')).toBeUndefined();

    expect(await store.listInfrastructureIds('o1')).toEqual(['a']); // the owner index is rebuilt at open
    await store.deleteInfrastructure('a');
    expect(await store.getInfrastructure('a')).toBeUndefined();
    expect(await store.listInfrastructureIds('o1')).toEqual([]);
    expect(await store.listVms('a')).toEqual([]);
  });

  test('concurrent addVms never hand out the same id', async () => {
    await store.createInfrastructure(inf('a'), []);
    const results = await Promise.all(Array.from({ length: 10 }, () => store.addVms('a', [vm(), vm()])));
    const ids = results.flatMap((r) => r.vms.map((v) => Number(v.id))).sort((x, y) => x - y);
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  test('jobs: FIFO per infrastructure, parallel across, leases, follow-ups, orphans', async () => {
    await store.createInfrastructure(inf('a'), []);
    await store.createInfrastructure(inf('b'), []);
    const a1 = await store.enqueueJob({ infrastructureId: 'a', kind: 'deploy', payload: {} });
    const a2 = await store.enqueueJob({ infrastructureId: 'a', kind: 'configure', payload: {} });
    const b1 = await store.enqueueJob({ infrastructureId: 'b', kind: 'destroy', payload: {} }, { patch: { phase: 'deleting' } });
    expect((await store.getInfrastructure('b'))!.phase).toBe('deleting');

    const first = await store.claimJob('r1', 10_000);
    expect(first).toMatchObject({ id: a1.id, status: 'running', attempts: 1, leaseOwner: 'r1' });
    const second = await store.claimJob('r1', 10_000);
    expect(second?.id).toBe(b1.id); // a2 waits for a1
    expect(await store.claimJob('r1', 10_000)).toBeUndefined();

    expect(await store.renewLease(a1.id, 'r1', 10_000)).toBe(true);
    expect(await store.renewLease(a1.id, 'other', 10_000)).toBe(false);

    const next = await store.finishJob(a1.id, { status: 'done', result: { vmIds: ['0'] } }, { infrastructureId: 'a', kind: 'configure', payload: { after: true } });
    expect(next?.status).toBe('queued');
    expect(await store.getJob(a1.id)).toMatchObject({ status: 'done', result: { vmIds: ['0'] }, leaseOwner: null });
    const third = await store.claimJob('r1', 10_000);
    expect(third?.id).toBe(a2.id); // older job first
    await store.finishJob(a2.id, { status: 'failed', error: 'boom' });
    expect(await store.getJob(a2.id)).toMatchObject({ status: 'failed', error: 'boom' });

    // an expired lease can be claimed by another runner
    const fourth = await store.claimJob('r1', -1);
    expect(fourth?.id).toBe(next!.id);
    const stolen = await store.claimJob('r2', 10_000);
    expect(stolen).toMatchObject({ id: next!.id, leaseOwner: 'r2', attempts: 2 });

    // orphans of dead runners go back to the queue; on a shared store only once their lease lapsed
    if (backend.shared) {
      expect(await store.requeueOrphanJobs((r) => r === 'r2')).toBe(0); // r1 may be another live replica
      expect(await store.renewLease(b1.id, 'r1', -1)).toBe(true);
    }
    expect(await store.requeueOrphanJobs((r) => r === 'r2')).toBe(1); // b1 of r1
    expect((await store.getJob(b1.id))!.status).toBe('queued');
    expect((await store.listOpenJobs('b')).map((j) => j.id)).toEqual([b1.id]);
    expect((await store.listOpenJobs()).map((j) => j.id)).toEqual([b1.id, next!.id]);

    // pruning removes finished jobs only
    expect(await store.pruneJobs(new Date(Date.now() + 1000))).toBe(2);
    expect(await store.getJob(a1.id)).toBeUndefined();
    expect(await store.getJob(b1.id)).toBeDefined();
  });

  test('claimJob: a deploy that removes no VM passes configure jobs only; configure jobs never overlap', async () => {
    const job = (kind: JobKind, payload: Record<string, unknown> = {}) => store.enqueueJob({ infrastructureId: 'a', kind, payload });
    const running = await job('configure');
    expect((await store.claimJob('r', 10_000))?.id).toBe(running.id);
    const queued = await job('configure', { full: true });
    const add = await job('deploy', { removeVmIds: [], context: true });
    const shrink = await job('deploy', { removeVmIds: ['1'], context: true });
    const add2 = await job('deploy', { context: true });
    // the caller runs only configure jobs of it: the add may still be claimed, nothing else
    expect(await store.claimJob('r', 10_000, new Set(['a']))).toBeUndefined();
    expect((await store.claimJob('r', 10_000, new Set(['a']), new Set(['a'])))?.id).toBe(add.id);
    // the shrink runs a configuration itself; the second add waits for the first
    expect(await store.claimJob('r', 10_000)).toBeUndefined();
    await store.finishJob(add.id, { status: 'done' });
    expect(await store.claimJob('r', 10_000)).toBeUndefined(); // add2 waits for the shrink
    await store.finishJob(running.id, { status: 'done' });
    expect((await store.claimJob('r', 10_000))?.id).toBe(queued.id);
    await store.finishJob(queued.id, { status: 'done' });
    expect((await store.claimJob('r', 10_000))?.id).toBe(shrink.id);
    expect(await store.claimJob('r', 10_000)).toBeUndefined();
    await store.finishJob(shrink.id, { status: 'done' });
    expect((await store.claimJob('r', 10_000))?.id).toBe(add2.id);

    // any other earlier job still blocks an add, and a configure behind an add waits for it
    const b = (kind: JobKind, payload: Record<string, unknown> = {}) => store.enqueueJob({ infrastructureId: 'b', kind, payload });
    const conf = await b('configure');
    expect((await store.claimJob('r', 10_000))?.id).toBe(conf.id);
    const remove = await b('remove', { vmIds: ['1'] });
    await b('deploy', { removeVmIds: [] });
    expect(await store.claimJob('r', 10_000)).toBeUndefined();
    await store.finishJob(conf.id, { status: 'done' });
    expect((await store.claimJob('r', 10_000))?.id).toBe(remove.id);
    expect(await store.claimJob('r', 10_000)).toBeUndefined();
  });

  test('claimJob skips infrastructures the caller says are busy', async () => {
    await store.enqueueJob({ infrastructureId: 'a', kind: 'deploy', payload: {} });
    const b = await store.enqueueJob({ infrastructureId: 'b', kind: 'deploy', payload: {} });
    expect((await store.claimJob('r', 1000, new Set(['a'])))?.id).toBe(b.id);
  });

  test('elasticity key/value per infrastructure', async () => {
    await store.createInfrastructure(inf('a'), []);
    expect(await store.getKv('a', 'policy')).toBeUndefined();
    await store.putKv('a', 'policy', { min: 1, max: 3 });
    await store.putKv('a', 'policy', { min: 2, max: 3 });
    await store.putKv('a', 'last', 'grow');
    expect(await store.getKv('a', 'policy')).toEqual({ min: 2, max: 3 });
    expect(await store.listKv('a')).toEqual({ last: 'grow', policy: { min: 2, max: 3 } });
    await store.deleteKv('a', 'last');
    expect(await store.listKv('a')).toEqual({ policy: { min: 2, max: 3 } });
    await store.deleteInfrastructure('a');
    expect(await store.listKv('a')).toEqual({});
  });

  test('a failed transaction leaves nothing behind', async () => {
    await store.createInfrastructure(inf('a'), [vm()]);
    // same explicit VM id twice: the second insert fails, the whole call is rolled back
    await expect(store.addVms('a', [{ ...vm(), id: '5' }, { ...vm(), id: '5' }], { job: { infrastructureId: 'a', kind: 'deploy', payload: {} } })).rejects.toThrow();
    expect((await store.listVms('a')).map((v) => v.id)).toEqual(['0']);
    expect(await store.listOpenJobs('a')).toEqual([]);
    await store.close();
    store = await openStore(url);
    expect((await store.listVms('a')).map((v) => v.id)).toEqual(['0']);
    expect((await store.getInfrastructure('a'))!.nextVmId).toBe(1);
  });

  test('owners (ChangeInfrastructureAuth) and settings', async () => {
    await store.createInfrastructure(inf('a'), []);
    await store.createInfrastructure(inf('b'), []);
    const a = await store.setOwners('a', [{ id: 'o2', username: 'two' }, { id: 'o3', username: 'three' }]);
    expect(a).toMatchObject({ owner: 'o2', owners: [{ id: 'o2', username: 'two' }, { id: 'o3', username: 'three' }] });
    expect(await store.listInfrastructureIds('o1')).toEqual(['b']);
    expect(await store.listInfrastructureIds('o3')).toEqual(['a']);
    expect((await store.listInfrastructures('o2')).map((i) => [i.id, i.owners?.length])).toEqual([['a', 2]]);
    expect((await store.getInfrastructure('b'))!.owners).toBeUndefined();
    expect(await store.getInfrastructureState('a')).toMatchObject({ owner: 'o2', owners: [{ id: 'o2', username: 'two' }, { id: 'o3', username: 'three' }], vms: [] });
    expect(await store.claimSetting('key-check', 'v1')).toBe('v1');
    expect(await store.claimSetting('key-check', 'v2')).toBe('v1');
  });

  test('named leases: one holder at a time, renewed by it, taken over once lapsed or released', async () => {
    expect(await store.claimLease('elastic:a', 'm1', 10_000)).toBe(true);
    expect(await store.claimLease('elastic:a', 'm2', 10_000)).toBe(false);
    expect(await store.claimLease('elastic:a', 'm1', -1)).toBe(true); // renewed (here: to lapse at once)
    expect(await store.claimLease('elastic:a', 'm2', 10_000)).toBe(true);
    expect(await store.claimLease('elastic:a', 'm1', 10_000)).toBe(false);
    await store.releaseLease('elastic:a', 'm1'); // not its own: nothing happens
    expect(await store.claimLease('elastic:a', 'm1', 10_000)).toBe(false);
    await store.releaseLease('elastic:a', 'm2');
    expect(await store.claimLease('elastic:a', 'm1', 10_000)).toBe(true);
  });

  test('create budgets: at most perWindow tokens per window, refunds, shared by concurrent takers', async () => {
    expect(await store.takeBudget('acct', 5, 3, 1000, 60_000)).toBe(3);
    expect(await store.takeBudget('acct', 5, 3, 2000, 60_000)).toBe(2);
    expect(await store.takeBudget('other', 5, 1, 2000, 60_000)).toBe(1);
    await store.refundBudget('acct', 1, 2000);
    expect(await store.takeBudget('acct', 5, 3, 3000, 60_000)).toBe(1);
    expect(await store.takeBudget('acct', 5, 3, 61_000, 60_000)).toBe(3); // the 3 of t=1000 came back
    const grants = await Promise.all(Array.from({ length: 8 }, () => store.takeBudget('race', 5, 1, 5000, 60_000)));
    expect(grants.reduce((x, y) => x + y, 0)).toBe(5);
  });

  if (backend.shared) {
    test('two replicas on one database: read-your-writes, each job claimed once, one job at a time per infrastructure', async () => {
      const other = await openStore(url);
      try {
        await store.createInfrastructure(inf('a'), [vm()], { infrastructureId: 'a', kind: 'deploy', payload: {} });
        expect((await other.listVms('a')).map((v) => v.id)).toEqual(['0']);
        for (let i = 0; i < 20; i++) await other.enqueueJob({ infrastructureId: `x${i % 5}`, kind: 'configure', payload: {} });
        const claims = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? store : other).claimJob(`r${i}`, 10_000)));
        const got = claims.filter((j) => j !== undefined);
        // the deploy of a and the first job of each x: one each, no job twice
        expect(got).toHaveLength(6);
        expect(new Set(got.map((j) => j!.infrastructureId)).size).toBe(6);
      } finally {
        await other.close();
      }
    });
  }
}
