/**
 * Pick the smallest VM size that satisfies a HostSizing (OpenStack flavors, EC2 instance types).
 * "Smallest" orders by GPUs, then CPUs, then memory, then disk, then name: a node that asks for no GPU
 * never lands on a GPU size while a plain one fits.
 */
import { CloudError } from '../../lib/errors';
import type { HostSizing } from '../../tosca/plan';

export interface VmSize {
  id: string;
  name: string;
  cpus: number;
  memoryMB: number;
  /** Root disk in GB; 0 means "sized by the image" (OpenStack) and does not satisfy a disk wish. */
  diskGB: number;
  gpus: number;
  /** Lower-case words describing the GPU (vendor, model) when gpus > 0. */
  gpuLabel?: string;
}

export function chooseSize<T extends VmSize>(sizes: T[], wish: HostSizing, cloudLabel: string): T {
  if (wish.instanceType) {
    const exact = sizes.find((s) => s.name === wish.instanceType) ?? sizes.find((s) => s.id === wish.instanceType);
    if (!exact) {
      throw new CloudError(`Instance type "${wish.instanceType}" does not exist in ${cloudLabel} (available: ${sizes.map((s) => s.name).join(', ')})`, 400, 'FlavorNotFound');
    }
    return exact;
  }
  const gpus = wish.numGpus ?? 0;
  const fits = sizes.filter(
    (s) =>
      s.cpus >= (wish.numCpus ?? 0) &&
      s.memoryMB >= (wish.memSizeMB ?? 0) &&
      (wish.diskSizeGB ? s.diskGB >= wish.diskSizeGB : true) &&
      s.gpus >= gpus &&
      (gpus === 0 || gpuMatches(s.gpuLabel ?? '', wish)),
  );
  fits.sort((a, b) => a.gpus - b.gpus || a.cpus - b.cpus || a.memoryMB - b.memoryMB || a.diskGB - b.diskGB || a.name.localeCompare(b.name));
  if (!fits.length) throw new CloudError(`No instance type in ${cloudLabel} satisfies ${describeWish(wish)}`, 400, 'NoFlavor');
  return fits[0];
}

function gpuMatches(label: string, wish: HostSizing): boolean {
  const l = label.toLowerCase();
  return (!wish.gpuVendor || l.includes(wish.gpuVendor.toLowerCase())) && (!wish.gpuModel || l.includes(wish.gpuModel.toLowerCase()));
}

export function describeWish(w: HostSizing): string {
  const parts = [
    w.numCpus !== undefined && `${w.numCpus} CPUs`,
    w.memSizeMB !== undefined && `${w.memSizeMB} MB of memory`,
    w.diskSizeGB !== undefined && `${w.diskSizeGB} GB of disk`,
    w.numGpus && `${w.numGpus} GPUs${w.gpuVendor ? ` (${[w.gpuVendor, w.gpuModel].filter(Boolean).join(' ')})` : ''}`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'the request';
}
