/** SSH keys: the per-infrastructure key pair, and the host keys learned per VM (trust on first use). */
import { utils } from 'ssh2';

export interface SshKeyPair {
  /** OpenSSH private key (PEM-like "-----BEGIN OPENSSH PRIVATE KEY-----"). */
  privateKey: string;
  /** authorized_keys line. */
  publicKey: string;
}

/** An ed25519 key pair for one infrastructure; the connector injects publicKey (keypair / cloud-init). */
export function generateSshKeyPair(comment = 'tosca-im'): SshKeyPair {
  const kp = utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: kp.private, publicKey: kp.public.trim() };
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
