/**
 * Replicas on one database must share the server key (it seals the credentials every replica
 * unseals, and keys the owner ids). The first replica records a check value of its key (an HMAC,
 * which reveals nothing of the key); a replica whose key gives another value refuses to start.
 */
import { createHmac } from 'node:crypto';
import type { Store } from '../store/types';

export class KeyMismatchError extends Error {}

const SETTING = 'server-key-check';

export function keyCheckValue(key: Buffer): string {
  return `v1:${createHmac('sha256', key).update('tosca-im server key check').digest('hex').slice(0, 32)}`;
}

/** Records the key's check value, or throws KeyMismatchError when the database holds another one. */
export async function checkSharedKey(store: Store, key: Buffer): Promise<void> {
  const mine = keyCheckValue(key);
  const recorded = await store.claimSetting(SETTING, mine);
  if (recorded !== mine) {
    throw new KeyMismatchError(
      'this server key is not the one the other replicas of this database use (its check value differs): ' +
      'give every replica the same TOSCA_IM_SECRET_KEY (or the same key file)',
    );
  }
}
