/**
 * `tosca-im serve`: the IM REST API on HOST:PORT over the store at --db.
 *
 *   tosca-im serve [--host 127.0.0.1] [--port 8800] [--db sqlite:./data/tosca-im.db|postgres://...]
 *                  [--log-level info] [--import-map FILE] [--data-dir ./data] [--strict-inputs]
 *
 * Every option has an environment twin (TOSCA_IM_HOST, TOSCA_IM_PORT, TOSCA_IM_DB, TOSCA_IM_LOG_LEVEL,
 * TOSCA_IM_IMPORT_MAP, TOSCA_IM_DATA_DIR, TOSCA_IM_BODY_LIMIT, TOSCA_IM_POOL_SIZE); the flag wins.
 * --strict-inputs (TOSCA_IM_STRICT_INPUTS=1) refuses a TOSCA input default outside its own constraints
 * (IM accepts it; so do we by default, with a warning in contmsg).
 * TOSCA_IM_SECRET_KEY gives the server key, else <data-dir>/secret.key is created on first start.
 * Logs (pino JSON) go to stderr; stdout gets one line: "tosca-im listening on http://HOST:PORT".
 */
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createApp, DEFAULT_BODY_LIMIT } from '../server/app';
import { packageVersion } from '../server/api/package-files';
import { answerClientErrors } from '../server/api/client-error';
import { parseByteSize } from '../server/api/body';
import { loadOrCreateKeyFile, parseServerKey, ServerKeyError } from '../server/auth';
import { createEngine, type Engine } from '../server/engine';
import { SshConfigurator } from '../server/engine/ssh-configurator';
import { ElasticRuntime } from '../server/elastic/runtime';
import { storeMetrics } from '../server/metrics';
import { Registry } from 'prom-client';
import { openStore, StoreUrlError, type Store } from '../server/store';
import { loadImportMap, type ImportMap, type LoadedImportMap } from '../tosca';

export interface ServeConfig {
  host: string;
  port: number;
  db: string;
  logLevel: string;
  dataDir: string;
  importMap?: string;
  bodyLimit: string;
  poolSize?: number;
  /** Refuse TOSCA input defaults outside their constraints (IM accepts them). */
  strictInputs?: boolean;
}

export class UsageError extends Error {}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const OPTIONS = {
  host: { type: 'string', env: 'TOSCA_IM_HOST' },
  port: { type: 'string', env: 'TOSCA_IM_PORT' },
  db: { type: 'string', env: 'TOSCA_IM_DB' },
  'log-level': { type: 'string', env: 'TOSCA_IM_LOG_LEVEL' },
  'import-map': { type: 'string', env: 'TOSCA_IM_IMPORT_MAP' },
  'data-dir': { type: 'string', env: 'TOSCA_IM_DATA_DIR' },
  'body-limit': { type: 'string', env: 'TOSCA_IM_BODY_LIMIT' },
  'pool-size': { type: 'string', env: 'TOSCA_IM_POOL_SIZE' },
} as const;

export function readConfig(argvIn: string[], env: NodeJS.ProcessEnv): ServeConfig {
  // the one boolean flag, read apart so every other option stays a string
  const strictInputs = argvIn.includes('--strict-inputs') || env.TOSCA_IM_STRICT_INPUTS === '1';
  const argv = argvIn.filter((a) => a !== '--strict-inputs');
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const get = (name: keyof typeof OPTIONS) => values[name] ?? (env[OPTIONS[name].env] || undefined);
  const dataDir = get('data-dir') ?? './data';
  const port = Number(get('port') ?? 8800);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid port "${get('port')}"`);
  const logLevel = get('log-level') ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new UsageError(`invalid log level "${logLevel}" (one of ${LEVELS.join(', ')})`);
  const bodyLimit = get('body-limit') ?? DEFAULT_BODY_LIMIT;
  try {
    parseByteSize(bodyLimit);
  } catch {
    throw new UsageError(`invalid body limit "${bodyLimit}" (e.g. 1mb, 512kb, 100000)`);
  }
  const poolText = get('pool-size');
  const poolSize = poolText === undefined ? undefined : Number(poolText);
  if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 1)) throw new UsageError(`invalid pool size "${poolText}"`);
  return {
    host: get('host') ?? '127.0.0.1',
    port,
    db: get('db') ?? `sqlite:${path.join(dataDir, 'tosca-im.db')}`,
    logLevel,
    dataDir,
    importMap: get('import-map'),
    bodyLimit,
    poolSize,
    ...(strictInputs ? { strictInputs } : {}),
  };
}

function serverKey(cfg: ServeConfig, env: NodeJS.ProcessEnv, logger: pino.Logger): Buffer {
  if (env.TOSCA_IM_SECRET_KEY) return parseServerKey(env.TOSCA_IM_SECRET_KEY, 'TOSCA_IM_SECRET_KEY');
  const file = path.join(cfg.dataDir, 'secret.key');
  const { key, created } = loadOrCreateKeyFile(file);
  if (created) logger.warn({ file }, 'generated a new server key; keep this file (or set TOSCA_IM_SECRET_KEY)');
  return key;
}

function readImportMap(file: string): LoadedImportMap {
  try {
    return loadImportMap(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Configuration over SSH through the master (server/configure); Dummy-only infrastructures skip
 * SSH. Lifecycle artifacts given by URL are read through the import map when it names them.
 */
function sshConfigurator(cfg: ServeConfig, imports: { importMap?: ImportMap; importMapDir?: string }): SshConfigurator {
  return new SshConfigurator({
    workDir: path.join(cfg.dataDir, 'configure'),
    artifacts: () => ({ importMap: imports.importMap, importMapDir: imports.importMapDir }),
  });
}

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let cfg: ServeConfig;
  try {
    cfg = readConfig(argv, env);
  } catch (err) {
    process.stderr.write(`tosca-im serve: ${(err as Error).message}\n`);
    return 2;
  }
  const logger = pino({ level: cfg.logLevel, base: { pid: process.pid } }, pino.destination(2));
  // A stray rejection in background work is a bug to log, not a reason to drop every request in flight.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  let store: Store | undefined;
  let engine: Engine | undefined;
  let elastic: ElasticRuntime | undefined;
  try {
    fs.mkdirSync(cfg.dataDir, { recursive: true });
    const secretKey = serverKey(cfg, env, logger);
    const imports = cfg.importMap ? readImportMap(cfg.importMap) : {};
    store = await openStore(cfg.db);
    const configurator = sshConfigurator(cfg, imports);
    // The elasticity manager (server/elastic): probes over the configurator's SSH connection to the master.
    const metrics = new Registry();
    storeMetrics(metrics, store);
    elastic = new ElasticRuntime({ store, logger, registry: metrics, shell: configurator });
    engine = await createEngine({
      store, secretKey, logger, poolSize: cfg.poolSize, ...imports, cacheDir: path.join(cfg.dataDir, 'cache'), strictInputs: cfg.strictInputs,
      configurator, planner: elastic.planner(),
    });
    const service = elastic.attach(engine.service);
    await elastic.start(); // resumes every elastic infrastructure with its saved deadlines
    const app = createApp({ service, logger, version: packageVersion(), secretKey, bodyLimit: cfg.bodyLimit, elasticity: elastic, metrics });
    const server = await listen(app.listen.bind(app), cfg.host, cfg.port);
    answerClientErrors(server, logger);
    const { port } = server.address() as AddressInfo;
    const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
    process.stdout.write(`tosca-im listening on http://${host}:${port}\n`);
    logger.info({ host: cfg.host, port, db: redact(cfg.db) }, 'listening');
    await stopSignal();
    logger.info('shutting down');
    await closeServer(server);
    // Whatever a library may leave open must not keep a stopped server alive.
    setTimeout(() => process.exit(0), 3000).unref();
    return 0;
  } catch (err) {
    const known = err instanceof UsageError || err instanceof StoreUrlError || err instanceof ServerKeyError ||
      (err as NodeJS.ErrnoException).code === 'EADDRINUSE' || (err as NodeJS.ErrnoException).code === 'EACCES';
    if (known) process.stderr.write(`tosca-im serve: ${(err as Error).message}\n`);
    else logger.fatal({ err }, 'cannot start');
    return 1;
  } finally {
    await elastic?.stop().catch((err: unknown) => logger.error({ err }, 'stopping the elasticity manager'));
    await engine?.close().catch((err: unknown) => logger.error({ err }, 'closing the engine'));
    await store?.close().catch((err: unknown) => logger.error({ err }, 'closing the store'));
    logger.flush();
  }
}

function listen(listenFn: (port: number, host: string) => Server, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = listenFn(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

/** Resolves on the first SIGTERM/SIGINT; a second one ends the process at once. */
function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(130);
      stopping = true;
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Stops accepting, lets requests in flight finish (up to 10 s), then drops what is left. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), 10_000);
    // Keep-alive sockets turn idle as their last answer goes out: close them then, not after keepAliveTimeout.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => { clearTimeout(timer); clearInterval(sweep); resolve(); });
    server.closeIdleConnections();
  });
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
