/// <reference types="jest" />
/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp directory, postgres on 127.0.0.1 at a
 * free port, trust authentication for one superuser, fsync off. Debian's initdb refuses root, so as
 * root the cluster belongs to the unprivileged `postgres` user (runuser); as anyone else, to them.
 * stop() ends the postmaster we started (its PID from postmaster.pid) and removes the directory.
 *
 *   const pg = await startPgCluster();
 *   const url = await pg.createDatabase();   // postgres://tosca@127.0.0.1:PORT/t1
 *   ...; await pg.stop();
 *
 * describeWithPostgres() skips loudly where no PostgreSQL is installed, and fails under
 * TOSCA_IM_REQUIRE_ALL=1 (CI), as describeWithLab does for the SSH lab.
 */
import { describeWithRealPart } from '../real-part';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);
const USER = 'tosca';

/** The directory of initdb/pg_ctl (Debian keeps them per major version), or undefined. */
export function pgBinDir(): string | undefined {
  if (process.env.TOSCA_IM_PG_BIN && fs.existsSync(path.join(process.env.TOSCA_IM_PG_BIN, 'initdb'))) return process.env.TOSCA_IM_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  return versions.map((v) => path.join(root, v, 'bin')).find((d) => fs.existsSync(path.join(d, 'initdb')));
}

/** Why no cluster can be started here, or null. */
export function pgMissing(): string | null {
  if (!pgBinDir()) return 'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)';
  if (process.getuid?.() === 0 && !fs.existsSync('/usr/sbin/runuser') && !fs.existsSync('/sbin/runuser')) return 'runuser is missing (initdb refuses root)';
  return null;
}

export function describeWithPostgres(name: string, fn: () => void): void {
  const missing = pgMissing();
  describeWithRealPart(name, 'PostgreSQL prerequisites', missing, fn);
}

export interface PgCluster {
  port: number;
  /** postgres://tosca@127.0.0.1:PORT/postgres */
  adminUrl: string;
  /** Creates a fresh database; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

let dbCounter = 0;

export async function startPgCluster(): Promise<PgCluster> {
  const missing = pgMissing();
  if (missing) throw new Error(missing);
  const bin = pgBinDir()!;
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tosca-im-pg-'));
  const data = path.join(dir, 'data');
  if (asRoot) {
    fs.chmodSync(dir, 0o755);
    await run('chown', ['postgres:postgres', dir]);
  }
  // As root every PostgreSQL program runs as `postgres`; a program is the absolute path in bin.
  const pgRun = (prog: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, prog), ...args], { cwd: dir }) : run(path.join(bin, prog), args, { cwd: dir });
  await pgRun('initdb', ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    try {
      await pgRun('pg_ctl', ['-D', data, '-w', '-t', '30', '-l', path.join(dir, 'log'), '-o', opts, 'start']);
      break;
    } catch (e) {
      if (attempt >= 2) {
        const log = fs.existsSync(path.join(dir, 'log')) ? fs.readFileSync(path.join(dir, 'log'), 'utf8') : '';
        throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${log}`);
      }
    }
  }
  const postmasterPid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const adminUrl = `postgres://${USER}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    port,
    adminUrl,
    async createDatabase(name = `t${process.pid}_${++dbCounter}`) {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://${USER}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // SIGQUIT: immediate shutdown of the postmaster we started (it ends its own children).
      try { process.kill(postmasterPid, 'SIGQUIT'); } catch { /* already gone */ }
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        try { process.kill(postmasterPid, 0); } catch { break; }
        await new Promise((r) => setTimeout(r, 50));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
