/**
 * Request bodies. Everything is read as text (one size limit for all); the handler decides what the
 * text is from Content-Type, as IM's parse_deployment does (see templateBody).
 */
import type { Request, RequestHandler } from 'express';
import { ApiError } from './api-error';
import { InvalidInputError } from '../errors';
import { dumpRadlText, parseRadl, parseRadlJson, RadlError } from '../../radl';
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

/**
 * The template of a create/add/alter request as IM reads it (REST.py): text/yaml is TOSCA,
 * application/json is JSON RADL, anything else (or no Content-Type) is RADL text — except a text body
 * that is plainly TOSCA (curl's default type makes that a common mistake). RADL is handed on as our
 * canonical RADL text (what IM would store); bad RADL is a 400 naming line and column.
 */
export function templateBody(req: Request): string {
  const types = mediaTypes(req.get('content-type'));
  const text = bodyText(req);
  const yaml = types.includes('text/yaml');
  const json = types.includes('application/json');
  const radlish = types.some((t) => ['text/plain', '*/*', 'text/*', 'application/json'].includes(t));
  if (!yaml && !radlish) throw new ApiError(415, `Unsupported Media Type ${types.join(',')}`);
  if (text.trim() === '') throw new ApiError(400, 'Empty body: send a TOSCA template (text/yaml)');
  if (yaml || (!json && TOSCA_MARK.test(text))) return text;
  try {
    const radl = json ? parseRadlJson(text, 'radl.json') : parseRadl(text, 'radl');
    const canonical = dumpRadlText(radl);
    if (canonical.trim() === '') throw new InvalidInputError('Error parsing RADL: the document is empty');
    return canonical;
  } catch (e) {
    if (e instanceof RadlError) throw new InvalidInputError(`Error parsing RADL: ${e.message}`);
    throw e;
  }
}
