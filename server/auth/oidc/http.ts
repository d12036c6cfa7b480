/**
 * JSON from an identity provider, with time and size caps: a slow or huge answer from an issuer
 * must not hold a request (or the memory) for long. Failures to reach it are IssuerUnavailableError;
 * an answer that is not 2xx is returned, so the caller decides what the status means.
 */
import { IssuerUnavailableError } from '../../errors';

export const ISSUER_TIMEOUT_MS = 5_000;
export const ISSUER_MAX_BYTES = 1 << 20;

export interface IssuerReply { status: number; body: unknown }

export async function issuerJson(url: string, init: RequestInit = {}, what = 'the identity provider'): Promise<IssuerReply> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(ISSUER_TIMEOUT_MS), headers: { accept: 'application/json', ...init.headers } });
  } catch (err) {
    throw unreachable(url, what, err);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > ISSUER_MAX_BYTES) throw new IssuerUnavailableError(`${what} at ${origin(url)} sent an answer larger than ${ISSUER_MAX_BYTES} bytes`);
  let text: string;
  try {
    text = await capped(res);
  } catch (err) {
    throw err instanceof IssuerUnavailableError ? err : unreachable(url, what, err);
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

async function capped(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > ISSUER_MAX_BYTES) throw new IssuerUnavailableError(`the identity provider at ${origin(res.url)} sent an answer larger than ${ISSUER_MAX_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function unreachable(url: string, what: string, err: unknown): IssuerUnavailableError {
  const e = err as { name?: string; cause?: { code?: string }; code?: string; message?: string };
  const why = e?.name === 'TimeoutError' ? `no answer in ${ISSUER_TIMEOUT_MS / 1000} s` : (e?.cause?.code ?? (e?.cause as { message?: string } | undefined)?.message ?? e?.code ?? e?.message ?? 'unreachable');
  return new IssuerUnavailableError(`Cannot check the OIDC token: ${what} at ${origin(url)} cannot be reached (${why}); try again later.`);
}

/** scheme://host:port only: a URL may carry a token in its query. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}
