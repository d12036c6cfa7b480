/**
 * Media types as IM reads them (IM/rest/routers: get_media_type, format_output, return_error):
 * the header is split on ",", parameters dropped, the YAML spellings folded into text/yaml.
 * No q-values: IM takes the first type it can serve, in the order the client wrote them.
 */
import type { Request, Response } from 'express';
import { ApiError } from './api-error';

const YAML_TYPES = new Set(['text/yaml', 'text/x-yaml', 'application/yaml']);

export function mediaTypes(header: string | undefined): string[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const type = part.split(';', 1)[0].trim().toLowerCase();
    return YAML_TYPES.has(type) ? 'text/yaml' : type;
  }).filter((t) => t !== '');
}

export type DefaultType = 'text/plain' | 'text/uri-list' | 'application/json';

export interface OutputSpec {
  /** What is sent when the client has no Accept header, or accepts it, or any type. */
  defaultType: DefaultType;
  /** JSON bodies wrap the value as {field: value} ... */
  field?: string;
  /** ... and a list as {field: [{listField: item}, ...]} (IM's uri-list). */
  listField?: string;
  /** The text rendering when it is not the plain value (RADL text vs JSON RADL). */
  text?: string;
  headers?: Record<string, string>;
}

/** Sends `value` in the first media type of Accept that IM would serve, or 415 as IM does. */
export function sendOutput(req: Request, res: Response, value: unknown, spec: OutputSpec): void {
  const accepted = mediaTypes(req.get('accept'));
  const accept = accepted.length > 0 ? accepted : [spec.defaultType];
  for (const item of accept) {
    if (item === 'application/json' || item === 'application/*') {
      return void res.set(spec.headers ?? {}).json(wrap(value, spec));
    }
    if (item === spec.defaultType || item === '*/*' || item === 'text/*') {
      res.set(spec.headers ?? {});
      if (spec.defaultType === 'application/json') return void res.json(wrap(value, spec));
      return void res.type(spec.defaultType).send(spec.text ?? asText(value));
    }
  }
  throw new ApiError(415, `Unsupported Accept Media Types: ${accept.join(',')}`);
}

/** IM's "successful action": 200 with an empty text body. */
export function sendEmpty(res: Response, headers: Record<string, string> = {}): void {
  res.status(200).set(headers).type('text/plain').send('');
}

function wrap(value: unknown, spec: OutputSpec): unknown {
  if (!spec.field) return value;
  if (spec.listField && Array.isArray(value)) {
    return { [spec.field]: value.map((item) => ({ [spec.listField as string]: item })) };
  }
  return { [spec.field]: value };
}

function asText(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join('\n');
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value ?? '');
}
