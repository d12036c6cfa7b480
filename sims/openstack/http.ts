/** Per-service error bodies (the shapes openstacksdk parses) and the request context. */
import type { Request, Response } from 'express';
import type { Token } from './model';

export type Service = 'keystone' | 'nova' | 'neutron' | 'glance' | 'cinder' | 'sim';

export function serviceOf(path: string): Service {
  if (path.startsWith('/identity')) return 'keystone';
  if (path.startsWith('/compute')) return 'nova';
  if (path.startsWith('/network')) return 'neutron';
  if (path.startsWith('/image')) return 'glance';
  if (path.startsWith('/volume')) return 'cinder';
  return 'sim';
}

const NOVA_KEYS: Record<number, string> = {
  400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 409: 'conflictingRequest', 413: 'overLimit', 429: 'overLimit',
};
const NEUTRON_TYPES: Record<number, string> = { 400: 'BadRequest', 401: 'NotAuthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 500: 'HTTPInternalServerError' };
const TITLES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Answer an error in the shape of the service that owns the path. */
export function sendError(res: Response, service: Service, status: number, message: string, neutronType?: string): void {
  res.status(status);
  if (service === 'nova') {
    res.json({ [NOVA_KEYS[status] ?? 'computeFault']: { code: status, message } });
  } else if (service === 'neutron') {
    res.json({ NeutronError: { type: neutronType ?? NEUTRON_TYPES[status] ?? 'HTTPInternalServerError', message, detail: '' } });
  } else if (service === 'glance') {
    res.type('text/html').send(`<html>\n <head>\n  <title>${status} ${TITLES[status] ?? ''}</title>\n </head>\n <body>\n  <h1>${status} ${TITLES[status] ?? ''}</h1>\n  ${message}<br /><br />\n </body>\n</html>`);
  } else {
    res.json({ error: { code: status, title: TITLES[status] ?? 'Error', message } });
  }
}

/** A thrown error that the routers' wrapper turns into the service's error body. */
export class SimHttpError extends Error {
  constructor(readonly status: number, message: string, readonly neutronType?: string) {
    super(message);
  }
}
export const fail = (status: number, message: string, neutronType?: string): never => {
  throw new SimHttpError(status, message, neutronType);
};

/** The token of an authenticated service call (set by the auth middleware). */
export function tokenOf(req: Request): Token {
  return (req as Request & { simToken: Token }).simToken;
}

/** Absolute base URL of this simulator as the client reached it (catalog URLs follow the Host header). */
export function baseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host')}`;
}

/** Repeated query values as a list. */
export function queryValues(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/**
 * A list as the real services page it: the items after `marker` (by id), at most `limit` of them and
 * never more than the service's own cap (`maxLimit`, 0 = none). `next` is the query of the following
 * page (the request's own filters, plus limit and marker) when this page is full and more remain,
 * as Nova's `<key>_links`, Neutron's `<key>_links` and Glance's `next` carry it.
 */
export function paginate<T extends { id: string }>(req: Request, items: T[], maxLimit: number): { page: T[]; next?: string } {
  const marker = queryValues(req.query.marker)[0];
  let start = 0;
  if (marker !== undefined) {
    const at = items.findIndex((i) => i.id === marker);
    if (at < 0) fail(400, `marker [${marker}] not found`, 'BadRequest');
    start = at + 1;
  }
  const asked = Number(queryValues(req.query.limit)[0] ?? 0);
  if (!Number.isInteger(asked) || asked < 0) fail(400, `Invalid limit: ${asked}`, 'BadRequest');
  const limit = maxLimit > 0 ? (asked > 0 ? Math.min(asked, maxLimit) : maxLimit) : asked;
  if (!limit) return { page: items.slice(start) };
  const page = items.slice(start, start + limit);
  if (page.length < limit || start + limit >= items.length) return { page };
  const q = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
  q.set('limit', String(limit));
  q.set('marker', page[page.length - 1].id);
  return { page, next: `${req.baseUrl}${req.path}?${q}` };
}
