/** Authorization header → the engine's Caller. */
import type { Caller } from '../engine/service';
import { UnauthorizedError } from '../errors';
import { parseAuthorizationHeader, type ImIdentity, type ParsedAuthorization } from './header';
import { NO_ISSUER, OPENID_USER_PREFIX, type TokenVerifier } from './oidc';
import { ownerId } from './owner';

export interface CallerOptions {
  /** Keys the owner ids (ownerKeyFrom of the server key). */
  ownerKey: string | Buffer;
  /** Checks tokens; without one every token is refused (no trusted issuer). */
  tokens?: TokenVerifier;
  /** Owner ids of the admins among password users (--admin-users). */
  adminOwners?: ReadonlySet<string>;
}

/** A password user's Caller; a token line needs the verifier (CallerResolver). */
export function callerFromHeader(header: string | undefined, ownerKey: string | Buffer): Caller {
  const { identity, credentials } = parseAuthorizationHeader(header);
  if (identity.kind !== 'password') throw new UnauthorizedError('An OIDC token must be checked against its issuer');
  return passwordCaller(identity, credentials, { ownerKey });
}

function passwordCaller(identity: Extract<ImIdentity, { kind: 'password' }>, credentials: Caller['credentials'], opts: CallerOptions): Caller {
  // IM: OIDC people are stored as "__OPENID__name"; a password may not pass for one of them.
  if (identity.username.startsWith(OPENID_USER_PREFIX)) throw new UnauthorizedError('Invalid username used for the InfrastructureManager.');
  const owner = ownerId(opts.ownerKey, { kind: 'password', username: identity.username, password: identity.password });
  return { owner, username: identity.username, credentials, admin: opts.adminOwners?.has(owner) ?? false };
}

/**
 * Resolves the caller of each request. Parsing the header and keying the owner is most of the CPU
 * of a small GET, and a client sends the same header on every request: the last few hundred
 * distinct headers are kept with their Caller — a token user's only as long as the verifier's
 * answer holds (min(exp, 5 min)), so polling /state costs one map lookup, not a call to the issuer.
 * Callers are frozen because they are shared between requests. Long headers (certificates) are not
 * cached, to bound the memory; failures are never kept here (the verifier keeps refusals briefly).
 * The display name of a token user comes from the verified token, never from the header.
 */
export class CallerResolver {
  private readonly entries = new Map<string, { caller: Caller; until: number }>();

  constructor(private readonly opts: CallerOptions, private readonly maxEntries = 512, private readonly maxHeaderLength = 8192) {}

  async get(header: string): Promise<Caller> {
    const hit = this.entries.get(header);
    if (hit && hit.until > Date.now()) return hit.caller;
    const { caller, until } = await this.resolve(parseAuthorizationHeader(header));
    if (header.length <= this.maxHeaderLength) {
      this.entries.delete(header);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(header, { caller: freeze(caller), until });
    }
    return caller;
  }

  private async resolve({ identity, credentials }: ParsedAuthorization): Promise<{ caller: Caller; until: number }> {
    if (identity.kind === 'password') return { caller: passwordCaller(identity, credentials, this.opts), until: Infinity };
    if (!this.opts.tokens) throw new UnauthorizedError(NO_ISSUER);
    const person = await this.opts.tokens.verify(identity.token);
    const owner = ownerId(this.opts.ownerKey, { kind: 'oidc', issuer: person.issuer, sub: person.sub });
    return { caller: { owner, username: person.username, credentials, admin: person.admin }, until: person.until };
  }
}

function freeze(caller: Caller): Caller {
  for (const cred of caller.credentials) Object.freeze(Object.freeze(cred).fields);
  Object.freeze(caller.credentials);
  return Object.freeze(caller);
}
