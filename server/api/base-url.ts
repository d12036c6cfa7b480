/**
 * Absolute URIs are built from the request, as IM does (request.base_url behind werkzeug's
 * ProxyFix): the scheme and host a proxy reports in X-Forwarded-Proto/-Host/-Prefix win when
 * proxies are trusted.
 */
import type { Request } from 'express';

export function baseUrl(req: Request, trustProxy: boolean): string {
  // req.protocol already honours X-Forwarded-Proto when express's "trust proxy" is set.
  const proto = req.protocol;
  const forwardedHost = trustProxy ? firstValue(req.get('x-forwarded-host')) : undefined;
  const host = forwardedHost ?? req.get('host') ?? 'localhost';
  const prefix = trustProxy ? (firstValue(req.get('x-forwarded-prefix')) ?? '') : '';
  return `${proto}://${host}${prefix.replace(/\/+$/, '')}`;
}

function firstValue(header: string | undefined): string | undefined {
  const v = header?.split(',', 1)[0].trim();
  return v ? v : undefined;
}

export function infrastructureUri(base: string, infId: string): string {
  return `${base}/infrastructures/${encodeURIComponent(infId)}`;
}

export function vmUri(base: string, infId: string, vmId: string): string {
  return `${infrastructureUri(base, infId)}/vms/${encodeURIComponent(vmId)}`;
}
