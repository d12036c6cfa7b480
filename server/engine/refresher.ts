/**
 * Re-reads VM states from the clouds in the background, so a VM deleted or stopped outside
 * tosca-im shows in the state (IM asks the cloud on every GET /state; we answer from the store
 * and keep the store current instead). Infrastructures with an unfinished job are skipped: the
 * job is already watching its VMs, and it decides what they become.
 */
import type { VmRecord } from '../store/types';
import type { CloudCredential } from '../../connectors/types';
import { liveVms, type EngineContext } from './context';
import { observeVm } from './jobs/observe';
import { errorMessage } from './util';
import { settleBounded } from '../../lib/async';

/** An infrastructure whose cloud answered no describe is asked again after 2, 4 ... 32 passes. */
const MAX_BACKOFF_PASSES = 32;

export class VmRefresher {
  private timer?: NodeJS.Timeout;
  private current: Promise<unknown> = Promise.resolve();
  private closed = false;
  private pass = 0;
  /**
   * Per infrastructure: consecutive passes where every describe failed, the pass to try again, and
   * the (sealed) credentials they failed with: new credentials are tried at once.
   */
  private readonly failing = new Map<string, { streak: number; nextPass: number; credentials: string }>();

  constructor(private readonly ctx: EngineContext, private readonly intervalMs: number) {}

  start(): void {
    if (this.intervalMs > 0) this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.current = this.refreshAll()
        .catch((e) => this.ctx.logger.warn({ err: errorMessage(e) }, 'refreshing VM states failed'))
        .finally(() => { if (!this.closed) this.schedule(); });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One pass over every settled infrastructure; returns how many VMs were described. */
  async refreshAll(): Promise<number> {
    const { store } = this.ctx;
    const pass = ++this.pass;
    const busy = new Set((await store.listOpenJobs()).map((j) => j.infrastructureId));
    const work: { creds: CloudCredential[]; vm: VmRecord; sealed: string }[] = [];
    const infs = await store.listInfrastructures();
    for (const id of this.failing.keys()) if (!infs.some((i) => i.id === id)) this.failing.delete(id);
    for (const inf of infs) {
      if (inf.phase === 'deploying' || inf.phase === 'deleting' || busy.has(inf.id)) continue;
      const backoff = this.failing.get(inf.id);
      if (backoff && backoff.credentials === inf.credentials && backoff.nextPass > pass) continue; // its cloud keeps refusing
      let creds: CloudCredential[];
      try {
        creds = this.ctx.credentialsOf(inf);
      } catch {
        continue; // sealed with another key: nothing to ask the cloud with
      }
      for (const vm of liveVms(await store.listVms(inf.id))) if (vm.handle) work.push({ creds, vm, sealed: inf.credentials });
    }
    const answered = new Map<string, { ok: boolean; sealed: string }>();
    await settleBounded(work, this.ctx.tuning.pollConcurrency, async ({ creds, vm, sealed }) => {
      if (this.closed) return;
      const obs = await observeVm(this.ctx, creds, vm);
      const ok = (answered.get(vm.infrastructureId)?.ok ?? false) || obs.describeError === undefined;
      answered.set(vm.infrastructureId, { ok, sealed });
      const outside = obs.state !== vm.state && (obs.state === 'off' || obs.state === 'stopped' || vm.state === 'off' || vm.state === 'stopped');
      if (outside && (await store.getVm(vm.infrastructureId, vm.id))?.state === obs.state) {
        await this.ctx.log(vm.infrastructureId, `The cloud reports the VM ${obs.state} (it was ${vm.state}): changed outside tosca-im.`, vm.id);
      }
    });
    for (const [infId, { ok, sealed }] of answered) {
      if (ok) {
        this.failing.delete(infId);
        continue;
      }
      const before = this.failing.get(infId);
      const streak = before && before.credentials === sealed ? before.streak + 1 : 1;
      this.failing.set(infId, { streak, nextPass: pass + Math.min(MAX_BACKOFF_PASSES, 2 ** streak), credentials: sealed });
    }
    return work.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }
}
