/**
 * Keystone v3: find /v3 under the credential's host (version discovery, as keystoneauth does),
 * get a project-scoped token with the credential's method, and pick service endpoints from the
 * catalog by type, interface and region. One session per account, shared by every connector
 * instance of the process (the engine makes a connector per call): the token is reused until
 * shortly before it expires, and dropped on a 401 so the next call re-authenticates.
 */
import { CloudError } from '../../lib/errors';
import type { HttpResponse } from '../shared/http';
import { send } from './api';
import type { OpenStackSettings } from './credential';
import { OpenStackApiError, parseErrorBody, type ServiceType } from './errors';

interface CatalogEndpoint { interface: string; region?: string; region_id?: string; url: string }
interface CatalogEntry { type: string; endpoints: CatalogEndpoint[] }

export interface ScopedToken {
  id: string;
  expiresAt: number;
  projectId: string;
  catalog: CatalogEntry[];
}

/** Re-authenticate this long before Keystone's expiry, so a token never dies mid-operation. */
const EXPIRY_MARGIN_MS = 60_000;
/**
 * A credential Keystone rejected (401) is not tried again for this long: one request burst (a create
 * asks for the quota room, prepares, launches: back to back) then costs one failed attempt, which
 * Keystone's lockout policy counts. Short, so pollers with their own back-off (the refresher) still
 * notice a repaired account; a corrected secret is another account anyway (cloud.ts keys by its hash).
 */
export const keystoneTuning = { rejectedForMs: 500 };
const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': 'tosca-im' };

export class KeystoneSession {
  private current?: ScopedToken;
  private pending?: Promise<ScopedToken>;
  private authUrl?: Promise<string>;
  private rejected?: { error: unknown; until: number };
  /** Keystone requests made (discovery + tokens), for tests and benchmarks. */
  authCalls = 0;

  constructor(private readonly s: OpenStackSettings) {}

  /** A valid token, authenticating when there is none or it is about to expire. */
  async token(): Promise<ScopedToken> {
    if (this.current && this.current.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return this.current;
    if (this.rejected && this.rejected.until > Date.now()) throw this.rejected.error;
    this.pending ??= this.authenticate().then(
      (t) => ((this.current = t), (this.pending = undefined), (this.rejected = undefined), t),
      (e) => {
        this.pending = undefined;
        if (e instanceof OpenStackApiError && e.httpStatus === 401) this.rejected = { error: e, until: Date.now() + keystoneTuning.rejectedForMs };
        throw e;
      },
    );
    return this.pending;
  }

  /** Forget a token the cloud refused (401), unless a newer one already replaced it. */
  invalidate(tokenId: string): void {
    if (this.current?.id === tokenId) this.current = undefined;
  }

  async endpoint(service: ServiceType): Promise<string> {
    const override = service === 'identity' ? undefined : this.s.overrides[service];
    if (override) return normalise(service, override);
    if (service === 'identity') return this.discover();
    const t = await this.token();
    return normalise(service, pickEndpoint(t.catalog, service, this.s.interface, this.s.region));
  }

  /** The Keystone v3 URL: host itself when it ends in /v3, else what discovery says, else host + /v3. */
  discover(): Promise<string> {
    this.authUrl ??= (async () => {
      const host = this.s.host;
      if (/\/v3$/.test(host)) return host;
      try {
        const res = await this.raw('GET', host);
        const body = JSON.parse(res.text) as { version?: Version; versions?: { values?: Version[] } | Version[] };
        const values = body.version ? [body.version] : Array.isArray(body.versions) ? body.versions : body.versions?.values ?? [];
        const v3 = values.find((v) => /^v3/.test(v.id ?? ''));
        const href = v3?.links?.find((l) => l.rel === 'self')?.href?.replace(/\/+$/, '');
        // Keystones behind proxies often advertise internal names: only trust a link on our own origin.
        if (href && new URL(href).origin === new URL(host).origin) return href;
      } catch {
        /* no discovery document: fall back below */
      }
      return `${host}/v3`;
    })().catch((e) => {
      this.authUrl = undefined;
      throw e;
    });
    return this.authUrl;
  }

  private async authenticate(): Promise<ScopedToken> {
    const base = await this.discover();
    const s = this.s;
    if (s.method === 'password') {
      const projectDomain = { name: s.domain };
      return this.issue(base, {
        identity: { methods: ['password'], password: { user: { name: s.username, password: s.secret, domain: { name: s.domain } } } },
        scope: { project: s.tenantId ? { id: s.tenantId } : { name: s.tenant, domain: projectDomain } },
      });
    }
    if (s.method === 'application_credential') {
      return this.issue(base, { identity: { methods: ['application_credential'], application_credential: { id: s.username, secret: s.secret } } });
    }
    // OIDC access token → unscoped federated token → the project named by `domain` (IM's convention).
    const fedUrl = `${base}/OS-FEDERATION/identity_providers/${encodeURIComponent(s.username)}/protocols/${encodeURIComponent(s.tenant ?? 'openid')}/auth`;
    const fed = await this.raw('POST', fedUrl, { ...JSON_HEADERS, Authorization: `Bearer ${s.secret}` });
    const unscoped = this.subjectToken(fed, 'federated authentication');
    const projects = await this.raw('GET', `${base}/auth/projects`, { ...JSON_HEADERS, 'X-Auth-Token': unscoped });
    if (projects.status !== 200) throw this.fail(projects, 'GET /v3/auth/projects');
    const list = (JSON.parse(projects.text).projects ?? []) as { id: string; name: string }[];
    const want = s.tenantId ?? (s.domain !== 'Default' ? s.domain : undefined);
    const project = want ? list.find((p) => p.id === want || p.name === want) : list.length === 1 ? list[0] : undefined;
    if (!project) {
      throw new CloudError(
        `OpenStack credential "${s.credentialId}": ${want ? `project "${want}" is not` : 'no single project is'} available to this OIDC identity` +
          ` (projects: ${list.map((p) => p.name).join(', ') || 'none'}); name it with "domain"`,
        400,
        'AuthFailed',
      );
    }
    return this.issue(base, { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { id: project.id } } });
  }

  private async issue(base: string, auth: unknown): Promise<ScopedToken> {
    const res = await this.raw('POST', `${base}/auth/tokens`, JSON_HEADERS, JSON.stringify({ auth }));
    const id = this.subjectToken(res, 'POST /v3/auth/tokens');
    const token = JSON.parse(res.text).token as { expires_at: string; project?: { id: string }; catalog?: CatalogEntry[] };
    if (!token.project) throw new CloudError(`OpenStack credential "${this.s.credentialId}": Keystone returned a token without a project scope`, 400, 'AuthFailed');
    return { id, expiresAt: Date.parse(token.expires_at), projectId: token.project.id, catalog: token.catalog ?? [] };
  }

  private subjectToken(res: HttpResponse, call: string): string {
    const id = res.headers.get('x-subject-token');
    if (res.status !== 201 && res.status !== 200) throw this.fail(res, call);
    if (!id) throw new CloudError(`Keystone answered ${call} without an X-Subject-Token header`, 502);
    return id;
  }

  private fail(res: HttpResponse, call: string): Error {
    const { message, type } = parseErrorBody(res.text, res.status);
    const e = new OpenStackApiError(res.status, 'identity', call, message, type);
    if (res.status === 401) e.message = `OpenStack credential "${this.s.credentialId}" was rejected by Keystone (${call}): ${message}`;
    return e;
  }

  private raw(method: string, url: string, headers: Record<string, string> = JSON_HEADERS, body?: string): Promise<HttpResponse> {
    this.authCalls++;
    // Token requests are safe to repeat: a lost answer only leaves an unused token behind.
    return send({ method, url, headers, body, idempotent: true, timeoutMs: 30_000 });
  }
}

interface Version { id?: string; links?: { rel: string; href: string }[] }

function pickEndpoint(catalog: CatalogEntry[], type: ServiceType, iface: string, region?: string): string {
  const entries = catalog.filter((c) => c.type === type);
  const all = entries.flatMap((e) => e.endpoints.filter((ep) => ep.interface === iface));
  const regionOf = (ep: CatalogEndpoint) => ep.region_id ?? ep.region ?? '';
  const regions = [...new Set(all.map(regionOf))];
  const inRegion = region ? all.filter((ep) => regionOf(ep) === region || ep.region === region) : regions.length === 1 ? all : [];
  if (!inRegion.length) {
    const why = !all.length
      ? `has no ${iface} "${type}" endpoint`
      : region
        ? `has no ${iface} "${type}" endpoint in region "${region}" (regions: ${regions.join(', ')})`
        : `has "${type}" endpoints in several regions (${regions.join(', ')}): set service_region`;
    throw new CloudError(`The OpenStack catalog ${why}`, 400, 'NoEndpoint');
  }
  return inRegion[0].url;
}

/** Catalog URLs come with or without the API version; the client appends what Nova/Neutron/Glance expect. */
function normalise(service: ServiceType, url: string): string {
  const u = url.replace(/\/+$/, '');
  if (service === 'network') return /\/v2\.0$/.test(u) ? u : `${u}/v2.0`;
  if (service === 'image') return /\/v2$/.test(u) ? u : `${u}/v2`;
  if (service === 'compute') return /\/v2(\.1)?(\/[0-9a-f-]+)?$/i.test(u) ? u : `${u}/v2.1`;
  return u;
}
