/**
 * SSH to the VMs of one infrastructure with ssh2. A VM with a public IP is reached directly; every
 * other VM through the master: one SSH connection to the master, and for each private VM a
 * direct-tcpip channel (forwardOut) over it carrying that VM's own SSH session. Connections are
 * opened once and reused by every step; host keys are trusted on first use per VM id.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, utils, type ClientChannel, type ParsedKey, type PublicKeyAuthMethod, type SFTPWrapper } from 'ssh2';
import { ConfigureError, HostKeyMismatchError, SshUnreachableError, StepCancelledError, StepTimeoutError } from './errors';
import { hostKeyLine, type HostKeyStore } from './keys';

export interface SshNode {
  vmId: string;
  privateIp: string;
  publicIp?: string;
  ssh: { user: string; privateKey: string; port?: number };
}

export interface SshRunnerOptions {
  hostKeys: HostKeyStore;
  /** How long to keep trying to reach a VM's sshd (it may still be booting). Default 300 s. */
  waitTimeoutMs?: number;
  /** SSH handshake timeout of one attempt. Default 20 s. */
  handshakeTimeoutMs?: number;
  /** First retry delay; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes of combined stdout/stderr kept (the tail). Default 16 KiB. */
  keepBytes?: number;
}
export interface ExecResult {
  exitCode: number;
  signal?: string;
  /** Tail of the combined stdout and stderr. */
  output: string;
}

export interface SshStats {
  /** SSH connections established (direct + through the master). */
  opened: number;
  direct: number;
  jumped: number;
  /** Connection attempts, failed ones included. */
  attempts: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Keeps the last `limit` bytes written to it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - this.chunks[0].length >= this.limit) this.size -= this.chunks.shift()!.length;
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** The TCP connection to a directly reached VM, with Nagle off from the first packet. */
function directSocket(host: string, port: number): Socket {
  const sock = tcpConnect({ host, port });
  // SSH here is small request/answer packets: Nagle + delayed ACKs would add ~40 ms to each step
  sock.setNoDelay(true);
  return sock;
}

export class SshRunner {
  readonly stats: SshStats = { opened: 0, direct: 0, jumped: 0, attempts: 0 };
  private master?: SshNode;
  private readonly conns = new Map<string, Promise<Client>>();
  private readonly sftps = new WeakMap<Client, Promise<SFTPWrapper>>();
  private readonly madeDirs = new WeakMap<Client, Set<string>>();
  private closed = false;
  /** Parsed once: ssh2 would parse the key text again for every connection. */
  private readonly keys = new Map<string, ParsedKey>();

  constructor(private readonly opts: SshRunnerOptions) {}

  private parsedKey(text: string): ParsedKey {
    const known = this.keys.get(text);
    if (known) return known;
    const parsed = utils.parseKey(text);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key instanceof Error || !key) throw new ConfigureError(`cannot use the SSH private key: ${key instanceof Error ? key.message : 'empty'}`);
    this.keys.set(text, key);
    return key;
  }

  /** The jump host for every VM without a public IP. */
  setMaster(node: SshNode): void {
    if (!node.publicIp) throw new Error(`master VM ${node.vmId} has no public IP`);
    this.master = node;
  }

  getMaster(): SshNode | undefined {
    return this.master;
  }

  /** Address this runner uses for a VM (public if it has one; private through the master otherwise). */
  addressOf(node: SshNode): string {
    return node.publicIp ?? node.privateIp;
  }

  /** The VM's SSH connection, opened (waiting for sshd) on first use and shared afterwards. */
  connect(node: SshNode, signal?: AbortSignal): Promise<Client> {
    if (this.closed) return Promise.reject(new Error('ssh runner closed'));
    let p = this.conns.get(node.vmId);
    if (!p) {
      p = this.waitAndOpen(node, signal);
      this.conns.set(node.vmId, p);
      p.catch(() => { if (this.conns.get(node.vmId) === p) this.conns.delete(node.vmId); });
    }
    return p;
  }

  private async waitAndOpen(node: SshNode, signal?: AbortSignal): Promise<Client> {
    this.parsedKey(node.ssh.privateKey); // a key that cannot be used fails now, not after the wait
    const deadline = Date.now() + (this.opts.waitTimeoutMs ?? 300_000);
    let delay = this.opts.backoffMs ?? 250;
    for (;;) {
      if (signal?.aborted) throw new StepCancelledError(`VM ${node.vmId}: cancelled while waiting for SSH`);
      try {
        return await this.openOnce(node, signal);
      } catch (err) {
        if (err instanceof HostKeyMismatchError || err instanceof StepCancelledError) throw err;
        const msg = (err as Error).message;
        // the master already waited its full time: no point in waiting as long again behind it
        if (err instanceof SshUnreachableError && err.vmId !== node.vmId) throw new SshUnreachableError(node.vmId, this.addressOf(node), `through the master: ${msg}`);
        if (Date.now() + delay > deadline) throw new SshUnreachableError(node.vmId, this.addressOf(node), msg);
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.opts.maxBackoffMs ?? 5000);
      }
    }
  }

  private async openOnce(node: SshNode, signal?: AbortSignal): Promise<Client> {
    this.stats.attempts++;
    const viaMaster = !node.publicIp;
    let sock: Duplex | undefined;
    if (viaMaster) {
      if (!this.master) throw new Error(`VM ${node.vmId} has no public IP and no master is set`);
      // not this VM's signal: the master's connection is shared by every VM
      const master = await this.connect(this.master);
      // the master's TCP connect to a VM still booting can hang for minutes: bound it like a handshake
      sock = await new Promise<ClientChannel>((resolve, reject) => {
        let timedOut = false;
        const t = setTimeout(() => { timedOut = true; reject(new Error(`through master: no answer from ${node.privateIp}`)); }, this.opts.handshakeTimeoutMs ?? 20_000);
        master.forwardOut('127.0.0.1', 0, node.privateIp, node.ssh.port ?? 22, (err, ch) => {
          clearTimeout(t);
          if (timedOut) ch?.close(); // answered after we gave up: do not leak the channel
          else if (err) reject(new Error(`through master: ${err.message}`));
          else resolve(ch);
        });
      });
    }
    const address = this.addressOf(node);
    const known = this.opts.hostKeys.get(node.vmId);
    let mismatch = false;
    let seen: string | undefined;
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => client.end();
      signal?.addEventListener('abort', onAbort, { once: true });
      client.once('ready', () => { signal?.removeEventListener('abort', onAbort); resolve(); });
      client.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        client.end();
        reject(mismatch ? new HostKeyMismatchError(node.vmId, address) : signal?.aborted ? new StepCancelledError(`VM ${node.vmId}: cancelled`) : err);
      });
      client.once('close', () => reject(new Error('connection closed during handshake')));
      client.connect({
        sock: sock ?? directSocket(address, node.ssh.port ?? 22),
        username: node.ssh.user,
        authHandler: [{ type: 'publickey', username: node.ssh.user, key: this.parsedKey(node.ssh.privateKey) } as PublicKeyAuthMethod],
        readyTimeout: this.opts.handshakeTimeoutMs ?? 20_000,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        hostVerifier: (key: Buffer) => {
          seen = hostKeyLine(key);
          if (known && known !== seen) { mismatch = true; return false; }
          return true;
        },
      });
    });
    if (!known && seen) this.opts.hostKeys.set(node.vmId, seen);
    this.stats.opened++;
    if (viaMaster) this.stats.jumped++; else this.stats.direct++;
    client.on('error', () => { /* reported by the operation that was using it; 'close' follows */ });
    client.once('close', () => {
      const cur = this.conns.get(node.vmId);
      if (cur) cur.then((c) => { if (c === client) this.conns.delete(node.vmId); }, () => {});
    });
    return client;
  }

  /** Runs a command; resolves with its exit code and output tail (a non-zero exit is not an error). */
  async exec(node: SshNode, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const client = await this.connect(node, opts.signal);
    const tail = new TailBuffer(opts.keepBytes ?? 16 * 1024);
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(command, (err, stream) => {
        if (err) return reject(new Error(`VM ${node.vmId}: cannot start command: ${err.message}`));
        let exitCode = -1;
        let exitSignal: string | undefined;
        let failure: Error | undefined;
        const stop = (e: Error) => {
          failure = e;
          try { stream.signal('KILL'); } catch { /* channel gone */ }
          stream.close();
        };
        const timer = opts.timeoutMs ? setTimeout(() => stop(new StepTimeoutError(`VM ${node.vmId}: step timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs) : undefined;
        const onAbort = () => stop(new StepCancelledError(`VM ${node.vmId}: step cancelled`));
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        // cancelled while the channel was opening: the listener above would never fire
        if (opts.signal?.aborted) onAbort();
        stream.on('data', (d: Buffer) => tail.push(d));
        stream.stderr.on('data', (d: Buffer) => tail.push(d));
        stream.on('exit', (code: number | null, sig?: string) => { exitCode = code ?? -1; exitSignal = sig; });
        stream.on('close', () => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          if (failure) reject(Object.assign(failure, { output: tail.toString() }));
          else resolve({ exitCode, signal: exitSignal, output: tail.toString() });
        });
      });
    });
  }

  /** Writes a file over SFTP (path relative to the login's home), creating its directory. */
  async writeFile(node: SshNode, path: string, content: string | Buffer, mode = 0o644, signal?: AbortSignal): Promise<void> {
    const client = await this.connect(node, signal);
    const sftp = await this.sftp(client);
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (dir) await this.mkdirs(client, sftp, dir);
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(path, content, { mode }, (err) => (err ? reject(new Error(`VM ${node.vmId}: sftp write ${path}: ${err.message}`)) : resolve())));
  }

  private sftp(client: Client): Promise<SFTPWrapper> {
    let p = this.sftps.get(client);
    if (!p) {
      p = new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
      this.sftps.set(client, p);
      p.catch(() => this.sftps.delete(client));
    }
    return p;
  }

  private async mkdirs(client: Client, sftp: SFTPWrapper, dir: string): Promise<void> {
    let made = this.madeDirs.get(client);
    if (!made) this.madeDirs.set(client, (made = new Set()));
    if (made.has(dir)) return;
    const parts = dir.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      if (!sub || made.has(sub)) continue;
      // an existing directory is a failure we ignore; a real problem shows at writeFile
      await new Promise<void>((resolve) => sftp.mkdir(sub, { mode: 0o700 }, () => resolve()));
      made.add(sub);
    }
  }

  /** Closes a VM's connection (the next use reconnects). */
  disconnect(vmId: string): void {
    const p = this.conns.get(vmId);
    this.conns.delete(vmId);
    p?.then((c) => c.end(), () => {});
  }

  /** The VM is gone: close its connection and forget its host key (a new VM may reuse the IP). */
  forget(vmId: string): void {
    this.disconnect(vmId);
    this.opts.hostKeys.forget(vmId);
  }

  openConnections(): number {
    return this.conns.size;
  }

  close(): void {
    this.closed = true;
    // private VMs first: their sessions ride on the master's connection
    const ids = [...this.conns.keys()].sort((a, b) => (a === this.master?.vmId ? 1 : b === this.master?.vmId ? -1 : 0));
    for (const id of ids) this.disconnect(id);
  }
}
