/** Credential lines, Keystone v3 methods, catalog, token reuse and re-authentication. */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { OpenStackConnector, parseOpenStackCredential } from '../../connectors/openstack';
import { connectorFor } from '../../connectors/registry';
import '../../connectors/all';
import { InvalidInputError } from '../../server/errors';
import type { OpenStackSim } from '../../sims/openstack';
import { compute, credential, deploy, startSim } from './helpers';

let sim: OpenStackSim;
beforeEach(async () => {
  sim = await startSim();
});
afterEach(async () => sim.close());

const tokenPosts = () => sim.requests.filter((r) => r.method === 'POST' && r.path === '/identity/v3/auth/tokens').length;

describe('credential line', () => {
  it('is registered as type OpenStack (case-insensitive)', () => {
    expect(connectorFor({ id: 'x', type: 'openstack', fields: credential(sim).fields })).toBeInstanceOf(OpenStackConnector);
  });

  it.each([
    [{ host: '' }, /"host" \(the Keystone URL\) is missing/],
    [{ host: 'keystone:5000' }, /is not a URL|must be http or https/],
    [{ auth_version: '2.0_password' }, /auth_version "2.0_password" is not supported/],
    [{ tenant: '' }, /"tenant" \(the project\) is required/],
    [{ password: '' }, /"password" is required/],
    [{ delete_floating_ips: 'maybe' }, /Invalid value "maybe" for .*delete_floating_ips/],
  ])('%j → clear 400', (fields, message) => {
    const f = () => parseOpenStackCredential(credential(sim, fields as Record<string, string>));
    expect(f).toThrow(InvalidInputError);
    expect(f).toThrow(message);
  });
});

describe('Keystone v3', () => {
  it('discovers /v3 under a host with a path, follows the catalog, and reuses one token across connectors', async () => {
    await deploy(new OpenStackConnector(credential(sim)), randomUUID(), [compute('a')]);
    await deploy(new OpenStackConnector(credential(sim)), randomUUID(), [compute('b')]);
    expect(sim.requests.filter((r) => r.path === '/identity')).toHaveLength(1); // discovery once
    expect(tokenPosts()).toBe(1);
    expect(sim.requests.some((r) => r.path.startsWith('/compute/v2.1/servers'))).toBe(true);
  });

  it('accepts the host with /v3 and with a trailing slash', async () => {
    for (const host of [`${sim.url}/identity/v3`, `${sim.url}/identity/`]) {
      const [vm] = await deploy(new OpenStackConnector(credential(sim, { host, tenant: 'demo', username: 'demo' }, `c-${host}`)), randomUUID(), [compute('a')]);
      expect(vm.obs.state).toBe('running');
    }
  });

  it('re-authenticates once on a 401 (revoked or expired token)', async () => {
    const conn = new OpenStackConnector(credential(sim));
    const [vm] = await deploy(conn, randomUUID(), [compute('a')]);
    sim.revokeTokens();
    expect((await conn.describe(vm.handle)).state).toBe('running');
    expect(tokenPosts()).toBe(2);
    expect(sim.requests.filter((r) => r.status === 401)).toHaveLength(1);
  });

  it('a token about to expire is replaced before use, never sent to die with a 401', async () => {
    // Keystone hands out tokens valid for 30 s: inside the connector's safety margin, so every use re-authenticates.
    sim.state.tokenTtlMs = 30_000;
    const conn = new OpenStackConnector(credential(sim));
    const [vm] = await deploy(conn, randomUUID(), [compute('a')]);
    const afterDeploy = tokenPosts();
    expect(afterDeploy).toBeGreaterThan(1);
    expect((await conn.describe(vm.handle)).state).toBe('running');
    expect(tokenPosts()).toBeGreaterThan(afterDeploy);
    expect(sim.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('application credentials (3.x_appcred)', async () => {
    const conn = new OpenStackConnector(credential(sim, { auth_version: '3.x_appcred', username: 'appcred-demo', password: 'appsecret', tenant: '' }));
    const [vm] = await deploy(conn, randomUUID(), [compute('a')]);
    expect(vm.obs.state).toBe('running');
    const bad = new OpenStackConnector(credential(sim, { auth_version: '3.x_appcred', username: 'appcred-demo', password: 'wrong', tenant: '' }, 'bad'));
    await expect(bad.prepare({ infrastructureId: randomUUID(), computes: [compute('a')], publicKey: 'ssh-rsa AAAA x' })).rejects.toMatchObject({
      code: 'AuthFailed', message: expect.stringContaining('OpenStack credential "bad" was rejected by Keystone'),
    });
  });

  it('OIDC access tokens (3.x_oidc_access_token: username = IdP, tenant = protocol, domain = project)', async () => {
    const conn = new OpenStackConnector(credential(sim, { auth_version: '3.x_oidc_access_token', username: 'egi.eu', tenant: 'openid', password: 'oidc-access-token', domain: 'demo' }));
    const [vm] = await deploy(conn, randomUUID(), [compute('a')]);
    expect(vm.obs.state).toBe('running');
    expect(sim.requests.some((r) => r.path === '/identity/v3/OS-FEDERATION/identity_providers/egi.eu/protocols/openid/auth' && r.status === 201)).toBe(true);
    const wrongProject = new OpenStackConnector(credential(sim, { auth_version: '3.x_oidc_access_token', username: 'egi.eu', tenant: 'openid', password: 'oidc-access-token', domain: 'alt' }, 'w'));
    await expect(wrongProject.prepare({ infrastructureId: randomUUID(), computes: [compute('a')], publicKey: 'ssh-rsa AAAA x' })).rejects.toThrow(/project "alt" is not available/);
  });

  it('a wrong password is a clear error, not a crash', async () => {
    const conn = new OpenStackConnector(credential(sim, { password: 'nope' }));
    await expect(deploy(conn, randomUUID(), [compute('a')])).rejects.toMatchObject({
      code: 'AuthFailed', message: expect.stringMatching(/OpenStack credential "ost" was rejected by Keystone.*requires authentication/),
    });
  });

  it('a region missing from the catalog is a clear error', async () => {
    const conn = new OpenStackConnector(credential(sim, { service_region: 'Mars' }));
    await expect(deploy(conn, randomUUID(), [compute('a')])).rejects.toMatchObject({
      code: 'NoEndpoint', message: expect.stringContaining('no public "compute" endpoint in region "Mars" (regions: RegionOne)'),
    });
  });

  it('an unreachable Keystone is a clear error', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const conn = new OpenStackConnector(credential(sim, { host: `http://127.0.0.1:${port}/identity/v3` }));
    await expect(conn.prepare({ infrastructureId: randomUUID(), computes: [compute('a')], publicKey: 'ssh-rsa AAAA x' })).rejects.toMatchObject({
      code: 'Unreachable', message: `Cannot reach OpenStack at POST http://127.0.0.1:${port}/identity/v3/auth/tokens: no answer (the connection failed or timed out)`,
    });
  }, 30_000);
});
