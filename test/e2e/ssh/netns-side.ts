/**
 * Loaded by a ServerProcess inside the lab's server namespace (the namespace `tosca-im serve`
 * runs in): the relays that connect it to the simulator and to the test, and SSH probes that start
 * from where the server's own connections start.
 */
import { Client, type ClientChannel } from 'ssh2';
import { startRelay, type Relay } from './relay';

/** Kept referenced for the life of this process (it ends with the rig). */
const relays: Relay[] = [];

/** 127.0.0.1:PORT here → the Unix socket (e.g. the simulator's API). Returns PORT. */
export async function relayTcpToUnix(path: string): Promise<number> {
  const r = await startRelay({ host: '127.0.0.1', port: 0 }, { path });
  relays.push(r);
  return r.port;
}

/** The Unix socket → 127.0.0.1:port here (e.g. the server's REST API, for the test). */
export async function relayUnixToTcp(path: string, port: number): Promise<void> {
  relays.push(await startRelay({ path }, { host: '127.0.0.1', port }));
}

export interface SshProbe { ok: boolean; output?: string; error?: string; code?: string; ms: number }

function connect(c: Client, opts: Parameters<Client['connect']>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    c.once('ready', () => resolve());
    c.once('error', reject);
    c.connect({ readyTimeout: 10_000, ...opts });
  });
}

function exec(c: Client, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (err, stream: ClientChannel) => {
      if (err) return reject(err);
      let out = '';
      stream.on('data', (d: Buffer) => { out += d; });
      stream.stderr.on('data', (d: Buffer) => { out += d; });
      stream.on('close', () => resolve(out));
    });
  });
}

const failure = (e: unknown, t0: number): SshProbe =>
  ({ ok: false, error: (e as Error).message, code: (e as NodeJS.ErrnoException).code, ms: Date.now() - t0 });

/** SSH straight to `host` from this namespace, running `cmd`. */
export async function directSsh(host: string, username: string, privateKey: string, cmd = 'true'): Promise<SshProbe> {
  const t0 = Date.now();
  const c = new Client();
  try {
    await connect(c, { host, port: 22, username, privateKey });
    return { ok: true, output: await exec(c, cmd), ms: Date.now() - t0 };
  } catch (e) {
    return failure(e, t0);
  } finally {
    c.end();
  }
}

/** SSH to `target` through `jump` (a channel opened on the jump host's connection), running `cmd`. */
export async function jumpSsh(jump: string, target: string, username: string, privateKey: string, cmd: string): Promise<SshProbe> {
  const t0 = Date.now();
  const first = new Client();
  const second = new Client();
  try {
    await connect(first, { host: jump, port: 22, username, privateKey });
    const sock = await new Promise<ClientChannel>((resolve, reject) =>
      first.forwardOut('127.0.0.1', 0, target, 22, (err, ch) => (err ? reject(err) : resolve(ch))));
    await connect(second, { sock, username, privateKey });
    return { ok: true, output: await exec(second, cmd), ms: Date.now() - t0 };
  } catch (e) {
    return failure(e, t0);
  } finally {
    second.end();
    first.end();
  }
}
