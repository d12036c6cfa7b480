/**
 * The EC2 Query API client: form-encoded POST, SigV4 by `aws4`, transport and retries by
 * connectors/shared/http.ts, XML answers read with `xml2js`. One instance per endpoint, region and key.
 */
import aws4 from 'aws4';
import { parseStringPromise } from 'xml2js';
import { HttpResponse, RetryPolicy, defaultRetry, httpRequest } from '../shared/http';
import { sleep } from '../../lib/sleep';
import { unrecognisedBody } from '../../lib/fetch';

export const EC2_API_VERSION = '2016-11-15';

export type QueryParams = Record<string, string | number | boolean | undefined>;
/** An XML answer as xml2js gives it (explicitArray off): elements become keys. */
export type XmlNode = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Ec2ClientConfig {
  /** Endpoint URL, e.g. https://ec2.us-east-1.amazonaws.com/ or http://127.0.0.1:8788/. */
  endpoint: URL;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  retry?: RetryPolicy;
  timeoutMs?: number;
}

/** An error document from the cloud (`<Response><Errors><Error><Code>`). */
export class Ec2ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status: number, readonly action: string, readonly requestId?: string) {
    super(message);
    this.name = 'Ec2ApiError';
  }
}

/** Codes that mean "not done, try again later": EC2 throttling and its transient server faults. */
const TRANSIENT_CODES = /<Code>(RequestLimitExceeded|Throttling|ThrottlingException|Unavailable|ServiceUnavailable|InternalError|InsufficientAddressCapacity)<\/Code>/;

/** Lists in Query form are `Name.1`, `Name.2`, ... */
export function listParams(name: string, values: readonly (string | number)[]): QueryParams {
  return Object.fromEntries(values.map((v, i) => [`${name}.${i + 1}`, v]));
}

export function filterParams(filters: Record<string, readonly string[]>): QueryParams {
  const out: QueryParams = {};
  Object.entries(filters).forEach(([name, values], i) => {
    out[`Filter.${i + 1}.Name`] = name;
    Object.assign(out, listParams(`Filter.${i + 1}.Value`, values));
  });
  return out;
}

export function tagSpecParams(n: number, resourceType: string, tags: Record<string, string>): QueryParams {
  const out: QueryParams = { [`TagSpecification.${n}.ResourceType`]: resourceType };
  Object.entries(tags).forEach(([k, v], i) => {
    out[`TagSpecification.${n}.Tag.${i + 1}.Key`] = k;
    out[`TagSpecification.${n}.Tag.${i + 1}.Value`] = v;
  });
  return out;
}

/** The `item`s of an XML set (`<fooSet><item/>…</fooSet>`), whatever xml2js made of it. */
export function items(set: unknown): XmlNode[] {
  if (!set || typeof set !== 'object') return [];
  const it = (set as XmlNode).item;
  return Array.isArray(it) ? it : it ? [it] : [];
}

/** A tagSet as a plain object. */
export function tagsOf(node: XmlNode | undefined): Record<string, string> {
  return Object.fromEntries(items(node?.tagSet).map((t) => [String(t.key), t.value === undefined || typeof t.value === 'object' ? '' : String(t.value)]));
}

export class Ec2Client {
  constructor(readonly config: Ec2ClientConfig) {}

  /**
   * One API call. Idempotent calls (reads, and writes made safe by a ClientToken or by a
   * duplicate check) are retried on connection errors, 5xx and throttling; the others only on
   * throttling, which EC2 guarantees was not performed.
   */
  async call(action: string, params: QueryParams = {}, opts: { idempotent?: boolean } = {}): Promise<XmlNode> {
    const idempotent = opts.idempotent ?? true;
    const retry = this.config.retry ?? defaultRetry;
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(action, params, idempotent, retry);
      if (res.status >= 200 && res.status < 300) return this.parseAnswer(action, res);
      const err = await this.parseError(action, res);
      const throttled = err.code === 'RequestLimitExceeded' || err.code === 'Throttling';
      if (idempotent || !throttled || attempt >= retry.retries) throw err;
      await sleep(Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }

  private send(action: string, params: QueryParams, idempotent: boolean, retry: RetryPolicy): Promise<HttpResponse> {
    const form = new URLSearchParams({ Action: action, Version: EC2_API_VERSION });
    for (const [k, v] of Object.entries(params)) if (v !== undefined) form.append(k, String(v));
    const body = form.toString();
    const { endpoint } = this.config;
    const signed = aws4.sign(
      {
        service: 'ec2',
        region: this.config.region,
        method: 'POST',
        host: endpoint.host,
        path: endpoint.pathname || '/',
        body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      },
      { accessKeyId: this.config.accessKeyId, secretAccessKey: this.config.secretAccessKey, sessionToken: this.config.sessionToken },
    );
    // fetch sets Host and Content-Length itself, to the very values aws4 signed.
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers ?? {})) {
      if (!/^(host|content-length)$/i.test(k)) headers[k] = String(v);
    }
    return httpRequest(
      { method: 'POST', url: endpoint.toString(), headers, body, timeoutMs: this.config.timeoutMs, idempotent },
      { ...retry, retryOn: (r) => r.status >= 400 && TRANSIENT_CODES.test(r.text) },
    );
  }

  private async parseAnswer(action: string, res: HttpResponse): Promise<XmlNode> {
    const doc = (await parseStringPromise(res.text, { explicitArray: false, ignoreAttrs: true })) as XmlNode;
    const root = doc[`${action}Response`] ?? Object.values(doc)[0];
    if (!root || typeof root !== 'object') throw new Ec2ApiError('InvalidResponse', `Unexpected answer to ${action}: ${unrecognisedBody(res.text, 500)}`, res.status, action);
    return root as XmlNode;
  }

  private async parseError(action: string, res: HttpResponse): Promise<Ec2ApiError> {
    let code = `HTTP${res.status}`;
    let message = res.text.trim() ? unrecognisedBody(res.text, res.status) : `HTTP ${res.status}`;
    let requestId: string | undefined;
    try {
      const doc = (await parseStringPromise(res.text, { explicitArray: false, ignoreAttrs: true })) as XmlNode;
      // EC2 answers <Response><Errors><Error>; some EC2-compatible clouds use <ErrorResponse><Error>.
      const root = doc.Response ?? doc.ErrorResponse ?? {};
      const error = root.Errors?.Error ?? root.Error;
      const first = Array.isArray(error) ? error[0] : error;
      if (first?.Code) {
        code = String(first.Code);
        message = String(first.Message ?? code);
      }
      requestId = root.RequestID ?? root.RequestId;
    } catch {
      /* not XML: keep the status and the text */
    }
    return new Ec2ApiError(code, message, res.status, action, requestId);
  }
}
