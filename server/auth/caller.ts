/** Authorization header → the engine's Caller. */
import type { Caller } from '../engine/service';
import { parseAuthorizationHeader } from './header';
import { ownerId } from './owner';

export function callerFromHeader(header: string | undefined, ownerKey: string | Buffer): Caller {
  const { identity, credentials } = parseAuthorizationHeader(header);
  return { owner: ownerId(ownerKey, identity), username: identity.username, credentials };
}

/**
 * Parsing the header and keying the owner is most of the CPU of a small GET (~20 µs of ~145), and a
 * client sends the same header on every request: the last few hundred distinct headers are kept.
 * Callers are frozen because they are shared between requests. Long headers (certificates) are not
 * cached, to bound the memory; failures are never cached.
 */
export class CallerCache {
  private readonly entries = new Map<string, Caller>();

  constructor(private readonly ownerKey: string | Buffer, private readonly maxEntries = 512, private readonly maxHeaderLength = 4096) {}

  get(header: string): Caller {
    const hit = this.entries.get(header);
    if (hit) return hit;
    const caller = freeze(callerFromHeader(header, this.ownerKey));
    if (header.length <= this.maxHeaderLength) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(header, caller);
    }
    return caller;
  }
}

function freeze(caller: Caller): Caller {
  for (const cred of caller.credentials) Object.freeze(Object.freeze(cred).fields);
  Object.freeze(caller.credentials);
  return Object.freeze(caller);
}
