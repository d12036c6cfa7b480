/**
 * Bridges the engine's Configurator hook to server/configure's SSH Configurator: maps the VMs,
 * master and changes onto its request, and its log entries onto contmsg lines. VMs on the Dummy
 * cloud have nothing to log in to, so an all-Dummy infrastructure is configured without SSH.
 */
import { Configurator as SshCore, formatLogEntry, type ConfiguratorOptions, type ContextLogEntry } from '../configure';
import { NoopConfigurator, type Configurator, type ConfigureRequest, type ConfigureResult } from './configurator';

export class SshConfigurator implements Configurator {
  private readonly core: SshCore;
  private readonly noop = new NoopConfigurator();
  /** The contmsg writer of each infrastructure being configured. */
  private readonly logs = new Map<string, ConfigureRequest['log']>();

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
        vms: req.vms.map((v) => ({
          vmId: v.id, nodeName: v.nodeName, privateIp: v.privateIps[0] ?? v.publicIps[0] ?? '', publicIp: v.publicIps[0],
          ssh: { user: v.adminUser, privateKey: req.ssh.privateKey }, lastResult: v.lastResult,
        })),
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

  vmRemoved(infrastructureId: string, vmId: string): void {
    this.core.cancelVm(infrastructureId, vmId);
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
    // contmsg prefixes its own timestamp: drop the entry's leading one.
    void log?.(formatLogEntry(e).slice(e.time.length + 1), e.vmId).catch(() => undefined);
  }
}
