/**
 * The one guarded outbound fetch for URLs that users write (TOSCA imports, lifecycle artifacts): a
 * template author must not be able to make the server reach its own loopback, the site's private
 * network or the cloud metadata service (169.254.169.254), nor exhaust its memory or time.
 *
 * - http and https only;
 * - the host name is resolved first and every address checked (loopback, private, link-local,
 *   multicast, reserved and their IPv6 forms are refused unless `allowPrivate`); the connection
 *   goes to the checked address, so a second DNS answer (rebinding) cannot swap it;
 * - redirects are followed by hand, each target checked again, at most `maxRedirects`;
 * - the body is capped at `maxBytes` (declared length or bytes received), with connect and total
 *   time limits;
 * - every failure is one FetchError whose text never distinguishes refused / unreachable / timed
 *   out ("no answer"), so the error cannot be used to scan ports, and never quotes the body.
 *
 * A leaf module: Node built-ins only.
 */
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';

export interface FetchPolicy {
  /** Reach loopback / private / link-local / reserved addresses too (operator's choice; tests on 127.0.0.1). */
  allowPrivate?: boolean;
  /** Largest body accepted, in bytes (default 5 MB). */
  maxBytes?: number;
  /** Redirects followed, each re-checked (default 5). */
  maxRedirects?: number;
  /** Time to get a TCP (and TLS) connection (default 10 s). */
  connectTimeoutMs?: number;
  /** Time for the whole fetch, redirects included (default 30 s). */
  totalTimeoutMs?: number;
}

export const DEFAULT_MAX_FETCH_BYTES = 5 * 1024 * 1024;

export interface FetchResult {
  /** The final URL, after redirects. */
  url: string;
  status: number;
  body: Buffer;
}

/** Why a URL could not be fetched; the message is safe to show to the user who wrote the URL. */
export class FetchError extends Error {
  constructor(readonly url: string, readonly reason: string, readonly status?: number) {
    super(`could not fetch URL ${excerpt(url, 200)}: ${reason}`);
    this.name = 'FetchError';
  }
}

/**
 * Addresses nobody outside the host or the site should make the server reach: IANA special-purpose
 * blocks (RFC 6890 and successors). For IPv6 only global unicast (2000::/3) is allowed, minus the
 * blocks inside it that are documentation or tunnel IPv4 addresses.
 */
const refused = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) refused.addSubnet(net, bits, 'ipv4');
const globalV6 = new BlockList();
globalV6.addSubnet('2000::', 3, 'ipv6');
const refusedV6 = new BlockList();
for (const [net, bits] of [['2001::', 32], ['2001:db8::', 32], ['2002::', 16], ['2001:10::', 28], ['2001:20::', 28]] as const) {
  refusedV6.addSubnet(net, bits, 'ipv6');
}

/** True when `ip` is a public unicast address (what a user-given URL may reach by default). */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return !refused.check(ip, 'ipv4');
  // ::1, ::, fc00::/7, fe80::/10, ff00::/8, ::ffff:a.b.c.d (mapped), 64:ff9b::/96 all lie outside 2000::/3
  if (family === 6) return globalV6.check(ip, 'ipv6') && !refusedV6.check(ip, 'ipv6');
  return false;
}

/** At most `max` characters of untrusted text, control characters and quotes escaped, for error messages. */
export function excerpt(text: string, max = 80): string {
  const cut = text.length > max ? text.slice(0, max) + '…' : text;
  return cut.replace(/[\u0000-\u001f\u007f-\u009f"\\<>]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** GET `url` under `policy`: the final answer (any status), its body capped. Throws FetchError. */
export async function guardedFetch(url: string, policy: FetchPolicy = {}): Promise<FetchResult> {
  const maxRedirects = policy.maxRedirects ?? 5;
  const deadline = Date.now() + (policy.totalTimeoutMs ?? 30_000);
  let current = url;
  for (let hop = 0; ; hop++) {
    const target = await checkedTarget(current, url, policy);
    const res = await getOnce(target, url, policy, deadline);
    if (res.location === undefined) return { url: current, status: res.status, body: res.body };
    if (hop >= maxRedirects) throw new FetchError(url, `more than ${maxRedirects} redirects`);
    try {
      current = new URL(res.location, current).href;
    } catch {
      throw new FetchError(url, 'invalid redirect');
    }
  }
}

/** The body of a 2xx answer as UTF-8 text; any other status is a FetchError naming only the status. */
export async function fetchText(url: string, policy: FetchPolicy = {}): Promise<string> {
  const res = await guardedFetch(url, policy);
  if (res.status < 200 || res.status > 299) throw new FetchError(url, `HTTP ${res.status}`, res.status);
  return res.body.toString('utf8');
}

interface Target {
  url: URL;
  address: string;
  family: 4 | 6;
}

async function checkedTarget(raw: string, original: string, policy: FetchPolicy): Promise<Target> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FetchError(original, 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchError(original, 'only http and https URLs are allowed');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
  } catch {
    throw new FetchError(original, 'no answer');
  }
  // every address must pass: which one a client picks is not ours to guess
  if (!policy.allowPrivate && (addresses.length === 0 || addresses.some((a) => !isPublicAddress(a.address)))) {
    throw new FetchError(original, 'the address is private, loopback, link-local or reserved (not allowed)');
  }
  if (addresses.length === 0) throw new FetchError(original, 'no answer');
  const first = addresses[0];
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

interface OneAnswer {
  status: number;
  location?: string;
  body: Buffer;
}

function getOnce(target: Target, original: string, policy: FetchPolicy, deadline: number): Promise<OneAnswer> {
  const maxBytes = policy.maxBytes ?? DEFAULT_MAX_FETCH_BYTES;
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise<OneAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(connect);
      req.destroy();
      reject(new FetchError(original, reason));
    };
    const req = client.request(target.url, {
      method: 'GET',
      headers: { accept: '*/*', 'accept-encoding': 'identity' },
      agent: false,
      // connect to the address that was checked, never to a second DNS answer
      lookup: ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
        if (opts?.all) cb(null, [{ address: target.address, family: target.family }]);
        else cb(null, target.address, target.family);
      }) as unknown as typeof import('node:dns').lookup,
    });
    const total = setTimeout(() => fail('no answer'), Math.max(0, deadline - Date.now()));
    const connect = setTimeout(() => fail('no answer'), policy.connectTimeoutMs ?? 10_000);
    req.on('socket', (s) => s.once(target.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connect)));
    req.on('error', () => fail('no answer'));
    req.on('response', (res) => {
      clearTimeout(connect);
      const status = res.statusCode ?? 0;
      const location = status >= 300 && status < 400 ? res.headers.location : undefined;
      if (location !== undefined) {
        res.resume();
        settled = true;
        clearTimeout(total);
        req.destroy();
        resolve({ status, location, body: Buffer.alloc(0) });
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) return fail(`larger than ${maxBytes} bytes`);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) return fail(`larger than ${maxBytes} bytes`);
        chunks.push(c);
      });
      res.on('error', () => fail('no answer'));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(total);
        resolve({ status, body: Buffer.concat(chunks) });
      });
    });
    req.end();
  });
}

/**
 * What an error message may quote of an answer that is not in the expected error format: nothing of
 * a 5xx or 3xx (the endpoint may be any internal service, its page is not ours to relay, and the
 * 502 goes to the user who chose the endpoint), a short escaped excerpt of a 4xx's text.
 */
export function unrecognisedBody(text: string, status: number): string {
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  if (status >= 400 && status < 500 && plain) return excerpt(plain, 80);
  return `HTTP ${status}, an answer of ${Buffer.byteLength(text)} bytes in no known error format`;
}
