/**
 * An OpenStack-shaped cloud over real HTTP, for tests, benchmarks and `tosca-im sim openstack`.
 * One port serves Keystone (/identity), Nova (/compute/v2.1), Neutron (/network), Glance (/image)
 * and a minimal Cinder (/volume/v3); the Keystone catalog points back at it. Tests drive it through
 * the returned handle: `faults` (latency, injected errors, boot failures, BUILD time), `inspect()`
 * and the request log; the same controls are on HTTP under /_sim for other processes. `hold()`
 * (in-process only) keeps chosen requests waiting until the test lets them go.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { applyFaultsJson, type SimFaults } from './faults';
import { baseUrl, sendError, serviceOf, SimHttpError, type Service } from './http';
import { keystoneRouter } from './keystone';
import { novaRouter, novaVersionDoc } from './nova';
import { neutronRouter } from './neutron';
import { cinderRouter, glanceRouter, glanceVersions } from './glance';
import { SimState, type PageLimits, type Quotas, type Token } from './model';
import { Holds, type Hold, type HoldRule } from '../holds';
import { startOpenStackHostMode, type HostMode, type HostModeOptions } from './host-mode';
import { sleep } from '../../lib/sleep';

export { SimState } from './model';
export { HostMode, HostModeError, type HostModeOptions, type SimHost } from './host-mode';
export type { SimFaults, BootFailure, InjectedError } from './faults';
export type { Hold } from '../holds';

/** What a hold rule sees of an API request: "POST", "/compute/v2.1/servers", the parsed JSON body. */
export interface SimRequest { method: string; path: string; body: any }

export interface SimOptions {
  host?: string;
  port?: number;
  /** Token lifetime (default 1 h); short values exercise re-authentication. */
  tokenTtlMs?: number;
  /** Quotas of the demo project. */
  quotas?: Partial<Quotas>;
  faults?: Partial<SimFaults>;
  /** Server-side page sizes (Nova max_limit, Neutron pagination_max_limit, Glance default); 0 = none. */
  pageLimits?: Partial<PageLimits>;
  /** Host mode (root only): every server becomes an SSH host of a sealed lab (see host-mode.ts). */
  hostMode?: HostModeOptions | true;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: string;
  status: number;
  service: Service;
  at: number;
}

export interface SimInspection {
  servers: { id: string; name: string; status: string; metadata: Record<string, string>; keyName: string | null; securityGroups: string[]; flavor: string; image: string; userData?: string; projectId: string; deleting: boolean; fault?: string }[];
  ports: { id: string; networkId: string; deviceId: string; securityGroupIds: string[]; ip: string }[];
  securityGroups: { id: string; name: string; projectId: string; rules: { direction: string; protocol: string | null; from: number | null; to: number | null; remoteIpPrefix: string | null; remoteGroupId: string | null; ethertype: string }[] }[];
  floatingIps: { id: string; address: string; networkId: string; portId: string | null; fixedIp: string | null; description: string; projectId: string }[];
  keypairs: { name: string; userId: string; publicKey: string }[];
  networks: { id: string; name: string; external: boolean; projectId: string }[];
  tokens: number;
}

export interface OpenStackSim {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  /** Keystone URL to put in a credential's `host` (discovery finds /v3 under it). */
  authUrl: string;
  state: SimState;
  faults: SimFaults;
  inspect(): SimInspection;
  /** Every API request answered (not /_sim), oldest first. */
  requests: RequestLogEntry[];
  requestCount(filter?: (r: RequestLogEntry) => boolean): number;
  resetRequests(): void;
  /** Invalidate every token (clients must re-authenticate on their next 401). */
  revokeTokens(): void;
  /** Keeps matching API requests waiting until released (holds.ts); afterHandling holds JSON answers. */
  hold(rule: HoldRule<SimRequest>): Hold;
  /** Present when started with `hostMode`: the servers as lab hosts. */
  hostMode?: HostMode;
  close(): Promise<void>;
}


export async function startOpenStackSim(opts: SimOptions = {}): Promise<OpenStackSim> {
  const state = new SimState();
  // before anything listens or allocates: host mode moves the floating IP range into the lab
  const hostMode = opts.hostMode ? await startOpenStackHostMode(state, opts.hostMode === true ? {} : opts.hostMode) : undefined;
  if (opts.tokenTtlMs) state.tokenTtlMs = opts.tokenTtlMs;
  if (opts.quotas) Object.assign(state.quotaOf(state.projects[0].id), opts.quotas);
  Object.assign(state.faults, opts.faults ?? {});
  Object.assign(state.pageLimits, opts.pageLimits ?? {});
  const requests: RequestLogEntry[] = [];

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(simControl(state, () => requests));

  // Request log, injected latency and errors, request ids.
  app.use(async (req, res, next) => {
    const service = serviceOf(req.path);
    const entry: RequestLogEntry = { method: req.method, path: req.path, query: req.originalUrl.split('?')[1] ?? '', status: 0, service, at: Date.now() };
    res.on('finish', () => {
      entry.status = res.statusCode;
      requests.push(entry);
    });
    res.set('X-Openstack-Request-Id', `req-${randomUUID()}`);
    if (state.faults.latencyMs > 0) await sleep(state.faults.latencyMs);
    const key = `${req.method} ${req.path}`;
    const injected = state.faults.errors.find((e) => e.count > 0 && e.match.test(key));
    if (injected) {
      injected.count--;
      if (!injected.afterHandling) return sendError(res, service, injected.status, `Injected failure ${injected.status} for ${key}`, injected.type);
      // The work is done but the client never learns it: its JSON answer is replaced by the error.
      const json = res.json.bind(res);
      res.json = () => {
        res.json = json;
        sendError(res, service, injected.status, `Injected failure ${injected.status} after ${key}`, injected.type);
        return res;
      };
    }
    state.tick();
    next();
  });
  app.use(express.json({ type: () => true, limit: '2mb' }));
  const holds = new Holds<SimRequest>();
  app.use((req, res, next) => {
    const caught = holds.catch({ method: req.method, path: req.path, body: req.body });
    if (!caught) return next();
    if (!caught.afterHandling) return void caught.wait(res).then((go) => go && next());
    const json = res.json.bind(res);
    res.json = (body?: unknown) => {
      void caught.wait(res).then((go) => go && json(body));
      return res;
    };
    next();
  });

  app.use(keystoneRouter(state));
  app.get(['/compute', '/compute/'], (req, res) => void res.status(300).json({ versions: [novaVersionDoc(req)] }));
  app.use('/compute/v2.1', requireToken(state, 'nova'), novaRouter(state));
  app.get(['/network', '/network/'], (req, res) =>
    void res.json({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${baseUrl(req)}/network/v2.0/` }] }] }));
  app.use('/network/v2.0', requireToken(state, 'neutron'), neutronRouter(state));
  app.get(['/image', '/image/'], (req, res) => void res.status(300).json(glanceVersions(req)));
  app.use('/image/v2', requireToken(state, 'glance'), glanceRouter(state));
  app.use('/volume/v3', requireToken(state, 'cinder'), cinderRouter());

  app.use((req, res) => sendError(res, serviceOf(req.path), 404, `The resource could not be found: ${req.method} ${req.path}`));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const service = serviceOf(req.path);
    if (err instanceof SimHttpError) return sendError(res, service, err.status, err.message, err.neutronType);
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return sendError(res, service, 400, 'Malformed request body: the body is not valid JSON');
    sendError(res, service, e.status && e.status < 500 ? e.status : 500, `Simulator error: ${e.message ?? String(err)}`);
  });

  const server: HttpServer = await new Promise<HttpServer>((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  }).catch(async (err: unknown) => {
    await hostMode?.close();
    throw err;
  });
  server.keepAliveTimeout = 30_000;
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;

  return {
    url,
    authUrl: `${url}/identity`,
    state,
    faults: state.faults,
    inspect: () => inspect(state),
    requests,
    requestCount: (filter) => (filter ? requests.filter(filter).length : requests.length),
    resetRequests: () => void requests.splice(0, requests.length),
    revokeTokens: () => state.tokens.clear(),
    hold: (rule) => holds.add(rule),
    hostMode,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await hostMode?.close();
    },
  };
}

/** Service calls need a valid project-scoped token (keystonemiddleware's 401 otherwise). */
function requireToken(state: SimState, service: Service) {
  return (req: Request, res: Response, next: NextFunction) => {
    const t = state.tokens.get(req.get('x-auth-token') ?? '');
    if (!t || t.expiresAt < Date.now() || !t.projectId) {
      res.set('WWW-Authenticate', `Keystone uri="${baseUrl(req)}/identity"`);
      // keystonemiddleware answers for Nova, Neutron and Cinder; Glance wraps it in its HTML page.
      return sendError(res, service === 'glance' ? 'glance' : 'keystone', 401, 'The request you have made requires authentication.');
    }
    (req as Request & { simToken: Token }).simToken = t;
    next();
  };
}

/** GET /_sim/state, GET /_sim/requests, PUT /_sim/faults (JSON), POST /_sim/revoke-tokens. */
function simControl(state: SimState, requests: () => RequestLogEntry[]) {
  const r = express.Router();
  r.use('/_sim', express.json());
  r.get('/_sim/state', (_req, res) => void res.json(inspect(state)));
  r.get('/_sim/requests', (_req, res) => void res.json({ count: requests().length, requests: requests() }));
  r.put('/_sim/faults', (req, res) => {
    try {
      applyFaultsJson(state.faults, req.body ?? {});
    } catch (err) {
      return void res.status(400).json({ error: (err as Error).message });
    }
    res.json({ ok: true });
  });
  r.post('/_sim/revoke-tokens', (_req, res) => {
    state.tokens.clear();
    res.json({ ok: true });
  });
  return r;
}

function inspect(state: SimState): SimInspection {
  state.tick();
  return {
    servers: [...state.servers.values()].map((s) => ({
      id: s.id, name: s.name, status: s.status, metadata: { ...s.metadata }, keyName: s.keyName, securityGroups: [...s.securityGroups],
      flavor: state.flavors.find((f) => f.id === s.flavorId)!.name, image: s.imageId, projectId: s.projectId, deleting: s.goneAt !== undefined,
      userData: s.userData ? Buffer.from(s.userData, 'base64').toString('utf8') : undefined, fault: s.fault?.message,
    })),
    ports: [...state.ports.values()].map((p) => ({ id: p.id, networkId: p.networkId, deviceId: p.deviceId, securityGroupIds: [...p.securityGroupIds], ip: p.fixedIps[0]?.ip_address })),
    securityGroups: [...state.securityGroups.values()].map((g) => ({
      id: g.id, name: g.name, projectId: g.projectId,
      rules: [...state.rules.values()].filter((x) => x.securityGroupId === g.id).map((x) => ({
        direction: x.direction, protocol: x.protocol, from: x.portRangeMin, to: x.portRangeMax, remoteIpPrefix: x.remoteIpPrefix, remoteGroupId: x.remoteGroupId, ethertype: x.ethertype,
      })),
    })),
    floatingIps: [...state.floatingIps.values()].map((f) => ({ id: f.id, address: f.address, networkId: f.networkId, portId: f.portId, fixedIp: f.fixedIp, description: f.description, projectId: f.projectId })),
    keypairs: state.keypairs.map((k) => ({ name: k.name, userId: k.userId, publicKey: k.publicKey })),
    networks: state.networks.map((n) => ({ id: n.id, name: n.name, external: n.external, projectId: n.projectId })),
    tokens: state.tokens.size,
  };
}
