/**
 * The owner of an infrastructure is a keyed hash of who the caller is, so the store never holds the
 * IM password or token, and two servers with different keys never share owners. A password user is
 * their user name and password; an OIDC person is issuer + sub (IM's "password" for them), so every
 * refreshed token of the same person is the same owner.
 */
import { createHmac } from 'node:crypto';

export type Person =
  | { kind: 'password'; username: string; password: string }
  | { kind: 'oidc'; issuer: string; sub: string };

export function ownerId(secretKey: string | Buffer, person: Person): string {
  const mac = createHmac('sha256', secretKey);
  // A 0-byte separator keeps ("ab","c") and ("a","bc") apart.
  if (person.kind === 'oidc') mac.update(`oidc\0${person.issuer}\0${person.sub}`);
  else mac.update(`password\0${person.username}\0${person.password}`);
  return mac.digest('base64url');
}

/** The owner-id key is derived from the server key, so the sealing key is never used as a MAC key too. */
export function ownerKeyFrom(serverKey: string | Buffer): Buffer {
  return createHmac('sha256', serverKey).update('tosca-im owner id v1').digest();
}
