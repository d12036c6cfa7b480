/**
 * The boundary between the server engine and a cloud. A connector knows nothing of TOSCA's
 * syntax or the REST API: it receives what to launch as a ComputePlan and reports what exists.
 */
import type { ComputePlan, HostSizing } from '../tosca/plan';

/** One credential line of the IM Authorization header (other than InfrastructureManager). */
export interface CloudCredential {
  /** The line's `id`, which templates and VM records refer to. */
  id: string;
  /** `type` as written: OpenStack, EC2, Dummy, ... */
  type: string;
  /** Every other key = value pair of the line, keys as written. */
  fields: Record<string, string>;
}

/** IM's VM states. */
export type VmState =
  | 'pending'
  | 'running'
  | 'configured'
  | 'unconfigured'
  | 'stopped'
  | 'off'
  | 'failed'
  | 'unknown'
  | 'deleting';

export interface LaunchRequest {
  infrastructureId: string;
  /** IM VM id within the infrastructure ("0", "1", ...). */
  vmId: string;
  nodeName: string;
  compute: ComputePlan;
  /** OpenSSH public key to authorise for the admin user (per infrastructure). */
  publicKey: string;
  /** Admin user name on the VM (cloudadm by default, like IM). */
  adminUser: string;
  /** Cloud-init user data (plain text; the connector encodes it). */
  userData?: string;
  /** Stable token so that a retried launch never creates a second VM. */
  clientToken: string;
}

/** What a connector remembers about a VM to find it again (stored as JSON). */
export interface VmHandle {
  cloudId: string;
  /** The cloud's own id (server UUID, instance id). */
  instanceId: string;
  /** Connector-specific extras (floating IP ids it allocated, port ids...). */
  extra?: Record<string, unknown>;
  /** The size the VM was resized to (IM's AlterVM); absent while it has the size its node planned. */
  size?: VmSizeInfo;
}

/** What a VM is sized as after a resize: shown in its RADL as cpu.count, memory.size, instance_type. */
export interface VmSizeInfo {
  cpus: number;
  memoryMB: number;
  /** The flavor / instance type name, where the cloud has them. */
  instanceType?: string;
}

export interface ResizeOptions {
  /**
   * Where the cloud must stop a VM to resize it (EC2): whether to start it again afterwards. Given by
   * the caller rather than read from the cloud, so that a resize resumed after a crash between the
   * stop and the start still ends with the VM running.
   */
  running: boolean;
}

export interface VmObservation {
  state: VmState;
  privateIps: string[];
  publicIps: string[];
  /** The cloud's reason for a failure (fault message), shown in contmsg. */
  fault?: string;
  /**
   * For a failed VM: false when launching it again cannot help (e.g. no public address to be had),
   * so the engine leaves it failed at once instead of relaunching it (IM's MAX_VM_FAILS).
   */
  retryable?: boolean;
  extra?: Record<string, unknown>;
}

export interface DestroyOptions {
  /** Release floating IPs / Elastic IPs this infrastructure allocated (default: keep them). */
  releaseFloatingIps: boolean;
}

export interface InfrastructureScope {
  infrastructureId: string;
  /** Every compute of the plan, to create per-infrastructure resources (security group rules). */
  computes: ComputePlan[];
  publicKey: string;
}

/** One image of a cloud as IM lists it (GET /clouds/{id}/images): a URI templates can name. */
export interface CloudImage {
  uri: string;
  name: string;
}

/** Used and maximum amount of one resource; limit -1 when the cloud states none. */
export interface QuotaUsage {
  used: number;
  limit: number;
}

/** IM's quota keys (cores, ram in GB, instances, floating_ips, security_groups); clouds may add more. */
export type CloudQuotas = Record<string, QuotaUsage>;

export interface CloudConnector {
  readonly type: string;
  /** The images this account can boot (IM's list_images); filters are cloud-specific key = value. */
  listImages?(filters?: Record<string, string>): Promise<CloudImage[]>;
  /** Used and maximum resources of this account (IM's get_quotas). */
  quotas?(): Promise<CloudQuotas>;
  /**
   * How many more VMs of this compute's size the account's quotas allow (the elasticity manager's
   * clamp); undefined when the cloud states no limit that applies.
   */
  roomFor?(compute: ComputePlan): Promise<number | undefined>;
  /**
   * Resize a VM in place to the smallest size that fits `wish` (num_cpus, mem_size, or the exact
   * instance_type), as launch chooses one; resolves once the cloud finished, to the size now in force.
   * Resumable: called again after an interruption it finishes the same resize.
   */
  resizeVm?(vm: VmHandle, wish: HostSizing, opts: ResizeOptions): Promise<VmSizeInfo>;
  /** Snapshot disk `diskNumber` of a VM into a new image named `imageName`; resolves to its URI. */
  snapshotDisk?(vm: VmHandle, diskNumber: number, imageName: string): Promise<string>;
  /** Per-infrastructure resources (keypair, security group); idempotent. */
  prepare(scope: InfrastructureScope): Promise<void>;
  /** Start one VM; idempotent for the same clientToken. Resolves once the cloud accepted it. */
  launch(req: LaunchRequest): Promise<VmHandle>;
  /** Current state and addresses of a VM. A VM that no longer exists is reported as 'off'. */
  describe(vm: VmHandle): Promise<VmObservation>;
  /** Delete a VM (and detach its public IP, keeping it unless told otherwise); idempotent. */
  terminate(vm: VmHandle, opts: DestroyOptions): Promise<void>;
  start(vm: VmHandle): Promise<void>;
  stop(vm: VmHandle): Promise<void>;
  reboot(vm: VmHandle): Promise<void>;
  /** Remove everything left of the infrastructure, found by its tags/names; idempotent. */
  cleanup(infrastructureId: string, opts: DestroyOptions): Promise<void>;
}

export type ConnectorFactory = (cred: CloudCredential) => CloudConnector;
