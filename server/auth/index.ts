export { parseAuthorizationHeader, type ImIdentity, type ParsedAuthorization } from './header';
export { ownerId, ownerKeyFrom, type Person } from './owner';
export { loadOrCreateKeyFile, parseServerKey, ServerKeyError } from './server-key';
export { CallerResolver, callerFromHeader, type CallerOptions } from './caller';
export { DEFAULT_GROUPS_CLAIM, noOidc, normalIssuer, OPENID_USER_PREFIX, TokenVerifier, type OidcOptions, type OidcPerson } from './oidc';
