/**
 * The destroy job: terminate every VM, let each cloud clean up what is left of the
 * infrastructure (keypair, security groups, VMs whose launch was never recorded), then forget it.
 * Idempotent: a resumed job finds fewer VMs; an infrastructure already gone is a success.
 */
import type { CloudCredential } from '../../../connectors/types';
import type { InfrastructurePhase } from '../../store/types';
import { CloudError, ImError, imStatus } from '../../errors';
import type { EngineContext } from '../context';
import type { JobHandler } from '../runner';
import { errorMessage } from '../util';
import { settleBounded } from '../../../lib/async';

export interface DestroyPayload {
  force: boolean;
  releaseFloatingIps: boolean;
  /** Phase to return to when the destroy fails without force. */
  previousPhase: InfrastructurePhase;
}

export function destroyJob(ctx: EngineContext): JobHandler {
  return async (job) => {
    const infId = job.infrastructureId;
    const p = job.payload as unknown as DestroyPayload;
    const inf = await ctx.store.getInfrastructure(infId);
    if (!inf) return {};
    let creds: CloudCredential[] = [];
    const errors: DestroyError[] = [];
    try {
      creds = ctx.credentialsOf(inf);
    } catch (e) {
      errors.push({ where: 'credentials', err: e });
    }
    const opts = { releaseFloatingIps: p.releaseFloatingIps };
    const vms = await ctx.store.listVms(infId);
    const gone: string[] = [];
    await settleBounded(vms, ctx.tuning.vmConcurrency, async (vm) => {
      try {
        if (vm.handle) await ctx.connector(creds, vm.cloudId).terminate(vm.handle, opts);
        gone.push(vm.id);
      } catch (e) {
        errors.push({ where: `VM ${vm.id}`, err: e });
      }
    });
    await ctx.store.deleteVms(infId, gone);
    for (const cloudId of new Set(vms.map((v) => v.cloudId))) {
      try {
        await ctx.connector(creds, cloudId).cleanup(infId, opts);
      } catch (e) {
        errors.push({ where: `cloud "${cloudId}"`, err: e });
      }
    }
    if (errors.length && !p.force) {
      const err = destroyError(errors);
      await ctx.store.updateInfrastructure(infId, { phase: p.previousPhase });
      await ctx.log(infId, err.message);
      throw err;
    }
    if (errors.length) ctx.logger.warn({ inf: infId, errors: errors.map((e) => `${e.where}: ${errorMessage(e.err)}`) }, 'destroy forced despite errors');
    await ctx.configurator.release?.(infId);
    await ctx.store.deleteInfrastructure(infId);
    return {};
  };
}

interface DestroyError {
  where: string;
  err: unknown;
}

/**
 * One error for the caller: each distinct cause once (bad credentials fail every VM and the
 * cleanup alike), the cloud's status when every cause is the caller's (401 rejected credentials,
 * 403 denied), else 502; and the two ways out, since retrying the same request fails again.
 */
export function destroyError(errors: DestroyError[]): CloudError {
  const byMessage = new Map<string, string[]>();
  for (const e of errors) {
    const m = errorMessage(e.err);
    byMessage.set(m, [...(byMessage.get(m) ?? []), e.where]);
  }
  const causes = [...byMessage].map(([m, where]) => (byMessage.size === 1 ? m : `${where.join(', ')}: ${m}`));
  const statuses = errors.map((e) => (e.err instanceof ImError ? imStatus(e.err) : 502));
  const callers = statuses.every((s) => s >= 400 && s < 500);
  const first = errors.find((e) => e.err instanceof ImError)?.err as ImError | undefined;
  return new CloudError(
    `Error destroying the infrastructure: ${causes.join('; ')}. ` +
      'Send the cloud\'s current credentials in the Authorization header and try again, or add force=yes to remove ' +
      'the infrastructure from tosca-im without deleting what is left of it in the cloud.',
    callers ? statuses[0] : 502,
    callers ? (first as { code?: string } | undefined)?.code : undefined,
  );
}
