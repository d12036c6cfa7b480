/**
 * IM picks the cloud of a system by its image URL: `ost://host/id` goes to an OpenStack credential whose
 * `host` is that host, `aws://region/ami` to EC2, `one://` to OpenNebula, `dummy://` to Dummy, and so on
 * (each connector's concreteSystem accepts only its own scheme). Used when no deploy/placement names the cloud.
 */
import type { CloudCredential } from '../../connectors/types';

const SCHEME_TYPES: Record<string, string> = {
  ost: 'openstack', aws: 'ec2', one: 'opennebula', dummy: 'dummy', gce: 'gce', azr: 'azure', docker: 'docker',
  kub: 'kubernetes', fbw: 'fogbow', lin: 'linode', ora: 'orange', exo: 'exoscale', vsp: 'vsphere',
};

function hostOf(url: string): string {
  try {
    return new URL(/^[a-z]+:\/\//i.test(url) ? url : `https://${url}`).hostname.toLowerCase();
  } catch {
    return url.toLowerCase();
  }
}

/**
 * The caller's credential IM would use for this image URL, or undefined when the URL names no cloud
 * (then the first supported credential is used). IM tries the clouds in the Authorization header's
 * order and takes the first whose connector accepts the system: Dummy accepts any image, the others
 * their own scheme; among OpenStack credentials the one whose `host` is the URL's host is preferred.
 */
export function cloudForImage(image: string | undefined, creds: CloudCredential[]): CloudCredential | undefined {
  const m = /^([a-z0-9]+):\/\/([^/]*)/i.exec(image ?? '');
  const type = m ? SCHEME_TYPES[m[1].toLowerCase()] : undefined;
  if (!m || !type) return undefined;
  const first = creds.find((c) => c.type.toLowerCase() === 'dummy' || c.type.toLowerCase() === type);
  if (!first || first.type.toLowerCase() !== 'openstack') return first;
  const host = m[2].toLowerCase().split(':')[0];
  return creds.find((c) => c.type.toLowerCase() === 'openstack' && c.fields.host && hostOf(c.fields.host) === host) ?? first;
}
