/**
 * The trusted issuers' metadata (`/.well-known/openid-configuration`) and signing keys (JWKS).
 * Metadata is kept for an hour; a failed discovery is remembered for a few seconds so that a down
 * issuer is not asked again by every request. jose's remote JWK set keeps the keys, and refetches
 * them when a token names an unknown `kid` — at most once per cooldown, so forged kids cannot make
 * us hammer the issuer.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { IssuerUnavailableError } from '../../errors';
import { ISSUER_TIMEOUT_MS, issuerJson } from './http';
import { normalIssuer } from './options';

export interface IssuerMetadata {
  issuer: string;
  jwks_uri?: string;
  userinfo_endpoint?: string;
  introspection_endpoint?: string;
}

export interface Issuer {
  /** As the operator wrote it, without a trailing slash. */
  url: string;
  metadata: IssuerMetadata;
  keys: JWTVerifyGetKey;
}

const METADATA_TTL_MS = 60 * 60_000;
const FAILURE_TTL_MS = 5_000;
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;

type Slot = { issuer: Issuer; until: number } | { error: IssuerUnavailableError; until: number };

export class IssuerDirectory {
  private readonly slots = new Map<string, Slot>();
  private readonly pending = new Map<string, Promise<Issuer>>();

  constructor(private readonly trusted: string[], private readonly now: () => number = Date.now) {}

  /** The trusted issuer this `iss` names (one trailing slash ignored), or undefined. */
  trustedUrl(iss: string): string | undefined {
    const want = normalIssuer(iss);
    return this.trusted.map(normalIssuer).find((u) => u === want);
  }

  list(): string[] {
    return this.trusted.map(normalIssuer);
  }

  async get(url: string): Promise<Issuer> {
    const slot = this.slots.get(url);
    if (slot && slot.until > this.now()) {
      if ('error' in slot) throw slot.error;
      return slot.issuer;
    }
    let p = this.pending.get(url);
    if (!p) {
      p = this.discover(url).then(
        (issuer) => { this.slots.set(url, { issuer, until: this.now() + METADATA_TTL_MS }); return issuer; },
        (err: unknown) => {
          if (err instanceof IssuerUnavailableError) this.slots.set(url, { error: err, until: this.now() + FAILURE_TTL_MS });
          throw err;
        },
      ).finally(() => this.pending.delete(url));
      this.pending.set(url, p);
    }
    return p;
  }

  private async discover(url: string): Promise<Issuer> {
    const where = `${url}/.well-known/openid-configuration`;
    const { status, body } = await issuerJson(where, {}, 'the OIDC issuer');
    const md = body as IssuerMetadata | undefined;
    if (status !== 200 || !md || typeof md.issuer !== 'string') {
      throw new IssuerUnavailableError(`Cannot check the OIDC token: the OIDC issuer ${url} gave no usable discovery document (HTTP ${status}); try again later.`);
    }
    // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
    if (normalIssuer(md.issuer) !== url) {
      throw new IssuerUnavailableError(`Cannot check the OIDC token: the discovery document of ${url} names another issuer (${md.issuer}); fix --oidc-issuers.`);
    }
    // jwks_uri is REQUIRED in OpenID Connect Discovery: without keys no JWT of this issuer can be checked.
    if (typeof md.jwks_uri !== 'string' || !URL.canParse(md.jwks_uri)) {
      throw new IssuerUnavailableError(`Cannot check the OIDC token: the OIDC issuer ${url} publishes no usable jwks_uri in its discovery document.`);
    }
    const keys = createRemoteJWKSet(new URL(md.jwks_uri), { timeoutDuration: ISSUER_TIMEOUT_MS, cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_MAX_AGE_MS });
    return { url, metadata: md, keys };
  }
}
