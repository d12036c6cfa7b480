/** The per-infrastructure SSH key pair the VMs are launched with (OpenSSH formats). */
import { utils } from 'ssh2';

export function generateSshKeyPair(): { publicKey: string; privateKey: string } {
  const pair = utils.generateKeyPairSync('ed25519', { comment: 'tosca-im' });
  return { publicKey: pair.public.trim(), privateKey: pair.private };
}
