/**
 * The real server for the API integration tests: in-process (createApp over the real engine and a
 * temp SQLite file) or as a child process (`node dist/cli/main.js serve`, what users run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { createApp } from '../../server/app';
import { createEngine } from '../../server/engine';
import { openStore } from '../../server/store';
import { TEST_SECRET_KEY, tempDir } from '../engine-fixtures';
import { listen } from '../api/http';

export const MAIN_JS = path.resolve(__dirname, '../../dist/cli/main.js');

export interface TestServer { url: string; close(): Promise<void> }

export async function inProcessServer(): Promise<TestServer> {
  const dir = tempDir('tosca-im-api-');
  const dbFile = path.join(dir, 'im.db');
  const logger = pino({ level: 'silent' });
  const store = await openStore(`sqlite:${dbFile}`);
  const engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, logger });
  const srv = await listen(createApp({ service: engine.service, logger, version: 'test', secretKey: TEST_SECRET_KEY }));
  return {
    url: srv.url,
    close: async () => {
      await srv.close();
      await engine.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

/**
 * Starts `tosca-im serve --port 0` from dist/ and waits for its "listening on" line. fromSource runs
 * cli/main.ts through swc instead (the same process, the code as it is now, no build needed).
 */
export async function spawnServer(
  dataDir: string, extraArgs: string[] = [], env: Record<string, string> = {}, opts: { fromSource?: boolean; main?: string } = {},
): Promise<ServerProcess> {
  // opts.main: another entry taking main.ts's arguments (a test's replica with hooks), .js or .ts.
  const entry = opts.main?.endsWith('.js') ? [opts.main] : opts.fromSource || opts.main
    ? ['-r', path.resolve(__dirname, '../lab/swc-register.js'), opts.main ?? path.resolve(__dirname, '../../cli/main.ts')]
    : [MAIN_JS];
  if (opts.main && !fs.existsSync(opts.main)) throw new Error(`${opts.main} is missing: run "npx tsc -p tsconfig.build.json" first (npm test does)`);
  if (!opts.fromSource && !opts.main && !fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run "npx tsc -p tsconfig.build.json" first (npm test does)`);
  const child = spawn(process.execPath, [...entry, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${err}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited (${code}) before listening:\n${err}`)); });
  });
  return {
    url,
    child,
    stderr: () => err,
    stop: async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); return exited; },
    kill: async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); await exited; },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
