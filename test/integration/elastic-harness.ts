/**
 * What `serve` wires for elasticity (cli/serve.ts), in process: the real engine on SQLite, the
 * ElasticRuntime on the real clock, the REST app over real HTTP; a fake probe (`exec`) replaces
 * SSH on the master, since the test's VMs have no shell.
 */
import * as path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createApp } from '../../server/app';

/** The bearer that shows per-infrastructure series on /metrics. */
export const METRICS_TOKEN = 'metrics-test-token';
import { createEngine, type Engine } from '../../server/engine';
import type { Configurator } from '../../server/engine/configurator';
import { TEST_SECRET_KEY } from '../engine-fixtures';
import { ElasticRuntime } from '../../server/elastic/runtime';
import type { RemoteExec } from '../../server/elastic/probes/types';
import { storeMetrics } from '../../server/metrics';
import { openStore, type Store } from '../../server/store';
import { loadImportMap } from '../../tosca';
import { corpusDir } from '../tosca/corpus';
import { listen, type Running } from '../api/http';

export interface ElasticServer { url: string; runtime: ElasticRuntime; close(): Promise<void> }

export interface ElasticServerOptions {
  /** Receives the server's warnings (default: none are kept). */
  onWarn?: (obj: object, msg?: string) => void;
  /** The engine's configurator (default the engine's own). */
  configurator?: Configurator;
}

export async function startElasticServer(dbFile: string, exec: RemoteExec, opts: ElasticServerOptions = {}): Promise<ElasticServer> {
  const logger = pino({ level: opts.onWarn ? 'warn' : 'silent' }, opts.onWarn ? warnSink(opts.onWarn) : undefined);
  const store: Store = await openStore(`sqlite:${dbFile}`);
  const registry = new Registry();
  storeMetrics(registry, store);
  const runtime = new ElasticRuntime({ store, logger, registry, exec: () => exec });
  // The corpus's import map, so INDIGO templates plan offline as with `serve --import-map`.
  const imports = loadImportMap(path.join(corpusDir(), 'import-map.json'));
  const engine: Engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, logger, planner: runtime.planner(), configurator: opts.configurator, ...imports });
  const service = runtime.attach(engine.service);
  await runtime.start();
  const srv: Running = await listen(createApp({ service, logger, version: 'test', secretKey: TEST_SECRET_KEY, elasticity: runtime, metrics: registry, metricsToken: METRICS_TOKEN }));
  return {
    url: srv.url,
    runtime,
    close: async () => {
      await srv.close();
      await runtime.stop();
      await engine.close();
      await store.close();
    },
  };
}

/** A pino destination that hands each warning line, parsed, to `fn`. */
function warnSink(fn: (obj: object, msg?: string) => void) {
  return {
    write(line: string) {
      const { msg, ...rest } = JSON.parse(line) as { msg?: string };
      fn(rest, msg);
    },
  };
}
