/**
 * Dashboard sign-in with OpenID Connect: authorization code + PKCE (S256) with openid-client,
 * against the issuers of `--oidc-issuers`. The client is registered at the provider by the
 * operator (TOSCA_IM_DASHBOARD_CLIENT_ID, optional TOSCA_IM_DASHBOARD_CLIENT_SECRET; without a
 * secret it is a public client). The person is keyed by issuer + subject, never by a token.
 */
import { createRequire } from 'node:module';
import type * as OidcClient from 'openid-client';

export interface OidcClientOptions {
  issuers: string[];
  clientId: string;
  clientSecret?: string;
}

export interface OidcStart { url: string; verifier: string; state: string; nonce: string }
export interface OidcPerson { issuer: string; subject: string; name: string }

export class OidcSignInError extends Error {}

/**
 * openid-client is ESM-only; Node ≥ 20.19 loads it with require(). Jest's module registry cannot
 * (and it replaces node:module's createRequire), so it is loaded through Node's own loader, taken
 * with process.getBuiltinModule, and only when someone signs in with OIDC.
 */
let lib: typeof OidcClient | undefined;
function client(): typeof OidcClient {
  const nodeModule = process.getBuiltinModule?.('node:module') as typeof import('node:module') | undefined;
  lib ??= (nodeModule ?? { createRequire })!.createRequire(__filename)('openid-client') as typeof OidcClient;
  return lib;
}

export class OidcSignIn {
  private readonly configs = new Map<string, Promise<OidcClient.Configuration>>();

  constructor(private readonly opts: OidcClientOptions) {}

  get issuers(): string[] { return this.opts.issuers; }

  /** The provider's authorization URL for a new sign-in, and what the callback must check. */
  async start(issuer: string, redirectUri: string): Promise<OidcStart> {
    const c = client();
    const config = await this.config(issuer);
    const verifier = c.randomPKCECodeVerifier();
    const state = c.randomState();
    const nonce = c.randomNonce();
    const url = c.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: 'openid profile email', state, nonce,
      code_challenge: await c.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    return { url: url.href, verifier, state, nonce };
  }

  /** Exchanges the code (PKCE verifier, state and nonce checked) and reads who signed in. */
  async finish(issuer: string, callbackUrl: URL, pending: { verifier: string; state: string; nonce: string }): Promise<OidcPerson> {
    const c = client();
    const config = await this.config(issuer);
    try {
      const tokens = await c.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new OidcSignInError('the provider returned no ID token');
      const name = [claims.preferred_username, claims.email, claims.name, claims.sub].find((v) => typeof v === 'string' && v !== '') as string;
      return { issuer: claims.iss, subject: claims.sub, name };
    } catch (err) {
      if (err instanceof OidcSignInError) throw err;
      throw new OidcSignInError(`sign-in with ${issuer} failed: ${(err as Error).message}`);
    }
  }

  /** Discovery once per issuer; a failed one is retried on the next sign-in. */
  private config(issuer: string): Promise<OidcClient.Configuration> {
    if (!this.opts.issuers.includes(issuer)) return Promise.reject(new OidcSignInError(`"${issuer}" is not a configured issuer`));
    let p = this.configs.get(issuer);
    if (!p) {
      const c = client();
      const url = new URL(issuer);
      // Plain HTTP only to a provider on this machine (tests, a local provider); never over a network.
      const local = url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
      const auth = this.opts.clientSecret ? c.ClientSecretPost(this.opts.clientSecret) : c.None();
      p = c.discovery(url, this.opts.clientId, this.opts.clientSecret ? { client_secret: this.opts.clientSecret } : undefined, auth,
        local ? { execute: [c.allowInsecureRequests] } : undefined);
      p.catch(() => this.configs.delete(issuer));
      this.configs.set(issuer, p);
    }
    return p.catch((err: Error) => { throw new OidcSignInError(`cannot reach the issuer ${issuer}: ${err.message}`); });
  }
}
