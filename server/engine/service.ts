/**
 * What the REST layer asks of the engine. server/api translates HTTP to these calls and back;
 * the engine owns the business rules. Every method checks that `caller.owner` owns the
 * infrastructure (or the caller is an admin): InfrastructureNotFoundError (404) when there is no
 * such infrastructure, InfrastructureForbiddenError (403) when it is someone else's, as IM.
 */
import type { CloudCredential, CloudImage, CloudQuotas, VmState } from '../../connectors/types';

/** The caller, from the IM Authorization header (server/auth). */
export interface Caller {
  /** Opaque stable owner id derived from the InfrastructureManager line (never the password). */
  owner: string;
  /** Display user name of the InfrastructureManager line. */
  username: string;
  /** Cloud credential lines of this request. */
  credentials: CloudCredential[];
  /** An admin (--oidc-admin-groups, --admin-users) sees and manages every infrastructure. */
  admin?: boolean;
}

export type InfrastructureState = VmState;

export interface StateView {
  state: InfrastructureState;
  /** VM id → state */
  vm_states: Record<string, VmState>;
}

export interface VmView {
  id: string;
  infrastructureId: string;
  nodeName: string;
  state: VmState;
  cloudId: string;
  cloudType: string;
  instanceId?: string;
  /** The name the cloud knows the VM by (IM's `instance_name`), where the connector names VMs. */
  instanceName?: string;
  /** The cloud's server as the VM's credential names it (IM's `provider.host` / `provider.port`). */
  provider?: { host: string; port?: number };
  privateIps: string[];
  publicIps: string[];
  /** Admin user and private key for SSH (returned to the owner only, as IM does). */
  credentials?: { username: string; privateKey?: string; password?: string };
  /** The node's ComputePlan sizing/os as resolved (for RADL rendering). */
  system: Record<string, unknown>;
  contmsg: string;
}

export interface CreateOptions {
  async: boolean;
  dryRun?: boolean;
}
/** Options of a change of the VMs (add/remove) beyond IM's, for the layers above the engine. */
export interface ChangeOptions {
  /** Called once the change is recorded (rows written or marked removing, job queued, leaving VMs'
   * steps stopped) and before its job is waited for: a caller's own lock around deciding the
   * change (the elasticity runtime's) can end here instead of lasting the whole job. */
  onRecorded?: () => void;
}
/** Options of addResources beyond IM's (the elasticity manager's). */
export interface AddResourcesOptions extends ChangeOptions {
  /** false: return the new VM ids once their rows exist; the launch and configuration go on in the
   * background (a failed launch shows as failed VMs). Default true: wait for the launch, as IM. */
  wait?: boolean;
}
export interface DestroyRequestOptions {
  force: boolean;
  async: boolean;
  releaseFloatingIps: boolean;
}

export interface InfrastructureService {
  create(caller: Caller, toscaText: string, opts: CreateOptions): Promise<string>;
  list(caller: Caller, filter?: string): Promise<string[]>;
  /** VM ids of the infrastructure. */
  vmIds(caller: Caller, infId: string): Promise<string[]>;
  state(caller: Caller, infId: string): Promise<StateView>;
  contmsg(caller: Caller, infId: string, headerOnly: boolean): Promise<string>;
  outputs(caller: Caller, infId: string): Promise<Record<string, unknown>>;
  /** The TOSCA template of the infrastructure as it stands (counts updated). */
  tosca(caller: Caller, infId: string): Promise<string>;
  /** RADL text describing the infrastructure. */
  radl(caller: Caller, infId: string): Promise<string>;
  /** Serialised infrastructure (export); `deleteAfter` removes it from this server (IM's `delete` flag). */
  exportData(caller: Caller, infId: string, deleteAfter: boolean): Promise<string>;
  importData(caller: Caller, data: string): Promise<string>;
  /** Add resources / remove listed VMs from a TOSCA with new counts or removal_list; returns new VM ids. */
  addResources(caller: Caller, infId: string, toscaText: string, context: boolean, opts?: AddResourcesOptions): Promise<string[]>;
  removeVms(caller: Caller, infId: string, vmIds: string[], context: boolean, opts?: ChangeOptions): Promise<number>;
  destroy(caller: Caller, infId: string, opts: DestroyRequestOptions): Promise<void>;
  action(caller: Caller, infId: string, action: 'start' | 'stop' | 'reboot'): Promise<void>;
  /** `radlText`: IM's RADL body, whose configures and contextualize replace the stored ones. */
  reconfigure(caller: Caller, infId: string, vmList?: string[], radlText?: string): Promise<void>;
  vmInfo(caller: Caller, infId: string, vmId: string): Promise<VmView>;
  vmAction(caller: Caller, infId: string, vmId: string, action: 'start' | 'stop' | 'reboot'): Promise<void>;
  vmContmsg(caller: Caller, infId: string, vmId: string): Promise<string>;

  // Optional (server/engine/account.ts); the routes answer 400 when a service lacks them.
  /** IM user names of the owners (GET .../authorization); never a password or token. */
  owners?(caller: Caller, infId: string): Promise<string[]>;
  /** IM's ChangeInfrastructureAuth: add an owner, or (overwrite) make it the only one. */
  changeOwners?(caller: Caller, infId: string, added: { owner: string; username: string }, overwrite: boolean): Promise<void>;
  /** Images of the cloud of one credential line of the caller (GET /clouds/{cloudId}/images). */
  cloudImages?(caller: Caller, cloudId: string, filters?: Record<string, string>): Promise<CloudImage[]>;
  cloudQuotas?(caller: Caller, cloudId: string): Promise<CloudQuotas>;
  /** How many more VMs of the node fit in its cloud's quota; undefined when unknown (the elasticity manager's clamp). */
  quotaRoom?(caller: Caller, infId: string, nodeName: string): Promise<number | undefined>;
  /** An opaque key (hash) of the cloud account the node's next VM goes to (the elasticity manager's create budget). */
  cloudAccountKey?(caller: Caller, infId: string, nodeName: string): Promise<string | undefined>;
  /** IM's AlterVM: resize a VM to the Compute node of a TOSCA template; resolves to its new info. */
  alterVm?(caller: Caller, infId: string, vmId: string, toscaText: string): Promise<VmView>;
  /** Snapshot a VM's disk into a new image; resolves to the image URI. */
  snapshotDisk?(caller: Caller, infId: string, vmId: string, disk: number, imageName: string): Promise<string>;
}
