/**
 * Authenticated calls to Nova, Neutron and Glance: the token goes in X-Auth-Token, a 401 drops it
 * and the call is repeated once with a fresh one (a 401 means the call was not performed, so this is
 * safe even for POST), transient failures are retried for idempotent methods only (shared/http.ts),
 * and every other failure becomes an OpenStackApiError carrying the cloud's own message.
 */
import { HttpTransportError, httpRequest, type HttpResponse, type RetryPolicy, defaultRetry } from '../shared/http';
import { OpenStackApiError, OpenStackUnreachableError, parseErrorBody, type ServiceType } from './errors';

export interface CallOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  /** Extra statuses answered without throwing (e.g. 404 when "gone" is an answer). */
  accept?: number[];
  headers?: Record<string, string>;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

/** What a call needs of the Keystone session (keystone.ts implements it; naming it here keeps
 * api.ts below keystone.ts, which sends its own requests through `send`). */
export interface TokenSession {
  endpoint(service: ServiceType): Promise<string>;
  token(): Promise<{ id: string }>;
  invalidate(tokenId: string): void;
}

export class OpenStackApi {
  /** Service calls made (for benchmarks; the simulator counts too). */
  calls = 0;

  constructor(readonly session: TokenSession, private readonly retry: RetryPolicy = defaultRetry) {}

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async call<T = any>(service: ServiceType, method: string, path: string, o: CallOptions = {}): Promise<ApiResponse<T>> {
    const base = await this.session.endpoint(service);
    const qs = new URLSearchParams(Object.entries(o.query ?? {}).filter(([, v]) => v !== undefined) as [string, string][]).toString();
    const url = `${base}${path}${qs ? `?${qs}` : ''}`;
    const call = `${method} ${path}`;
    for (let attempt = 0; ; attempt++) {
      const token = await this.session.token();
      this.calls++;
      const res = await send(
        {
          method,
          url,
          headers: {
            'X-Auth-Token': token.id,
            Accept: 'application/json',
            'User-Agent': 'tosca-im',
            ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
            ...o.headers,
          },
          body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
          idempotent: method !== 'POST',
          timeoutMs: 60_000,
        },
        this.retry,
      );
      if (res.status === 401 && attempt === 0) {
        this.session.invalidate(token.id);
        continue;
      }
      if ((res.status >= 200 && res.status < 300) || o.accept?.includes(res.status)) {
        return { status: res.status, body: (res.text ? safeJson(res.text) : undefined) as T };
      }
      const { message, type } = parseErrorBody(res.text, res.status);
      throw new OpenStackApiError(res.status, service, call, message, type);
    }
  }
}

/** shared/http with transport failures as CloudErrors that say where. */
export async function send(req: Parameters<typeof httpRequest>[0], retry?: RetryPolicy): Promise<HttpResponse> {
  try {
    return await httpRequest(req, retry);
  } catch (e) {
    if (e instanceof HttpTransportError) throw new OpenStackUnreachableError(`${req.method} ${req.url.split('?')[0]}`);
    throw e;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
