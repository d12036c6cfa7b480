/**
 * What GET /clouds/{id}/images and /quotas ask of an OpenStack account, in IM's shapes:
 * images as `ost://<keystone host>/<image id>` (the URI form resolveImage accepts back), quotas from
 * Nova's quota set (cores, ram in GB, instances) and Neutron's (floating IPs, security groups),
 * as IM's OpenStack connector reads them (in use + reserved).
 */
import type { CloudImage, CloudQuotas, QuotaUsage } from '../types';
import type { OpenStackCloud } from './cloud';
import { listImages } from './compute';
import { vmsThatFit } from '../shared/quota';

/** Glance filters IM clients send that are not Glance's (IM uses `region` for EC2). */
const NOT_GLANCE = new Set(['region']);

export async function accountImages(cloud: OpenStackCloud, filters: Record<string, string> = {}): Promise<CloudImage[]> {
  const query = Object.fromEntries(Object.entries(filters).filter(([k]) => !NOT_GLANCE.has(k)));
  const host = new URL(cloud.settings.host).hostname;
  const images = await listImages(cloud, Object.keys(query).length ? query : undefined);
  return images.map((i) => ({ uri: `ost://${host}/${i.id}`, name: i.name }));
}

interface NovaQuota { in_use?: number; reserved?: number; limit: number }
interface NeutronQuota { used?: number; reserved?: number; limit: number }

export async function accountQuotas(cloud: OpenStackCloud): Promise<CloudQuotas> {
  const { projectId } = await cloud.session.token();
  const { out, fromNova } = await novaQuotas(cloud, projectId);
  const put = (key: string, v: QuotaUsage | undefined) => { if (v) out[key] = v; };
  // Nova stopped reporting network quotas (microversion 2.36); Neutron is where they live.
  const neutron = await neutronQuotas(cloud, projectId);
  put('floating_ips', neutron?.floatingip ?? fromNova('floating_ips'));
  put('security_groups', neutron?.security_group ?? fromNova('security_groups'));
  return out;
}

/**
 * How many more servers of `flavor` fit in the project: Nova's cores, ram and instances only (what
 * POST /servers is refused for), so no Neutron call.
 */
export async function flavorRoom(cloud: OpenStackCloud, flavor: { cpus: number; memoryMB: number }): Promise<number | undefined> {
  const { projectId } = await cloud.session.token();
  return vmsThatFit((await novaQuotas(cloud, projectId)).out, flavor);
}

/** cores, ram (GB) and instances from Nova's quota set, plus a reader for its other keys. */
async function novaQuotas(cloud: OpenStackCloud, projectId: string) {
  const nova = (await cloud.api.call<{ quota_set: Record<string, NovaQuota | string> }>(
    'compute', 'GET', `/os-quota-sets/${encodeURIComponent(projectId)}/detail`,
  )).body.quota_set;
  const fromNova = (key: string, scale = 1): QuotaUsage | undefined => {
    const q = nova[key];
    if (!q || typeof q !== 'object') return undefined;
    return { used: ((q.in_use ?? 0) + (q.reserved ?? 0)) / scale, limit: q.limit < 0 ? -1 : q.limit / scale };
  };
  const out: CloudQuotas = {};
  for (const [key, scale] of [['cores', 1], ['ram', 1024], ['instances', 1]] as const) {
    const v = fromNova(key, scale);
    if (v) out[key] = v;
  }
  return { out, fromNova };
}

async function neutronQuotas(cloud: OpenStackCloud, projectId: string): Promise<Record<string, QuotaUsage> | undefined> {
  const r = await cloud.api.call<{ quota: Record<string, NeutronQuota> }>(
    'network', 'GET', `/quotas/${encodeURIComponent(projectId)}/details`, { accept: [404] },
  );
  // A Neutron without the quota-details extension answers 404: Nova's figures are used then.
  if (r.status === 404 || !r.body?.quota) return undefined;
  const conv = (q?: NeutronQuota): QuotaUsage | undefined => q && { used: (q.used ?? 0) + (q.reserved ?? 0), limit: q.limit < 0 ? -1 : q.limit };
  const out: Record<string, QuotaUsage> = {};
  for (const key of ['floatingip', 'security_group']) {
    const v = conv(r.body.quota[key]);
    if (v) out[key] = v;
  }
  return out;
}
