/**
 * The IM credential line of an EC2 cloud:
 *   id = ec2; type = EC2; username = ACCESS_KEY; password = SECRET_KEY
 *   [; host = https://endpoint (EC2-compatible clouds)] [; region = us-east-1] [; token = SESSION_TOKEN]
 *   [; delete_floating_ips = yes]
 */
import { InvalidInputError } from '../../lib/errors';
import type { CloudCredential } from '../types';
import { field, parseBoolOption } from '../shared/options';

export interface Ec2Credential {
  id: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Custom endpoint; undefined means AWS's regional endpoint. */
  host?: URL;
  region: string;
  releaseFloatingIps: boolean;
}

export const DEFAULT_REGION = 'us-east-1';

export function parseEc2Credential(cred: CloudCredential): Ec2Credential {
  const f = cred.fields;
  const accessKeyId = field(f, 'username', 'access_key');
  const secretAccessKey = field(f, 'password', 'secret_key');
  if (!accessKeyId || !secretAccessKey) {
    throw new InvalidInputError(`EC2 credential "${cred.id}" needs username (the access key) and password (the secret key)`);
  }
  const hostText = field(f, 'host', 'endpoint', 'base_url');
  let host: URL | undefined;
  if (hostText) {
    try {
      host = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(hostText) ? hostText : `https://${hostText}`);
    } catch {
      throw new InvalidInputError(`EC2 credential "${cred.id}": host "${hostText}" is not a URL`);
    }
    if (host.protocol !== 'http:' && host.protocol !== 'https:') {
      throw new InvalidInputError(`EC2 credential "${cred.id}": host must be an http(s) URL, not "${hostText}"`);
    }
  }
  return {
    id: cred.id,
    accessKeyId,
    secretAccessKey,
    sessionToken: field(f, 'token', 'session_token'),
    host,
    region: field(f, 'region', 'service_region') ?? DEFAULT_REGION,
    releaseFloatingIps: parseBoolOption(f.delete_floating_ips, 'delete_floating_ips'),
  };
}

/** The endpoint of a region: the credential's host when it has one, else AWS's regional endpoint. */
export function endpointFor(cred: Ec2Credential, region: string): URL {
  return cred.host ?? new URL(`https://ec2.${region}.amazonaws.com/`);
}

/** An image reference: `aws://region/ami-id` (IM's form) or a plain `ami-id` in the credential's region. */
export function parseImage(image: string | undefined, cred: Ec2Credential): { region: string; imageId: string } {
  if (!image) throw new InvalidInputError(`No image given for EC2 cloud "${cred.id}": set os.image to aws://region/ami-id or ami-id`);
  const url = /^aws:\/\/([^/]+)\/(ami-[0-9A-Za-z]+)\/?$/.exec(image.trim());
  if (url) return { region: url[1], imageId: url[2] };
  if (/^ami-[0-9A-Za-z]+$/.test(image.trim())) return { region: cred.region, imageId: image.trim() };
  throw new InvalidInputError(`Image "${image}" is not an EC2 image for cloud "${cred.id}": expected aws://region/ami-id or ami-id`);
}
