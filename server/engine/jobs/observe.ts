/** Asking the cloud how VMs are, and waiting until they reach a state. */
import type { CloudCredential, VmState } from '../../../connectors/types';
import type { VmRecord } from '../../store/types';
import type { EngineContext } from '../context';
import { errorMessage } from '../util';
import { settleBounded } from '../../../lib/async';
import { sleep, throwIfAborted } from '../../../lib/sleep';

export interface Observation {
  state: VmState;
  /** The cloud's reason when the VM failed. */
  fault?: string;
  /** False when relaunching a failed VM cannot help (see VmObservation.retryable). */
  retryable?: boolean;
  /** Set when the cloud could not be asked (the state is then the recorded one). */
  describeError?: string;
}

/**
 * Describes a VM and records what changed; returns what was observed. A describe that fails
 * (cloud unreachable, credentials refused) keeps the recorded state. A VM turning failed is
 * recorded with the cloud's fault in its contmsg, unless `deferFailure`: then nothing is written
 * and the caller decides (relaunch, or record the failure), so a VM whose record says `failed`
 * is one whose failure was final.
 */
export async function observeVm(ctx: EngineContext, creds: CloudCredential[], vm: VmRecord, deferFailure = false): Promise<Observation> {
  if (!vm.handle) return { state: vm.state };
  let obs;
  try {
    obs = await ctx.connector(creds, vm.cloudId).describe(vm.handle);
  } catch (e) {
    ctx.logger.warn({ inf: vm.infrastructureId, vm: vm.id, err: errorMessage(e) }, 'describe failed');
    return { state: vm.state, describeError: errorMessage(e) };
  }
  // The VM may have been removed (or relaunched) while the cloud answered: record nothing then.
  const now = await ctx.store.getVm(vm.infrastructureId, vm.id);
  if (!now || now.handle?.instanceId !== vm.handle.instanceId) return { state: obs.state, fault: obs.fault, retryable: obs.retryable };
  if (deferFailure && obs.state === 'failed' && now.state !== 'failed') return { state: obs.state, fault: obs.fault, retryable: obs.retryable };
  const same = obs.state === now.state && sameList(obs.privateIps, now.privateIps) && sameList(obs.publicIps, now.publicIps);
  if (!same) {
    await ctx.store.updateVm(vm.infrastructureId, vm.id, { state: obs.state, privateIps: obs.privateIps, publicIps: obs.publicIps });
  }
  if (obs.state === 'failed' && now.state !== 'failed') {
    await ctx.log(vm.infrastructureId, `VM failed: ${obs.fault ?? 'reported failed by the cloud'}`, vm.id);
  }
  return { state: obs.state, fault: obs.fault, retryable: obs.retryable };
}

export interface WaitOptions {
  timeoutMs?: number;
  /**
   * Called when a VM not yet recorded failed reports failed (the failure is not recorded: the
   * callback does it when it gives up); resolves true when the VM was launched again (keep waiting
   * for it). Runs in the background: the other VMs keep being polled meanwhile.
   */
  retry?: (vm: VmRecord, obs: Observation) => Promise<boolean>;
}

/**
 * Polls the VMs (with backoff) until `settled` holds for each, or the timeout passes; VMs still
 * unsettled then are marked failed. Stops early when the infrastructure is being deleted.
 * Each round describes the VMs concurrently (up to `pollConcurrency`), so a round costs about
 * one cloud round trip rather than one per VM.
 */
export async function waitForVms(
  ctx: EngineContext, creds: CloudCredential[], infId: string, vmIds: string[],
  settled: (s: VmState) => boolean, signal: AbortSignal, opts: WaitOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? ctx.tuning.deployTimeoutMs;
  const deadline = Date.now() + timeoutMs;
  let interval = ctx.tuning.pollMinMs;
  const waiting = new Set(vmIds);
  const retrying = new Map<string, Promise<void>>();
  let wake: () => void = () => undefined;
  const startRetry = (vm: VmRecord, obs: Observation) => {
    const task = opts.retry!(vm, obs)
      .then((again) => { if (!again) waiting.delete(vm.id); })
      .catch(async (e) => {
        waiting.delete(vm.id);
        if (signal.aborted) return;
        await ctx.log(infId, `Error relaunching the VM: ${errorMessage(e)}`, vm.id).catch(() => undefined);
      })
      .finally(() => {
        retrying.delete(vm.id);
        interval = ctx.tuning.pollMinMs; // the new VM is young: look at it soon
        wake();
      });
    retrying.set(vm.id, task);
  };
  try {
    await pollUntilSettled();
  } finally {
    // Never leave a relaunch running behind the job (a destroy could start meanwhile).
    await Promise.allSettled(retrying.values());
  }
  // A relaunch cut short by the abort leaves its VM without a handle: the job must not end as done.
  throwIfAborted(signal);

  async function pollUntilSettled(): Promise<void> {
    for (;;) {
      throwIfAborted(signal);
      const round = [...waiting].filter((id) => !retrying.has(id));
      await settleBounded(round, ctx.tuning.pollConcurrency, async (id) => {
        const vm = await ctx.store.getVm(infId, id);
        if (!vm || vm.removing || !vm.handle) return void waiting.delete(id);
        const obs = await observeVm(ctx, creds, vm, !!opts.retry);
        // A VM recorded failed before (an earlier job gave up on it) is not launched again.
        if (obs.state === 'failed' && opts.retry && vm.state !== 'failed') {
          if (signal.aborted) return; // left as it was: the resumed job sees the failure again
          return startRetry(vm, obs);
        }
        if (settled(obs.state) || obs.state === 'failed') waiting.delete(id);
      });
      if (waiting.size === 0) return;
      const inf = await ctx.store.getInfrastructure(infId);
      if (!inf || inf.phase === 'deleting') return;
      if (Date.now() > deadline) {
        await Promise.allSettled(retrying.values());
        for (const id of waiting) {
          if (!(await ctx.store.getVm(infId, id))) continue;
          await ctx.store.updateVm(infId, id, { state: 'failed' });
          await ctx.log(infId, `VM did not reach the expected state within ${Math.round(timeoutMs / 1000)} s`, id);
        }
        return;
      }
      const woken = new Promise<void>((resolve) => { wake = resolve; });
      await Promise.race([sleep(interval, signal), woken]);
      interval = Math.min(ctx.tuning.pollMaxMs, interval * 2);
    }
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
