/**
 * bench:api — the read path of the REST API under load.
 *
 * Seeds a fresh SQLite store with 1,000 infrastructures of 3 Dummy VMs (through the real engine),
 * starts `tosca-im serve` on it as its own process (one Node thread = one core), and drives
 * GET /infrastructures and GET /infrastructures/{id}/state with autocannon from this process.
 * Prints a table, then `api: state_rps=N list_rps=N p99_ms=N rss_mb=N` (p99 of /state; rss = the
 * server's peak resident set). Targets: state_rps ≥ 5000, p99 < 10 ms, rss < 200 MB.
 *
 *   npm run bench:api [-- --infrastructures 1000 --duration 10 --connections 10]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { callerFromHeader, ownerKeyFrom } from '../server/auth';
import { createEngine } from '../server/engine';
import { openStore } from '../server/store';

const SECRET_HEX = 'b3'.repeat(32);
const AUTH = 'id = im; type = InfrastructureManager; username = bench; password = bench-pw\\nid = dummy; type = Dummy';
const TEMPLATE = `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    front:
      type: tosca.nodes.Compute
      capabilities:
        endpoint: { properties: { network_name: PUBLIC } }
    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable: { properties: { count: 2 } }
`;

/** How the server is shipped to run (Dockerfile NODE_OPTIONS, README): a smaller young generation. */
const SERVER_NODE_ARGS = ['--max-semi-space-size=8'];

interface Measure { name: string; rps: number; p50: number; p99: number; errors: number }

async function seed(dbFile: string, count: number): Promise<string[]> {
  const store = await openStore(`sqlite:${dbFile}`);
  const secretKey = Buffer.from(SECRET_HEX, 'hex');
  const engine = await createEngine({ store, secretKey, poolSize: 16 });
  const caller = callerFromHeader(AUTH, ownerKeyFrom(secretKey));
  const ids: string[] = [];
  try {
    for (let done = 0; done < count; done += 50) {
      const batch = Array.from({ length: Math.min(50, count - done) }, () => engine.service.create(caller, TEMPLATE, { async: false }));
      ids.push(...await Promise.all(batch));
    }
    // Wait for the configure jobs, so the server starts on a quiet store.
    for (const id of ids) {
      for (let i = 0; (await engine.service.state(caller, id)).state !== 'configured'; i++) {
        if (i > 400) throw new Error(`infrastructure ${id} did not get configured`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  } finally {
    await engine.close();
    await store.close();
  }
  return ids;
}

async function startServer(dbFile: string, dataDir: string, nodeArgs: string[]): Promise<{ url: string; child: ChildProcess }> {
  const main = path.resolve(__dirname, '../cli/main.js');
  const child = spawn(process.execPath, [...nodeArgs, main, 'serve', '--port', '0', '--db', `sqlite:${dbFile}`, '--data-dir', dataDir, '--log-level', 'warn'], {
    env: { ...process.env, TOSCA_IM_SECRET_KEY: SECRET_HEX },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { url, child };
}

async function load(name: string, url: string, paths: string[], duration: number, connections: number): Promise<Measure> {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration,
    headers: { Authorization: AUTH, Accept: 'application/json' },
    requests: [{
      method: 'GET',
      // Walk the ids so the server cannot answer from one hot entry.
      setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length] }),
    }],
  });
  return {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? /VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return Math.round(kb / 1024);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      infrastructures: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10' },
      'node-args': { type: 'string', default: SERVER_NODE_ARGS.join(' ') },
    },
  });
  const count = Number(values.infrastructures);
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tosca-im-bench-api-'));
  const dbFile = path.join(dir, 'bench.db');

  const t0 = Date.now();
  const ids = await seed(dbFile, count);
  process.stderr.write(`seeded ${ids.length} infrastructures x 3 VMs in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  const nodeArgs = (values['node-args'] ?? '').split(' ').filter(Boolean);
  const { url, child } = await startServer(dbFile, dir, nodeArgs);
  try {
    // Warm-up: JIT and caches, not measured.
    await load('warm-up', url, ids.slice(0, 50).map((id) => `/infrastructures/${id}/state`), 2, connections);
    const state = await load('GET /infrastructures/{id}/state', url, ids.map((id) => `/infrastructures/${id}/state`), duration, connections);
    const list = await load(`GET /infrastructures (${ids.length} URIs)`, url, ['/infrastructures'], duration, connections);
    const rss = peakRssMb(child.pid!);

    const rows = [state, list];
    const w = Math.max(...rows.map((r) => r.name.length));
    console.log(`${'route'.padEnd(w)}  ${'req/s'.padStart(7)}  ${'p50 ms'.padStart(6)}  ${'p99 ms'.padStart(6)}  errors`);
    for (const r of rows) {
      console.log(`${r.name.padEnd(w)}  ${String(r.rps).padStart(7)}  ${String(r.p50).padStart(6)}  ${String(r.p99).padStart(6)}  ${r.errors}`);
    }
    console.log(`server peak RSS: ${rss} MB (${connections} connections, ${duration} s per route, node ${nodeArgs.join(' ') || '(no flags)'}, ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)})`);
    console.log(`api: state_rps=${state.rps} list_rps=${list.rps} p99_ms=${state.p99} rss_mb=${rss}`);
    return state.errors + list.errors > 0 ? 1 : 0;
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then((code) => { process.exitCode = code; }, (err) => { console.error(err); process.exitCode = 1; });
