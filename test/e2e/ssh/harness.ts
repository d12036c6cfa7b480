/**
 * The end-to-end rig: a sealed lab, a cloud simulator (OpenStack or EC2) in host mode building its
 * VMs as lab hosts, and the real `tosca-im serve` running inside the lab's server namespace (no default
 * route, `unreachable` routes for the private ranges; its only network is the public bridge).
 *
 *   test ──TCP 127.0.0.1 (test ns)──► relay ──unix──► relay (server ns) ──► tosca-im serve
 *   tosca-im serve ──► 127.0.0.1:P (server ns) relay ──unix──► relay ──► simulator's API (test ns)
 *   tosca-im serve ──SSH──► master's floating IP (public bridge) ──► workers (private bridge)
 *
 * Everything it starts is stopped by its PID or handle in stop(), which never throws and runs every
 * step even when an earlier one fails; the lab's own exit hook covers a test process that dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLab, type Lab } from '../../lab/lab';
import { startServerProcess, type ServerProcess } from '../../lab/server-process';
import { startCloud, type CloudKind, type SimCloud } from './clouds';
import { startRelay, type Relay } from './relay';

const ROOT = resolve(__dirname, '../../..');
export const SCRIPT_URL = 'https://e2e.tosca-im.invalid/scripts/';

export interface E2eRig {
  lab: Lab;
  cloud: SimCloud;
  /** Code inside the server namespace (relays, SSH probes). */
  side: ServerProcess;
  /** The REST API as the test reaches it. */
  apiUrl: string;
  /** IM credential line of the simulator, as the server reaches it. */
  cloudLine: string;
  /** Where the scripts the template names are (the server's import map points here). */
  scriptsDir: string;
  /** The server's stderr so far (pino JSON), for failure messages. */
  serverLog(): string;
  stop(): Promise<void>;
}

/** @param opts.logLevel the server's `--log-level` (default warn; info shows the elasticity events) */
export async function startRig(kind: CloudKind, scripts: Record<string, string>, opts: { logLevel?: string } = {}): Promise<E2eRig> {
  const dir = mkdtempSync(join(tmpdir(), 'tosca-im-e2e-'));
  const undo: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) {
      try { await step(); } catch { /* every step runs */ }
    }
  };
  try {
    const lab = await createLab({ name: 'e2e' });
    undo.push(() => lab.destroy());
    const cloud = await startCloud(kind, lab);
    undo.push(() => cloud.close());
    const simSock = join(dir, 'sim.sock');
    const apiSock = join(dir, 'api.sock');
    const simRelay = await startRelay({ path: simSock }, { host: '127.0.0.1', port: cloud.port });
    undo.push(() => simRelay.close());

    const side = await startServerProcess(lab, require.resolve('./netns-side.ts'));
    undo.push(() => side.close());
    const simPort = await side.call<number>('relayTcpToUnix', simSock);

    const scriptsDir = join(dir, 'scripts');
    mkdirSync(scriptsDir);
    for (const [name, text] of Object.entries(scripts)) writeFileSync(join(scriptsDir, name), text);
    const importMap = join(dir, 'import-map.json');
    writeFileSync(importMap, JSON.stringify({ [SCRIPT_URL]: `${scriptsDir}/` }));

    const server = await startServe(lab, join(dir, 'data'), importMap, opts.logLevel ?? 'warn');
    undo.push(() => server.stop());
    await side.call('relayUnixToTcp', apiSock, server.port);
    const apiRelay = await startRelay({ host: '127.0.0.1', port: 0 }, { path: apiSock });
    undo.push(() => apiRelay.close());

    return {
      lab, cloud, side, scriptsDir, stop,
      apiUrl: `http://127.0.0.1:${apiRelay.port}`,
      cloudLine: cloud.credentialLine(simPort),
      serverLog: server.log,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface Serve { port: number; log(): string; stop(): Promise<void> }

/** `tosca-im serve` from the sources (through swc), inside the lab's server namespace. */
async function startServe(lab: Lab, dataDir: string, importMap: string, logLevel: string): Promise<Serve> {
  const args = [
    'netns', 'exec', lab.serverNs, process.execPath, '-r', join(ROOT, 'test/lab/swc-register.js'), join(ROOT, 'cli/main.ts'),
    'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--import-map', importMap, '--log-level', logLevel,
  ];
  // ip netns exec execs node: the PID is the server's
  const child: ChildProcess = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  try {
    const port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`tosca-im serve did not start in 60 s:\n${err}`)), 60_000);
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) { clearTimeout(timer); resolvePort(Number(m[1])); }
      });
      void exited.then(() => { clearTimeout(timer); reject(new Error(`tosca-im serve exited (${child.exitCode ?? child.signalCode}):\n${err}`)); });
    });
    return { port, log: () => err, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
