/** OpenStack API failures as CloudErrors that say which call failed and why, in the cloud's words. */
import { CloudError } from '../../lib/errors';
import { unrecognisedBody } from '../../lib/fetch';

export type ServiceType = 'identity' | 'compute' | 'network' | 'image' | 'volumev3';

export class OpenStackApiError extends CloudError {
  constructor(
    readonly httpStatus: number,
    readonly service: ServiceType,
    readonly call: string,
    readonly cloudMessage: string,
    /** Nova's error key (itemNotFound...) or Neutron's type (OverQuota...). */
    readonly faultType: string | undefined,
  ) {
    const quota = isQuota(httpStatus, cloudMessage, faultType);
    super(
      quota ? `OpenStack quota exceeded (${call}): ${cloudMessage}` : `OpenStack ${service} error ${httpStatus} on ${call}: ${cloudMessage}`,
      quota ? 403 : httpStatus === 401 ? 401 : httpStatus >= 400 && httpStatus < 500 ? 400 : 502,
      quota ? 'QuotaExceeded' : httpStatus === 404 ? 'NotFound' : httpStatus === 401 ? 'AuthFailed' : faultType,
    );
  }
}

function isQuota(status: number, message: string, type?: string): boolean {
  return type === 'OverQuota' || ((status === 403 || status === 413) && isQuotaMessage(message));
}

/** Nova's and Neutron's quota messages ("Quota exceeded for instances: ...", "... resources: ['floatingip']."). */
export function isQuotaMessage(message: string): boolean {
  return /quota exceeded/i.test(message);
}

/**
 * The cloud's sentence without its final full stop: our messages (and the engine's log lines) go on
 * after it ("…: <cloud message>. Not launched again"), which would otherwise read "..".
 */
export function withoutFinalStop(message: string): string {
  return message.trim().replace(/(?<!\.)\.$/, '');
}

/** Pull the message out of Nova ({"itemNotFound":{message}}), Neutron ({"NeutronError":{...}}), Keystone ({"error":{...}}) or Glance (HTML) bodies. */
export function parseErrorBody(text: string, status = 500): { message: string; type?: string } {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const neutron = body.NeutronError as { message?: string; type?: string } | undefined;
    if (neutron) return { message: withoutFinalStop(neutron.message ?? 'unknown error'), type: neutron.type };
    for (const [key, v] of Object.entries(body)) {
      if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') {
        return { message: withoutFinalStop((v as { message: string }).message), type: key === 'error' ? undefined : key };
      }
    }
    if (typeof body.message === 'string') return { message: withoutFinalStop(body.message) };
  } catch {
    /* not JSON: Glance answers HTML */
  }
  // the endpoint is whatever host the user's credential names: quote its page only briefly, never a 5xx
  return { message: text.trim() ? unrecognisedBody(text, status) : 'no details' };
}

/**
 * The cloud could not be reached (connection refused, DNS, TLS, timeout): the outcome of the call is
 * unknown. One message for every cause: the endpoint is whatever host:port the user's credential
 * names, so "refused" vs "timed out" would let anyone probe the server's network for open ports.
 */
export class OpenStackUnreachableError extends CloudError {
  constructor(readonly url: string) {
    super(`Cannot reach OpenStack at ${url}: no answer (the connection failed or timed out)`, 502, 'Unreachable');
  }
}
