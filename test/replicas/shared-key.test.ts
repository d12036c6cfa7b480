/**
 * Replicas of one PostgreSQL database share the server key: a replica with another key, or with
 * none given (it would make one up), refuses to start with a clear message; the flag --job-lease
 * is checked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, readConfig } from '../../cli/serve';
import { openStore } from '../../server/store';
import { checkSharedKey, KeyMismatchError } from '../../server/engine/key-check';
import { tempDir } from '../engine-fixtures';
import { describeWithPostgres, startPgCluster, type PgCluster } from '../pg/cluster';

async function serveOutput(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => { stderr += String(chunk); return true; });
  try {
    return { code: await run(argv, env), stderr };
  } finally {
    spy.mockRestore();
  }
}

test('--job-lease and TOSCA_IM_JOB_LEASE are seconds, checked', () => {
  expect(readConfig(['--job-lease', '3'], {}).jobLeaseMs).toBe(3000);
  expect(readConfig([], { TOSCA_IM_JOB_LEASE: '2.5' }).jobLeaseMs).toBe(2500);
  expect(readConfig([], {}).jobLeaseMs).toBeUndefined();
  expect(() => readConfig(['--job-lease', '0'], {})).toThrow(/invalid job lease "0"/);
  expect(() => readConfig(['--job-lease', 'soon'], {})).toThrow(/invalid job lease/);
});

describeWithPostgres('the server key on a shared PostgreSQL', () => {
  let pg: PgCluster;
  const dir = tempDir('tosca-im-key-');
  beforeAll(async () => { pg = await startPgCluster(); }, 60_000);
  afterAll(async () => {
    await pg?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the first key is recorded; another one is refused, by the store check and by serve', async () => {
    const db = await pg.createDatabase();
    const store = await openStore(db);
    try {
      await checkSharedKey(store, Buffer.alloc(32, 1));
      await checkSharedKey(store, Buffer.alloc(32, 1)); // the same key again: fine
      await expect(checkSharedKey(store, Buffer.alloc(32, 2))).rejects.toBeInstanceOf(KeyMismatchError);
    } finally {
      await store.close();
    }
    const other = await serveOutput(['--db', db, '--port', '0', '--data-dir', path.join(dir, 'a')], { TOSCA_IM_SECRET_KEY: '02'.repeat(32) });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/not the one the other replicas of this database use.*same TOSCA_IM_SECRET_KEY/);
  });

  test('no key given: refused rather than made up', async () => {
    const db = await pg.createDatabase();
    const out = await serveOutput(['--db', db, '--port', '0', '--data-dir', path.join(dir, 'b')], {});
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/must share the server key: set TOSCA_IM_SECRET_KEY/);
    expect(fs.existsSync(path.join(dir, 'b', 'secret.key'))).toBe(false);
  });
});
