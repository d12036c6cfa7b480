/** Keystone v3: version discovery, tokens (password, application credential, token, federation "mapped"). */
import { Router, type Request } from 'express';
import { baseUrl, fail } from './http';
import { SimState, isoMicro, type Token } from './model';

const UNAUTH = 'The request you have made requires authentication.';

function versionDoc(req: Request) {
  return {
    id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${baseUrl(req)}/identity/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export function keystoneRouter(state: SimState): Router {
  const r = Router();
  r.get(['/identity', '/identity/'], (req, res) => void res.status(300).json({ versions: { values: [versionDoc(req)] } }));
  r.get(['/identity/v3', '/identity/v3/'], (req, res) => void res.json({ version: versionDoc(req) }));

  r.post('/identity/v3/auth/tokens', (req, res) => {
    const auth = req.body?.auth;
    if (!auth?.identity?.methods) fail(400, 'Expecting to find identity in auth. The server could not comply with the request since it is either malformed or otherwise incorrect.');
    const { userId, projectId, methods } = authenticate(state, auth);
    const token = state.issueToken(userId, projectId, methods);
    res.status(201).set('X-Subject-Token', token.id).json({ token: tokenBody(state, req, token) });
  });

  // Token validation, as keystonemiddleware does.
  r.get('/identity/v3/auth/tokens', (req, res) => {
    const caller = state.tokens.get(req.get('x-auth-token') ?? '');
    const subject = state.tokens.get(req.get('x-subject-token') ?? '');
    if (!caller || caller.expiresAt < Date.now()) fail(401, UNAUTH);
    if (!subject || subject.expiresAt < Date.now()) fail(404, `Could not find token: ${req.get('x-subject-token')}.`);
    res.set('X-Subject-Token', subject!.id).json({ token: tokenBody(state, req, subject!) });
  });

  // keystoneauth's v3oidcaccesstoken (POST) and libcloud's 3.x_oidc_access_token (GET).
  const federated = (req: Request, res: import('express').Response) => {
    const idp = state.identityProviders.find((i) => i.id === req.params.idp);
    if (!idp) fail(404, `Could not find Identity Provider: ${req.params.idp}.`);
    if (!idp!.protocols.includes(req.params.protocol)) fail(404, `Could not find federated protocol ${req.params.protocol} for Identity Provider: ${idp!.id}.`);
    const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? req.get('oidc_access_token') ?? '';
    const userId = idp!.accessTokens.get(bearer.trim());
    if (!userId) fail(401, UNAUTH);
    const token = state.issueToken(userId!, undefined, ['mapped']);
    res.status(201).set('X-Subject-Token', token.id).json({ token: tokenBody(state, req, token) });
  };
  r.post('/identity/v3/OS-FEDERATION/identity_providers/:idp/protocols/:protocol/auth', federated);
  r.get('/identity/v3/OS-FEDERATION/identity_providers/:idp/protocols/:protocol/auth', federated);

  // Projects the token's user may scope to (used after an unscoped federated token).
  const projects = (req: Request, res: import('express').Response) => {
    const t = state.tokens.get(req.get('x-auth-token') ?? '');
    if (!t || t.expiresAt < Date.now()) fail(401, UNAUTH);
    const user = state.users.find((u) => u.id === t!.userId)!;
    res.json({
      projects: state.projects.filter((p) => user.projectIds.includes(p.id)).map((p) => ({ id: p.id, name: p.name, domain_id: p.domainId, enabled: true, links: {} })),
      links: { self: `${baseUrl(req)}${req.path}`, next: null, previous: null },
    });
  };
  r.get('/identity/v3/auth/projects', projects);
  r.get('/identity/v3/OS-FEDERATION/projects', projects);
  return r;
}

interface AuthResult { userId: string; projectId?: string; methods: string[] }

function authenticate(state: SimState, auth: any): AuthResult {
  const methods: string[] = auth.identity.methods;
  const method = methods[0];
  let userId = "";
  let projectId: string | undefined;
  if (method === 'password') {
    const u = auth.identity.password?.user ?? {};
    const domainId = domainIdOf(state, u.domain);
    const user = state.users.find((x) => (u.id ? x.id === u.id : x.name === u.name && x.domainId === domainId));
    if (!user || user.password !== u.password) fail(401, UNAUTH);
    userId = user!.id;
  } else if (method === 'application_credential') {
    const a = auth.identity.application_credential ?? {};
    const cred = state.appCredentials.find((c) => (a.id ? c.id === a.id : c.name === a.name && state.users.find((u) => u.id === c.userId)?.name === a.user?.name));
    if (!cred || cred.secret !== a.secret) fail(401, UNAUTH);
    if (auth.scope) fail(401, 'Application credentials cannot request a scope.');
    return { userId: cred!.userId, projectId: cred!.projectId, methods: ['application_credential'] };
  } else if (method === 'token') {
    const t = state.tokens.get(auth.identity.token?.id ?? '');
    if (!t || t.expiresAt < Date.now()) fail(401, UNAUTH);
    userId = t!.userId;
    methods.splice(0, methods.length, ...new Set(['token', ...t!.methods]));
  } else {
    fail(401, `Attempted to authenticate with an unsupported method: ${method}`);
  }
  const scope = auth.scope?.project;
  if (scope) {
    const domainId = domainIdOf(state, scope.domain);
    const p = state.projects.find((x) => (scope.id ? x.id === scope.id : x.name === scope.name && x.domainId === domainId));
    const user = state.users.find((u) => u.id === userId)!;
    if (!p || !user.projectIds.includes(p.id)) fail(401, `User ${userId} has no access to project ${scope.id ?? scope.name}`);
    projectId = p!.id;
  }
  return { userId: userId!, projectId, methods };
}

function domainIdOf(state: SimState, d: { id?: string; name?: string } | undefined): string {
  if (!d) return 'default';
  if (d.id) return d.id;
  return state.domains.find((x) => x.name === d.name)?.id ?? `unknown:${d.name}`;
}

function tokenBody(state: SimState, req: Request, t: Token) {
  const user = state.users.find((u) => u.id === t.userId)!;
  const domain = (id: string) => ({ id, name: state.domains.find((d) => d.id === id)?.name ?? id });
  const body: Record<string, unknown> = {
    methods: t.methods, expires_at: isoMicro(t.expiresAt), issued_at: isoMicro(t.issuedAt), audit_ids: [t.id.slice(-22)],
    user: { id: user.id, name: user.name, domain: domain(user.domainId), password_expires_at: null },
  };
  if (t.projectId) {
    const p = state.projects.find((x) => x.id === t.projectId)!;
    body.project = { id: p.id, name: p.name, domain: domain(p.domainId) };
    body.is_domain = false;
    body.roles = [{ id: 'r-member', name: 'member' }, { id: 'r-reader', name: 'reader' }];
    body.catalog = catalog(req, p.id);
  }
  return body;
}

function catalog(req: Request, projectId: string) {
  const base = baseUrl(req);
  const svc = (type: string, name: string, path: string) => ({
    type, name, id: `svc-${type}`,
    endpoints: ['public', 'internal'].map((iface) => ({
      id: `ep-${type}-${iface}`, interface: iface, region: 'RegionOne', region_id: 'RegionOne', url: `${base}${path}`,
    })),
  });
  return [
    svc('identity', 'keystone', '/identity'),
    svc('compute', 'nova', '/compute/v2.1'),
    svc('network', 'neutron', '/network'),
    svc('image', 'glance', '/image'),
    svc('volumev3', 'cinderv3', `/volume/v3/${projectId}`),
  ];
}
