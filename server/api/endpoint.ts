/**
 * One wrapper for every route: names the IM operation (its errors are "OP: message", as IM's
 * routers write them), resolves the caller from the Authorization header, and hands any rejection
 * to the error middleware so that no request can crash the server.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Caller } from '../engine/service';
import { CallerResolver, ownerKeyFrom, type TokenVerifier } from '../auth';
import { ApiError } from './api-error';
import { baseUrl } from './base-url';

export interface Ctx {
  req: Request;
  res: Response;
  caller: Caller;
  /** scheme://host[/prefix] for absolute URIs. */
  base: string;
  /** Path parameters (express decodes them). */
  params: Record<string, string>;
}

export interface EndpointOptions {
  secretKey: string | Buffer;
  trustProxy: boolean;
  /** Checks OIDC tokens (server/auth/oidc); without it tokens are refused. */
  tokens?: TokenVerifier;
  /** Owner ids of the password users who are admins. */
  adminOwners?: ReadonlySet<string>;
}

export type EndpointFactory = (op: string, fn: (ctx: Ctx) => Promise<void>) => RequestHandler;

export function endpointFactory(opts: EndpointOptions): EndpointFactory {
  const callers = new CallerResolver({ ownerKey: ownerKeyFrom(opts.secretKey), tokens: opts.tokens, adminOwners: opts.adminOwners });
  return (op, fn) => (req, res, next) => {
    res.locals.op = op;
    const header = req.get('authorization');
    if (header === undefined || header.trim() === '') return next(new ApiError(401, 'No authentication data provided'));
    callers.get(header).then((caller) => {
      res.locals.caller = caller; // the error handler masks its secrets
      return fn({ req, res, caller, base: baseUrl(req, opts.trustProxy), params: req.params });
    }).catch(next);
  };
}

/** A route that needs no caller (version, the API description). */
export function publicEndpoint(op: string, fn: (req: Request, res: Response) => Promise<void> | void): RequestHandler {
  return (req, res, next) => {
    res.locals.op = op;
    Promise.resolve().then(() => fn(req, res)).catch(next);
  };
}
