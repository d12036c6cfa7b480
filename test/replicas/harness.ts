/** Replicas of `tosca-im serve` on one database for the replica tests and bench:replicas. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnServer, type ServerProcess } from '../integration/api-harness';

/** The server key every replica shares. */
export const REPLICA_KEY = 'a'.repeat(64);

/** The replica entry as built (npm test builds first), like the other child-process tests. */
export const REPLICA_MAIN = __filename.endsWith('.js')
  ? path.join(__dirname, 'replica-main.js') // this module runs from dist (bench:replicas)
  : path.resolve(__dirname, '../../dist/test/replicas/replica-main.js');

/** One replica (NoopConfigurator, fake elastic probe: replica-main.ts) with a 3 s job lease. */
export function startReplica(dataDir: string, db: string, env: Record<string, string> = {}, args: string[] = []): Promise<ServerProcess> {
  fs.mkdirSync(dataDir, { recursive: true });
  return spawnServer(dataDir, ['--db', db, '--job-lease', '3', ...args], { TOSCA_IM_SECRET_KEY: REPLICA_KEY, ...env }, { main: REPLICA_MAIN });
}
