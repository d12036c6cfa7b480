/**
 * Verifies AWS Signature Version 4 the way EC2 does, from the raw request: written from the
 * specification rather than with `aws4`, so that the connector (which signs with aws4) and the
 * simulator (which checks) are two independent readings of the spec, and boto3 judges both.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Ec2SimError } from './errors';

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received (req.originalUrl). */
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface VerifiedCaller {
  accessKeyId: string;
  region: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding that SigV4 canonical query strings need (encodeURIComponent leaves !'()* alone). */
const uriEncode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

const authFailure = () =>
  new Ec2SimError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function parseAuthorization(value: string) {
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/.exec(value.trim());
  if (!m) throw authFailure();
  const parts: Record<string, string> = {};
  for (const p of m[1].split(/,\s*/)) {
    const i = p.indexOf('=');
    if (i > 0) parts[p.slice(0, i).trim()] = p.slice(i + 1).trim();
  }
  if (!parts.Credential || !parts.SignedHeaders || !parts.Signature) throw authFailure();
  return { credential: parts.Credential, signedHeaders: parts.SignedHeaders, signature: parts.Signature };
}

function canonicalQuery(query: string, skip: string | undefined): string {
  if (!query) return '';
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      const k = decodeURIComponent((i < 0 ? p : p.slice(0, i)).replace(/\+/g, ' '));
      const v = i < 0 ? '' : decodeURIComponent(p.slice(i + 1).replace(/\+/g, ' '));
      return [uriEncode(k), uriEncode(v)] as [string, string];
    })
    .filter(([k]) => k !== skip)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** EC2 rejects requests signed more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/**
 * Checks the Authorization header (or presigned X-Amz-* query parameters) against `keys`
 * (access key id → secret). Throws AuthFailure (401) for an unknown key or a bad signature, as EC2 does.
 */
export function verifySigV4(req: SignedRequest, keys: Record<string, string>, now = Date.now()): VerifiedCaller {
  const q = req.rawUrl.indexOf('?');
  const path = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
  const query = q < 0 ? '' : req.rawUrl.slice(q + 1);
  const qp = new URLSearchParams(query);
  const presigned = qp.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256';
  const auth = header(req.headers, 'authorization');
  let credential: string, signedHeaders: string, signature: string, amzDate: string | undefined;
  if (presigned) {
    credential = qp.get('X-Amz-Credential') ?? '';
    signedHeaders = qp.get('X-Amz-SignedHeaders') ?? '';
    signature = qp.get('X-Amz-Signature') ?? '';
    amzDate = qp.get('X-Amz-Date') ?? undefined;
  } else if (auth) {
    ({ credential, signedHeaders, signature } = parseAuthorization(auth));
    amzDate = header(req.headers, 'x-amz-date');
    if (!amzDate) {
      const d = header(req.headers, 'date');
      if (d) amzDate = new Date(d).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    }
  } else {
    throw new Ec2SimError('AuthFailure', 'AWS was not able to validate the provided access credentials: the request is not signed', 401);
  }
  const [accessKeyId, scopeDate, region, service, terminator] = credential.split('/');
  if (!accessKeyId || !scopeDate || !region || !service || terminator !== 'aws4_request') throw authFailure();
  const secret = keys[accessKeyId];
  if (secret === undefined) throw authFailure();
  const signedAt = parseAmzDate(amzDate ?? '');
  if (!Number.isFinite(signedAt)) throw authFailure();
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    throw new Ec2SimError('RequestExpired', `Request has expired. Timestamp date is ${amzDate}`, 400);
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw authFailure();
  const canonicalHeaders = names
    .map((n) => `${n}:${(header(req.headers, n) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const payloadHash = header(req.headers, 'x-amz-content-sha256') ?? sha256(req.body);
  const canonicalRequest = [
    req.method.toUpperCase(),
    path || '/',
    canonicalQuery(query, presigned ? 'X-Amz-Signature' : undefined),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, scopeDate), region), service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw authFailure();
  return { accessKeyId, region };
}
