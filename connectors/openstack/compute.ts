/** Nova and Glance lookups: flavors (smallest that fits), images (id, name, ost:// URL), servers. */
import { CloudError } from '../../lib/errors';
import type { HostSizing, OsSpec } from '../../tosca/plan';
import { chooseSize, type VmSize } from '../shared/sizing';
import { regexEscape } from '../shared/naming';
import type { OpenStackCloud } from './cloud';
import { listAll } from './paging';

const TEN_MINUTES = 600_000;

interface NovaFlavor { id: string; name: string; vcpus: number; ram: number; disk: number; extra_specs?: Record<string, string>; 'OS-FLV-DISABLED:disabled'?: boolean }

export interface Flavor extends VmSize { raw: NovaFlavor }

/** GPUs a flavor gives, from the usual extra specs: PCI passthrough aliases or placement resources. */
export function flavorGpus(extra: Record<string, string> = {}): { count: number; label: string } {
  let count = 0;
  const labels: string[] = [];
  const alias = extra['pci_passthrough:alias'];
  if (alias) {
    for (const part of alias.split(',')) {
      const [name, n] = part.split(':');
      count += Number(n ?? 1) || 1;
      labels.push(name);
    }
  }
  for (const key of ['resources:VGPU', 'resources:PGPU']) if (extra[key]) count += Number(extra[key]) || 0;
  for (const key of ['gpu_vendor', 'gpu_model', 'trait:CUSTOM_GPU_MODEL']) if (extra[key]) labels.push(extra[key]);
  return { count, label: labels.join(' ').toLowerCase() };
}

export function listFlavors(cloud: OpenStackCloud): Promise<Flavor[]> {
  return cloud.memo('flavors', TEN_MINUTES, async () => {
    // Microversion 2.61 puts extra_specs (GPUs) in the listing: one call instead of one per flavor.
    const flavors = await listAll<NovaFlavor>(cloud.api, 'compute', '/flavors/detail', 'flavors', { headers: { 'OpenStack-API-Version': 'compute 2.61' } });
    return flavors
      .filter((f) => !f['OS-FLV-DISABLED:disabled'])
      .map((f) => {
        const gpu = flavorGpus(f.extra_specs);
        return { id: f.id, name: f.name, cpus: f.vcpus, memoryMB: f.ram, diskGB: f.disk, gpus: gpu.count, gpuLabel: gpu.label, raw: f };
      });
  });
}

export async function chooseFlavor(cloud: OpenStackCloud, wish: HostSizing): Promise<Flavor> {
  return chooseSize(await listFlavors(cloud), wish, `OpenStack cloud "${cloud.settings.credentialId}"`);
}

export interface GlanceImage { id: string; name: string; status: string; created_at?: string; os_distro?: string; os_version?: string | number }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Resolve the template's image: `ost://host/<id>` (IM's URL form; the host must be this cloud's),
 * an image id, or an image name (the newest active one when several share it). With no image but a
 * distribution (IM picks one then too): Glance's os_distro/os_version properties, else the name.
 */
export function resolveImage(cloud: OpenStackCloud, os: OsSpec, node: string): Promise<GlanceImage> {
  const ref = os.image;
  if (!ref) {
    if (os.distribution) return imageByDistribution(cloud, os.distribution, os.version);
    return Promise.reject(new CloudError(`Node "${node}" names neither an image nor a distribution (os.image / os.distribution) to boot on OpenStack`, 400, 'NoImage'));
  }
  return cloud.memo(`image:${ref}`, TEN_MINUTES, async () => {
    let wanted = ref;
    const url = /^ost:\/\/([^/]+)\/(.+)$/.exec(ref);
    if (url) {
      const ours = new URL(cloud.settings.host).hostname;
      const theirs = url[1].replace(/:\d+$/, '');
      if (theirs !== ours) {
        throw new CloudError(`Image "${ref}" belongs to the OpenStack site "${theirs}", not to "${ours}" (credential "${cloud.settings.credentialId}")`, 400, 'ImageNotFound');
      }
      wanted = url[2].replace(/\/+$/, '');
    }
    if (UUID.test(wanted)) {
      const r = await cloud.api.call<GlanceImage>('image', 'GET', `/images/${wanted}`, { accept: [404] });
      if (r.status === 200) return active(r.body, ref);
      if (url) throw new CloudError(`Image ${wanted} (from "${ref}") does not exist in OpenStack cloud "${cloud.settings.credentialId}"`, 400, 'ImageNotFound');
    }
    const hits = (await listImages(cloud, { name: wanted })).filter((i) => i.name === wanted);
    if (!hits.length) throw new CloudError(`No image named or with id "${wanted}" in OpenStack cloud "${cloud.settings.credentialId}"`, 400, 'ImageNotFound');
    return active(newest(hits.filter((i) => i.status === 'active')) ?? hits[0], ref);
  });
}

function imageByDistribution(cloud: OpenStackCloud, distribution: string, version?: string): Promise<GlanceImage> {
  const want = `${distribution}${version ? ` ${version}` : ''}`;
  return cloud.memo(`image-os:${want}`, TEN_MINUTES, async () => {
    const all = await listImages(cloud, { status: 'active', limit: '200' });
    const d = distribution.toLowerCase();
    const v = version === undefined ? undefined : String(version);
    const byProps = all.filter((i) => i.os_distro?.toLowerCase() === d && (v === undefined || String(i.os_version ?? '') === v));
    const nameRe = new RegExp(`${regexEscape(d)}[-_ ]?${v ? regexEscape(v) : ''}`, 'i');
    const hit = newest(byProps) ?? newest(all.filter((i) => nameRe.test(i.name)));
    if (!hit) throw new CloudError(`No active image of ${want} in OpenStack cloud "${cloud.settings.credentialId}": name one with os.image`, 400, 'ImageNotFound');
    return hit;
  });
}

/** Glance's image list, every page. */
export function listImages(cloud: OpenStackCloud, query: Record<string, string> | undefined): Promise<GlanceImage[]> {
  return listAll<GlanceImage>(cloud.api, 'image', '/images', 'images', { query });
}

const newest = (imgs: GlanceImage[]) => [...imgs].sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))[0];

function active(img: GlanceImage, ref: string): GlanceImage {
  if (img.status !== 'active') throw new CloudError(`Image "${ref}" (${img.id}) is ${img.status}, not active`, 400, 'ImageNotActive');
  return img;
}

export interface NovaServer {
  id: string;
  name: string;
  status: string;
  metadata?: Record<string, string>;
  addresses?: Record<string, { addr: string; 'OS-EXT-IPS:type'?: string; version?: number }[]>;
  fault?: { message?: string; details?: string };
  'OS-EXT-STS:task_state'?: string | null;
  /** Named by its id: we ask for no microversion (2.1), and only 2.47+ embed the flavor without it. */
  flavor?: { id?: string };
}

/** Servers whose name starts with `prefix-` (Nova's `name` filter is a regex). */
export async function listServersByPrefix(cloud: OpenStackCloud, prefix: string): Promise<NovaServer[]> {
  const servers = await listAll<NovaServer>(cloud.api, 'compute', '/servers/detail', 'servers', { query: { name: `^${regexEscape(prefix)}-` } });
  return servers.filter((s) => s.name.startsWith(`${prefix}-`));
}
