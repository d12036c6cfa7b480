/**
 * Every OpenStack listing the connector reads, page by page. Services cap a page server-side
 * (Nova's `max_limit`, Neutron's `pagination_max_limit`, Glance's `limit_param_default`) and say
 * where the rest is: Nova and Neutron in `<key>_links` (rel "next"), Glance in `next`. The next
 * page's href carries the original filters plus `marker` (and `limit`); only its query is taken,
 * so a catalog URL on another host name or path prefix does not matter. Bounded: a cloud that
 * keeps answering "next" (or repeats a marker) is an error, never an endless loop.
 */
import { CloudError } from '../../lib/errors';
import type { OpenStackApi } from './api';
import type { ServiceType } from './errors';

/** Pages read at most per listing (at Nova's default page size of 1000: 100 000 items). */
export const MAX_PAGES = 100;

export interface ListOptions {
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
}

interface Link { rel?: string; href?: string }

/** `GET path` and every following page; the items under `key` (servers, networks, images...). */
export async function listAll<T>(api: OpenStackApi, service: ServiceType, path: string, key: string, o: ListOptions = {}): Promise<T[]> {
  const out: T[] = [];
  let query = o.query;
  const seen = new Set<string>();
  for (let page = 1; ; page++) {
    const r = await api.call<Record<string, unknown>>(service, 'GET', path, { query, headers: o.headers });
    const items = r.body?.[key];
    if (!Array.isArray(items)) throw new CloudError(`OpenStack ${service} answered GET ${path} without a "${key}" list`, 502, 'BadAnswer');
    out.push(...(items as T[]));
    const next = nextHref(r.body, key);
    if (!next || !items.length) return out;
    query = Object.fromEntries(new URL(next, 'http://next.invalid').searchParams);
    const marker = query.marker ?? JSON.stringify(query);
    if (seen.has(marker)) throw new CloudError(`OpenStack ${service} repeated page marker ${marker} listing ${path}`, 502, 'BadAnswer');
    seen.add(marker);
    if (page >= MAX_PAGES) {
      throw new CloudError(`OpenStack ${service} listing ${path} has more than ${MAX_PAGES} pages (${out.length} items read): narrow it`, 502, 'TooManyPages');
    }
  }
}

/** Nova/Neutron: `<key>_links` rel=next; Glance: `next`. */
function nextHref(body: Record<string, unknown>, key: string): string | undefined {
  const links = body[`${key}_links`];
  if (Array.isArray(links)) {
    const next = (links as Link[]).find((l) => l?.rel === 'next')?.href;
    if (next) return next;
  }
  return typeof body.next === 'string' ? body.next : undefined;
}
