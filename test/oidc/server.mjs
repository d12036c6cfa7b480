/**
 * A real OpenID provider (the certified `oidc-provider` package) on 127.0.0.1, for tests and demos.
 * It is ESM-only, so it runs as its own process: `node server.mjs` with the setup as JSON in
 * OIDC_FIXTURE ({ users, clients }); it prints "oidc-provider listening on URL" and serves until killed.
 *
 * - users: [{ id, name?, groups? }] — any password signs in (devInteractions), the groups go in
 *   the `groups` claim of the access token and of userinfo (scope "profile").
 * - clients: [{ id, secret, audience?, ttl? }] — with an audience the access tokens are JWTs for that
 *   resource (RFC 8707), lasting ttl seconds; without one they are opaque and userinfo answers them.
 * Authorization code (+ PKCE) and refresh_token grants; introspection is on.
 */
import * as http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const setup = JSON.parse(process.env.OIDC_FIXTURE ?? '{}');
const users = new Map((setup.users ?? []).map((u) => [u.id, u]));
const clients = new Map((setup.clients ?? []).map((c) => [c.id, c]));
export const REDIRECT_URI = 'http://127.0.0.1/callback';
const RESOURCE_SCOPE = 'im:use';

const server = http.createServer();
await new Promise((resolve) => server.listen(setup.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signing = { ...(await exportJWK(privateKey)), kid: `k-${process.pid}`, alg: 'RS256', use: 'sig' };

const claimsOf = (id) => {
  const u = users.get(id);
  return { sub: id, preferred_username: u?.name ?? id, name: u?.name ?? id, groups: u?.groups ?? [] };
};

const provider = new Provider(issuer, {
  clients: [...clients.values()].map((c) => ({
    client_id: c.id,
    client_secret: c.secret,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
  })),
  jwks: { keys: [signing] },
  cookies: { keys: ['fixture-cookie-key'] },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name', 'groups'] },
  scopes: ['openid', 'profile', 'offline_access', RESOURCE_SCOPE],
  findAccount: async (_ctx, id) => (users.has(id) ? { accountId: id, claims: async () => claimsOf(id) } : undefined),
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, client) => clients.get(client.clientId)?.audience,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource, client) => ({
        scope: RESOURCE_SCOPE,
        audience: resource,
        accessTokenTTL: clients.get(client.clientId)?.ttl ?? 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  // Every client allowed the grant gets a refresh token (no offline_access consent dance).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  extraTokenClaims: async (_ctx, token) => (token.accountId ? { groups: claimsOf(token.accountId).groups } : undefined),
  ttl: { AccessToken: (_ctx, _token, client) => clients.get(client.clientId)?.ttl ?? 3600 },
  pkce: { required: () => true },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider server_error: ${err.stack}\n`));

// How often each path was asked (GET /__fixture/counts), so tests can see what a client's caches save.
const counts = {};
provider.use(async (ctx, next) => { counts[ctx.path] = (counts[ctx.path] ?? 0) + 1; await next(); });
const app = provider.callback();
server.on('request', (req, res) => {
  if (req.url === '/__fixture/counts') return res.end(JSON.stringify(counts));
  return app(req, res);
});
process.stdout.write(`oidc-provider listening on ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
