/**
 * Bridges the engine's Configurator hook to server/configure's SSH Configurator: maps the VMs,
 * master and changes onto its request, and its log entries onto contmsg lines. VMs on the Dummy
 * cloud have nothing to log in to, so an all-Dummy infrastructure is configured without SSH.
 * Also runs the stop/delete operations of VMs about to be removed (`teardown`).
 */
import { Configurator as SshCore, formatLogEntry, type ConfiguratorOptions, type ContextLogEntry, type VmTarget } from '../configure';
import {
  NoopConfigurator, type Configurator, type ConfigureRequest, type ConfigureResult, type ConfigureVm, type TeardownRequest,
} from './configurator';

export class SshConfigurator implements Configurator {
  private readonly core: SshCore;
  private readonly noop = new NoopConfigurator();
  /** The contmsg writer of each infrastructure being configured. */
  private readonly logs = new Map<string, ConfigureRequest['log']>();
  /** VMs whose stop/delete operations are running, per infrastructure. */
  private readonly leaving = new Map<string, Set<string>>();

  constructor(opts: Omit<ConfiguratorOptions, 'onLog'> = {}) {
    this.core = new SshCore({ ...opts, onLog: (e) => this.onLog(e) });
  }

  async configure(req: ConfigureRequest): Promise<ConfigureResult> {
    if (req.vms.every((v) => v.cloudType.toLowerCase() === 'dummy')) return this.noop.configure(req);
    const unconfigured = (): ConfigureResult => ({ vms: Object.fromEntries(req.vms.map((v) => [v.id, 'unconfigured' as const])) });
    if (req.masterVmId === undefined) {
      await req.log('Contextualization impossible: no running VM has a public IP to reach the others through.');
      return unconfigured();
    }
    this.logs.set(req.infrastructureId, req.log);
    const onAbort = () => {
      for (const v of req.vms) this.core.cancelVm(req.infrastructureId, v.id);
    };
    req.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await req.log('Contextualization started.');
      const res = await this.core.submit({
        infrastructureId: req.infrastructureId,
        plan: req.plan,
        masterVmId: req.masterVmId,
        vms: req.vms.map((v) => target(v, req.ssh.privateKey)),
        changes: req.changes,
        vmList: req.targets,
      });
      const failed = Object.values(res.vms).filter((s) => s !== 'configured').length;
      await req.log(failed ? `Contextualization finished with errors (${failed} VM(s) unconfigured).` : 'Contextualization finished successfully.');
      return { vms: res.vms };
    } finally {
      req.signal.removeEventListener('abort', onAbort);
    }
  }

  /** A command on the master over the configuration's connection (the elasticity probes and drains). */
  runOnMaster(infrastructureId: string, command: string, opts: Parameters<SshCore['runOnMaster']>[2] = {}): Promise<{ exitCode: number; output: string }> {
    return this.core.runOnMaster(infrastructureId, command, opts);
  }

  /** Stop/delete operations on the leaving VMs; their step lines go to the infrastructure's contmsg (theirs go with them). */
  async teardown(req: TeardownRequest): Promise<void> {
    if (req.vms.every((v) => v.cloudType.toLowerCase() === 'dummy')) return;
    if (req.masterVmId === undefined) {
      await req.log(`Stop/delete operations of VM(s) ${req.leaving.join(', ')} not run: no master to reach them through.`);
      return;
    }
    this.logs.set(req.infrastructureId, req.log);
    this.leaving.set(req.infrastructureId, new Set(req.leaving));
    try {
      const res = await this.core.teardown({
        infrastructureId: req.infrastructureId, plan: req.plan, masterVmId: req.masterVmId, leaving: req.leaving,
        vms: req.vms.map((v) => target(v, req.ssh.privateKey)), signal: req.signal,
      });
      if (res.steps.length === 0) return;
      const failed = res.steps.filter((s) => s.status !== 'ok').length;
      await req.log(`Stop/delete operations of VM(s) ${req.leaving.join(', ')} finished${failed ? ` with ${failed} failed step(s); the VMs are removed anyway` : ''}.`);
    } finally {
      this.leaving.delete(req.infrastructureId);
    }
  }

  vmRemoved(infrastructureId: string, vmId: string): void {
    this.core.cancelVm(infrastructureId, vmId);
  }

  vmLeaving(infrastructureId: string, vmId: string): void {
    this.core.cancelSteps(infrastructureId, vmId);
  }

  async release(infrastructureId: string): Promise<void> {
    this.logs.delete(infrastructureId);
    await this.core.release(infrastructureId);
  }

  close(): Promise<void> {
    return this.core.close();
  }

  private onLog(e: ContextLogEntry): void {
    const log = this.logs.get(e.infrastructureId);
    // a leaving VM's own log is deleted with it: its teardown steps go to the infrastructure's
    const vmId = this.leaving.get(e.infrastructureId)?.has(e.vmId) ? undefined : e.vmId;
    // contmsg prefixes its own timestamp: drop the entry's leading one.
    void log?.(formatLogEntry(e).slice(e.time.length + 1), vmId).catch(() => undefined);
  }
}

/** An engine VM as the SSH layer reaches it. */
function target(v: ConfigureVm, privateKey: string): VmTarget {
  return {
    vmId: v.id, nodeName: v.nodeName, privateIp: v.privateIps[0] ?? v.publicIps[0] ?? '', publicIp: v.publicIps[0],
    ssh: { user: v.adminUser, privateKey }, lastResult: v.lastResult,
  };
}
