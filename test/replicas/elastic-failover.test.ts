/**
 * One elasticity manager per infrastructure across replicas: two `tosca-im serve` replicas on one
 * PostgreSQL, an elastic cluster on the Dummy cloud probed every second (a fake probe that logs
 * which replica ran it). Only the replica holding the manager lease probes; after it is killed with
 * SIGKILL the other one takes over once the 3 s lease lapsed, and the two never probed at once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { clusterTemplate, tempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { waitFor, type ServerProcess } from '../integration/api-harness';
import { describeWithPostgres, startPgCluster, type PgCluster } from '../pg/cluster';
import { startReplica } from './harness';

const template = clusterTemplate(0) + `  policies:
    - scale_wn:
        type: tosca.policies.Scaling
        targets: [ wn ]
        properties:
          min_instances: 0
          max_instances: 3
          probe_command: "cat /var/lib/queue.json"
          check_every_s: 1
`;

describeWithPostgres('the elasticity manager across replicas', () => {
  const scratch = tempDir('tosca-im-elastic-replicas-');
  const probeLog = path.join(scratch, 'probes.log');
  let pg: PgCluster;
  let db: string;
  const replicas: ServerProcess[] = [];

  beforeAll(async () => {
    pg = await startPgCluster();
    db = await pg.createDatabase();
    const env = { TOSCA_IM_TEST_PROBE: JSON.stringify({ waiting: 0, busy: {} }), TOSCA_IM_TEST_PROBE_LOG: probeLog };
    replicas.push(...await Promise.all([0, 1].map((i) => startReplica(path.join(scratch, `r${i}`), db, env))));
  }, 90_000);
  afterAll(async () => {
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await pg?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  const probes = (): Array<{ pid: number; at: number }> => (fs.existsSync(probeLog) ? fs.readFileSync(probeLog, 'utf8') : '')
    .split('\n').filter(Boolean).map((l) => { const [pid, at] = l.split(' ').map(Number); return { pid, at }; });

  it('keeps being managed after its manager is killed, by one replica at a time', async () => {
    const auth = imAuth('alice', 'pw', 'id = dummy; type = Dummy');
    const created = await call(replicas[1].url, 'POST', '/infrastructures', { auth, type: 'text/yaml', body: template });
    expect(created.status).toBe(200);
    const id = created.headers.get('InfID')!;
    await waitFor('three probes', async () => (probes().length >= 3 || undefined), 20_000);

    const owner = await leaseOwner(db, id);
    const manager = replicas.find((r) => owner.startsWith(`elastic-${r.child.pid}-`))!;
    expect(manager).toBeDefined();
    const other = replicas.find((r) => r !== manager)!;
    expect(new Set(probes().map((p) => p.pid))).toEqual(new Set([manager.child.pid]));

    const killedAt = Date.now();
    await manager.kill();
    await waitFor('the other replica to probe', async () => (probes().filter((p) => p.pid === other.child.pid).length >= 2 || undefined), 20_000);
    const log = probes();
    const lastOld = Math.max(...log.filter((p) => p.pid === manager.child.pid).map((p) => p.at));
    const firstNew = Math.min(...log.filter((p) => p.pid === other.child.pid).map((p) => p.at));
    expect(lastOld).toBeLessThanOrEqual(killedAt);
    expect(firstNew).toBeGreaterThan(killedAt); // never two managers at once
    expect(firstNew - killedAt).toBeLessThan(10_000);
    expect(await leaseOwner(db, id)).toMatch(new RegExp(`^elastic-${other.child.pid}-`));

    const view = await call(other.url, 'GET', `/infrastructures/${id}/elasticity`, { auth, accept: 'application/json' });
    expect(view.status).toBe(200);
    expect(Date.parse(view.json().elasticity.sensing.last_sample_at)).toBeGreaterThan(killedAt);
  }, 90_000);
});

async function leaseOwner(db: string, infId: string): Promise<string> {
  const c = new Client({ connectionString: db });
  await c.connect();
  try {
    const r = await c.query('SELECT owner FROM leases WHERE key = $1', [`elastic:${infId}`]);
    return String(r.rows[0]?.owner ?? '');
  } finally {
    await c.end();
  }
}
