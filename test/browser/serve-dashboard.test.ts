/**
 * `tosca-im serve` wires the dashboard: --templates gives the catalogue, --oidc-issuers turns the
 * sign-in into OIDC. A real provider answers discovery, and the sign-in button leads to its
 * authorization endpoint with PKCE (S256), state and nonce. Bad flags are usage errors.
 */
import * as path from 'node:path';
import { readConfig } from '../../cli/serve';
import { tempDir } from '../engine-fixtures';
import { spawnServer, type ServerProcess } from '../integration/api-harness';
import { startProvider, type RunningProvider } from './oidc-provider';

const TEMPLATES = path.resolve(__dirname, '..', '..', 'templates');
let provider: RunningProvider;
let server: ServerProcess;

beforeAll(async () => {
  provider = await startProvider('http://127.0.0.1:1/dashboard/auth/callback');
  server = await spawnServer(tempDir('tosca-im-serve-dash-'), ['--templates', TEMPLATES, '--oidc-issuers', provider.issuer],
    { TOSCA_IM_DASHBOARD_CLIENT_ID: provider.clientId, TOSCA_IM_DASHBOARD_CLIENT_SECRET: provider.clientSecret }, { fromSource: true });
});

afterAll(async () => {
  await server?.stop();
  await provider?.stop();
});

it('signs in through the configured issuer with code + PKCE', async () => {
  const login = await fetch(`${server.url}/dashboard/login`);
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  const page = await login.text();
  expect(page).toContain(`value="${provider.issuer}"`);
  expect(page).not.toContain('name="password"');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1];
  const start = await fetch(`${server.url}/dashboard/login/oidc`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, issuer: provider.issuer }).toString(),
  });
  expect(start.status).toBe(303);
  const to = new URL(start.headers.get('location')!);
  expect(`${to.origin}`).toBe(provider.issuer);
  expect(Object.fromEntries(to.searchParams)).toMatchObject({
    client_id: provider.clientId, response_type: 'code', code_challenge_method: 'S256',
    redirect_uri: `${server.url}/dashboard/auth/callback`, scope: 'openid profile email',
  });
  expect(to.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
  expect(to.searchParams.get('state')).toBeTruthy();
  expect(to.searchParams.get('nonce')).toBeTruthy();
  // A callback without a sign-in in progress is refused, not crashed on.
  expect((await fetch(`${server.url}/dashboard/auth/callback?code=x&state=y`)).status).toBe(400);
});

it('refuses a bad issuer or a missing templates folder as usage errors', () => {
  expect(() => readConfig(['--oidc-issuers', 'ftp://x'], {})).toThrow('invalid --oidc-issuers entry "ftp://x"');
  expect(() => readConfig([], { TOSCA_IM_TEMPLATES: '/nonexistent/templates' })).toThrow('templates folder "/nonexistent/templates" does not exist');
  expect(readConfig(['--oidc-issuers', 'https://a.example/, https://b.example/realms/x'], {}).oidc.issuers).toEqual(['https://a.example/', 'https://b.example/realms/x']);
});
