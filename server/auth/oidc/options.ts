/**
 * What the operator trusts (IM's OIDC_* and ADMIN_USERS keys): `tosca-im serve --oidc-*` flags.
 * Issuer URLs come from the operator, so they are fetched even when they are private addresses.
 */
export interface OidcOptions {
  /** Trusted issuers (IM's OIDC_ISSUERS). Empty: every token is refused with a 401 saying how to trust one. */
  issuers: string[];
  /** If set, it must be one of the token's `aud` values (IM's OIDC_AUDIENCE). */
  audience?: string;
  /** The person must be in ALL of these groups (IM's OIDC_GROUPS). */
  groups: string[];
  /** The claim holding the groups, in the token or userinfo (IM's OIDC_GROUPS_CLAIM). */
  groupsClaim: string;
  /** Members of ANY of these groups are admins: they see and manage every infrastructure. */
  adminGroups: string[];
  /** With clientId and clientSecret: the token is introspected and must carry all these scopes. */
  scopes: string[];
  clientId?: string;
  clientSecret?: string;
  /** Allowed clock difference with the issuer for exp/nbf, in seconds. */
  clockSkewSeconds?: number;
}

export const DEFAULT_GROUPS_CLAIM = 'groups';

export function noOidc(): OidcOptions {
  return { issuers: [], groups: [], groupsClaim: DEFAULT_GROUPS_CLAIM, adminGroups: [], scopes: [] };
}

/** IM compares issuers with at most one trailing slash: "https://iam.example/" is "https://iam.example". */
export function normalIssuer(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
