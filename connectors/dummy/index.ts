/**
 * IM's `type = Dummy` cloud: VMs exist at once, with fake addresses, so the whole API can be used
 * without a cloud. Launch is idempotent by clientToken: the instance id and addresses are derived
 * from the token, so a restarted server that relaunches with the same token finds the same VM.
 *
 * Test knobs (optional credential fields):
 *   delay_ms   — each VM reports `pending` for this long after launch;
 *   fail_nodes — comma-separated node names whose VMs report `failed`.
 */
import * as crypto from 'crypto';
import type {
  CloudConnector, CloudCredential, CloudImage, CloudQuotas, DestroyOptions, InfrastructureScope, LaunchRequest, VmHandle, VmObservation, VmSizeInfo,
} from '../types';
import type { HostSizing } from '../../tosca/plan';
import { registerConnector } from '../registry';
import { InvalidInputError } from '../../lib/errors';

/** Power state changes of this process (start/stop/terminate); a fresh VM is running. */
const powerState = new Map<string, 'stopped' | 'terminated'>();

/** IM's Dummy cloud lists these two images (IM's test_GetCloudInfo); snapshots taken here follow. */
const DUMMY_IMAGES: readonly CloudImage[] = [
  { uri: 'mock0://linux.for.ev.er/image1', name: 'Image Name1' },
  { uri: 'mock0://linux.for.ev.er/image2', name: 'Image Name2' },
];
/** Snapshots taken in this process, per credential id. */
const snapshots = new Map<string, CloudImage[]>();

export class DummyConnector implements CloudConnector {
  readonly type = 'Dummy';
  private readonly delayMs: number;
  private readonly failNodes: Set<string>;

  constructor(private readonly cred: CloudCredential) {
    const delay = cred.fields.delay_ms;
    this.delayMs = delay === undefined ? 0 : Number(delay);
    if (!Number.isFinite(this.delayMs) || this.delayMs < 0) {
      throw new InvalidInputError(`Credential "${cred.id}": delay_ms must be a non-negative number`);
    }
    this.failNodes = new Set((cred.fields.fail_nodes ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  }

  async prepare(_scope: InfrastructureScope): Promise<void> {}

  async launch(req: LaunchRequest): Promise<VmHandle> {
    const digest = crypto.createHash('sha256').update(req.clientToken).digest();
    const instanceId = `dummy-${digest.subarray(0, 8).toString('hex')}`;
    powerState.delete(instanceId);
    return {
      cloudId: this.cred.id,
      instanceId,
      extra: {
        launchedAt: Date.now(),
        nodeName: req.nodeName,
        privateIp: `10.${digest[8]}.${digest[9]}.${(digest[10] % 253) + 1}`,
        // Documentation ranges (RFC 5737): never routable.
        publicIp: req.compute.publicIp ? `${digest[11] % 2 ? '198.51.100' : '203.0.113'}.${(digest[12] % 253) + 1}` : undefined,
      },
    };
  }

  async describe(vm: VmHandle): Promise<VmObservation> {
    const extra = vm.extra ?? {};
    const power = powerState.get(vm.instanceId);
    const ips = { privateIps: [String(extra.privateIp ?? '10.0.0.1')], publicIps: extra.publicIp ? [String(extra.publicIp)] : [] };
    if (power === 'terminated') return { state: 'off', privateIps: [], publicIps: [] };
    if (this.failNodes.has(String(extra.nodeName))) {
      return { state: 'failed', ...ips, fault: `Dummy: node "${String(extra.nodeName)}" is configured to fail (fail_nodes)` };
    }
    if (Date.now() < Number(extra.launchedAt ?? 0) + this.delayMs) return { state: 'pending', ...ips };
    return { state: power === 'stopped' ? 'stopped' : 'running', ...ips };
  }

  async terminate(vm: VmHandle, _opts: DestroyOptions): Promise<void> {
    powerState.set(vm.instanceId, 'terminated');
  }

  async start(vm: VmHandle): Promise<void> {
    if (powerState.get(vm.instanceId) !== 'terminated') powerState.delete(vm.instanceId);
  }

  async stop(vm: VmHandle): Promise<void> {
    if (powerState.get(vm.instanceId) !== 'terminated') powerState.set(vm.instanceId, 'stopped');
  }

  async reboot(_vm: VmHandle): Promise<void> {}

  /** Dummy VMs have no catalogue of sizes: a VM becomes exactly what is asked (1 CPU, 1 GB when unsaid). */
  async resizeVm(vm: VmHandle, wish: HostSizing): Promise<VmSizeInfo> {
    if (powerState.get(vm.instanceId) === 'terminated') throw new InvalidInputError(`VM ${vm.instanceId} no longer exists`);
    return { cpus: wish.numCpus ?? 1, memoryMB: wish.memSizeMB ?? 1024, ...(wish.instanceType ? { instanceType: wish.instanceType } : {}) };
  }

  async cleanup(_infrastructureId: string, _opts: DestroyOptions): Promise<void> {}

  async listImages(filters: Record<string, string> = {}): Promise<CloudImage[]> {
    const all = [...DUMMY_IMAGES, ...(snapshots.get(this.cred.id) ?? [])];
    // A `name` filter keeps the images whose name contains it; other keys do not apply here.
    return filters.name === undefined ? all : all.filter((i) => i.name.includes(filters.name));
  }

  /** IM's Dummy answers the same figures whatever runs (IM's test_GetCloudInfo). */
  async quotas(): Promise<CloudQuotas> {
    const q = () => ({ used: 1, limit: 10 });
    return { cores: q(), ram: q(), instances: q(), floating_ips: q(), security_groups: q() };
  }

  async snapshotDisk(vm: VmHandle, diskNumber: number, imageName: string): Promise<string> {
    if (powerState.get(vm.instanceId) === 'terminated') throw new InvalidInputError(`VM ${vm.instanceId} no longer exists`);
    if (diskNumber !== 0) throw new InvalidInputError(`Dummy VMs have one disk (0); there is no disk ${diskNumber}`);
    const image = { uri: `mock0://linux.for.ev.er/${encodeURIComponent(imageName)}`, name: imageName };
    const list = snapshots.get(this.cred.id) ?? [];
    snapshots.set(this.cred.id, [...list.filter((i) => i.uri !== image.uri), image]);
    return image.uri;
  }
}

registerConnector('Dummy', (cred) => new DummyConnector(cred));
