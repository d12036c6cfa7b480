/**
 * Request bodies. Everything is read as text (one size limit for all); the handler decides what the
 * text is from Content-Type, as IM's parse_deployment does. TOSCA is the only template language for
 * now, so RADL (text/plain, JSON RADL) gets a clear 415 — except that a text/plain body that is
 * plainly TOSCA is taken as TOSCA (curl's default types make that a common mistake).
 */
import type { Request, RequestHandler } from 'express';
import { ApiError, RADL_NOT_SUPPORTED } from './api-error';
import { mediaTypes } from './media';

const TOSCA_MARK = /^\s*tosca_definitions_version\s*:/m;

/** IM reads a request without Content-Type as text/plain; mark it so import can tell. */
export const defaultContentType: RequestHandler = (req, res, next) => {
  if (!req.headers['content-type']) {
    req.headers['content-type'] = 'text/plain';
    res.locals.contentTypeDefaulted = true;
  }
  next();
};

/** "1mb", "512kb", "100" (bytes, 1024-based units), as the body parser reads its limit. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!m) throw new Error(`invalid size "${text}"`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * unit);
}

/** After the text parser: a request without a body has the empty string as body. */
export const bodyAsString: RequestHandler = (req, _res, next) => {
  if (typeof req.body !== 'string') req.body = '';
  next();
};

export function bodyText(req: Request): string {
  return typeof req.body === 'string' ? req.body : '';
}

/** The TOSCA template of a create/add request, or a 415/400 that says what to send. */
export function toscaBody(req: Request): string {
  const types = mediaTypes(req.get('content-type'));
  const text = bodyText(req);
  const yaml = types.includes('text/yaml');
  const radlish = types.some((t) => ['text/plain', '*/*', 'text/*', 'application/json'].includes(t));
  if (!yaml && !radlish) throw new ApiError(415, `Unsupported Media Type ${types.join(',')}`);
  if (text.trim() === '') throw new ApiError(400, 'Empty body: send a TOSCA template (text/yaml)');
  if (yaml || (!types.includes('application/json') && TOSCA_MARK.test(text))) return text;
  throw new ApiError(415, RADL_NOT_SUPPORTED);
}

/** Reconfigure may carry RADL to update the configuration; an empty body just re-runs it. */
export function requireNoRadl(req: Request): void {
  if (bodyText(req).trim() !== '') throw new ApiError(415, RADL_NOT_SUPPORTED);
}
