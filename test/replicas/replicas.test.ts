/**
 * Three `tosca-im serve` replicas on one PostgreSQL and the OpenStack simulator (real HTTP both
 * ways): 20 creates spread over the replicas, one replica killed with SIGKILL while it runs
 * deploys; its jobs are resumed by the others once their 3 s lease lapsed. Every infrastructure
 * ends `configured` with exactly its VMs; the cloud (servers tagged with the infrastructure and
 * client token, the witness) holds exactly those, none twice; then everything is destroyed through
 * another replica and nothing is left in the cloud. Read-your-writes: each create is read at once
 * on another replica.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { tempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';
import { waitFor, type ServerProcess } from '../integration/api-harness';
import { startReplica } from './harness';
import { describeWithPostgres, startPgCluster, type PgCluster } from '../pg/cluster';

/** A private front and `workers` workers (no public address: nothing to attach, nothing kept). */
function template(workers: number): string {
  const os = '        os:\n          properties:\n            type: linux\n            image: cirros-0.6.2-x86_64-disk\n';
  return `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    front:
      type: tosca.nodes.Compute
      capabilities:
${os}    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable:
          properties:
            count: ${workers}
${os}`;
}

describeWithPostgres('three replicas on one PostgreSQL', () => {
  const scratch = tempDir('tosca-im-replicas-');
  let pg: PgCluster;
  let db: string;
  let sim: OpenStackSim;
  const replicas: ServerProcess[] = [];

  beforeAll(async () => {
    pg = await startPgCluster();
    db = await pg.createDatabase();
    sim = await startOpenStackSim({ faults: { activeDelayMs: 1500, deleteDelayMs: 20 } });
    replicas.push(...await Promise.all([0, 1, 2].map((i) => startReplica(path.join(scratch, `r${i}`), db))));
  }, 90_000);
  afterAll(async () => {
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await sim?.close();
    await pg?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('a replica killed mid-deploy loses nothing and duplicates nothing; another destroys everything', async () => {
    const auth = imAuth('alice', 'pw', `id = ost; type = OpenStack; host = ${sim.authUrl}; username = demo; password = secret; tenant = demo; domain = Default; auth_version = 3.x_password`);
    const expected = new Map<string, number>();
    const alive = [0, 1, 2];
    const create = async (i: number, on: number) => {
      const workers = 1 + (i % 3);
      const r = await call(replicas[on].url, 'POST', '/infrastructures?async=yes', { auth, type: 'text/yaml', body: template(workers) });
      expect(r.status).toBe(200);
      const id = r.headers.get('InfID')!;
      expected.set(id, workers + 1);
      // read-your-writes: another replica knows it at once
      const seen = await call(replicas[alive[(alive.indexOf(on) + 1) % alive.length]].url, 'GET', `/infrastructures/${id}/state`, { auth, accept: 'application/json' });
      expect(seen.status).toBe(200);
    };

    for (let i = 0; i < 10; i++) await create(i, i % 3);
    // Kill replica 0 while deploys run (servers still building in the cloud): a replica claims the
    // jobs it enqueues at once, the others only at their next scan, so it holds some of them.
    await waitFor('deploys running on several replicas', async () => ((await runningJobsByOwner(db)).size >= 2 || undefined), 10_000);
    expect(sim.inspect().servers.some((s) => s.status === 'BUILD')).toBe(true);
    const killedAt = Date.now();
    await replicas[0].kill();
    alive.shift();
    for (let i = 10; i < 20; i++) await create(i, 1 + (i % 2));

    const ids = [...expected.keys()];
    await waitFor('every infrastructure configured', async () => {
      const states = await Promise.all(ids.map(async (id, k) => {
        const r = await call(replicas[1 + (k % 2)].url, 'GET', `/infrastructures/${id}/state`, { auth, accept: 'application/json' });
        return r.json().state.state as string;
      }));
      return states.every((s) => s === 'configured') || undefined;
    }, 60_000).catch(async (e: Error) => { throw new Error(`${e.message}\n${replicas[1].stderr()}`); });
    const failoverS = (Date.now() - killedAt) / 1000;
    expect(failoverS).toBeLessThan(30);
    // some job of the killed replica was taken over (claimed a second time)
    expect(await resumedJobs(db)).toBeGreaterThan(0);

    const servers = sim.inspect().servers;
    expect(new Set(servers.map((s) => s.id)).size).toBe(servers.length);
    const tokens = servers.map((s) => s.metadata.im_client_token);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const [id, count] of expected) {
      const mine = servers.filter((s) => s.metadata.im_infrastructure_id === id);
      expect([id, mine.length]).toEqual([id, count]);
      expect(mine.every((s) => s.status === 'ACTIVE')).toBe(true);
      const vms = await call(replicas[2].url, 'GET', `/infrastructures/${id}`, { auth, accept: 'application/json' });
      expect(vms.json()['uri-list']).toHaveLength(count);
    }
    expect(servers).toHaveLength([...expected.values()].reduce((a, b) => a + b, 0));

    // all destroyed through one surviving replica: nothing left in the cloud
    await Promise.all(ids.map(async (id) => {
      const r = await call(replicas[2].url, 'DELETE', `/infrastructures/${id}`, { auth });
      expect(r.status).toBe(200);
    }));
    const left = sim.inspect();
    expect(left.servers).toEqual([]);
    expect(left.securityGroups.filter((g) => g.name.startsWith('im-'))).toEqual([]);
    expect(left.keypairs.filter((k) => k.name.startsWith('im-'))).toEqual([]);
    const list = await call(replicas[1].url, 'GET', '/infrastructures', { auth, accept: 'application/json' });
    expect(list.json()['uri-list'] ?? []).toEqual([]);
  }, 120_000);
});

async function query<T>(db: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: db });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/** lease owner → running jobs. */
async function runningJobsByOwner(db: string): Promise<Map<string, number>> {
  const rows = await query<{ lease_owner: string; n: string }>(db, `SELECT lease_owner, count(*) AS n FROM jobs WHERE status = 'running' GROUP BY lease_owner`);
  return new Map(rows.map((r) => [r.lease_owner, Number(r.n)]));
}

async function resumedJobs(db: string): Promise<number> {
  const rows = await query<{ n: string }>(db, `SELECT count(*) AS n FROM jobs WHERE attempts > 1`);
  return Number(rows[0].n);
}
