/**
 * startOidcProvider: a real OpenID provider (oidc-provider, test/oidc/server.mjs) in a child
 * process on 127.0.0.1, and tokens obtained through its own flows over HTTP: authorization code with
 * PKCE (sign-in and consent forms posted as a browser would), then the refresh_token grant.
 *
 *   const op = await startOidcProvider({ users: [{ id: 'alice', groups: ['dev'] }], clients: [{ id: 'im', secret: 's', audience: 'https://im.test' }] });
 *   const { access_token, refresh_token } = await op.getToken('alice');   // client: the first one
 *   const again = await op.refresh(refresh_token);
 *   await op.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface OidcUser { id: string; name?: string; groups?: string[] }
/** audience: JWT access tokens for that resource; none: opaque tokens (checked through userinfo). ttl in seconds. */
export interface OidcClient { id: string; secret: string; audience?: string; ttl?: number }
export interface TokenSet { access_token: string; refresh_token?: string; expires_in: number; token_type: string }

export interface OidcProvider {
  issuer: string;
  child: ChildProcess;
  getToken(user: string, client?: string): Promise<TokenSet>;
  refresh(refreshToken: string, client?: string): Promise<TokenSet>;
  /** How many requests each path of the provider got (e.g. "/jwks", "/.well-known/openid-configuration"). */
  counts(): Promise<Record<string, number>>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

const REDIRECT_URI = 'http://127.0.0.1/callback';
const SCOPE = 'openid profile im:use';

export async function startOidcProvider(setup: { users: OidcUser[]; clients: OidcClient[] }): Promise<OidcProvider> {
  // From the sources, or from dist/test/oidc (bench:api): the .mjs stays in the source tree.
  const main = [path.join(__dirname, 'server.mjs'), path.resolve(__dirname, '../../../test/oidc/server.mjs')].find((f) => fs.existsSync(f))!;
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, OIDC_FIXTURE: JSON.stringify(setup) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const issuer = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`oidc-provider did not start in 15 s:\n${err}`)), 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`oidc-provider exited before listening:\n${err}`)); });
  });
  const clientOf = (id?: string) => {
    const c = id ? setup.clients.find((x) => x.id === id) : setup.clients[0];
    if (!c) throw new Error(`no client ${id}`);
    return c;
  };
  return {
    issuer,
    child,
    getToken: (user, client) => codeFlow(issuer, user, clientOf(client)),
    counts: async () => (await fetch(new URL('/__fixture/counts', issuer))).json() as Promise<Record<string, number>>,
    refresh: (refreshToken, client) => tokenRequest(issuer, clientOf(client), { grant_type: 'refresh_token', refresh_token: refreshToken }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The authorization-code flow as a browser runs it: follow redirects, post the sign-in and consent forms. */
async function codeFlow(issuer: string, user: string, client: OidcClient): Promise<TokenSet> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const jar = new Map<string, string>();
  const auth = new URL('/auth', issuer);
  auth.search = new URLSearchParams({
    client_id: client.id, response_type: 'code', redirect_uri: REDIRECT_URI, scope: SCOPE,
    code_challenge: challenge, code_challenge_method: 'S256', state: randomBytes(8).toString('hex'),
  }).toString();
  let url = auth.toString();
  let form: Record<string, string> | undefined;
  for (let hop = 0; hop < 12; hop++) {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    form = undefined;
    const location = res.headers.get('location');
    const body = await res.text();
    if (location) {
      const next = new URL(location, url);
      if (next.toString().startsWith(REDIRECT_URI)) {
        const code = next.searchParams.get('code');
        if (!code) throw new Error(`authorization failed: ${next.search}`);
        return tokenRequest(issuer, client, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
      }
      url = next.toString();
      continue;
    }
    if (res.status === 200 && /\/interaction\//.test(url)) {
      // devInteractions: the sign-in form (any password), then the consent form.
      form = /name="login"/.test(body) ? { prompt: 'login', login: user, password: 'any' } : { prompt: 'consent' };
      continue;
    }
    throw new Error(`unexpected answer ${res.status} at ${url}: ${body.slice(0, 300)}`);
  }
  throw new Error('too many redirects in the authorization flow');
}

async function tokenRequest(issuer: string, client: OidcClient, params: Record<string, string>): Promise<TokenSet> {
  const res = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${text}`);
  return JSON.parse(text) as TokenSet;
}
