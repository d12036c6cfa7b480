/** `tosca-im serve` as users run it: first start, restart, environment, bad configuration. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clusterTemplate, tempDir as makeTempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { MAIN_JS, spawnServer } from './api-harness';

const AUTH = imAuth('dave', 'dave-pw', 'id = dummy; type = Dummy');


const scratch: string[] = [];
const tempDir = (prefix?: string) => { const d = makeTempDir(prefix); scratch.push(d); return d; };
afterAll(() => { for (const d of scratch) fs.rmSync(d, { recursive: true, force: true }); });

describe('tosca-im serve', () => {
  it('creates the data dir, SQLite file and a 0600 key on first start; a restart knows the owner again', async () => {
    const dataDir = path.join(tempDir('tosca-im-cli-'), 'data');
    const first = await spawnServer(dataDir);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const created = await call(first.url, 'POST', '/infrastructures', { auth: AUTH, type: 'text/yaml', body: clusterTemplate(1) });
    expect(created.status).toBe(200);
    expect(await first.stop()).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'tosca-im.db'))).toBe(true);
    expect(fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    const key = fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8');

    const second = await spawnServer(dataDir);
    try {
      expect(fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8')).toBe(key);
      const list = await call(second.url, 'GET', '/infrastructures', { auth: AUTH });
      expect(list.text).toBe(`${second.url}/infrastructures/${created.headers.get('InfID')}`);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('finishes a request in flight on SIGTERM, then exits 0', async () => {
    const srv = await spawnServer(tempDir('tosca-im-term-'));
    const slow = imAuth('dave', 'dave-pw', 'id = dummy; type = Dummy; delay_ms = 800');
    // A synchronous create answers once its VMs left pending (0.8 s here).
    const pending = call(srv.url, 'POST', '/infrastructures', { auth: slow, type: 'text/yaml', body: clusterTemplate(1) });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const exited = srv.stop();
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(await exited).toBe(0);
    // Idle keep-alive sockets are closed at once, not after their 5 s timeout.
    expect(Date.now() - started).toBeLessThan(4500);
  });

  it('takes the store and key from the environment', async () => {
    const dir = tempDir('tosca-im-env-');
    const db = path.join(dir, 'elsewhere', 'im.db');
    const srv = await spawnServer(path.join(dir, 'data'), [], { TOSCA_IM_DB: `sqlite:${db}`, TOSCA_IM_SECRET_KEY: 'cd'.repeat(32) });
    try {
      expect((await call(srv.url, 'GET', '/version')).text).toMatch(/^\d+\.\d+\.\d+/);
      expect(fs.existsSync(db)).toBe(true);
      expect(fs.existsSync(path.join(dir, 'data', 'secret.key'))).toBe(false);
    } finally {
      expect(await srv.stop()).toBe(0);
    }
  });

  it.each([
    [['--port', 'x'], {}, 2, /invalid port/],
    [['--db', 'mysql://h/db'], {}, 1, /Unsupported store URL/],
    [[], { TOSCA_IM_SECRET_KEY: 'too-short' }, 1, /32 bytes/],
  ])('exits with a clear message for %p %p', (args, env, code, message) => {
    const dataDir = tempDir('tosca-im-bad-');
    const r = spawnSync(process.execPath, [MAIN_JS, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
      env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000,
    });
    expect(r.status).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('says so when the port is taken', async () => {
    const a = await spawnServer(tempDir('tosca-im-port-'));
    try {
      const port = new URL(a.url).port;
      const r = spawnSync(process.execPath, [MAIN_JS, 'serve', '--port', port, '--data-dir', tempDir('tosca-im-port-')], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/EADDRINUSE/);
    } finally {
      await a.stop();
    }
  });
});
