/** The EC2 CloudConnector: AWS or any EC2-compatible cloud, through the EC2 Query API. */
import { createHash } from 'node:crypto';
import type {
  CloudConnector, CloudCredential, CloudImage, CloudQuotas, DestroyOptions, InfrastructureScope, LaunchRequest, ResizeOptions, VmHandle, VmObservation,
  VmSizeInfo, VmState,
} from '../types';
import type { ComputePlan, HostSizing } from '../../tosca/plan';
import { defaultUserData } from '../shared/cloud-init';
import { wantsPublicIp } from '../shared/floating-ip-policy';
import type { RetryPolicy } from '../shared/http';
import { vmsThatFit } from '../shared/quota';
import { TAG_CLIENT_TOKEN, TAG_INFRASTRUCTURE, TAG_NODE, TAG_PUBLIC_IP, TAG_VM, vmName } from '../shared/naming';
import { PollOptions, pollUntil } from '../shared/poll';
import { CloudError } from '../../lib/errors';
import { accountImages, accountQuotas } from './account';
import { AddressRecord, attachPublicAddress, cleanupAddresses, detachPublicAddress } from './addresses';
import { QueryParams, tagSpecParams } from './client';
import { Ec2Credential, parseEc2Credential, parseImage } from './credential';
import { toCloudError } from './errors';
import { deleteGroupAndKey, ensureInfrastructure, liveInstancesOf, terminateInstances, waitTerminated } from './infrastructure';
import { chooseInstanceType } from './instance-types';
import { Ec2Instance, instancesOf } from './instances';
import { Ec2Session, sessionFor } from './session';

export interface Ec2ConnectorOptions {
  /** First interval when waiting for a state; doubles up to maxPollIntervalMs. */
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  launchTimeoutMs: number;
  terminateTimeoutMs: number;
  /** How long concurrent describe() calls are gathered into one DescribeInstances. */
  batchWindowMs: number;
  retry?: RetryPolicy;
}

export const DEFAULT_OPTIONS: Ec2ConnectorOptions = {
  pollIntervalMs: 1000,
  maxPollIntervalMs: 5000,
  launchTimeoutMs: 10 * 60 * 1000,
  terminateTimeoutMs: 5 * 60 * 1000,
  batchWindowMs: 15,
};

/** What the handle keeps besides the instance id. */
interface Ec2VmExtra {
  region: string;
  infrastructureId: string;
  launchedAt: number;
  address?: AddressRecord;
}

/** A VM that EC2 does not list yet right after RunInstances is pending, not gone (eventual consistency). */
const NOT_YET_VISIBLE_MS = 2 * 60 * 1000;

/** As IM's EC2 connector: a stopping VM still counts as running until it is stopped, so start() can follow. */
const STATES: Record<string, VmState> = {
  pending: 'pending',
  running: 'running',
  stopping: 'running',
  stopped: 'stopped',
  'shutting-down': 'deleting',
  terminated: 'off',
};

/** Infrastructure id → regions it used in this process (cleanup also looks in the credential's region). */
const regionsUsed = new Map<string, Set<string>>();

/** EC2 accepts client tokens of at most 64 ASCII characters. */
function ec2ClientToken(token: string): string {
  return /^[\x21-\x7e]{1,64}$/.test(token) ? token : createHash('sha256').update(token).digest('hex');
}

export class Ec2Connector implements CloudConnector {
  readonly type = 'EC2';
  private readonly cred: Ec2Credential;
  private readonly opts: Ec2ConnectorOptions;
  private readonly label: string;

  constructor(credential: CloudCredential, options: Partial<Ec2ConnectorOptions> = {}) {
    this.cred = parseEc2Credential(credential);
    this.opts = { ...DEFAULT_OPTIONS, ...options };
    this.label = `EC2 cloud "${credential.id}"`;
  }

  async prepare(scope: InfrastructureScope): Promise<void> {
    const regions = new Set(scope.computes.map((c) => parseImage(c.os.image, this.cred).region));
    await this.guard(() =>
      Promise.all([...regions].map((region) => {
        this.remember(scope.infrastructureId, region);
        const computes = scope.computes.filter((c) => parseImage(c.os.image, this.cred).region === region);
        return ensureInfrastructure(this.session(region), this.cred, { ...scope, computes }, this.label);
      })),
    );
  }

  async launch(req: LaunchRequest): Promise<VmHandle> {
    const { region, imageId } = parseImage(req.compute.os.image, this.cred);
    const s = this.session(region);
    this.remember(req.infrastructureId, region);
    return this.guard(async () => {
      const [prepared, catalog] = await Promise.all([
        ensureInfrastructure(s, this.cred, { infrastructureId: req.infrastructureId, computes: [req.compute], publicKey: req.publicKey }, this.label),
        s.instanceTypes(),
      ]);
      const instanceType = chooseInstanceType(catalog, req.compute.host, this.label);
      const publicIp = wantsPublicIp(req.compute);
      const tags: Record<string, string> = {
        Name: vmName(req.infrastructureId, req.nodeName, req.vmId),
        [TAG_INFRASTRUCTURE]: req.infrastructureId,
        [TAG_NODE]: req.nodeName,
        [TAG_VM]: req.vmId,
        [TAG_CLIENT_TOKEN]: req.clientToken,
        ...(publicIp ? { [TAG_PUBLIC_IP]: 'default' } : {}),
      };
      const params: QueryParams = {
        ImageId: imageId,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: instanceType,
        KeyName: prepared.keyName,
        'SecurityGroupId.1': prepared.groupId,
        SubnetId: req.compute.networks.find((n) => n.startsWith('subnet-')),
        UserData: Buffer.from(req.userData ?? defaultUserData(req.adminUser, req.publicKey)).toString('base64'),
        // The same token makes EC2 return the first launch instead of a second VM, so retrying is safe.
        ClientToken: ec2ClientToken(req.clientToken),
        ...tagSpecParams(1, 'instance', tags),
        ...this.rootVolume(s, imageId, req.compute.host.diskSizeGB),
      };
      const answer = await s.client.call('RunInstances', params, { idempotent: true });
      const instance = instancesOf({ reservationSet: { item: answer } })[0];
      if (!instance) throw new CloudError(`${this.label} returned no instance for RunInstances`, 502, 'NoInstance');
      const extra: Ec2VmExtra = { region, infrastructureId: req.infrastructureId, launchedAt: Date.now() };
      if (publicIp) {
        // EC2 associates an Elastic IP only with a running instance.
        await this.waitFor(s, instance.id, 'running');
        extra.address = await attachPublicAddress(s, req.infrastructureId, instance.id, this.label);
      }
      return { cloudId: this.cred.id, instanceId: instance.id, extra: { ...extra } };
    });
  }

  async describe(vm: VmHandle): Promise<VmObservation> {
    const extra = this.extraOf(vm);
    const s = this.session(extra.region);
    const inst = await this.guard(() => s.reader.get(vm.instanceId));
    if (!inst) {
      const young = Date.now() - extra.launchedAt < NOT_YET_VISIBLE_MS;
      return { state: young ? 'pending' : 'off', privateIps: [], publicIps: [] };
    }
    const failed = inst.state === 'terminated' && inst.stateReason?.code.startsWith('Server.');
    return {
      state: failed ? 'failed' : STATES[inst.state] ?? 'unknown',
      privateIps: inst.privateIp ? [inst.privateIp] : [],
      publicIps: inst.publicIp ? [inst.publicIp] : [],
      fault: failed ? `${inst.stateReason!.code}: ${inst.stateReason!.message}` : undefined,
      extra: { instanceType: inst.type },
    };
  }

  async terminate(vm: VmHandle, opts: DestroyOptions): Promise<void> {
    const extra = this.extraOf(vm);
    const s = this.session(extra.region);
    // Does not wait for `terminated`: describe() reports 'deleting' then 'off', and cleanup() waits for
    // all of an infrastructure's instances at once, so an engine slot is not held for a shutdown.
    await this.guard(async () => {
      if (extra.address) await detachPublicAddress(s, extra.infrastructureId, extra.address, this.release(opts));
      await terminateInstances(s, [vm.instanceId]);
    });
  }

  start(vm: VmHandle): Promise<void> {
    return this.powerAction(vm, 'StartInstances');
  }

  stop(vm: VmHandle): Promise<void> {
    return this.powerAction(vm, 'StopInstances');
  }

  reboot(vm: VmHandle): Promise<void> {
    return this.powerAction(vm, 'RebootInstances');
  }

  /**
   * EC2 changes the type of a stopped instance only: StopInstances, wait for stopped,
   * ModifyInstanceAttribute InstanceType, then StartInstances and wait for running when the VM is to
   * run. Each step is skipped when the instance is already past it, so a resumed resize finishes.
   */
  async resizeVm(vm: VmHandle, wish: HostSizing, opts: ResizeOptions): Promise<VmSizeInfo> {
    const s = this.session(this.extraOf(vm).region);
    return this.guard(async () => {
      const catalog = await s.instanceTypes();
      const type = chooseInstanceType(catalog, wish, this.label);
      const known = catalog.sizes.find((t) => t.name === type);
      let inst = await s.reader.get(vm.instanceId);
      if (!inst || inst.state === 'terminated' || inst.state === 'shutting-down') {
        throw new CloudError(`Instance ${vm.instanceId} of ${this.label} no longer exists`, 404, 'InstanceGone');
      }
      if (inst.type !== type) {
        if (inst.state === 'pending') inst = await this.waitFor(s, vm.instanceId, 'running');
        if (inst.state === 'running') await s.client.call('StopInstances', { 'InstanceId.1': vm.instanceId });
        if (inst.state !== 'stopped') await this.waitFor(s, vm.instanceId, 'stopped');
        await s.client.call('ModifyInstanceAttribute', { InstanceId: vm.instanceId, 'InstanceType.Value': type });
        inst = { ...inst, state: 'stopped' };
      }
      if (opts.running && inst.state !== 'running') {
        if (inst.state === 'stopping') await this.waitFor(s, vm.instanceId, 'stopped');
        await s.client.call('StartInstances', { 'InstanceId.1': vm.instanceId });
        await this.waitFor(s, vm.instanceId, 'running');
      }
      // The built-in table may not know an exact instance_type: its figures are then what was asked.
      return { cpus: known?.cpus ?? wish.numCpus ?? 0, memoryMB: known?.memoryMB ?? wish.memSizeMB ?? 0, instanceType: type };
    });
  }

  async cleanup(infrastructureId: string, opts: DestroyOptions): Promise<void> {
    const used = [...(regionsUsed.get(infrastructureId) ?? [])];
    // A custom endpoint is one cloud whatever the signing region: clean it once, not once per region.
    const regions = new Set(this.cred.host ? [used[0] ?? this.cred.region] : [this.cred.region, ...used]);
    await this.guard(() =>
      Promise.all([...regions].map(async (region) => {
        const s = this.session(region);
        const live = await liveInstancesOf(s, infrastructureId);
        const ids = live.map((i) => i.id);
        if (ids.length) {
          await cleanupAddresses(s, infrastructureId, new Set(ids), false);
          await terminateInstances(s, live.filter((i) => i.state !== 'shutting-down').map((i) => i.id));
          await waitTerminated(s, ids, this.poll(this.opts.terminateTimeoutMs));
        }
        // Unassociated addresses need no work unless some are to be released.
        if (this.release(opts)) await cleanupAddresses(s, infrastructureId, new Set(), true);
        await deleteGroupAndKey(s, infrastructureId, this.poll(this.opts.terminateTimeoutMs));
      })),
    );
    regionsUsed.delete(infrastructureId);
  }

  private async powerAction(vm: VmHandle, action: 'StartInstances' | 'StopInstances' | 'RebootInstances'): Promise<void> {
    const s = this.session(this.extraOf(vm).region);
    await this.guard(() => s.client.call(action, { 'InstanceId.1': vm.instanceId }));
  }

  private release(opts: DestroyOptions): boolean {
    return opts.releaseFloatingIps || this.cred.releaseFloatingIps;
  }

  private async waitFor(s: Ec2Session, id: string, state: 'running' | 'stopped'): Promise<Ec2Instance> {
    return pollUntil(async () => {
      const inst = await s.reader.get(id);
      if (inst?.state === state) return inst;
      if (inst && (inst.state === 'terminated' || inst.state === 'shutting-down')) {
        const why = inst.stateReason ? `${inst.stateReason.code}: ${inst.stateReason.message}` : inst.state;
        throw new CloudError(`Instance ${id} of ${this.label} did not ${state === 'running' ? 'start' : 'stop'} (${why})`, 502, 'InstanceFailed');
      }
      return undefined;
    }, { ...this.poll(this.opts.launchTimeoutMs), what: `instance ${id} to be ${state}` });
  }

  private rootVolume(s: Ec2Session, imageId: string, diskSizeGB: number | undefined): QueryParams {
    const device = s.images.get(imageId)?.rootDeviceName;
    if (!diskSizeGB || !device) return {};
    return {
      'BlockDeviceMapping.1.DeviceName': device,
      'BlockDeviceMapping.1.Ebs.VolumeSize': Math.ceil(diskSizeGB),
      'BlockDeviceMapping.1.Ebs.DeleteOnTermination': true,
    };
  }

  private poll(timeoutMs: number): Omit<PollOptions, 'what'> {
    return { intervalMs: this.opts.pollIntervalMs, maxIntervalMs: this.opts.maxPollIntervalMs, timeoutMs };
  }

  /** IM's list_images: `region` among the filters picks the region (default: the credential's). */
  listImages(filters: Record<string, string> = {}): Promise<CloudImage[]> {
    return this.guard(() => accountImages(this.session(filters.region || this.cred.region), filters));
  }

  quotas(): Promise<CloudQuotas> {
    return this.guard(() => accountQuotas(this.session(this.cred.region)));
  }

  /**
   * Only on an EC2-compatible endpoint: there max-instances is the limit RunInstances enforces. AWS
   * itself documents that attribute as unsupported (its vCPU limits live in the Service Quotas API,
   * not called here), so on AWS the answer is "unknown" rather than a wrong clamp.
   */
  async roomFor(compute: ComputePlan): Promise<number | undefined> {
    if (!this.cred.host) return undefined;
    const s = this.session(parseImage(compute.os.image, this.cred).region);
    return this.guard(async () => {
      const [quotas, catalog] = await Promise.all([accountQuotas(s), s.instanceTypes()]);
      const type = chooseInstanceType(catalog, compute.host, this.label);
      const size = catalog.sizes.find((t) => t.name === type);
      return vmsThatFit(quotas, { cpus: size?.cpus ?? 0, memoryMB: size?.memoryMB ?? 0 });
    });
  }

  private session(region: string): Ec2Session {
    return sessionFor(this.cred, region, this.opts.retry, this.opts.batchWindowMs);
  }

  private remember(infrastructureId: string, region: string): void {
    if (!regionsUsed.has(infrastructureId)) regionsUsed.set(infrastructureId, new Set());
    regionsUsed.get(infrastructureId)!.add(region);
  }

  private extraOf(vm: VmHandle): Ec2VmExtra {
    const e = (vm.extra ?? {}) as Partial<Ec2VmExtra>;
    return {
      region: e.region ?? this.cred.region,
      infrastructureId: e.infrastructureId ?? '',
      launchedAt: e.launchedAt ?? 0,
      address: e.address,
    };
  }

  /** Every failure leaves as a CloudError with the IM API's status and a message naming the cloud. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toCloudError(err, this.label);
    }
  }
}

