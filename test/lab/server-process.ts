/**
 * Runs a module inside the lab's server namespace (a node child started with `ip netns exec`),
 * so that every socket the code under test opens starts from there. The test calls the module's
 * exported functions; they may stream events back with emitToTest().
 */
import { spawn, type ChildProcess } from 'node:child_process';

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void }

export class ServerProcess {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitError: Error | null = null;

  constructor(private readonly child: ChildProcess, private readonly onEvent: (ev: unknown) => void) {
    child.on('message', (m: { kind: string; id?: number; value?: unknown; error?: { name: string; message: string; stack?: string }; event?: unknown }) => {
      if (m.kind === 'event') this.onEvent(m.event);
      if (m.kind !== 'result' || m.id === undefined) return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.error) {
        const err = new Error(m.error.message);
        err.name = m.error.name;
        err.stack = m.error.stack;
        p.reject(err);
      } else p.resolve(m.value);
    });
    child.on('exit', (code, signal) => {
      this.exitError = new Error(`server process exited (${code ?? signal})`);
      for (const p of this.pending.values()) p.reject(this.exitError);
      this.pending.clear();
    });
  }

  get pid(): number { return this.child.pid!; }

  call<T = unknown>(fn: string, ...args: unknown[]): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ kind: 'call', id, fn, args });
    });
  }

  /** Ends the child (by its PID) and waits for it. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await done;
    clearTimeout(t);
  }
}

/**
 * modulePath: absolute path of a .ts (tests, loaded through swc) or .js (compiled bench) module.
 */
export function startServerProcess(lab: { serverNs: string }, modulePath: string, onEvent: (ev: unknown) => void = () => {}): Promise<ServerProcess> {
  return startNamespaceProcess(lab.serverNs, modulePath, onEvent);
}

/** The same in any namespace (the lab's router runs its WAN relay this way). */
export async function startNamespaceProcess(ns: string, modulePath: string, onEvent: (ev: unknown) => void = () => {}): Promise<ServerProcess> {
  const ts = __filename.endsWith('.ts');
  const entry = require.resolve(ts ? './server-child.ts' : './server-child.js');
  // LAB_SERVER_NODE_ARGS: extra node flags for the child (e.g. --cpu-prof), for investigations
  const extra = (process.env.LAB_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const nodeArgs = [...extra, ...(ts ? ['-r', require.resolve('./swc-register.js')] : [])];
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...nodeArgs, entry, modulePath], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const proc = new ServerProcess(child, onEvent);
  await new Promise<void>((resolve, reject) => {
    const onMsg = (m: { kind: string }) => { if (m.kind === 'ready') { cleanup(); resolve(); } };
    const onExit = (code: number | null) => { cleanup(); reject(new Error(`process in ${ns} failed to start (${code})`)); };
    const cleanup = () => { child.off('message', onMsg); child.off('exit', onExit); };
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
  return proc;
}
