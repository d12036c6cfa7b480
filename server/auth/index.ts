export { parseAuthorizationHeader, type ImIdentity, type ParsedAuthorization } from './header';
export { ownerId, ownerKeyFrom } from './owner';
export { loadOrCreateKeyFile, parseServerKey, ServerKeyError } from './server-key';
export { CallerCache, callerFromHeader } from './caller';
