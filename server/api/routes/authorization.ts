/**
 * GET|POST /infrastructures/{infId}/authorization: IM's GetInfrastructureOwners and
 * ChangeInfrastructureAuth. The POST body is one InfrastructureManager credential as JSON
 * (`{"username": "u", "password": "p"}` or `{"token": "t"}`, `type` optional), as IM's parse_auth
 * reads it; `?overwrite=yes` makes it the only owner, else it is added. Only its keyed owner id and
 * user name are kept; the password or token is dropped here. An OIDC person is given either by a
 * token of theirs (checked like a caller's) or as `{"iss": ISSUER, "sub": SUB}` (a trusted issuer),
 * so a user can share with a colleague whose token they do not hold.
 */
import { Router } from 'express';
import type { InfrastructureService } from '../../engine/service';
import { InvalidInputError } from '../../errors';
import { normalIssuer, ownerId, OPENID_USER_PREFIX, type ImIdentity, type OidcOptions, type Person, type TokenVerifier } from '../../auth';
import { ApiError } from '../api-error';
import { bodyText } from '../body';
import type { EndpointFactory } from '../endpoint';
import { flag } from '../flags';
import { mediaTypes, sendEmpty, sendOutput } from '../media';

const NOT_AVAILABLE = 'this server has no owner management';

export interface SharingOptions {
  ownerKey: Buffer;
  /** Checks a new owner's token. */
  tokens?: TokenVerifier;
  /** The trusted issuers, for `{"iss", "sub"}` bodies. */
  issuers: OidcOptions['issuers'];
}

export function authorizationRoutes(service: InfrastructureService, endpoint: EndpointFactory, sharing: SharingOptions): Router {
  const r = Router();

  r.get('/infrastructures/:infId/authorization', endpoint('Error Getting Inf. prop', async ({ req, res, caller, params }) => {
    if (!service.owners) throw new InvalidInputError(NOT_AVAILABLE);
    sendOutput(req, res, await service.owners(caller, params.infId), { defaultType: 'text/plain', field: 'authorization' });
  }));

  r.post('/infrastructures/:infId/authorization', endpoint('Error modifying infrastructure owner', async ({ req, res, caller, params }) => {
    const types = mediaTypes(req.get('content-type'));
    // IM reads a request without Content-Type as JSON here.
    if (!res.locals.contentTypeDefaulted && !types.includes('application/json')) {
      throw new ApiError(415, `Unsupported Media Type ${types.join(',')}`);
    }
    const added = await newOwner(newIdentity(bodyText(req)), sharing);
    const overwrite = flag(req, 'overwrite', false);
    if (!service.changeOwners) throw new InvalidInputError(NOT_AVAILABLE);
    await service.changeOwners(caller, params.infId, added, overwrite);
    sendEmpty(res);
  }));

  return r;
}

/** A new owner as body it names: a password user, or an OIDC person (by token, or by issuer + sub). */
export type NewIdentity = ImIdentity | { kind: 'oidc'; issuer: string; sub: string };

async function newOwner(identity: NewIdentity, sharing: SharingOptions): Promise<{ owner: string; username: string }> {
  let person: Person;
  let username: string;
  if (identity.kind === 'token') {
    if (!sharing.tokens) throw new InvalidInputError('Invalid new infrastructure data provided: this server trusts no OIDC issuer (--oidc-issuers)');
    const checked = await sharing.tokens.verify(identity.token);
    person = { kind: 'oidc', issuer: checked.issuer, sub: checked.sub };
    username = checked.username;
  } else if (identity.kind === 'oidc') {
    const issuer = sharing.issuers.map(normalIssuer).find((u) => u === normalIssuer(identity.issuer));
    if (!issuer) throw new InvalidInputError(`Invalid new infrastructure data provided: issuer ${identity.issuer} is not trusted by this server`);
    person = { kind: 'oidc', issuer, sub: identity.sub };
    username = OPENID_USER_PREFIX + identity.sub;
  } else {
    person = identity;
    username = identity.username;
  }
  return { owner: ownerId(sharing.ownerKey, person), username };
}

/** The new owner's InfrastructureManager credential, checked as IM's ChangeInfrastructureAuth does. */
export function newIdentity(text: string): NewIdentity {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // IM's parse_auth: a 400 that names the parse error (the body itself is never echoed: it holds a secret).
    throw new ApiError(400, `Error parsing auth data: ${(e as Error).message.replace(/ in JSON.*$/, '').split(/[:,]/)[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ApiError(400, 'Error parsing auth data: expected a JSON object');
  const d = doc as Record<string, unknown>;
  const str = (k: string) => (typeof d[k] === 'string' && d[k] !== '' ? (d[k] as string) : undefined);
  const invalid = (why: string) => new InvalidInputError(`Invalid new infrastructure data provided: ${why}`);
  if (d.type !== undefined && d.type !== 'InfrastructureManager') throw invalid('No credentials provided for the InfrastructureManager.');
  const token = str('token');
  if (token) return { kind: 'token', username: str('username') ?? '', token };
  const iss = str('iss');
  const sub = str('sub');
  if (iss || sub) {
    if (!iss || !sub) throw invalid('an OIDC person needs both "iss" and "sub".');
    return { kind: 'oidc', issuer: iss, sub };
  }
  const username = str('username');
  const password = typeof d.password === 'string' ? d.password : undefined;
  if (!username && password === undefined) throw invalid('No credentials provided for the InfrastructureManager.');
  if (!username) throw invalid('No username nor token for the InfrastructureManager.');
  if (password === undefined) throw invalid('No password for the InfrastructureManager user.');
  return { kind: 'password', username, password };
}
