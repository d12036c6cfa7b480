/**
 * Loaded by a ServerProcess inside the lab's server namespace: the Configurator under test, driven
 * by the test over IPC. Log entries stream back to the test as they are written.
 */
import { existsSync } from 'node:fs';
import { Client } from 'ssh2';
import { Configurator } from '../../server/configure/configurator';
import { MemoryHostKeyStore } from '../../server/configure/keys';
import { SshRunner, type SshNode } from '../../server/configure/ssh-runner';
import type { ConfigureRequest, ConfigureResult, ContextLogEntry, VmTarget } from '../../server/configure/types';
import { emitToTest } from './ipc';

let configurator: Configurator | undefined;
const inline: Record<string, string> = {};

// log entries leave in batches, once per tick: the harness's IPC must not weigh on what the bench measures
let pending: ContextLogEntry[] = [];
function flushLogs(): void {
  if (pending.length === 0) return;
  const batch = pending;
  pending = [];
  emitToTest({ type: 'logs', entries: batch });
}
function emitLog(e: ContextLogEntry): void {
  if (pending.length === 0) setImmediate(flushLogs);
  pending.push(e);
}

export function init(opts: { workDir: string; parallelSteps?: number; stepTimeoutMs?: number; artifacts?: Record<string, string> }): void {
  Object.assign(inline, opts.artifacts ?? {});
  configurator = new Configurator({
    workDir: opts.workDir,
    parallelSteps: opts.parallelSteps,
    sshWaitTimeoutMs: 20_000,
    stepTimeoutMs: opts.stepTimeoutMs ?? 60_000,
    onLog: (e) => emitLog(e),
    artifacts: () => ({ inline, allowDownload: false }),
  });
}

/** Replaces artifact texts (e.g. a fixed script). */
export function setArtifacts(texts: Record<string, string>): void {
  Object.assign(inline, texts);
}

/** Resolves after the run's log entries went out: the test sees them before the result. */
export async function configure(req: ConfigureRequest): Promise<ConfigureResult> {
  const res = await configurator!.submit(req);
  flushLogs();
  return res;
}

/** Several requests at once (the later ones arrive while the first runs). */
export async function configureMany(reqs: ConfigureRequest[]): Promise<ConfigureResult[]> {
  const res = await Promise.all(reqs.map((r) => configurator!.submit(r)));
  flushLogs();
  return res;
}

export function cancelVm(infId: string, vmId: string): void {
  configurator!.cancelVm(infId, vmId);
}

export function runOnMaster(infId: string, command: string, opts: { master?: VmTarget } = {}) {
  return configurator!.runOnMaster(infId, command, { timeoutMs: 10_000, ...opts });
}

export function stats(infId: string) {
  return configurator!.sshStats(infId) ?? null;
}

export async function release(infId: string): Promise<void> {
  await configurator?.release(infId);
}

/** A direct SSH attempt from the server namespace, bypassing the master. */
export function directSsh(host: string, privateKey: string): Promise<{ ok: boolean; error?: string; code?: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const c = new Client();
    c.once('ready', () => { c.end(); resolve({ ok: true, ms: Date.now() - t0 }); });
    c.once('error', (e: Error & { code?: string }) => resolve({ ok: false, error: e.message, code: e.code, ms: Date.now() - t0 }));
    c.connect({ host, port: 22, username: 'root', privateKey, readyTimeout: 10_000 });
  });
}

/** Waits for a VM's SSH with a short deadline; returns the error's name and message, or 'ok'. */
export async function waitForSsh(master: SshNode, node: SshNode, waitTimeoutMs: number): Promise<{ result: string; ms: number; attempts: number }> {
  const runner = new SshRunner({ hostKeys: new MemoryHostKeyStore(), waitTimeoutMs, backoffMs: 100 });
  runner.setMaster(master);
  const t0 = Date.now();
  try {
    await runner.connect(node);
    return { result: 'ok', ms: Date.now() - t0, attempts: runner.stats.attempts };
  } catch (e) {
    return { result: `${(e as Error).name}: ${(e as Error).message}`, ms: Date.now() - t0, attempts: runner.stats.attempts };
  } finally {
    runner.close();
  }
}

/** Connects with a host key store that already holds `knownKey` for the VM; returns the error name or 'ok'. */
export async function connectWithKnownKey(master: SshNode, node: SshNode, knownKey: string): Promise<string> {
  const keys = new MemoryHostKeyStore({ [node.vmId]: knownKey });
  const runner = new SshRunner({ hostKeys: keys, waitTimeoutMs: 3000 });
  runner.setMaster(master);
  try {
    const r = await runner.exec(node, 'hostname');
    return `ok:${r.output.trim()}`;
  } catch (e) {
    return (e as Error).name;
  } finally {
    runner.close();
  }
}

/** CPU time of this process (user+system, ms): where the bench's time goes. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Whether a path exists in the server process's own filesystem view. */
export function exists(path: string): boolean {
  return existsSync(path);
}
