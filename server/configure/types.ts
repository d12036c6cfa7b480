/** The configuration layer's boundary: what the engine gives the Configurator and gets back. */
import type { Plan } from '../../tosca/plan';

/** One running VM to configure (IM's `vm`). */
export interface VmTarget {
  /** IM VM id within the infrastructure ("0", "1", ...). */
  vmId: string;
  /** The compute node template it instantiates. */
  nodeName: string;
  privateIp: string;
  /** Only the master (and any node the template gave a public IP) has one. */
  publicIp?: string;
  ssh: { user: string; privateKey: string; port?: number };
  /** Outcome of this VM's last configuration; anything but 'configured' re-runs its whole life cycle. */
  lastResult?: ConfigState;
}

export type ConfigState = 'configured' | 'unconfigured';

export interface RemovedVm {
  vmId: string;
  nodeName: string;
}

export interface ConfigureRequest {
  infrastructureId: string;
  plan: Plan;
  /** Every VM of the infrastructure that should exist after this run (removed ones excluded). */
  vms: VmTarget[];
  /** The VM reached directly that every private VM is reached through; fixed once chosen. */
  masterVmId: string;
  /**
   * What changed since the last run. Added VMs run their whole life cycle; existing VMs re-run only
   * the operations whose inputs use get_attribute of a node that gained or lost instances.
   * Absent (with no vmList): everything runs everywhere.
   */
  changes?: { added?: string[]; removed?: RemovedVm[] };
  /** IM's reconfigure vm_list: these VMs run their whole life cycle. */
  vmList?: string[];
}

export type StepStatus = 'running' | 'ok' | 'failed' | 'skipped';

/** One line of the contextualization log (IM's contmsg), emitted while the run progresses. */
export interface ContextLogEntry {
  time: string;
  infrastructureId: string;
  vmId: string;
  /** Software node name, or the compute node for connection steps. */
  node: string;
  /** `interface.operation`, or `ssh` for the connection wait. */
  step: string;
  status: StepStatus;
  exitCode?: number;
  durationMs?: number;
  /** Last lines of the step's combined stdout/stderr, or the error message. */
  output?: string;
}

export interface ConfigureResult {
  infrastructureId: string;
  /** Every VM of the request (minus those cancelled during the run). */
  vms: Record<string, ConfigState>;
  /** Steps that ran in this run, in completion order. */
  steps: { vmId: string; node: string; step: string; status: StepStatus; exitCode?: number }[];
  durationMs: number;
}

/** VMs about to be removed: their software's Standard stop → delete operations run on them. */
export interface TeardownRequest {
  infrastructureId: string;
  plan: Plan;
  /** Every VM still there, the leaving ones included (get_attribute sees them; the master reaches them). */
  vms: VmTarget[];
  masterVmId: string;
  /** The VMs to tear down (ids among `vms`). */
  leaving: string[];
  /** Stops the teardown (the infrastructure is destroyed, the server closes). */
  signal?: AbortSignal;
}

export interface TeardownResult {
  /** Steps that ran, in completion order (a VM whose SSH cannot be reached has one `ssh` step, failed). */
  steps: { vmId: string; node: string; step: string; status: StepStatus; exitCode?: number }[];
}
