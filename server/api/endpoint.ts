/**
 * One wrapper for every route: names the IM operation (its errors are "OP: message", as IM's
 * routers write them), resolves the caller from the Authorization header, and hands any rejection
 * to the error middleware so that no request can crash the server.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Caller } from '../engine/service';
import { CallerCache, ownerKeyFrom } from '../auth';
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
}

export type EndpointFactory = (op: string, fn: (ctx: Ctx) => Promise<void>) => RequestHandler;

export function endpointFactory(opts: EndpointOptions): EndpointFactory {
  const callers = new CallerCache(ownerKeyFrom(opts.secretKey));
  return (op, fn) => (req, res, next) => {
    res.locals.op = op;
    let ctx: Ctx;
    try {
      const header = req.get('authorization');
      if (header === undefined || header.trim() === '') throw new ApiError(401, 'No authentication data provided');
      ctx = { req, res, caller: callers.get(header), base: baseUrl(req, opts.trustProxy), params: req.params };
      res.locals.caller = ctx.caller; // the error handler masks its secrets
    } catch (err) {
      return next(err);
    }
    fn(ctx).catch(next);
  };
}

/** A route that needs no caller (version, the API description). */
export function publicEndpoint(op: string, fn: (req: Request, res: Response) => Promise<void> | void): RequestHandler {
  return (req, res, next) => {
    res.locals.op = op;
    Promise.resolve().then(() => fn(req, res)).catch(next);
  };
}
