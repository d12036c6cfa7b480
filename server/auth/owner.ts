/**
 * The owner of an infrastructure is a keyed hash of the InfrastructureManager line, so the store
 * never holds the IM password or token, and two servers with different keys never share owners.
 */
import { createHmac } from 'node:crypto';
import type { ImIdentity } from './header';

export function ownerId(secretKey: string | Buffer, identity: ImIdentity): string {
  const mac = createHmac('sha256', secretKey);
  // A 0-byte separator keeps ("ab","c") and ("a","bc") apart.
  if (identity.kind === 'token') mac.update(`token\0${identity.token}`);
  else mac.update(`password\0${identity.username}\0${identity.password}`);
  return mac.digest('base64url');
}

/** The owner-id key is derived from the server key, so the sealing key is never used as a MAC key too. */
export function ownerKeyFrom(serverKey: string | Buffer): Buffer {
  return createHmac('sha256', serverKey).update('tosca-im owner id v1').digest();
}
