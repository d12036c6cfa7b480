/**
 * IM's RADL rendering of deployed VMs (doc/source/radl.rst): `network` blocks and a `system`
 * block per VM with net_interface.N.{connection,ip}, state, instance_id, instance_name,
 * provider.{type,host,port} and the
 * admin credentials. The JSON form uses IM's conventions: "class" and "id", sizes in bytes.
 */
import type { VmSizeInfo } from '../../connectors/types';
import type { ComputePlan } from '../../tosca/plan';
import type { VmView } from './service';
import { dumpRadlText, Feature as RadlFeature, FeatureAspect, Radl } from '../../radl';
import { mapInSlices, yieldToLoop } from '../../lib/async';

type Feature = [name: string, value: string | number];

/** RADL features of a compute as planned (stored in VmView.system); sizes in bytes as in JSON RADL. */
export function systemFeatures(c: ComputePlan): Record<string, string | number> {
  const f: Record<string, string | number> = {};
  if (c.host.numCpus !== undefined) f['cpu.count'] = c.host.numCpus;
  if (c.os.architecture) f['cpu.arch'] = c.os.architecture;
  if (c.host.memSizeMB !== undefined) f['memory.size'] = Math.round(c.host.memSizeMB * 1024 * 1024);
  if (c.host.instanceType) f.instance_type = c.host.instanceType;
  if (c.host.numGpus !== undefined) f['gpu.count'] = c.host.numGpus;
  if (c.host.gpuVendor) f['gpu.vendor'] = c.host.gpuVendor;
  if (c.host.gpuModel) f['gpu.model'] = c.host.gpuModel;
  f['disk.0.os.name'] = c.os.type && c.os.type.toLowerCase() !== 'linux' ? c.os.type.toLowerCase() : 'linux';
  if (c.os.distribution) f['disk.0.os.flavour'] = c.os.distribution;
  if (c.os.version) f['disk.0.os.version'] = c.os.version;
  if (c.os.image) f['disk.0.image.url'] = c.os.image;
  if (c.host.diskSizeGB !== undefined) f['disk.0.free_size'] = Math.round(c.host.diskSizeGB * 1024 ** 3);
  return f;
}

/** The planned features with the size a resize gave the VM (IM's AlterVM), when it had one. */
export function sizedFeatures(planned: Record<string, string | number>, size: VmSizeInfo | undefined): Record<string, string | number> {
  if (!size) return planned;
  const f: Record<string, string | number> = { ...planned, 'cpu.count': size.cpus, 'memory.size': Math.round(size.memoryMB * 1024 * 1024) };
  if (size.instanceType) f.instance_type = size.instanceType;
  else delete f.instance_type;
  return f;
}

interface RadlNetwork { id: string; outbound: 'yes' | 'no' }

function vmNetworks(vm: VmView): { networks: RadlNetwork[]; features: Feature[] } {
  const networks: RadlNetwork[] = [];
  const features: Feature[] = [];
  let n = 0;
  const hasPublic = vm.publicIps.length > 0;
  if (hasPublic) {
    networks.push({ id: 'public', outbound: 'yes' });
    features.push([`net_interface.${n}.connection`, 'public']);
    if (vm.publicIps[0]) features.push([`net_interface.${n}.ip`, vm.publicIps[0]]);
    n++;
  }
  networks.push({ id: 'private', outbound: 'no' });
  features.push([`net_interface.${n}.connection`, 'private']);
  if (vm.privateIps[0]) features.push([`net_interface.${n}.ip`, vm.privateIps[0]]);
  return { networks, features };
}

/** withKey: the VM's SSH private key, for VM info only (IM's infrastructure RADL has none either). */
function systemOf(vm: VmView, withKey = true): { networks: RadlNetwork[]; features: Feature[] } {
  const { networks, features: netFeatures } = vmNetworks(vm);
  const features: Feature[] = [];
  for (const [k, v] of Object.entries(vm.system)) {
    if (typeof v === 'string' || typeof v === 'number') features.push([k, v]);
  }
  features.push(...netFeatures);
  if (vm.credentials) {
    features.push(['disk.0.os.credentials.username', vm.credentials.username]);
    if (vm.credentials.password) features.push(['disk.0.os.credentials.password', vm.credentials.password]);
    if (withKey && vm.credentials.privateKey) features.push(['disk.0.os.credentials.private_key', vm.credentials.privateKey]);
  }
  features.push(['state', vm.state]);
  if (vm.instanceId) features.push(['instance_id', vm.instanceId]);
  if (vm.instanceName) features.push(['instance_name', vm.instanceName]);
  features.push(['provider.type', vm.cloudType]);
  if (vm.provider) features.push(['provider.host', vm.provider.host]);
  if (vm.provider?.port !== undefined) features.push(['provider.port', vm.provider.port]);
  return { networks, features };
}

/** A RADL feature of ours as the radl/ model's: sizes written in M as IM shows them. */
function modelFeature([name, v]: Feature): RadlFeature {
  if (typeof v === 'number' && (name === 'memory.size' || /^disk\.\d+\.(size|free_size)$/.test(name))) {
    return new RadlFeature(name, '=', Math.round(v / (1024 * 1024)), 'M');
  }
  return new RadlFeature(name, '=', v);
}

function networkAspect(n: RadlNetwork): FeatureAspect {
  return new FeatureAspect('network', n.id, [new RadlFeature('outbound', '=', n.outbound)]);
}

/** A system block; its name and values go through radl/'s writer, so a node name can never forge a block. */
function systemAspect(id: string, features: Feature[]): FeatureAspect {
  const s = new FeatureAspect('system', id);
  for (const f of features) s.addFeature(modelFeature(f), 'other');
  return s;
}

function radlText(networks: RadlNetwork[], systems: FeatureAspect[], stored?: Radl): string {
  const radl = new Radl();
  radl.networks.push(...networks.map(networkAspect));
  radl.systems.push(...systems);
  if (stored) {
    radl.configures.push(...stored.configures);
    radl.contextualize.update(stored.contextualize);
  }
  return dumpRadlText(radl).trimEnd() + '\n';
}

export function vmRadlText(vm: VmView): string {
  const { networks, features } = systemOf(vm);
  return radlText(networks, [systemAspect(vm.nodeName, features)]);
}

export function vmRadlJson(vm: VmView): object[] {
  const { networks, features } = systemOf(vm);
  return [
    ...networks.map((n) => ({ class: 'network', id: n.id, outbound: n.outbound })),
    { class: 'system', id: vm.nodeName, ...Object.fromEntries(features) },
  ];
}

/**
 * An infrastructure's RADL: each network once, then a system block per system (its first VM's values:
 * a RADL document defines each system once, and IM answers the infrastructure's RADL, not one per VM);
 * with `stored` (an infrastructure made from RADL), its configure recipes and contextualize as IM's
 * answer carries them. The VMs are read `slice` at a time with the event loop free in between
 * (an infrastructure has up to 1,000 VMs).
 */
export async function infrastructureRadlText(vms: VmView[], stored?: Radl, slice = 100): Promise<string> {
  const nets = new Map<string, RadlNetwork>();
  const seen = new Set<string>();
  const systems = (await mapInSlices(vms, (vm) => {
    const { networks, features } = systemOf(vm, false);
    for (const n of networks) nets.set(n.id, n);
    if (seen.has(vm.nodeName)) return undefined;
    seen.add(vm.nodeName);
    return systemAspect(vm.nodeName, features);
  }, slice)).filter((s) => s !== undefined);
  return radlText([...nets.values()], systems, stored);
}

