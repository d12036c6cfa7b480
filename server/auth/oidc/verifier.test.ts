/**
 * TokenVerifier against a real OpenID provider (test/oidc): what it asks the issuer and when —
 * discovery and keys once, never again for a cached answer nor for forged key ids; userinfo for
 * tokens that are not JWTs; introspection for the scopes.
 */
import * as net from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { startOidcProvider, type OidcProvider } from '../../../test/oidc/provider';
import { IssuerUnavailableError, UnauthorizedError } from '../../errors';
import { noOidc, type OidcOptions } from './options';
import { TokenVerifier } from './verifier';

jest.setTimeout(30_000);

const AUDIENCE = 'https://im.test';
let op: OidcProvider;

beforeAll(async () => {
  op = await startOidcProvider({
    users: [{ id: 'alice', name: 'Alice', groups: ['tosca'] }],
    clients: [{ id: 'im', secret: 'im-secret', audience: AUDIENCE }, { id: 'web', secret: 'web-secret' }],
  });
});
afterAll(() => op?.stop());

const verifier = (more: Partial<OidcOptions> = {}) => new TokenVerifier({ ...noOidc(), issuers: [op.issuer], ...more });

it('fetches discovery and keys once; a cached answer asks the issuer nothing', async () => {
  const v = verifier({ audience: AUDIENCE, groups: ['tosca'] });
  const token = (await op.getToken('alice')).access_token;
  const before = await op.counts();
  const people = await Promise.all(Array.from({ length: 20 }, () => v.verify(token)));
  for (let i = 0; i < 20; i++) await v.verify(token);
  const after = await op.counts();
  expect(people[0]).toMatchObject({ issuer: op.issuer, sub: 'alice', groups: ['tosca'], admin: false, username: '__OPENID__alice' });
  expect((after['/.well-known/openid-configuration'] ?? 0) - (before['/.well-known/openid-configuration'] ?? 0)).toBe(1);
  expect((after['/jwks'] ?? 0) - (before['/jwks'] ?? 0)).toBe(1);
  expect(after['/me'] ?? 0).toBe(before['/me'] ?? 0);
});

it('refetches the keys for unknown key ids at a bounded rate, and refuses the forgeries', async () => {
  const v = verifier();
  await v.verify((await op.getToken('alice')).access_token);
  const before = (await op.counts())['/jwks'] ?? 0;
  for (let i = 0; i < 10; i++) {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: `forged-${i}` })
      .setIssuer(op.issuer).setSubject('alice').setAudience(AUDIENCE).setExpirationTime('1h').sign(privateKey);
    await expect(v.verify(forged)).rejects.toThrow(new UnauthorizedError('Invalid InfrastructureManager credentials. Invalid token signature.'));
  }
  expect(((await op.counts())['/jwks'] ?? 0) - before).toBeLessThanOrEqual(1);
});

it('checks a token that is not a JWT through userinfo, groups included', async () => {
  const opaque = (await op.getToken('alice', 'web')).access_token;
  expect(opaque.split('.')).toHaveLength(1);
  const person = await verifier({ groups: ['tosca'], adminGroups: ['tosca'] }).verify(opaque);
  expect(person).toMatchObject({ issuer: op.issuer, sub: 'alice', username: '__OPENID__Alice', groups: ['tosca'], admin: true });
  await expect(verifier().verify('no-such-token')).rejects.toThrow('The token is not a JWT and no trusted issuer accepts it.');
});

it('introspects for the scopes when a client is configured (IM\'s OIDC_SCOPES)', async () => {
  // This provider introspects the tokens it keeps (opaque ones); its JWTs it does not (active: false).
  const token = (await op.getToken('alice', 'web')).access_token;
  const client = { clientId: 'web', clientSecret: 'web-secret' };
  await expect(verifier({ scopes: ['openid', 'profile'], ...client }).verify(token)).resolves.toMatchObject({ sub: 'alice' });
  await expect(verifier({ scopes: ['im:admin'], ...client }).verify(token))
    .rejects.toThrow(/^Invalid InfrastructureManager credentials\. Scopes im:admin not in introspection scopes: openid profile/);
  await expect(verifier({ scopes: ['openid'], clientId: 'web', clientSecret: 'wrong' }).verify(token))
    .rejects.toThrow('Invalid InfrastructureManager credentials. Invalid token or Client credentials.');
});

it('matches issuers with one trailing slash ignored, and says when an issuer cannot be reached', async () => {
  const token = (await op.getToken('alice')).access_token;
  await expect(new TokenVerifier({ ...noOidc(), issuers: [`${op.issuer}/`] }).verify(token)).resolves.toMatchObject({ issuer: op.issuer });
  const closed = await closedPort();
  const down = new TokenVerifier({ ...noOidc(), issuers: [`http://127.0.0.1:${closed}`] });
  const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(`http://127.0.0.1:${closed}/`).setSubject('x').setExpirationTime('1h').sign(new Uint8Array(32));
  await expect(down.verify(forged)).rejects.toThrow(IssuerUnavailableError);
  await expect(down.verify(forged)).rejects.toThrow(/^Cannot check the OIDC token: the OIDC issuer at http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\); try again later\.$/);
});

/** A port on 127.0.0.1 that nothing listens on (just closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}
