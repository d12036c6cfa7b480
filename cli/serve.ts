/**
 * `tosca-im serve`: the IM REST API on HOST:PORT over the store at --db.
 *
 *   tosca-im serve [--host 127.0.0.1] [--port 8800] [--db sqlite:./data/tosca-im.db|postgres://...]
 *                  [--log-level info] [--import-map FILE] [--data-dir ./data]
 *                  [--allow-private-fetch] [--max-fetch-bytes 5mb] [--metrics-token TOKEN]
 *
 * Every option has an environment twin (TOSCA_IM_HOST, TOSCA_IM_PORT, TOSCA_IM_DB, TOSCA_IM_LOG_LEVEL,
 * TOSCA_IM_IMPORT_MAP, TOSCA_IM_DATA_DIR, TOSCA_IM_BODY_LIMIT, TOSCA_IM_POOL_SIZE,
 * TOSCA_IM_ALLOW_PRIVATE_FETCH=1, TOSCA_IM_MAX_FETCH_BYTES, TOSCA_IM_METRICS_TOKEN); the flag wins.
 * The guards these tune are described in docs/security.md.
 *                  [--templates DIR] [--dashboard-client-id ID] (TOSCA_IM_TEMPLATES, TOSCA_IM_DASHBOARD_CLIENT_ID):
 *                  the dashboard at /dashboard/; its OIDC client secret only from TOSCA_IM_DASHBOARD_CLIENT_SECRET.
 *                  [--strict-inputs] (TOSCA_IM_STRICT_INPUTS=1) refuses a TOSCA input default outside its own
 *                  constraints (IM accepts it; so do we by default, with a warning in contmsg).
 * TOSCA_IM_SECRET_KEY gives the server key, else <data-dir>/secret.key is created on first start.
 * [--job-lease 30] (TOSCA_IM_JOB_LEASE): the job lease, in seconds, when several replicas share PostgreSQL.
 * Logs (pino JSON) go to stderr; stdout gets one line: "tosca-im listening on http://HOST:PORT".
 *
 * Identity (docs/identity.md), each with its TOSCA_IM_<NAME> twin: --oidc-issuers URL[,URL...] (the
 * issuers whose tokens are accepted), --oidc-audience, --oidc-groups G[,G...], --oidc-groups-claim
 * (default groups), --oidc-admin-groups G[,G...], --admin-users USER:PASSWORD[,...], --oidc-scopes S[,S...]
 * with --oidc-client-id and --oidc-client-secret (token introspection).
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
import { DEFAULT_GROUPS_CLAIM, loadOrCreateKeyFile, ownerId, ownerKeyFrom, parseServerKey, ServerKeyError, type OidcOptions } from '../server/auth';
import { createEngine, type Engine } from '../server/engine';
import { SshConfigurator } from '../server/engine/ssh-configurator';
import { ElasticRuntime, type ElasticRuntimeOptions } from '../server/elastic/runtime';
import type { Configurator } from '../server/engine/configurator';
import { storeMetrics } from '../server/metrics';
import { Registry } from 'prom-client';
import { openStore, StoreUrlError, type Store } from '../server/store';
import { checkSharedKey, KeyMismatchError } from '../server/engine/key-check';
import { loadImportMap, type ImportMap, type LoadedImportMap } from '../tosca';
import { DEFAULT_MAX_FETCH_BYTES, type FetchPolicy } from '../lib/fetch';

export interface ServeConfig {
  host: string;
  port: number;
  db: string;
  logLevel: string;
  dataDir: string;
  importMap?: string;
  bodyLimit: string;
  poolSize?: number;
  /** Imports and artifacts by URL may reach loopback/private/link-local addresses (docs/security.md). */
  allowPrivateFetch: boolean;
  maxFetchBytes: number;
  /** Bearer token that unlocks per-infrastructure series on /metrics; without it they are hidden. */
  metricsToken?: string;
  oidc: OidcOptions;
  /** Password users who are admins, as [username, password]. */
  adminUsers: Array<[string, string]>;
  /** Job lease in ms (--job-lease, in seconds). */
  jobLeaseMs?: number;
  /** Folder of TOSCA templates for the dashboard's catalogue. */
  templates?: string;
  /** The dashboard's OIDC client (default "tosca-im-dashboard"; its secret only from TOSCA_IM_DASHBOARD_CLIENT_SECRET). */
  dashboardClientId?: string;
  dashboardClientSecret?: string;
  /** Refuse TOSCA input defaults outside their constraints (IM accepts them). */
  strictInputs?: boolean;
}

export class UsageError extends Error {}

/** The usage line, from the OPTIONS table below, so it offers exactly the flags that are read. */
export function serveUsage(): string {
  const entries = Object.entries(OPTIONS) as Array<[string, { type: string; env: string; help?: string }]>;
  const arg = (name: string, o: { type: string }) => (o.type === 'boolean' ? '' : ` ${name.toUpperCase().replace(/-/g, '_')}`);
  const synopsis = entries.map(([name, o]) => `[--${name}${arg(name, o)}]`).join(' ');
  const lines = entries.map(([name, o]) => `  --${name} (${o.env})${o.help ? `  ${o.help}` : ''}`);
  return `usage: tosca-im serve ${synopsis}\n${lines.join('\n')}\n` +
    '  Each option can also come from its environment variable (in parentheses); the flag wins.\n' +
    '  TOSCA_IM_SECRET_KEY: the server key (else <data-dir>/secret.key; required, the same on every replica, with PostgreSQL).\n';
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const OPTIONS = {
  host: { type: 'string', env: 'TOSCA_IM_HOST' },
  port: { type: 'string', env: 'TOSCA_IM_PORT' },
  db: { type: 'string', env: 'TOSCA_IM_DB', help: 'sqlite:PATH (default sqlite:<data-dir>/tosca-im.db) or postgres://USER:PASS@HOST:PORT/DB (several replicas)' },
  'log-level': { type: 'string', env: 'TOSCA_IM_LOG_LEVEL' },
  'import-map': { type: 'string', env: 'TOSCA_IM_IMPORT_MAP' },
  'data-dir': { type: 'string', env: 'TOSCA_IM_DATA_DIR' },
  'body-limit': { type: 'string', env: 'TOSCA_IM_BODY_LIMIT' },
  'pool-size': { type: 'string', env: 'TOSCA_IM_POOL_SIZE' },
  'allow-private-fetch': { type: 'boolean', env: 'TOSCA_IM_ALLOW_PRIVATE_FETCH' },
  'max-fetch-bytes': { type: 'string', env: 'TOSCA_IM_MAX_FETCH_BYTES' },
  'metrics-token': { type: 'string', env: 'TOSCA_IM_METRICS_TOKEN' },
  'strict-inputs': { type: 'boolean', env: 'TOSCA_IM_STRICT_INPUTS', help: 'refuse a TOSCA input default outside its own constraints (IM accepts it)' },
  // Identity (docs/identity.md): IM's OIDC_* and ADMIN_USERS keys.
  'oidc-issuers': { type: 'string', env: 'TOSCA_IM_OIDC_ISSUERS', help: 'URL[,URL...] issuers whose OIDC tokens are accepted' },
  'oidc-audience': { type: 'string', env: 'TOSCA_IM_OIDC_AUDIENCE', help: 'AUD that must be in the token\'s "aud"' },
  'oidc-groups': { type: 'string', env: 'TOSCA_IM_OIDC_GROUPS', help: 'G[,G...] groups a token user must all be in' },
  'oidc-groups-claim': { type: 'string', env: 'TOSCA_IM_OIDC_GROUPS_CLAIM', help: 'CLAIM holding the groups (default groups)' },
  'oidc-admin-groups': { type: 'string', env: 'TOSCA_IM_OIDC_ADMIN_GROUPS', help: 'G[,G...] members of any are admins (see and manage all)' },
  'admin-users': { type: 'string', env: 'TOSCA_IM_ADMIN_USERS', help: 'USER:PASSWORD[,...] password users who are admins' },
  'oidc-scopes': { type: 'string', env: 'TOSCA_IM_OIDC_SCOPES', help: 'S[,S...] scopes the token must carry (introspection)' },
  'oidc-client-id': { type: 'string', env: 'TOSCA_IM_OIDC_CLIENT_ID', help: 'ID client for token introspection' },
  'oidc-client-secret': { type: 'string', env: 'TOSCA_IM_OIDC_CLIENT_SECRET', help: 'SECRET of that client' },
  'job-lease': { type: 'string', env: 'TOSCA_IM_JOB_LEASE', help: 'SECONDS a replica\'s job lease lasts before another replica takes it over (default 30)' },
  // The dashboard (server/dashboard): its template catalogue and OIDC client (issuers: --oidc-issuers).
  templates: { type: 'string', env: 'TOSCA_IM_TEMPLATES', help: 'DIR of TOSCA templates for the dashboard catalogue' },
  'dashboard-client-id': { type: 'string', env: 'TOSCA_IM_DASHBOARD_CLIENT_ID', help: 'ID of the dashboard\'s OIDC client (default tosca-im-dashboard)' },
} as const;

const list = (text: string | undefined): string[] => (text ?? '').split(/[\s,]+/).filter(Boolean);

function readOidc(get: (name: keyof typeof OPTIONS) => string | undefined): { oidc: OidcOptions; adminUsers: Array<[string, string]> } {
  const issuers = list(get('oidc-issuers'));
  for (const url of issuers) {
    let ok = false;
    try { ok = ['http:', 'https:'].includes(new URL(url).protocol); } catch { /* not a URL */ }
    if (!ok) throw new UsageError(`invalid --oidc-issuers entry "${url}" (an http(s) URL, e.g. https://iam.example.org/)`);
  }
  const oidc: OidcOptions = {
    issuers,
    audience: get('oidc-audience'),
    groups: list(get('oidc-groups')),
    groupsClaim: get('oidc-groups-claim') ?? DEFAULT_GROUPS_CLAIM,
    adminGroups: list(get('oidc-admin-groups')),
    scopes: list(get('oidc-scopes')),
    clientId: get('oidc-client-id'),
    clientSecret: get('oidc-client-secret'),
  };
  if (oidc.scopes.length > 0 && !(oidc.clientId && oidc.clientSecret)) {
    throw new UsageError('--oidc-scopes needs --oidc-client-id and --oidc-client-secret (the token is introspected with them)');
  }
  const adminUsers = (get('admin-users') ?? '').split(',').filter((e) => e.trim() !== '').map((entry): [string, string] => {
    const colon = entry.indexOf(':');
    // Password users are not registered anywhere: a bare name would make anyone who types it an admin.
    if (colon <= 0) throw new UsageError('invalid --admin-users entry: each is USER:PASSWORD (IM\'s ADMIN_USER has both)');
    return [entry.slice(0, colon).trim(), entry.slice(colon + 1)];
  });
  return { oidc, adminUsers };
}

export function readConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, { type: o.type }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const get = (name: keyof typeof OPTIONS): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : (env[OPTIONS[name].env] || undefined);
  };
  const flag = (name: keyof typeof OPTIONS): boolean => values[name] === true || /^(1|true|yes)$/i.test(env[OPTIONS[name].env] ?? '');
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
  const fetchBytesText = get('max-fetch-bytes') ?? String(DEFAULT_MAX_FETCH_BYTES);
  let maxFetchBytes: number;
  try {
    maxFetchBytes = parseByteSize(fetchBytesText);
  } catch {
    throw new UsageError(`invalid max fetch bytes "${fetchBytesText}" (e.g. 5mb, 512kb, 100000)`);
  }
  const leaseText = get('job-lease');
  const lease = leaseText === undefined ? undefined : Number(leaseText);
  if (lease !== undefined && (!Number.isFinite(lease) || lease < 1 || lease > 3600)) {
    throw new UsageError(`invalid job lease "${leaseText}" (seconds, 1 to 3600)`);
  }
  const templates = get('templates');
  if (templates !== undefined && !fs.existsSync(templates)) throw new UsageError(`templates folder "${templates}" does not exist`);
  return {
    allowPrivateFetch: flag('allow-private-fetch'),
    maxFetchBytes,
    metricsToken: get('metrics-token'),
    host: get('host') ?? '127.0.0.1',
    port,
    db: get('db') ?? `sqlite:${path.join(dataDir, 'tosca-im.db')}`,
    logLevel,
    dataDir,
    importMap: get('import-map'),
    bodyLimit,
    poolSize,
    ...readOidc(get),
    jobLeaseMs: lease === undefined ? undefined : Math.round(lease * 1000),
    templates,
    dashboardClientId: get('dashboard-client-id'),
    dashboardClientSecret: env.TOSCA_IM_DASHBOARD_CLIENT_SECRET || undefined,
    ...(flag('strict-inputs') ? { strictInputs: true } : {}),
  };
}

function serverKey(cfg: ServeConfig, env: NodeJS.ProcessEnv, logger: pino.Logger): Buffer {
  if (env.TOSCA_IM_SECRET_KEY) return parseServerKey(env.TOSCA_IM_SECRET_KEY, 'TOSCA_IM_SECRET_KEY');
  const file = path.join(cfg.dataDir, 'secret.key');
  if (isPostgres(cfg.db) && !fs.existsSync(file)) {
    // A key made up here would differ from the other replicas': refuse instead.
    throw new ServerKeyError(`a PostgreSQL store is shared by replicas, which must share the server key: set TOSCA_IM_SECRET_KEY (or put the key in ${file})`);
  }
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
    artifacts: () => ({ importMap: imports.importMap, importMapDir: imports.importMapDir, localFiles: false, fetchPolicy: fetchPolicy(cfg) }),
  });
}

/**
 * The data dir holds the server key, the database (every user's sealed credentials), the caches
 * and SSH work files: 0700, and whatever the server creates from now on (SQLite's -wal/-shm,
 * downloads, artifacts) 0600 through the umask; database files left by an older version are fixed.
 */
function privateDataDir(cfg: ServeConfig, logger: pino.Logger): void {
  process.umask(0o077);
  fs.mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.chmodSync(cfg.dataDir, 0o700);
  } catch (err) {
    // a folder owned by someone else (a mounted volume): the files inside are still 0600
    logger.warn({ err, dir: cfg.dataDir }, 'cannot make the data dir 0700');
  }
  const db = /^sqlite:(.*)$/.exec(cfg.db)?.[1];
  for (const file of db ? [db, `${db}-wal`, `${db}-shm`, `${db}-journal`] : []) {
    try {
      fs.chmodSync(file, 0o600);
    } catch {
      // not created yet
    }
  }
}

/** The guards of every fetch of a URL a user wrote (imports, artifacts). */
function fetchPolicy(cfg: ServeConfig): FetchPolicy {
  return { allowPrivate: cfg.allowPrivateFetch, maxBytes: cfg.maxFetchBytes };
}

/** What an embedding (a test's replica process) may replace; `tosca-im serve` replaces nothing. */
export interface ServeHooks {
  /** Replaces the SSH configurator (e.g. NoopConfigurator for VMs of a simulated cloud nobody can log in to). */
  configurator?: Configurator;
  /** Replaces the elasticity probes' shell on the master (a fake probe). */
  elasticExec?: ElasticRuntimeOptions['exec'];
}

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env, hooks: ServeHooks = {}): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serveUsage());
    return 0;
  }
  let cfg: ServeConfig;
  try {
    cfg = readConfig(argv, env);
  } catch (err) {
    process.stderr.write(`tosca-im serve: ${(err as Error).message}\n${err instanceof UsageError ? serveUsage() : ''}`);
    return 2;
  }
  const logger = pino({ level: cfg.logLevel, base: { pid: process.pid } }, pino.destination(2));
  // A stray rejection in background work is a bug to log, not a reason to drop every request in flight.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  let store: Store | undefined;
  let engine: Engine | undefined;
  let elastic: ElasticRuntime | undefined;
  try {
    privateDataDir(cfg, logger);
    const secretKey = serverKey(cfg, env, logger);
    const imports = cfg.importMap ? readImportMap(cfg.importMap) : {};
    store = await openStore(cfg.db);
    if (store.kind === 'postgres') await checkSharedKey(store, secretKey);
    const ssh = hooks.configurator ? undefined : sshConfigurator(cfg, imports);
    const configurator = hooks.configurator ?? ssh!;
    // The elasticity manager (server/elastic): probes over the configurator's SSH connection to the master.
    const metrics = new Registry();
    storeMetrics(metrics, store);
    elastic = new ElasticRuntime({ store, logger, registry: metrics, shell: ssh, exec: hooks.elasticExec, leaseMs: cfg.jobLeaseMs });
    engine = await createEngine({
      store, secretKey, logger, poolSize: cfg.poolSize, jobLeaseMs: cfg.jobLeaseMs, ...imports, cacheDir: path.join(cfg.dataDir, 'cache'), fetchPolicy: fetchPolicy(cfg),
      strictInputs: cfg.strictInputs,
      configurator, planner: elastic.planner(),
    });
    const service = elastic.attach(engine.service);
    await elastic.start(); // resumes every elastic infrastructure with its saved deadlines
    const ownerKey = ownerKeyFrom(secretKey);
    const adminOwners = new Set(cfg.adminUsers.map(([username, password]) => ownerId(ownerKey, { kind: 'password', username, password })));
    const dashboard = {
      templatesDir: cfg.templates,
      stateFile: path.join(cfg.dataDir, 'dashboard.json'),
      oidc: { issuers: cfg.oidc.issuers, clientId: cfg.dashboardClientId ?? 'tosca-im-dashboard', clientSecret: cfg.dashboardClientSecret },
    };
    const app = createApp({
      service, logger, version: packageVersion(), secretKey, bodyLimit: cfg.bodyLimit, elasticity: elastic, metrics,
      metricsToken: cfg.metricsToken, oidc: cfg.oidc, adminOwners, dashboard,
    });
    const server = await listen(app.listen.bind(app), cfg.host, cfg.port);
    answerClientErrors(server, logger);
    const { port } = server.address() as AddressInfo;
    const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
    process.stdout.write(`tosca-im listening on http://${host}:${port}\n`);
    logger.info({ host: cfg.host, port, db: redact(cfg.db), oidcIssuers: cfg.oidc.issuers }, 'listening');
    await stopSignal();
    logger.info('shutting down');
    await closeServer(server);
    // Whatever a library may leave open must not keep a stopped server alive.
    setTimeout(() => process.exit(0), 3000).unref();
    return 0;
  } catch (err) {
    const known = err instanceof UsageError || err instanceof StoreUrlError || err instanceof ServerKeyError || err instanceof KeyMismatchError ||
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

function isPostgres(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
