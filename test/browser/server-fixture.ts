/**
 * What `serve` wires, in process, for the dashboard's browser test: the real engine on SQLite, the
 * ElasticRuntime on the real clock, the OpenStack simulator, the REST API and the dashboard over
 * real HTTP on 127.0.0.1. Two parts stand in for SSH (the e2e:ssh and e2e:elastic suites drive the
 * real ones): the configuration step logs its lines at a person's pace without SSH, and the queue
 * probe on the master answers from `queue`, which the test sets.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createApp } from '../../server/app';
import { createEngine, type Engine } from '../../server/engine';
import { NoopConfigurator, type ConfigureRequest } from '../../server/engine/configurator';
import { TEST_SECRET_KEY } from '../engine-fixtures';
import { ElasticRuntime } from '../../server/elastic/runtime';
import type { RemoteExec } from '../../server/elastic/probes/types';
import { openStore, type Store } from '../../server/store';
import { resetOpenStackClouds, openStackTuning } from '../../connectors/openstack';
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';

export const PROBE = 'cat /var/lib/tosca-im/queue.json';

/**
 * NoopConfigurator's lines; those of the first run 0.6 s apart, slower than the page's 1 s polling,
 * so the page shows them arriving one by one (later runs at full speed, to keep the test short).
 */
class PacedConfigurator extends NoopConfigurator {
  private paced = true;
  async configure(req: ConfigureRequest) {
    if (!this.paced) return super.configure(req);
    this.paced = false;
    const log = req.log;
    return super.configure({ ...req, log: async (text: string, vmId?: string) => { await new Promise((r) => setTimeout(r, 600)); await log(text, vmId); } });
  }
}

export interface DashboardRig {
  url: string;
  sim: OpenStackSim;
  /** What the master's batch system reports to the elasticity manager. */
  queue: { waiting: number; busy: Record<string, number> };
  close(): Promise<void>;
}

/** `oidc(redirectUri)` starts the provider once the dashboard's address is known and gives its issuer. */
export async function startDashboardRig(dir: string, oidc: (redirectUri: string) => Promise<{ issuer: string; clientId: string; clientSecret: string }>): Promise<DashboardRig> {
  resetOpenStackClouds();
  openStackTuning.deletePoll = { intervalMs: 30, maxIntervalMs: 200, timeoutMs: 20_000 };
  const sim = await startOpenStackSim({ faults: { activeDelayMs: 300, deleteDelayMs: 50 } });
  const queue = { waiting: 0, busy: {} as Record<string, number> };
  const exec: RemoteExec = async (cmd) => {
    if (cmd === PROBE) return { code: 0, stdout: JSON.stringify(queue), stderr: '' };
    if (cmd === 'true') return { code: 0, stdout: '', stderr: '' };
    return { code: 127, stdout: '', stderr: `${cmd}: not found` };
  };
  const logger = pino({ level: 'silent' });
  const store: Store = await openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
  const registry = new Registry();
  const runtime = new ElasticRuntime({ store, logger, registry, exec: () => exec });
  const engine: Engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, logger, planner: runtime.planner(), configurator: new PacedConfigurator() });
  const service = runtime.attach(engine.service);
  await runtime.start();

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = await oidc(`${url}/dashboard/auth/callback`);
  const app = createApp({
    service, logger, version: 'test', secretKey: TEST_SECRET_KEY, elasticity: runtime, metrics: registry,
    dashboard: {
      templatesDir: path.join(__dirname, '..', '..', 'templates'),
      stateFile: path.join(dir, 'dashboard.json'),
      oidc: { issuers: [client.issuer], clientId: client.clientId, clientSecret: client.clientSecret },
    },
  });
  server.on('request', app);
  return {
    url, sim, queue,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await runtime.stop();
      await engine.close();
      await store.close();
      await sim.close();
    },
  };
}
