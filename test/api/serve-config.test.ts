import * as fs from 'node:fs';
import * as path from 'node:path';
import { readConfig, serveUsage as usage, UsageError } from '../../cli/serve';
import { loadOrCreateKeyFile, parseServerKey, ServerKeyError } from '../../server/auth';
import { tempDir as makeTempDir } from '../engine-fixtures';

const scratch: string[] = [];
const tempDir = (prefix?: string) => { const d = makeTempDir(prefix); scratch.push(d); return d; };
afterAll(() => { for (const d of scratch) fs.rmSync(d, { recursive: true, force: true }); });

describe('tosca-im serve configuration', () => {
  it('defaults to IM\'s port on loopback with SQLite under ./data', () => {
    expect(readConfig([], {})).toEqual({
      host: '127.0.0.1', port: 8800, db: 'sqlite:data/tosca-im.db', logLevel: 'info', dataDir: './data',
      importMap: undefined, bodyLimit: '1mb', poolSize: undefined,
      allowPrivateFetch: false, maxFetchBytes: 5 * 1024 * 1024, metricsToken: undefined,
      oidc: { issuers: [], audience: undefined, groups: [], groupsClaim: 'groups', adminGroups: [], scopes: [], clientId: undefined, clientSecret: undefined },
      adminUsers: [],
    });
  });

  it('reads the identity flags and their TOSCA_IM_ twins (flag wins)', () => {
    const env = {
      TOSCA_IM_OIDC_ISSUERS: 'https://iam.example/,https://aai.egi.eu/auth/realms/egi', TOSCA_IM_OIDC_AUDIENCE: 'im', TOSCA_IM_OIDC_GROUPS: 'a,b',
      TOSCA_IM_OIDC_GROUPS_CLAIM: 'wlcg.groups', TOSCA_IM_OIDC_ADMIN_GROUPS: 'ops', TOSCA_IM_ADMIN_USERS: 'root:pw:with:colons',
      TOSCA_IM_OIDC_SCOPES: 'openid profile', TOSCA_IM_OIDC_CLIENT_ID: 'cid', TOSCA_IM_OIDC_CLIENT_SECRET: 'cs',
    };
    expect(readConfig([], env)).toMatchObject({
      oidc: {
        issuers: ['https://iam.example/', 'https://aai.egi.eu/auth/realms/egi'], audience: 'im', groups: ['a', 'b'], groupsClaim: 'wlcg.groups',
        adminGroups: ['ops'], scopes: ['openid', 'profile'], clientId: 'cid', clientSecret: 'cs',
      },
      adminUsers: [['root', 'pw:with:colons']],
    });
    expect(readConfig(['--oidc-issuers', 'http://127.0.0.1:1', '--oidc-groups-claim', 'groups'], env).oidc).toMatchObject({ issuers: ['http://127.0.0.1:1'], groupsClaim: 'groups' });
  });

  it('lists every identity flag with its environment twin in --help', () => {
    for (const name of ['oidc-issuers', 'oidc-audience', 'oidc-groups', 'oidc-groups-claim', 'oidc-admin-groups', 'admin-users', 'oidc-scopes', 'oidc-client-id', 'oidc-client-secret']) {
      expect(usage()).toContain(`--${name} (TOSCA_IM_${name.toUpperCase().replace(/-/g, '_')})`);
    }
  });

  it('reads the security flags and their environment twins (docs/security.md)', () => {
    expect(readConfig(['--allow-private-fetch', '--max-fetch-bytes', '1mb', '--metrics-token', 't'], {}))
      .toMatchObject({ allowPrivateFetch: true, maxFetchBytes: 1024 * 1024, metricsToken: 't' });
    expect(readConfig([], { TOSCA_IM_ALLOW_PRIVATE_FETCH: '1', TOSCA_IM_MAX_FETCH_BYTES: '100kb', TOSCA_IM_METRICS_TOKEN: 'e' }))
      .toMatchObject({ allowPrivateFetch: true, maxFetchBytes: 100 * 1024, metricsToken: 'e' });
    expect(readConfig([], { TOSCA_IM_ALLOW_PRIVATE_FETCH: '0' }).allowPrivateFetch).toBe(false);
    expect(() => readConfig(['--max-fetch-bytes', 'lots'], {})).toThrow(/invalid max fetch bytes/);
  });

  it('reads the environment, and flags win over it', () => {
    const env = { TOSCA_IM_HOST: '0.0.0.0', TOSCA_IM_PORT: '9000', TOSCA_IM_DB: 'sqlite:/x.db', TOSCA_IM_LOG_LEVEL: 'debug', TOSCA_IM_DATA_DIR: '/d', TOSCA_IM_IMPORT_MAP: '/m.json', TOSCA_IM_POOL_SIZE: '3' };
    expect(readConfig([], env)).toMatchObject({ host: '0.0.0.0', port: 9000, db: 'sqlite:/x.db', logLevel: 'debug', dataDir: '/d', importMap: '/m.json', poolSize: 3 });
    expect(readConfig(['--port', '0', '--host', '::1', '--db', 'sqlite::memory:'], env)).toMatchObject({ host: '::1', port: 0, db: 'sqlite::memory:' });
    expect(readConfig(['--data-dir', '/srv/im'], {}).db).toBe('sqlite:/srv/im/tosca-im.db');
  });

  it.each([
    [['--port', 'http'], /invalid port/],
    [['--port', '70000'], /invalid port/],
    [['--log-level', 'loud'], /invalid log level/],
    [['--nope'], /Unknown option/],
    [['extra'], /positional/],
    [['--oidc-issuers', 'iam.example'], /invalid --oidc-issuers entry "iam.example"/],
    [['--oidc-scopes', 'openid'], /--oidc-scopes needs --oidc-client-id and --oidc-client-secret/],
    [['--admin-users', 'root'], /each is USER:PASSWORD/],
  ])('refuses %p', (argv, message) => {
    expect(() => readConfig(argv, {})).toThrow(UsageError);
    expect(() => readConfig(argv, {})).toThrow(message);
  });
});

describe('server key', () => {
  it('is created once with mode 0600 and read back the same', () => {
    const file = path.join(tempDir(), 'sub', 'secret.key');
    const first = loadOrCreateKeyFile(file);
    expect(first.created).toBe(true);
    expect(first.key).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const again = loadOrCreateKeyFile(file);
    expect(again.created).toBe(false);
    expect(again.key.equals(first.key)).toBe(true);
  });

  it('refuses a key file others can read', () => {
    const file = path.join(tempDir(), 'secret.key');
    fs.writeFileSync(file, 'ab'.repeat(32));
    fs.chmodSync(file, 0o644); // explicit: serve sets umask 077, which would mask a creation mode in this process
    expect(() => loadOrCreateKeyFile(file)).toThrow(/chmod 600/);
  });

  it('takes 64 hex characters or base64 of 32 bytes, nothing else', () => {
    expect(parseServerKey('ab'.repeat(32), 'env')).toEqual(Buffer.alloc(32, 0xab));
    expect(parseServerKey(Buffer.alloc(32, 7).toString('base64'), 'env')).toEqual(Buffer.alloc(32, 7));
    expect(() => parseServerKey('short', 'env')).toThrow(ServerKeyError);
    expect(() => parseServerKey('ab'.repeat(31), 'env')).toThrow(/32 bytes/);
  });
});

test('--strict-inputs (or TOSCA_IM_STRICT_INPUTS=1) makes input defaults outside their constraints an error', () => {
  expect(readConfig([], {}).strictInputs).toBeFalsy();
  expect(readConfig(['--strict-inputs', '--port', '9000'], {})).toMatchObject({ strictInputs: true, port: 9000 });
  expect(readConfig([], { TOSCA_IM_STRICT_INPUTS: '1' }).strictInputs).toBe(true);
});
