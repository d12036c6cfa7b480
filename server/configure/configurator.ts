/**
 * The engine's entry to configuration. Per infrastructure it keeps an SshRunner (connections
 * reused between runs), the host keys, the artifact cache, the master and the last result per
 * VM; runs are serialised and the requests arriving during a run are coalesced into the next one.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ensureAnsible, type AnsibleReady } from './ansible-bootstrap';
import { runPlaybook, type PlaybookTarget } from './ansible-step';
import { ArtifactStore, type ArtifactSources } from './artifacts';
import { Batcher } from './batcher';
import { resolveInputs } from './attributes';
import { outputTail } from './contmsg';
import { ConfigureError, ConfigureInputError, MasterChangedError, StepCancelledError } from './errors';
import { MemoryHostKeyStore, type HostKeyStore } from './keys';
import { runScript, scriptPath, uploadScript } from './script-step';
import { SshRunner, type ExecResult, type SshStats } from './ssh-runner';
import { isFullRun, planSteps, teardownSteps, type Step } from './steps';
import type {
  ConfigState, ConfigureRequest, ConfigureResult, ContextLogEntry, RemovedVm, StepStatus, TeardownRequest, TeardownResult, VmTarget,
} from './types';

export interface ConfiguratorOptions {
  /** Server-side working directory (per infrastructure: the artifact cache). */
  workDir?: string;
  /** Called for every log entry while runs progress (the engine appends them to contmsg). */
  onLog?: (entry: ContextLogEntry) => void;
  /** Steps running at once per infrastructure. Default 24. */
  parallelSteps?: number;
  /** Default 30 min. */
  stepTimeoutMs?: number;
  /** How long to wait for a VM's sshd. Default 300 s. */
  sshWaitTimeoutMs?: number;
  /** Host keys per infrastructure (default in memory); give a persistent one to survive restarts. */
  hostKeys?: (infrastructureId: string) => HostKeyStore;
  /** Where artifacts come from (template dir, import map, inline texts). */
  artifacts?: (infrastructureId: string) => ArtifactSources;
  /** Connections idle this long after a run are closed. Default 120 s. */
  idleCloseMs?: number;
  /** Stop/delete operations on a leaving VM: how long to wait for its SSH (default 30 s) and per step (default 5 min). */
  teardownConnectTimeoutMs?: number;
  teardownStepTimeoutMs?: number;
}

interface RunControl {
  vmAborts: Map<string, AbortController>;
  cancelled: Set<string>;
}

interface Pending {
  req: ConfigureRequest;
  waiters: { resolve: (r: ConfigureResult) => void; reject: (e: Error) => void }[];
}

interface InfraState {
  runner: SshRunner;
  hostKeys: HostKeyStore;
  artifacts: ArtifactStore;
  masterVmId?: string;
  results: Record<string, ConfigState>;
  active?: Promise<ConfigureResult>;
  control?: RunControl;
  next?: Pending;
  idleTimer?: NodeJS.Timeout;
  /** Ansible checked (or installed) on the master: once per infrastructure, retried after a failure. */
  ansible?: Promise<AnsibleReady>;
}

class Semaphore {
  private queue: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.queue.push(r));
    return () => { const n = this.queue.shift(); if (n) n(); else this.free++; };
  }
}

const union = <T>(a: T[] = [], b: T[] = [], key: (x: T) => string = String): T[] => {
  const m = new Map<string, T>();
  for (const x of [...a, ...b]) m.set(key(x), x);
  return [...m.values()];
};

/** Two requests as one: the later snapshot of the VMs, the union of what changed. */
export function mergeRequests(a: ConfigureRequest, b: ConfigureRequest): ConfigureRequest {
  const base = { infrastructureId: b.infrastructureId, plan: b.plan, vms: b.vms, masterVmId: b.masterVmId };
  if (isFullRun(a) || isFullRun(b)) return base;
  const present = new Set(b.vms.map((v) => v.vmId));
  const changes = {
    added: union(a.changes?.added, b.changes?.added).filter((id) => present.has(id)),
    removed: union<RemovedVm>(a.changes?.removed, b.changes?.removed, (r) => r.vmId).filter((r) => !present.has(r.vmId)),
  };
  const vmList = a.vmList || b.vmList ? union(a.vmList, b.vmList).filter((id) => present.has(id)) : undefined;
  return { ...base, changes, ...(vmList ? { vmList } : {}) };
}

export class Configurator {
  private readonly infras = new Map<string, InfraState>();
  private readonly workDir: string;

  constructor(private readonly opts: ConfiguratorOptions = {}) {
    this.workDir = opts.workDir ?? join(tmpdir(), 'tosca-im-configure');
  }

  /**
   * Configures (or re-configures) an infrastructure. Serialised per infrastructure: a request made
   * while a run is in progress is merged with the other waiting ones and runs next; all of them
   * resolve with that run's result. Never rejects because of a failing step (see result.vms).
   */
  submit(req: ConfigureRequest): Promise<ConfigureResult> {
    try {
      this.validate(req);
    } catch (err) {
      return Promise.reject(err);
    }
    const st = this.state(req.infrastructureId);
    if (!st.active) return this.startRun(st, req);
    return new Promise((resolve, reject) => {
      if (st.next) st.next.req = mergeRequests(st.next.req, req);
      else st.next = { req, waiters: [] };
      st.next.waiters.push({ resolve, reject });
    });
  }

  /** A VM is being deleted: cancel its steps now, drop it from queued runs, forget its host key. */
  cancelVm(infrastructureId: string, vmId: string): void {
    const st = this.infras.get(infrastructureId);
    if (!st) return;
    this.cancelSteps(infrastructureId, vmId);
    delete st.results[vmId];
    st.runner.forget(vmId);
  }

  /**
   * A VM is marked for removal: stop its steps in the current run (which then ends without it) and
   * drop it from queued runs, but keep its host key: its stop/delete operations (`teardown`) still
   * log in to it before it is deleted. Its connection is closed: sshd keeps a channel open until
   * its command exits, whatever signal is asked for, so only that ends a hung step at once.
   */
  cancelSteps(infrastructureId: string, vmId: string): void {
    const st = this.infras.get(infrastructureId);
    if (!st) return;
    st.control?.cancelled.add(vmId);
    st.control?.vmAborts.get(vmId)?.abort();
    if (st.next) st.next.req = { ...st.next.req, vms: st.next.req.vms.filter((v) => v.vmId !== vmId) };
    if (st.control) st.runner.disconnect(vmId);
  }

  /**
   * Runs the Standard stop → delete operations of the software on VMs about to be removed: after
   * the run that re-configured the others without them, before the engine deletes them. Never
   * rejects because a step failed or a VM cannot be reached (each is logged and returned): a
   * teardown must not hold up the removal, so SSH is waited for only `teardownConnectTimeoutMs`, and
   * a failed stop does not keep delete from cleaning up. Leaving VMs in parallel, within `parallelSteps`.
   */
  async teardown(req: TeardownRequest): Promise<TeardownResult> {
    const infId = req.infrastructureId;
    const work = req.leaving
      .map((id) => req.vms.find((v) => v.vmId === id))
      .filter((v): v is VmTarget => v !== undefined)
      .map((vm) => ({ vm, steps: teardownSteps(req.plan, vm) }))
      .filter((w) => w.steps.length > 0);
    if (work.length === 0) return { steps: [] };
    const master = req.vms.find((v) => v.vmId === req.masterVmId);
    if (!master?.publicIp) throw new ConfigureInputError(`teardown ${infId}: master VM ${req.masterVmId} is not among the VMs or has no public IP`);
    const st = this.state(infId);
    if (st.masterVmId && st.masterVmId !== req.masterVmId) throw new MasterChangedError(infId, st.masterVmId, req.masterVmId);
    st.masterVmId = req.masterVmId;
    st.runner.setMaster(master);

    const signal = req.signal ?? new AbortController().signal;
    const timeoutMs = this.opts.teardownStepTimeoutMs ?? 5 * 60_000;
    const connectMs = this.opts.teardownConnectTimeoutMs ?? 30_000;
    const sem = new Semaphore(this.opts.parallelSteps ?? 24);
    const playbooks = this.playbookBatcher(st, infId, master, sem, timeoutMs);
    const asRun: ConfigureRequest = { infrastructureId: infId, plan: req.plan, vms: req.vms, masterVmId: req.masterVmId };
    const steps: TeardownResult['steps'] = [];
    const note = (entry: Omit<ContextLogEntry, 'time' | 'infrastructureId'>) => {
      if (entry.status !== 'running') steps.push({ vmId: entry.vmId, node: entry.node, step: entry.step, status: entry.status, exitCode: entry.exitCode });
      this.log({ infrastructureId: infId, ...entry });
    };
    await Promise.all(work.map(async ({ vm, steps: todo }) => {
      try {
        await st.runner.connect(vm, AbortSignal.any([signal, AbortSignal.timeout(connectMs)]));
      } catch (err) {
        return note({ vmId: vm.vmId, node: vm.nodeName, step: 'ssh', status: 'failed', output: `not reachable within ${connectMs / 1000} s: ${(err as Error).message}` });
      }
      for (const s of todo) {
        if (signal.aborted) return;
        const step = `${s.op.interface}.${s.op.name}`;
        const release = isPlaybook(s) ? () => undefined : await sem.acquire();
        const started = Date.now();
        try {
          note({ vmId: vm.vmId, node: s.software.name, step, status: 'running' });
          const uploaded = isPlaybook(s) ? undefined
            : st.artifacts.get(s.op.implementation!).then((a) => uploadScript(st.runner, vm, scriptPath(infId, stemOf(s)), a.content, signal));
          uploaded?.catch(() => undefined); // reported by execute, which awaits it
          const res = await this.execute(st, asRun, s, master, signal, uploaded, playbooks, timeoutMs);
          note({ vmId: vm.vmId, node: s.software.name, step, status: res.exitCode === 0 ? 'ok' : 'failed', exitCode: res.exitCode, durationMs: Date.now() - started, output: outputTail(res.output) });
        } catch (err) {
          const out = (err as { output?: string }).output;
          note({ vmId: vm.vmId, node: s.software.name, step, status: 'failed', durationMs: Date.now() - started, output: outputTail((err as Error).message + (out ? '\n' + out : '')) });
        } finally {
          release();
        }
      }
    }));
    return { steps };
  }

  /** The infrastructure is destroyed: close connections, forget keys and cached artifacts. */
  async release(infrastructureId: string): Promise<void> {
    const st = this.infras.get(infrastructureId);
    if (!st) return;
    const queued = st.next;
    st.next = undefined;
    queued?.waiters.forEach((w) => w.reject(new ConfigureError(`infrastructure ${infrastructureId} was released before its queued configuration ran`)));
    for (const id of st.control?.vmAborts.keys() ?? []) this.cancelVm(infrastructureId, id);
    await st.active?.catch(() => undefined);
    clearTimeout(st.idleTimer);
    st.runner.close();
    this.infras.delete(infrastructureId);
    await rm(this.infraDir(infrastructureId), { recursive: true, force: true });
  }

  /**
   * Runs a command on the master over the infrastructure's existing connection (the elasticity
   * probes: queue state, node drain). `master` is needed only before the first configuration run
   * since this process started. Resolves with the exit code and the output's tail.
   */
  async runOnMaster(infrastructureId: string, command: string, opts: { timeoutMs?: number; keepBytes?: number; master?: VmTarget } = {}): Promise<{ exitCode: number; output: string }> {
    const st = this.state(infrastructureId);
    if (opts.master) {
      if (st.masterVmId && st.masterVmId !== opts.master.vmId) throw new MasterChangedError(infrastructureId, st.masterVmId, opts.master.vmId);
      if (!opts.master.publicIp) throw new ConfigureInputError(`infrastructure ${infrastructureId}: master VM ${opts.master.vmId} has no public IP`);
      if (!st.masterVmId) { st.masterVmId = opts.master.vmId; st.runner.setMaster(opts.master); }
    }
    const master = st.runner.getMaster();
    if (!master) throw new ConfigureError(`infrastructure ${infrastructureId}: no master known yet (configure it first or pass the master)`);
    const res = await st.runner.exec(master, command, { timeoutMs: opts.timeoutMs ?? 60_000, keepBytes: opts.keepBytes });
    return { exitCode: res.exitCode, output: res.output };
  }

  /** SSH connection counters of an infrastructure (for benchmarks and metrics). */
  sshStats(infrastructureId: string): SshStats | undefined {
    return this.infras.get(infrastructureId)?.runner.stats;
  }

  async close(): Promise<void> {
    await Promise.all([...this.infras.keys()].map((id) => this.release(id)));
  }

  private infraDir(infId: string): string {
    return join(this.workDir, infId.replace(/[^A-Za-z0-9_.-]/g, '_'));
  }

  private validate(req: ConfigureRequest): void {
    const master = req.vms.find((v) => v.vmId === req.masterVmId);
    if (!master) throw new ConfigureInputError(`configure ${req.infrastructureId}: master VM ${req.masterVmId} is not among the VMs`);
    if (!master.publicIp) throw new ConfigureInputError(`configure ${req.infrastructureId}: master VM ${req.masterVmId} has no public IP`);
    const st = this.infras.get(req.infrastructureId);
    if (st?.masterVmId && st.masterVmId !== req.masterVmId) throw new MasterChangedError(req.infrastructureId, st.masterVmId, req.masterVmId);
    for (const vm of req.vms) {
      if (!req.plan.computes.some((c) => c.name === vm.nodeName)) throw new ConfigureInputError(`configure ${req.infrastructureId}: VM ${vm.vmId} names unknown compute node ${vm.nodeName}`);
    }
  }

  private state(infId: string): InfraState {
    let st = this.infras.get(infId);
    if (!st) {
      const hostKeys = this.opts.hostKeys?.(infId) ?? new MemoryHostKeyStore();
      st = {
        hostKeys,
        runner: new SshRunner({ hostKeys, waitTimeoutMs: this.opts.sshWaitTimeoutMs }),
        artifacts: new ArtifactStore(this.infraDir(infId), this.opts.artifacts?.(infId) ?? {}),
        results: {},
      };
      this.infras.set(infId, st);
    }
    return st;
  }

  private startRun(st: InfraState, req: ConfigureRequest): Promise<ConfigureResult> {
    clearTimeout(st.idleTimer);
    const p = this.run(st, req).finally(() => {
      st.active = undefined;
      st.control = undefined;
      const next = st.next;
      st.next = undefined;
      if (next) {
        this.startRun(st, next.req).then((r) => next.waiters.forEach((w) => w.resolve(r)), (e) => next.waiters.forEach((w) => w.reject(e)));
      } else {
        st.idleTimer = setTimeout(() => { for (const id of Object.keys(st.results)) st.runner.disconnect(id); }, this.opts.idleCloseMs ?? 120_000);
        st.idleTimer.unref();
      }
    });
    st.active = p;
    return p;
  }

  private log(entry: Omit<ContextLogEntry, 'time'>): void {
    this.opts.onLog?.({ time: new Date().toISOString(), ...entry });
  }

  private async run(st: InfraState, req: ConfigureRequest): Promise<ConfigureResult> {
    const t0 = Date.now();
    const infId = req.infrastructureId;
    const master = req.vms.find((v) => v.vmId === req.masterVmId)!;
    st.masterVmId = req.masterVmId;
    st.runner.setMaster(master);
    for (const r of req.changes?.removed ?? []) { st.runner.forget(r.vmId); delete st.results[r.vmId]; }

    const control: RunControl = { vmAborts: new Map(req.vms.map((v) => [v.vmId, new AbortController()])), cancelled: new Set() };
    st.control = control;
    const steps = planSteps(req, st.results);
    const failedVms = new Set<string>();
    const ranOn = new Set<string>();
    const done = new Map<string, Promise<void>>();
    const record: ConfigureResult['steps'] = [];
    const sem = new Semaphore(this.opts.parallelSteps ?? 24);
    const finish = (s: Step, status: StepStatus, extra: Partial<ContextLogEntry> = {}) => {
      record.push({ vmId: s.vm.vmId, node: s.software.name, step: `${s.op.interface}.${s.op.name}`, status, exitCode: extra.exitCode });
      this.log({ infrastructureId: infId, vmId: s.vm.vmId, node: s.software.name, step: `${s.op.interface}.${s.op.name}`, status, ...extra });
    };

    const playbooks = this.playbookBatcher(st, infId, master, sem, this.opts.stepTimeoutMs ?? 30 * 60_000);

    // Every VM starts connecting and receives its scripts at once, while earlier steps (the master's)
    // run: per step only the command itself is left on the critical path.
    const connected = new Map<string, Promise<void>>();
    const uploads = new Map<string, Promise<void>>();
    for (const s of steps) {
      const vmId = s.vm.vmId;
      const signal = control.vmAborts.get(vmId)!.signal;
      if (!connected.has(vmId)) {
        const c = st.runner.connect(s.vm, signal).then(() => undefined);
        c.catch(() => undefined); // reported by the VM's first step (which may be skipped instead)
        connected.set(vmId, c);
      }
      if (!isPlaybook(s)) {
        const up = connected.get(vmId)!.then(async () => {
          const artifact = await st.artifacts.get(s.op.implementation!);
          await uploadScript(st.runner, s.vm, scriptPath(infId, stemOf(s)), artifact.content, signal);
        });
        up.catch(() => undefined); // reported by its step
        uploads.set(s.id, up);
      }
    }

    for (const s of steps) {
      const deps = s.after.map((id) => done.get(id)).filter((p): p is Promise<void> => !!p);
      done.set(s.id, Promise.all(deps).then(async () => {
        const vmId = s.vm.vmId;
        ranOn.add(vmId);
        if (control.cancelled.has(vmId)) return finish(s, 'skipped', { output: 'cancelled: the VM is being deleted' });
        if (failedVms.has(vmId)) return finish(s, 'skipped', { output: 'an earlier step on this VM failed' });
        const signal = control.vmAborts.get(vmId)!.signal;
        try {
          // waiting for sshd happens outside the bound: a booting VM must not hold a slot
          await connected.get(vmId);
        } catch (err) {
          failedVms.add(vmId);
          return finish(s, control.cancelled.has(vmId) ? 'skipped' : 'failed', { output: (err as Error).message });
        }
        // a playbook step waits to be batched with its peers; the batch takes one slot for them all
        const release = isPlaybook(s) ? () => undefined : await sem.acquire();
        const started = Date.now();
        try {
          this.log({ infrastructureId: infId, vmId, node: s.software.name, step: `${s.op.interface}.${s.op.name}`, status: 'running' });
          const res = await this.execute(st, req, s, master, signal, uploads.get(s.id), playbooks);
          const ok = res.exitCode === 0;
          if (!ok) failedVms.add(vmId);
          finish(s, ok ? 'ok' : 'failed', { exitCode: res.exitCode, durationMs: Date.now() - started, output: outputTail(res.output) });
        } catch (err) {
          failedVms.add(vmId);
          const out = (err as { output?: string }).output;
          const msg = (err as Error).message + (out ? '\n' + out : '');
          // a VM deleted mid-step may fail in many ways (channel closed, connection gone): it was cancelled
          const cancelled = err instanceof StepCancelledError || control.cancelled.has(vmId);
          finish(s, cancelled ? 'skipped' : 'failed', { durationMs: Date.now() - started, output: outputTail(msg) });
        } finally {
          release();
        }
      }));
    }
    await Promise.all(done.values());

    const vms: Record<string, ConfigState> = {};
    for (const vm of req.vms) {
      if (control.cancelled.has(vm.vmId)) continue;
      const state: ConfigState = failedVms.has(vm.vmId) ? 'unconfigured' : ranOn.has(vm.vmId) ? 'configured' : (vm.lastResult ?? st.results[vm.vmId] ?? 'configured');
      vms[vm.vmId] = state;
      st.results[vm.vmId] = state;
    }
    return { infrastructureId: infId, vms, steps: record, durationMs: Date.now() - t0 };
  }

  /** Groups the ready playbook steps of a run: one ansible-playbook per batch, holding one slot of `sem`. */
  private playbookBatcher(st: InfraState, infId: string, master: VmTarget, sem: Semaphore, timeoutMs: number): Batcher<PlaybookItem, ExecResult> {
    return new Batcher<PlaybookItem, ExecResult>(async (_key, items) => {
      const release = await sem.acquire();
      // the run stops only when every VM in it was cancelled
      const all = new AbortController();
      let left = items.length;
      for (const it of items) {
        if (it.signal.aborted) left--;
        else it.signal.addEventListener('abort', () => { if (--left === 0) all.abort(); }, { once: true });
      }
      if (left === 0) all.abort();
      try {
        await this.ansibleOnMaster(st, infId, master, all.signal, timeoutMs).catch((err: Error) => {
          // the check was started by another batch, whose VMs were all cancelled: ours still need it
          if (err instanceof StepCancelledError && !all.signal.aborted) return this.ansibleOnMaster(st, infId, master, all.signal, timeoutMs);
          throw err;
        });
        const results = await runPlaybook({
          infrastructureId: infId, runner: st.runner, master, playbook: items[0].playbook, targets: items.map((i) => i.target),
          hostKeys: st.hostKeys, timeoutMs, signal: all.signal,
        });
        return items.map((i) => results.get(i.target.vmId)!);
      } finally {
        release();
      }
    });
  }

  /**
   * Users' playbooks run on the master: before the first one, Ansible is checked for (installed if
   * missing) there, once per infrastructure; what was done goes to contmsg. A failure is not
   * remembered: the next playbook tries again (e.g. after the image's package mirror came back).
   */
  private ansibleOnMaster(st: InfraState, infId: string, master: VmTarget, signal: AbortSignal, timeoutMs: number): Promise<AnsibleReady> {
    if (!st.ansible) {
      const started = Date.now();
      const entry = { infrastructureId: infId, vmId: master.vmId, node: master.nodeName, step: 'ansible.install' };
      this.log({ ...entry, status: 'running' });
      const p = ensureAnsible(st.runner, master, { timeoutMs, signal });
      st.ansible = p;
      p.then(
        (r) => this.log({ ...entry, status: 'ok', durationMs: Date.now() - started, output: r.summary }),
        (err: Error & { output?: string }) => {
          if (st.ansible === p) st.ansible = undefined;
          this.log({ ...entry, status: 'failed', durationMs: Date.now() - started, output: outputTail(err.message + (err.output ? '\n' + err.output : '')) });
        },
      );
    }
    return st.ansible;
  }

  private async execute(
    st: InfraState, req: ConfigureRequest, s: Step, master: VmTarget, signal: AbortSignal,
    uploaded: Promise<void> | undefined, playbooks: Batcher<PlaybookItem, ExecResult>, timeoutMs = this.opts.stepTimeoutMs ?? 30 * 60_000,
  ): Promise<ExecResult> {
    const vars = resolveInputs(s.op.inputs, { plan: req.plan, vms: req.vms, self: s.vm });
    if (isPlaybook(s)) {
      const artifact = await st.artifacts.get(s.op.implementation!);
      // the master checks the VM's host key strictly: the runner learned it when the step connected
      return playbooks.submit(`${s.software.name}|${s.op.name}|${artifact.localPath}`, { target: { ...s.vm, vars }, signal, playbook: { name: artifact.name, content: artifact.content } });
    }
    await uploaded;
    return runScript(st.runner, s.vm, {
      path: scriptPath(req.infrastructureId, stemOf(s)),
      vars: { ...vars, TOSCA_NODE: s.software.name, TOSCA_OPERATION: s.op.name, TOSCA_VM_ID: s.vm.vmId, TOSCA_INFRASTRUCTURE_ID: req.infrastructureId },
      timeoutMs,
      signal,
    });
  }
}

/** A VM's part in a batched ansible-playbook run. */
interface PlaybookItem { target: PlaybookTarget; signal: AbortSignal; playbook: { name: string; content: Buffer } }

const isPlaybook = (s: Step) => s.op.implementation!.kind === 'ansible' || /\.ya?ml$/i.test(s.op.implementation!.path);
const stemOf = (s: Step) => `${s.software.name}.${s.op.name}`;
