import * as fs from 'node:fs';
import * as path from 'node:path';
import { readConfig, UsageError } from '../../cli/serve';
import { loadOrCreateKeyFile, parseServerKey, ServerKeyError } from '../../server/auth';
import { tempDir as makeTempDir } from '../../server/engine/test-fixtures';

const scratch: string[] = [];
const tempDir = (prefix?: string) => { const d = makeTempDir(prefix); scratch.push(d); return d; };
afterAll(() => { for (const d of scratch) fs.rmSync(d, { recursive: true, force: true }); });

describe('tosca-im serve configuration', () => {
  it('defaults to IM\'s port on loopback with SQLite under ./data', () => {
    expect(readConfig([], {})).toEqual({
      host: '127.0.0.1', port: 8800, db: 'sqlite:data/tosca-im.db', logLevel: 'info', dataDir: './data',
      importMap: undefined, bodyLimit: '1mb', poolSize: undefined,
    });
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
    fs.writeFileSync(file, 'ab'.repeat(32), { mode: 0o644 });
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
