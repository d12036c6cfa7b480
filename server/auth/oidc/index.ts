export { DEFAULT_GROUPS_CLAIM, noOidc, normalIssuer, type OidcOptions } from './options';
export { NO_ISSUER, OPENID_USER_PREFIX, TokenVerifier, type OidcPerson } from './verifier';
