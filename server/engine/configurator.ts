/**
 * The configuration step's hook. The engine calls it once VMs are running; server/configure
 * (SSH through the master, Ansible) implements it (see ssh-configurator.ts for the bridge). The
 * default marks VMs configured without touching them.
 */
import type { Plan } from '../../tosca/plan';

export interface ConfigureVm {
  id: string;
  nodeName: string;
  /** Admin user the VM was launched with (the node's os credentials user, else cloudadm). */
  adminUser: string;
  privateIps: string[];
  publicIps: string[];
  cloudType: string;
  /** Outcome of the VM's last configuration; undefined when never configured. */
  lastResult?: 'configured' | 'unconfigured';
}

export interface ConfigureRequest {
  infrastructureId: string;
  plan: Plan;
  /** Every running VM of the infrastructure (the configurator may need all for inventories). */
  vms: ConfigureVm[];
  /**
   * The VM reached directly, through which the others are reached: the lowest-id running VM with a
   * public IP, kept once chosen while it lives. Undefined when no running VM has a public IP.
   */
  masterVmId?: string;
  /** IM's reconfigure vm_list: these VMs run their whole life cycle. */
  targets?: string[];
  /**
   * What changed since the last configuration (add/remove resources). Undefined: a full run
   * (first configuration, or a reconfigure without vm_list).
   */
  changes?: { added: string[]; removed: { vmId: string; nodeName: string }[] };
  /** The infrastructure's SSH key pair the VMs were launched with (user: each VM's adminUser). */
  ssh: { privateKey: string; publicKey: string };
  /** Appends a line to the infrastructure's contmsg (vmId undefined) or to a VM's. */
  log(line: string, vmId?: string): Promise<void>;
  /** Aborted when the infrastructure is being destroyed or the engine closes. */
  signal: AbortSignal;
}

/** VMs about to be removed, for their software's Standard stop → delete operations. */
export interface TeardownRequest {
  infrastructureId: string;
  plan: Plan;
  /** Every running VM, the leaving ones included (the master reaches them; get_attribute sees them). */
  vms: ConfigureVm[];
  /** Ids of the leaving VMs (among `vms`). */
  leaving: string[];
  masterVmId?: string;
  ssh: { privateKey: string; publicKey: string };
  /** Appends a line to the infrastructure's contmsg (the leaving VMs' own logs go with them). */
  log(line: string, vmId?: string): Promise<void>;
  signal: AbortSignal;
}

export interface ConfigureResult {
  /** Outcome per VM id; VMs of the request left out keep their previous outcome, targets left out count as unconfigured. */
  vms: Record<string, 'configured' | 'unconfigured'>;
}

export interface Configurator {
  configure(req: ConfigureRequest): Promise<ConfigureResult>;
  /**
   * Optional: run the stop/delete operations of the software on VMs about to be removed (after the
   * others were re-configured without them, before they are deleted). Failures are the
   * configurator's to log; a rejection is logged by the engine and never stops the removal.
   */
  teardown?(req: TeardownRequest): Promise<void>;
  /** A VM was removed: its instance is gone (cancel its steps, forget its host key). */
  vmRemoved?(infrastructureId: string, vmId: string): void;
  /**
   * Optional: a VM was just marked for removal (DELETE .../vms, or a lower count / removal_list in
   * add-resources): stop its steps in a configuration run in progress, so that run ends and the
   * removal need not wait for them (issue 6, E-JOIN-4).
   */
  vmLeaving?(infrastructureId: string, vmId: string): void;
  /** The infrastructure is destroyed (close connections, drop caches). */
  release?(infrastructureId: string): Promise<void>;
  /** Called by engine.close(). */
  close?(): Promise<void>;
}

/** Marks every target configured, logging what it did (no SSH). */
export class NoopConfigurator implements Configurator {
  async configure(req: ConfigureRequest): Promise<ConfigureResult> {
    const targets = req.targets ?? req.vms.map((v) => v.id);
    await req.log(`Contextualization started (no configuration steps, ${targets.length} VM(s)).`);
    const vms: ConfigureResult['vms'] = {};
    for (const id of targets) {
      await req.log('VM configured.', id);
      vms[id] = 'configured';
    }
    await req.log('Contextualization finished successfully.');
    return { vms };
  }
}
