/**
 * The one place where errors become IM-shaped answers: status from the typed error class,
 * body in text, JSON ({"message","code"}) or IM's HTML page, following Accept as IM's return_error.
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import { error as validatorErrors } from 'express-openapi-validator';
import type { Logger } from 'pino';
import { ImError, InfrastructureNotFoundError, imStatus } from '../errors';
import { ApiError } from './api-error';
import { mediaTypes } from './media';
import { credentialSecrets, redact, redactedError } from '../../lib/redact';
import type { Caller } from '../engine/service';

const NOT_FOUND_TEXT = 'Invalid infrastructure ID or access not granted.';
const VALIDATOR_ERRORS: Array<new (...a: never[]) => Error> = Object.values(validatorErrors);

interface Answer { status: number; message: string; headers?: Record<string, string> }

export function errorHandler(logger: Logger, bodyLimit: string): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const caller = res.locals.caller as Caller | undefined;
    const secrets = caller ? credentialSecrets(caller.credentials) : [];
    const described = describe(err, req, res, bodyLimit);
    const answer = { ...described, message: redact(described.message, secrets) };
    if (answer.status >= 500) {
      logger.error({ err: redactedError(err, secrets), method: req.method, path: req.path }, 'request failed');
    } else {
      logger.debug({ status: answer.status, method: req.method, path: req.path, message: answer.message }, 'request refused');
    }
    if (res.headersSent) return void res.end();
    sendError(req, res, answer);
  };
}

export function sendError(req: Request, res: Response, { status, message, headers }: Answer): void {
  const accept = mediaTypes(req.get('accept'));
  res.status(status).set(headers ?? {});
  if (accept.includes('application/json')) return void res.json({ message, code: status });
  if (accept.includes('text/html')) return void res.type('text/html').send(htmlPage(status, message));
  res.type('text/plain').send(message);
}

function describe(err: unknown, req: Request, res: Response, bodyLimit: string): Answer {
  const op = res.locals.op as string | undefined;
  const prefixed = (message: string) => (op ? `${op}: ${message}` : message);
  if (err instanceof ApiError) return { status: err.status, message: err.message };
  if (err instanceof InfrastructureNotFoundError) return { status: imStatus(err), message: prefixed(NOT_FOUND_TEXT) };
  if (err instanceof ImError) {
    const status = imStatus(err);
    return status >= 500 && !(status === 502 || status === 503)
      ? { status: 500, message: prefixed('Internal server error') }
      : { status, message: prefixed(err.message) };
  }
  if (VALIDATOR_ERRORS.some((C) => err instanceof C)) return fromValidator(err as ValidatorError, req);
  const bodyError = err as { type?: string; status?: number; expose?: boolean; message?: string };
  if (bodyError?.type === 'entity.too.large') {
    return { status: 413, message: `Request body too large: the limit is ${bodyLimit}` };
  }
  if (bodyError?.expose && typeof bodyError.status === 'number' && bodyError.status < 500) {
    return { status: bodyError.status, message: `Invalid request body: ${bodyError.message}` };
  }
  return { status: 500, message: prefixed('Internal server error') };
}

interface ValidatorError { status: number; message: string; headers?: { Allow?: string } }

function fromValidator(err: ValidatorError, req: Request): Answer {
  switch (err.status) {
    case 415:
      return { status: 415, message: `Unsupported Media Type ${mediaTypes(req.get('content-type')).join(',')}` };
    case 405:
      return {
        status: 405,
        message: `Method ${req.method} not allowed on ${req.path}`,
        headers: err.headers?.Allow ? { Allow: err.headers.Allow } : undefined,
      };
    case 404:
      return { status: 404, message: `Not found: ${req.path}` };
    default:
      // The validator's text for a bad %-escape ends with a stray quote.
      return { status: err.status, message: /^malformed uri/.test(err.message) ? 'Invalid request: malformed URI (bad %-escape)' : `Invalid request: ${err.message}` };
  }
}

function htmlPage(code: number, message: string): string {
  const safe = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html>\n    <head>\n' +
    `        <title>Error ${code}.</title>\n    </head>\n    <body>\n` +
    `        <h1>Code: ${code}.</h1>\n        <h1>Message: ${safe}</h1>\n    </body>\n</html>\n`;
}
