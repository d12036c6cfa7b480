/** Asking the cloud how VMs are, and waiting until they reach a state. */
import type { CloudCredential, VmState } from '../../../connectors/types';
import type { VmRecord } from '../../store/types';
import type { EngineContext } from '../context';
import { errorMessage, sleep, throwIfAborted } from '../util';

/** Describes a VM and records what changed; returns the observed state. */
export async function observeVm(ctx: EngineContext, creds: CloudCredential[], vm: VmRecord): Promise<VmState> {
  if (!vm.handle) return vm.state;
  let obs;
  try {
    obs = await ctx.connector(creds, vm.cloudId).describe(vm.handle);
  } catch (e) {
    ctx.logger.warn({ inf: vm.infrastructureId, vm: vm.id, err: errorMessage(e) }, 'describe failed');
    return vm.state;
  }
  const same = obs.state === vm.state && sameList(obs.privateIps, vm.privateIps) && sameList(obs.publicIps, vm.publicIps);
  if (!same) {
    await ctx.store.updateVm(vm.infrastructureId, vm.id, { state: obs.state, privateIps: obs.privateIps, publicIps: obs.publicIps });
  }
  if (obs.state === 'failed' && vm.state !== 'failed') {
    await ctx.log(vm.infrastructureId, `VM failed: ${obs.fault ?? 'reported failed by the cloud'}`, vm.id);
  }
  return obs.state;
}

/**
 * Polls the VMs (with backoff) until `settled` holds for each, or the timeout passes; VMs still
 * unsettled then are marked failed. Stops early when the infrastructure is being deleted.
 */
export async function waitForVms(
  ctx: EngineContext, creds: CloudCredential[], infId: string, vmIds: string[],
  settled: (s: VmState) => boolean, signal: AbortSignal, timeoutMs = ctx.tuning.deployTimeoutMs,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let interval = ctx.tuning.pollMinMs;
  let waiting = [...vmIds];
  for (;;) {
    throwIfAborted(signal);
    const next: string[] = [];
    for (const id of waiting) {
      const vm = await ctx.store.getVm(infId, id);
      if (!vm || vm.removing || !vm.handle) continue;
      const s = await observeVm(ctx, creds, vm);
      if (!settled(s) && s !== 'failed') next.push(id);
    }
    waiting = next;
    if (waiting.length === 0) return;
    const inf = await ctx.store.getInfrastructure(infId);
    if (!inf || inf.phase === 'deleting') return;
    if (Date.now() > deadline) {
      for (const id of waiting) {
        await ctx.store.updateVm(infId, id, { state: 'failed' });
        await ctx.log(infId, `VM did not reach the expected state within ${Math.round(timeoutMs / 1000)} s`, id);
      }
      return;
    }
    await sleep(interval, signal);
    interval = Math.min(ctx.tuning.pollMaxMs, interval * 2);
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
