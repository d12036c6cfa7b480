/** SSH keys: the per-infrastructure key pair, and the host keys learned per VM (trust on first use). */
import { utils } from 'ssh2';

export interface SshKeyPair {
  /** OpenSSH private key (PEM-like "-----BEGIN OPENSSH PRIVATE KEY-----"). */
  privateKey: string;
  /** authorized_keys line. */
  publicKey: string;
}

/**
 * An ed25519 key pair for one infrastructure; the connector injects publicKey (keypair / cloud-init).
 * ssh2 (1.17) writes a malformed key when the public key starts with a zero byte (it drops that byte:
 * a 31-byte key that neither ssh2 nor sshd accepts), i.e. for 1 key in 256. Such a pair is discarded
 * and drawn again, so no infrastructure is ever given a key its VMs cannot be reached with.
 */
export function generateSshKeyPair(comment = 'tosca-im'): SshKeyPair {
  for (;;) {
    const kp = utils.generateKeyPairSync('ed25519', { comment });
    if (isUsableEd25519(kp.private, kp.public)) return { privateKey: kp.private, publicKey: kp.public.trim() };
  }
}

/**
 * A few key pairs made ahead of time, so a create does not pay for key generation on the request path:
 * take() hands out a pooled pair (each pair once: it leaves the pool) and starts refilling in the
 * background — one pair at a time with the asynchronous generator (the libuv thread pool), the guard
 * above applied to every pair; at most `size` pairs are kept. An empty pool (a burst) falls back to
 * generateSshKeyPair, so take() never waits.
 */
export class SshKeyPool {
  private readonly pairs: SshKeyPair[] = [];
  private filling: Promise<void> | undefined;

  constructor(private readonly size = 8, private readonly comment = 'tosca-im') {}

  take(): SshKeyPair {
    const pair = this.pairs.shift() ?? generateSshKeyPair(this.comment);
    this.fill();
    return pair;
  }

  /** Pairs ready now (for tests and metrics). */
  get ready(): number {
    return this.pairs.length;
  }

  /** Starts filling (idempotent: one filler at a time); resolves when the pool is full. */
  fill(): Promise<void> {
    if (this.filling) return this.filling;
    if (this.pairs.length >= this.size) return Promise.resolve();
    this.filling = new Promise((resolve) => {
      const next = (): void => {
        if (this.pairs.length >= this.size) {
          this.filling = undefined;
          resolve();
          return;
        }
        utils.generateKeyPair('ed25519', { comment: this.comment }, (err, kp) => {
          // A failed or unusable draw is simply drawn again (the 1-in-256 defect described above).
          if (!err && isUsableEd25519(kp.private, kp.public)) this.pairs.push({ privateKey: kp.private, publicKey: kp.public.trim() });
          next();
        });
      };
      next();
    });
    return this.filling;
  }
}

const defaultPool = new SshKeyPool();

/** The per-infrastructure key pair for a create: from the shared pool (see SshKeyPool). */
export function takeSshKeyPair(): SshKeyPair {
  return defaultPool.take();
}

const ED25519_PUBLIC_BYTES = 32;

/** Both halves parse, and the public key is a whole ed25519 key (not one shortened by a dropped zero byte). */
function isUsableEd25519(privateKey: string, publicKey: string): boolean {
  const priv = utils.parseKey(privateKey);
  const pub = utils.parseKey(publicKey);
  if (priv instanceof Error || pub instanceof Error || Array.isArray(priv) || Array.isArray(pub)) return false;
  // SSH wire format: string "ssh-ed25519", then string key (uint32 length + bytes)
  const blob = pub.getPublicSSH();
  const typeLen = blob.readUInt32BE(0);
  return blob.readUInt32BE(4 + typeLen) === ED25519_PUBLIC_BYTES && priv.getPublicSSH().equals(blob);
}

/** "ssh-ed25519 AAAA..." from the raw SSH key blob the server presented. */
export function hostKeyLine(blob: Buffer): string {
  const typeLen = blob.readUInt32BE(0);
  return `${blob.subarray(4, 4 + typeLen).toString('latin1')} ${blob.toString('base64')}`;
}

/**
 * Host keys by VM id, not by address: a VM removed and a new one given the same IP must not clash,
 * and a VM whose key changes under the same id is refused.
 */
export interface HostKeyStore {
  get(vmId: string): string | undefined;
  set(vmId: string, keyLine: string): void;
  forget(vmId: string): void;
}

export class MemoryHostKeyStore implements HostKeyStore {
  private readonly keys = new Map<string, string>();
  /** onChange: lets the engine persist the keys (e.g. next to the VM record). */
  constructor(initial: Record<string, string> = {}, private readonly onChange?: (vmId: string, key: string | undefined) => void) {
    for (const [k, v] of Object.entries(initial)) this.keys.set(k, v);
  }
  get(vmId: string): string | undefined {
    return this.keys.get(vmId);
  }
  set(vmId: string, keyLine: string): void {
    this.keys.set(vmId, keyLine);
    this.onChange?.(vmId, keyLine);
  }
  forget(vmId: string): void {
    if (this.keys.delete(vmId)) this.onChange?.(vmId, undefined);
  }
  entries(): [string, string][] {
    return [...this.keys.entries()];
  }
}
