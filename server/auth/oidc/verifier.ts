/**
 * An OIDC access token → the person it stands for, checked as IM's check_oidc_token does: the
 * issuer must be trusted, the JWT signature must verify against the issuer's keys, exp/nbf hold (a
 * few seconds of clock skew), the audience matches, the scopes (introspection) and groups are there.
 * The person is issuer + sub. Userinfo is asked when the token does not say enough by itself: a
 * token that is not a JWT, or groups that are needed but not in the token.
 *
 * Answers are kept by SHA-256 of the token — good ones until min(exp, 5 min), refusals for a few
 * seconds — so a client polling /state does not call the issuer each time, and the token itself is
 * never kept. An issuer that cannot be reached gives IssuerUnavailableError (503), never a 401.
 */
import { createHash } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { IssuerUnavailableError, UnauthorizedError } from '../../errors';
import { issuerJson, unreachable } from './http';
import { IssuerDirectory, type Issuer } from './issuers';
import type { OidcOptions } from './options';

/** A person vouched for by a trusted issuer. */
export interface OidcPerson {
  /** The trusted issuer URL, without a trailing slash. */
  issuer: string;
  sub: string;
  /** To show (GET .../authorization): IM's "__OPENID__" + preferred_username, name or sub. */
  username: string;
  groups: string[];
  admin: boolean;
  /** Epoch ms until which this answer may be reused. */
  until: number;
}

/** IM's prefix for the user names of OIDC people; a password user may not use it. */
export const OPENID_USER_PREFIX = '__OPENID__';

const INVALID = 'Invalid InfrastructureManager credentials.';
/** The 401 for a token when the operator trusts no issuer: it says how to trust one. */
export const NO_ISSUER = `${INVALID} This server trusts no OIDC issuer: its operator must start it with --oidc-issuers URL[,URL...] (or TOSCA_IM_OIDC_ISSUERS) to accept tokens.`;
const GOOD_TTL_MS = 5 * 60_000;
const REFUSAL_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;
const DEFAULT_SKEW_S = 5;

type Entry = { person: OidcPerson } | { refusal: UnauthorizedError; until: number };

export class TokenVerifier {
  private readonly issuers: IssuerDirectory;
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<OidcPerson>>();

  constructor(private readonly opts: OidcOptions, private readonly now: () => number = Date.now) {
    this.issuers = new IssuerDirectory(opts.issuers, now);
  }

  async verify(token: string): Promise<OidcPerson> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(key);
    if (hit) {
      if ('person' in hit && hit.person.until > this.now()) return hit.person;
      if ('refusal' in hit && hit.until > this.now()) throw hit.refusal;
      this.cache.delete(key);
    }
    let p = this.pending.get(key);
    if (!p) {
      p = this.check(token).then(
        (person) => { this.remember(key, { person }); return person; },
        (err: unknown) => {
          if (err instanceof UnauthorizedError) this.remember(key, { refusal: err, until: this.now() + REFUSAL_TTL_MS });
          throw err;
        },
      ).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  private remember(key: string, entry: Entry): void {
    if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, entry);
  }

  private async check(token: string): Promise<OidcPerson> {
    if (this.issuers.list().length === 0) {
      throw new UnauthorizedError(NO_ISSUER);
    }
    const jwt = decodeOrUndefined(token);
    const { issuer, claims } = jwt ? await this.checkJwt(token, jwt) : await this.checkOpaque(token);
    if (this.opts.scopes.length > 0 && this.opts.clientId && this.opts.clientSecret) await this.introspect(token, issuer);
    const sub = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined;
    if (!sub) throw new UnauthorizedError(`${INVALID} The token names no subject (sub).`);
    let groups = groupsIn(claims, this.opts.groupsClaim);
    let profile: Record<string, unknown> = claims;
    if (groups === undefined && (this.opts.groups.length > 0 || this.opts.adminGroups.length > 0)) {
      profile = jwt ? await this.userinfo(token, issuer, sub) : claims;
      groups = groupsIn(profile, this.opts.groupsClaim);
    }
    const mine = groups ?? [];
    const missing = this.opts.groups.filter((g) => !mine.includes(g));
    if (missing.length > 0) throw new UnauthorizedError(`${INVALID} The user is not in the required group(s): ${missing.join(', ')}.`);
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity;
    return {
      issuer: issuer.url,
      sub,
      username: OPENID_USER_PREFIX + String(profile.preferred_username ?? profile.name ?? claims.preferred_username ?? sub),
      groups: mine,
      admin: this.opts.adminGroups.some((g) => mine.includes(g)),
      until: Math.min(exp, this.now() + GOOD_TTL_MS),
    };
  }

  private async checkJwt(token: string, decoded: JWTPayload): Promise<{ issuer: Issuer; claims: JWTPayload }> {
    const url = typeof decoded.iss === 'string' ? this.issuers.trustedUrl(decoded.iss) : undefined;
    if (!url) throw new UnauthorizedError(`${INVALID} Issuer not accepted.`);
    const issuer = await this.issuers.get(url);
    try {
      const { payload } = await jwtVerify(token, issuer.keys, {
        clockTolerance: this.opts.clockSkewSeconds ?? DEFAULT_SKEW_S,
        audience: this.opts.audience,
        requiredClaims: ['exp'],
      });
      return { issuer, claims: payload };
    } catch (err) {
      throw jwtRefusal(err, issuer.url);
    }
  }

  /** Not a JWT: the first trusted issuer whose userinfo accepts it vouches for it. */
  private async checkOpaque(token: string): Promise<{ issuer: Issuer; claims: JWTPayload }> {
    // Only a JWT shows its audience (without introspection, which IM does not use for that).
    if (this.opts.audience) throw new UnauthorizedError(`${INVALID} Audience not accepted (the token is not a JWT).`);
    let down: IssuerUnavailableError | undefined;
    for (const url of this.issuers.list()) {
      try {
        const issuer = await this.issuers.get(url);
        return { issuer, claims: await this.userinfo(token, issuer, undefined) };
      } catch (err) {
        if (err instanceof IssuerUnavailableError) down = err;
        else if (!(err instanceof UnauthorizedError)) throw err;
      }
    }
    if (down) throw down;
    throw new UnauthorizedError(`${INVALID} The token is not a JWT and no trusted issuer accepts it.`);
  }

  private async userinfo(token: string, issuer: Issuer, sub: string | undefined): Promise<Record<string, unknown>> {
    const endpoint = issuer.metadata.userinfo_endpoint ?? `${issuer.url}/userinfo`;
    const { status, body } = await issuerJson(endpoint, { headers: { authorization: `Bearer ${token}` } }, 'the OIDC userinfo endpoint');
    if (status >= 500) throw unreachable(endpoint, 'the OIDC userinfo endpoint', { message: `HTTP ${status}` });
    const info = body as Record<string, unknown> | undefined;
    if (status !== 200 || !info || typeof info !== 'object') throw new UnauthorizedError(`${INVALID} The issuer's userinfo refused the token (HTTP ${status}).`);
    // OpenID Connect Core §5.3.2: the userinfo sub must be the token's.
    if (sub !== undefined && info.sub !== sub) throw new UnauthorizedError(`${INVALID} The issuer's userinfo names another subject.`);
    return info;
  }

  private async introspect(token: string, issuer: Issuer): Promise<void> {
    const endpoint = issuer.metadata.introspection_endpoint ?? `${issuer.url}/introspect`;
    const basic = Buffer.from(`${encodeURIComponent(this.opts.clientId!)}:${encodeURIComponent(this.opts.clientSecret!)}`).toString('base64');
    const { status, body } = await issuerJson(endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    }, 'the OIDC introspection endpoint');
    if (status >= 500) throw unreachable(endpoint, 'the OIDC introspection endpoint', { message: `HTTP ${status}` });
    const res = body as { active?: boolean; scope?: string } | undefined;
    if (status !== 200 || !res || res.active !== true) throw new UnauthorizedError(`${INVALID} Invalid token or Client credentials.`);
    if (!res.scope) throw new UnauthorizedError(`${INVALID} No scope obtained from introspection.`);
    const have = res.scope.split(' ');
    if (!this.opts.scopes.every((s) => have.includes(s))) {
      throw new UnauthorizedError(`${INVALID} Scopes ${this.opts.scopes.join(' ')} not in introspection scopes: ${res.scope}`);
    }
  }
}

function decodeOrUndefined(token: string): JWTPayload | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

function groupsIn(claims: Record<string, unknown>, claim: string): string[] | undefined {
  const v = claims[claim];
  if (Array.isArray(v)) return v.filter((g): g is string => typeof g === 'string');
  if (typeof v === 'string') return v.split(/[ ,]+/).filter(Boolean);
  return undefined;
}

/** jose's verdicts in IM's words; a key set that cannot be fetched is the issuer being down. */
function jwtRefusal(err: unknown, issuer: string): Error {
  if (err instanceof joseErrors.JWTExpired) return new UnauthorizedError(`${INVALID} OIDC auth Token expired.`);
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return new UnauthorizedError(`${INVALID} Audience not accepted.`);
    if (err.claim === 'nbf') return new UnauthorizedError(`${INVALID} OIDC auth Token not valid yet.`);
    return new UnauthorizedError(`${INVALID} The token's "${err.claim}" claim is not valid.`);
  }
  if (err instanceof joseErrors.JWKSTimeout) return unreachable(issuer, 'the OIDC issuer\'s key set', { name: 'TimeoutError' });
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed ||
      err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return new UnauthorizedError(`${INVALID} Invalid token signature.`);
  }
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JOSENotSupported) {
    return new UnauthorizedError(`${INVALID} Malformed token.`);
  }
  // Anything else (connection refused, a key set that is not JSON...) is the issuer not answering well.
  return unreachable(issuer, 'the OIDC issuer\'s key set', err);
}
