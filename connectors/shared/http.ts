/**
 * HTTP for cloud APIs: Node's built-in fetch (undici, keep-alive by default) with a timeout and
 * retries with exponential backoff. Why not `got`: got@14 is ESM-only and this package is CommonJS
 * (jest via swc); fetch gives the same keep-alive transport without a dynamic-import shim.
 */
export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  /** Only idempotent calls are retried after a connection error or a 5xx/429 answer. */
  idempotent?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Extra predicate: retry this answer too (e.g. EC2 RequestLimitExceeded in a 400/503 body). */
  retryOn?: (res: HttpResponse) => boolean;
}

export const defaultRetry: RetryPolicy = { retries: 4, baseDelayMs: 200, maxDelayMs: 5000 };

export class HttpTransportError extends Error {
  constructor(message: string, readonly url: string, readonly cause?: unknown) {
    super(message);
    this.name = 'HttpTransportError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function httpRequest(req: HttpRequest, retry: RetryPolicy = defaultRetry): Promise<HttpResponse> {
  for (let attempt = 0; ; attempt++) {
    const last = !req.idempotent || attempt >= retry.retries;
    const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    let res: HttpResponse;
    try {
      const r = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: AbortSignal.timeout(req.timeoutMs ?? 30000),
      });
      res = { status: r.status, headers: r.headers, text: await r.text() };
    } catch (err) {
      if (last) throw new HttpTransportError(`${req.method} ${req.url}: ${(err as Error).message}`, req.url, err);
      await sleep(delay);
      continue;
    }
    const transient = res.status >= 500 || res.status === 429 || (retry.retryOn?.(res) ?? false);
    if (!transient || last) return res;
    const after = Number(res.headers.get('retry-after'));
    await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, retry.maxDelayMs) : delay);
  }
}
