/**
 * Names and tags that mark cloud resources as belonging to one infrastructure. Every connector uses
 * the same conventions so that `cleanup(infrastructureId)` can find what a crashed run left behind by
 * asking the cloud, without trusting any local record.
 */

/** Metadata / tag keys written on every VM (OpenStack server metadata, EC2 instance tags). */
export const TAG_INFRASTRUCTURE = 'im_infrastructure_id';
export const TAG_NODE = 'im_node';
export const TAG_VM = 'im_vm_id';
export const TAG_CLIENT_TOKEN = 'im_client_token';
/** Present only on VMs that asked for a public IP; the value names the pool / network (or "default"). */
export const TAG_PUBLIC_IP = 'im_public_ip';

/** Prefix shared by every resource name of an infrastructure (servers, security group, keypair). */
export function infrastructurePrefix(infrastructureId: string): string {
  return `im-${safeName(infrastructureId)}`;
}

/** Name of the per-infrastructure security group and keypair. */
export function infrastructureResourceName(infrastructureId: string): string {
  return infrastructurePrefix(infrastructureId);
}

/** VM name: prefix + node + IM VM id, so listing by prefix finds every VM of the infrastructure. */
export function vmName(infrastructureId: string, nodeName: string, vmId: string): string {
  return `${infrastructurePrefix(infrastructureId)}-${safeName(nodeName)}-${safeName(vmId)}`;
}

/**
 * Marker written on public IPs this infrastructure allocated (OpenStack floating IP `description`,
 * EC2 address tag value). Only addresses carrying our marker may ever be released.
 */
export function ownerMarker(infrastructureId: string): string {
  return `im:${infrastructureId}`;
}

/** Cloud names allow letters, digits, '-' and '_' everywhere we use them; collapse anything else. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 100);
}

/** Escape a literal for use inside a regular expression (Nova's `name` filter is a regex). */
export function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
