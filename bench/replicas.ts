/**
 * bench:replicas — several `tosca-im serve` replicas on one PostgreSQL, against one on SQLite.
 *
 * Starts a throwaway PostgreSQL cluster (test/pg/cluster.ts: Debian's postgresql, run as the
 * `postgres` user when root), three replicas on it and one server on SQLite (all with the
 * NoopConfigurator: test/replicas/replica-main.ts), and the OpenStack simulator in this process.
 *  1. create_ms: synchronous creates of 3 Dummy VMs on SQLite (mean over the seeding creates);
 *  2. /state and GET /infrastructures with autocannon on a PostgreSQL replica and on SQLite;
 *  3. failover: creates on the simulator spread over the replicas, one replica killed with SIGKILL
 *     mid-deploy; seconds from the kill until every infrastructure is configured, VMs lost
 *     (expected but not in the cloud) and duplicated (in the cloud beyond the expected ones).
 * Prints a table, then
 *   `replicas: pg_state_rps=N sqlite_state_rps=N list_rps=N create_ms=N failover_s=N lost=0 duplicated=0`
 * (list_rps: GET /infrastructures on PostgreSQL). Targets: failover ≤ 30 s, lost = duplicated = 0,
 * pg_state_rps ≥ 50 % of sqlite_state_rps.
 *
 *   npm run bench:replicas [-- --infrastructures 20 --duration 5 --connections 10 --lease 3]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startPgCluster } from '../test/pg/cluster';
import { startReplica } from '../test/replicas/harness';
import { startOpenStackSim } from '../sims/openstack';
import type { ServerProcess } from '../test/integration/api-harness';

const AUTH = 'id = im; type = InfrastructureManager; username = bench; password = bench-pw\\nid = dummy; type = Dummy';
/** A front and `workers` workers; with an image, both boot it (the OpenStack simulator's cirros). */
const template = (workers: number, image?: string) => {
  const os = image ? `      capabilities:\n        os:\n          properties:\n            type: linux\n            image: ${image}\n` : '';
  return `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    front:
      type: tosca.nodes.Compute
${os}    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable: { properties: { count: ${workers} } }
${os.replace('      capabilities:\n', '')}`;
};

interface Measure { name: string; rps: number; p99: number; errors: number }

async function post(url: string, body: string, auth: string, query = ''): Promise<{ id: string; ms: number }> {
  const t = performance.now();
  const r = await fetch(`${url}/infrastructures${query}`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'text/yaml' }, body });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`create: ${r.status} ${text}`);
  return { id: r.headers.get('InfID')!, ms: performance.now() - t };
}

async function state(url: string, auth: string, id: string): Promise<string> {
  const r = await fetch(`${url}/infrastructures/${id}/state`, { headers: { Authorization: auth, Accept: 'application/json' } });
  return r.status === 200 ? ((await r.json()) as { state: { state: string } }).state.state : `http ${r.status}`;
}

async function load(name: string, url: string, paths: string[], duration: number, connections: number): Promise<Measure> {
  let next = 0;
  const result = await autocannon({
    url, connections, duration,
    headers: { Authorization: AUTH, Accept: 'application/json' },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length] }) }],
  });
  return { name, rps: Math.round(result.requests.average), p99: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx };
}

async function failover(replicas: ServerProcess[], count: number): Promise<{ seconds: number; lost: number; duplicated: number }> {
  const sim = await startOpenStackSim({ faults: { activeDelayMs: 1500, deleteDelayMs: 20 } });
  try {
    const auth = `id = im; type = InfrastructureManager; username = fo; password = pw\\nid = ost; type = OpenStack; host = ${sim.authUrl}; username = demo; password = secret; tenant = demo; domain = Default; auth_version = 3.x_password`;
    const expected = new Map<string, number>();
    let killedAt = Date.now();
    const half = Math.ceil(count / 2);
    for (let i = 0; i < count; i++) {
      if (i === half) {
        await replicas[0].kill();
        killedAt = Date.now();
      }
      const on = i < half ? i % replicas.length : 1 + (i % (replicas.length - 1));
      const { id } = await post(replicas[on].url, template(1 + (i % 3), 'cirros-0.6.2-x86_64-disk'), auth, '?async=yes');
      expected.set(id, 2 + (i % 3));
    }
    for (;;) {
      const states = await Promise.all([...expected.keys()].map((id) => state(replicas[1].url, auth, id)));
      if (states.every((s) => s === 'configured')) break;
      if (states.some((s) => s === 'failed') || Date.now() - killedAt > 120_000) throw new Error(`failover: ${states.join(',')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - killedAt) / 1000;
    const servers = sim.inspect().servers;
    let lost = 0;
    let duplicated = 0;
    for (const [id, n] of expected) {
      const mine = servers.filter((s) => s.metadata.im_infrastructure_id === id).length;
      lost += Math.max(0, n - mine);
      duplicated += Math.max(0, mine - n);
    }
    duplicated += servers.length - new Set(servers.map((s) => s.metadata.im_client_token)).size;
    return { seconds, lost, duplicated };
  } finally {
    await sim.close();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      infrastructures: { type: 'string', default: '20' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '10' },
    },
  });
  const count = Number(values.infrastructures);
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tosca-im-bench-replicas-'));
  const pg = await startPgCluster();
  const servers: ServerProcess[] = [];
  try {
    const db = await pg.createDatabase();
    const replicas = await Promise.all([0, 1, 2].map((i) => startReplica(path.join(dir, `r${i}`), db)));
    servers.push(...replicas);
    const sqlite = await startReplica(path.join(dir, 'sqlite'), `sqlite:${path.join(dir, 'sqlite', 'im.db')}`);
    servers.push(sqlite);

    // Seeding: synchronous 3-VM Dummy creates (their time on SQLite is create_ms).
    const pgIds: string[] = [];
    const sqliteIds: string[] = [];
    const createMs: number[] = [];
    for (let i = 0; i < count; i++) {
      pgIds.push((await post(replicas[i % 3].url, template(2), AUTH)).id);
      const c = await post(sqlite.url, template(2), AUTH);
      sqliteIds.push(c.id);
      if (i >= 2) createMs.push(c.ms); // the first ones warm the JIT
    }
    const statePaths = (ids: string[]) => ids.map((id) => `/infrastructures/${id}/state`);
    await load('warm-up', replicas[1].url, statePaths(pgIds), 1, connections);
    await load('warm-up', sqlite.url, statePaths(sqliteIds), 1, connections);
    const rows: Measure[] = [];
    rows.push(await load('PostgreSQL GET /infrastructures/{id}/state', replicas[1].url, statePaths(pgIds), duration, connections));
    rows.push(await load('SQLite     GET /infrastructures/{id}/state', sqlite.url, statePaths(sqliteIds), duration, connections));
    rows.push(await load(`PostgreSQL GET /infrastructures (${count})`, replicas[1].url, ['/infrastructures'], duration, connections));
    rows.push(await load(`SQLite     GET /infrastructures (${count})`, sqlite.url, ['/infrastructures'], duration, connections));
    const fo = await failover(replicas, count);

    const createMean = createMs.reduce((a, b) => a + b, 0) / Math.max(1, createMs.length);
    process.stdout.write(`${'measure'.padEnd(48)} ${'req/s'.padStart(8)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(7)}\n`);
    for (const r of rows) process.stdout.write(`${r.name.padEnd(48)} ${String(r.rps).padStart(8)} ${String(r.p99).padStart(7)} ${String(r.errors).padStart(7)}\n`);
    process.stdout.write(`${'SQLite synchronous 3-VM Dummy create (mean)'.padEnd(48)} ${createMean.toFixed(1).padStart(8)} ms\n`);
    process.stdout.write(`${`failover (${count} creates, 1 of 3 replicas killed)`.padEnd(48)} ${fo.seconds.toFixed(1).padStart(8)} s\n`);
    process.stdout.write(`replicas: pg_state_rps=${rows[0].rps} sqlite_state_rps=${rows[1].rps} list_rps=${rows[2].rps} ` +
      `create_ms=${createMean.toFixed(1)} failover_s=${fo.seconds.toFixed(1)} lost=${fo.lost} duplicated=${fo.duplicated}\n`);
    return fo.lost === 0 && fo.duplicated === 0 ? 0 : 1;
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then((code) => { process.exitCode = code; }, (err: Error) => { process.stderr.write(`${err.stack}\n`); process.exitCode = 1; });
