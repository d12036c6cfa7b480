/**
 * IM identity with real OpenID providers (oidc-provider, test/oidc) against the real `tosca-im serve`:
 * tokens obtained through the providers' own authorization-code and refresh flows, checked by the
 * server against the trusted issuers; owner = issuer + sub; IM's 401/403; admins; issuer down.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { clusterTemplate, tempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { startOidcProvider, type OidcProvider } from '../oidc/provider';
import { spawnServer, type ServerProcess } from './api-harness';

jest.setTimeout(60_000);

const AUDIENCE = 'https://im.test';
const DUMMY = 'id = dummy; type = Dummy';
const FORBIDDEN = 'Error Getting Inf. info: Access to this infrastructure not granted.';
/** The clock skew the server allows on exp (server/auth/oidc/verifier.ts). */
const SKEW_MS = 5_000;

const tokenAuth = (token: string, extra = '') => [`id = im; type = InfrastructureManager; ${extra}token = ${token}`, DUMMY].join('\\n');
const bearer = (token: string) => `Bearer ${token}`;

let A: OidcProvider; // trusted (written with a trailing slash in --oidc-issuers)
let B: OidcProvider; // trusted, never asked before it is stopped
let C: OidcProvider; // not trusted
let srv: ServerProcess;
const dataDir = tempDir('tosca-im-oidc-');
/** Every token and refresh token handed out, to look for them in the store and the log. */
const issued: string[] = [];
const tokens: Record<string, string> = {};
let shortLived: { token: string; exp: number };

async function token(op: OidcProvider, user: string, client?: string): Promise<string> {
  const t = await op.getToken(user, client);
  issued.push(t.access_token, ...(t.refresh_token ? [t.refresh_token] : []));
  return t.access_token;
}

beforeAll(async () => {
  const clients = [
    { id: 'im', secret: 'im-secret', audience: AUDIENCE },
    { id: 'short', secret: 'short-secret', audience: AUDIENCE, ttl: 1 },
    { id: 'other', secret: 'other-secret', audience: 'https://other.test' },
  ];
  [A, B, C] = await Promise.all([
    startOidcProvider({
      users: [
        { id: 'alice', name: 'Alice', groups: ['tosca'] }, { id: 'bob', groups: ['tosca'] },
        { id: 'carol', groups: ['tosca', 'admins'] }, { id: 'dave', groups: ['other'] },
      ],
      clients,
    }),
    startOidcProvider({ users: [{ id: 'erin', groups: ['tosca'] }], clients }),
    startOidcProvider({ users: [{ id: 'alice', groups: ['tosca'] }], clients }),
  ]);
  const t = await A.getToken('alice', 'short');
  issued.push(t.access_token);
  shortLived = { token: t.access_token, exp: Date.now() + t.expires_in * 1000 };
  for (const user of ['alice', 'bob', 'carol', 'dave']) tokens[user] = await token(A, user);
  tokens.erin = await token(B, 'erin');
  srv = await spawnServer(dataDir, [
    '--oidc-issuers', `${A.issuer}/,${B.issuer}`, '--oidc-audience', AUDIENCE, '--oidc-groups', 'tosca',
    '--oidc-admin-groups', 'admins', '--admin-users', 'root:root-pw', '--log-level', 'trace',
  ], {}, { fromSource: true });
});

afterAll(async () => {
  await srv?.stop();
  await Promise.all([A, B, C].map((op) => op?.stop()));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const get = (p: string, auth: string, accept?: string) => call(srv.url, 'GET', p, { auth, accept });
const list = async (auth: string) => (await get('/infrastructures', auth)).text.split('\n').filter(Boolean).map((u) => u.split('/').pop()!);

async function create(auth: string): Promise<string> {
  const r = await call(srv.url, 'POST', '/infrastructures', { auth, type: 'text/yaml', body: clusterTemplate(1) });
  expect([r.status, r.text]).toEqual([200, expect.stringContaining('/infrastructures/')]);
  return r.headers.get('InfID')!;
}

/** grycap/im v1.19.2 test/integration/TestREST.py, the cases about identity, with their expectations. */
describe('IM REST suite (TestREST.py)', () => {
  // IM's auth.dat: a password user and the cloud line.
  const AUTH_DAT = imAuth('imuser', 'impass', DUMMY);

  it('test_12_list_with_incorrect_token: an expired token of another issuer gets 401', async () => {
    const token = 'eyJraWQiOiJyc2ExIiwiYWxnIjoiUlMyNTYifQ.eyJzdWIiOiJkYzVkNWFiNy02ZGI5LTQwNzktOTg1Yy04MGFjMDUwMTcwNjYi' +
      'LCJpc3MiOiJodHRwczpcL1wvaWFtLXRlc3QuaW5kaWdvLWRhdGFjbG91ZC5ldVwvIiwiZXhwIjoxNDYyODY5MjgxLCJpYXQiOjE' +
      '0NjI4NjU2ODEsImp0aSI6Ijc1M2M4ZTI1LWU3MGMtNGI5MS05YWJhLTcxNDI5NTg3MzUzOSJ9.iA9nv7QdkmfgJPSQ_77_eKrvh' +
      'P1xwZ1Z91xzrZ0Bzue0ark4qRMlHCdZvad1tunURaSsHHMsFYQ3H7oQj-ZSYWOfr1KxMaIo4pWaVHrW8qsCMLmqdNfubR54GmTh' +
      'M4cA2ZdNZa8neVT8jUvzR1YX-5cz7sp2gWbW9LAwejoXDtk';
    // The IM line is replaced by the token one; every other line of auth.dat is kept.
    const authData = `type = InfrastructureManager; token = ${token}\\n${AUTH_DAT.split('\\n').filter((l) => !l.includes('type = InfrastructureManager')).join('\\n')}\\n`;
    const resp = await call(srv.url, 'GET', '/infrastructures', { auth: authData });
    expect(resp.status).toBe(401);
  });

  it('test_22_get_forbidden_info: another user gets 403 on an existing infrastructure', async () => {
    const created = await call(srv.url, 'POST', '/infrastructures', { auth: AUTH_DAT, type: 'text/yaml', body: clusterTemplate(1) });
    expect(created.status).toBe(200);
    const infId = created.text.split('/').pop()!;
    const resp = await call(srv.url, 'GET', `/infrastructures/${infId}`, { auth: 'type = InfrastructureManager; username = some; password = other' });
    expect(resp.status).toBe(403);
  });
});

describe('OIDC people on tosca-im serve', () => {
  let aliceInf: string;

  it('accepts a valid token, in the InfrastructureManager line and as Bearer', async () => {
    aliceInf = await create(tokenAuth(tokens.alice));
    expect(await list(bearer(tokens.alice))).toEqual([aliceInf]);
    expect((await get(`/infrastructures/${aliceInf}/state`, bearer(tokens.alice))).status).toBe(200);
  });

  it('gives the same person\'s refreshed token the same infrastructures', async () => {
    const fresh = await token(A, 'alice');
    expect(fresh).not.toBe(tokens.alice);
    expect(await list(tokenAuth(fresh))).toEqual([aliceInf]);
    expect((await get(`/infrastructures/${aliceInf}/state`, tokenAuth(fresh))).status).toBe(200);
  });

  it('answers another person IM\'s 403 on every route of it, and nothing in their list', async () => {
    const bob = tokenAuth(tokens.bob);
    expect(await list(bob)).toEqual([]);
    const r = await get(`/infrastructures/${aliceInf}`, bob);
    expect([r.status, r.text]).toEqual([403, FORBIDDEN]);
    for (const [method, suffix] of [['GET', '/state'], ['GET', '/contmsg'], ['GET', '/authorization'], ['PUT', '/stop'], ['DELETE', ''], ['GET', '/vms/0']]) {
      const x = await call(srv.url, method, `/infrastructures/${aliceInf}${suffix}`, { auth: bob });
      expect([method, suffix, x.status, x.text]).toEqual([method, suffix, 403, expect.stringMatching(/: Access to this infrastructure not granted\.$/)]);
    }
    const unknown = await get('/infrastructures/00000000-0000-4000-8000-000000000000', bob);
    expect([unknown.status, unknown.text]).toEqual([404, 'Error Getting Inf. info: Invalid infrastructure ID or access not granted.']);
  });

  it('takes the display name from the verified token, never from the header', async () => {
    const inf = await create(tokenAuth(tokens.bob, 'username = alice; '));
    const owners = await get(`/infrastructures/${inf}/authorization`, tokenAuth(tokens.bob), 'application/json');
    expect(owners.json()).toEqual({ authorization: ['__OPENID__bob'] });
    expect(await list(tokenAuth(tokens.alice))).toEqual([aliceInf]);
  });

  it('shares an infrastructure with an OIDC colleague by issuer + sub, or by their token', async () => {
    const share = (body: string) => call(srv.url, 'POST', `/infrastructures/${aliceInf}/authorization`, { auth: tokenAuth(tokens.alice), type: 'application/json', body });
    expect((await share(JSON.stringify({ iss: A.issuer, sub: 'bob' }))).status).toBe(200);
    expect((await get(`/infrastructures/${aliceInf}/state`, tokenAuth(tokens.bob))).status).toBe(200);
    expect(await list(tokenAuth(tokens.bob))).toContain(aliceInf);
    expect((await share(JSON.stringify({ token: tokens.carol }))).status).toBe(200);
    const owners = await get(`/infrastructures/${aliceInf}/authorization`, tokenAuth(tokens.alice), 'application/json');
    // preferred_username, name or sub of the verified token (these access tokens carry only sub).
    expect(owners.json()).toEqual({ authorization: ['__OPENID__alice', '__OPENID__bob', '__OPENID__carol'] });
    const untrusted = await share(JSON.stringify({ iss: C.issuer, sub: 'alice' }));
    expect(untrusted.status).toBe(400);
  });

  it('lets an admin group member and an --admin-users user see and manage every infrastructure', async () => {
    const mine = await create(tokenAuth(tokens.bob));
    for (const admin of [tokenAuth(tokens.carol), imAuth('root', 'root-pw', DUMMY)]) {
      const all = await list(admin);
      expect(all).toEqual(expect.arrayContaining([aliceInf, mine]));
      expect((await get(`/infrastructures/${mine}/state`, admin)).status).toBe(200);
    }
    // The same name with another password is no admin.
    const r = await get(`/infrastructures/${mine}`, imAuth('root', 'guess', DUMMY));
    expect([r.status, r.text]).toEqual([403, FORBIDDEN]);
    expect((await call(srv.url, 'DELETE', `/infrastructures/${mine}`, { auth: tokenAuth(tokens.carol) })).status).toBe(200);
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['an untrusted issuer', () => token(C, 'alice'), /^Error Getting Inf\. List: Invalid InfrastructureManager credentials\. Issuer not accepted\.$/],
    ['a wrong audience', () => token(A, 'alice', 'other'), /^Error Getting Inf\. List: Invalid InfrastructureManager credentials\. Audience not accepted\.$/],
    ['a missing group', async () => tokens.dave, /^Error Getting Inf\. List: Invalid InfrastructureManager credentials\. The user is not in the required group\(s\): tosca\.$/],
    ['a JWT signed by another key', () => forged(A.issuer), /^Error Getting Inf\. List: Invalid InfrastructureManager credentials\. Invalid token signature\.$/],
    ['a JWT signed by another key under the issuer\'s kid', () => forged(A.issuer, true), /Invalid token signature\.$/],
    ['a string that is no JWT (with an audience to check)', async () => 'not-a-token', /^Error Getting Inf\. List: Invalid InfrastructureManager credentials\. Audience not accepted \(the token is not a JWT\)\.$/],
  ])('answers 401 for %s', async (_what, make, message) => {
    const t = await make();
    for (const auth of [tokenAuth(t), bearer(t)]) {
      const r = await get('/infrastructures', auth);
      expect([r.status, r.text]).toEqual([401, expect.stringMatching(message)]);
    }
  });

  it('answers 401 for an expired token (after the allowed clock skew)', async () => {
    await new Promise((r) => setTimeout(r, Math.max(0, shortLived.exp + SKEW_MS + 1000 - Date.now())));
    const r = await get('/infrastructures', tokenAuth(shortLived.token));
    expect([r.status, r.text]).toEqual([401, 'Error Getting Inf. List: Invalid InfrastructureManager credentials. OIDC auth Token expired.']);
  });

  it('keeps answering cached validations when the issuers stop, and says clearly when an issuer cannot be reached', async () => {
    await A.stop();
    await B.stop();
    expect((await get(`/infrastructures/${aliceInf}/state`, tokenAuth(tokens.alice))).status).toBe(200);
    expect(await list(tokenAuth(tokens.bob))).toContain(aliceInf);
    const down = await get('/infrastructures', tokenAuth(tokens.erin), 'application/json');
    expect(down.status).toBe(503);
    expect(down.json().message).toMatch(new RegExp(`^Error Getting Inf\\. List: Cannot check the OIDC token: the OIDC issuer at ${B.issuer.replace(/\./g, '\\.')} cannot be reached \\(ECONNREFUSED\\); try again later\\.$`));
    // Password users do not depend on any issuer.
    expect((await get('/infrastructures', imAuth('root', 'root-pw', DUMMY))).status).toBe(200);
  });

  it('never stores or logs a token', async () => {
    await srv.stop();
    const files = fs.readdirSync(dataDir).filter((f) => f.endsWith('.db') || f.endsWith('-wal')).map((f) => path.join(dataDir, f));
    expect(files.length).toBeGreaterThan(0);
    const stored = files.map((f) => fs.readFileSync(f).toString('latin1')).join('\n');
    const log = srv.stderr();
    expect(log.length).toBeGreaterThan(1000); // trace level: every request is in it
    for (const t of issued) {
      // The signature part is what makes a token: look for it, and for the whole token.
      const needles = [t, t.split('.').pop()!];
      for (const n of needles) expect({ leaked: stored.includes(n) || log.includes(n) }).toEqual({ leaked: false });
    }
  });
});

/** A token that looks like the issuer's but is signed by a key of our own. */
async function forged(issuer: string, reuseKid = false): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  const kid = reuseKid ? (await (await fetch(`${issuer}/jwks`)).json() as { keys: Array<{ kid: string }> }).keys[0].kid : 'forged-kid';
  return new SignJWT({ groups: ['tosca', 'admins'], scope: 'im:use' })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
    .setIssuer(issuer).setSubject('alice').setAudience(AUDIENCE).setIssuedAt().setExpirationTime('1h')
    .sign(privateKey);
}
