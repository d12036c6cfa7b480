/**
 * The elasticity manager inside the server (docs/elasticity.md, "Wiring"): one ElasticManager on
 * the real clock, its state in the server store, its probes over the configurator's connection to
 * the master, its actions through the engine's AddResource/RemoveResource path, its quota clamp
 * from the cloud the workers go to (the engine's quotaRoom).
 *
 *   const elastic = new ElasticRuntime({ store, logger, registry, shell: sshConfigurator });
 *   const engine = await createEngine({ ..., planner: elastic.planner() });
 *   const service = elastic.attach(engine.service);   // the service the REST layer uses
 *   await elastic.start();                             // registers every elastic infrastructure, resumes
 *   createApp({ service, elasticity: elastic, metrics: registry, ... });
 *   ...; await elastic.stop(); await engine.close();
 *
 * The attached service keeps the manager in step with the infrastructures (create, import and
 * add-resources register the template's policy; destroy and export-with-delete unregister it) and
 * holds the infrastructure's lock while a user's add/remove is decided and recorded (not while its
 * job runs), the same lock the manager decides and acts under, so the two never race.
 *
 * Several replicas on one database: an infrastructure is managed by the replica holding its lease
 * (`elastic:<id>` in the store, renewed every third of `leaseMs`); a replica that dies stops
 * renewing, and another one takes the lease over once it lapsed and resumes from the saved state.
 */
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { VmTarget } from '../configure/types';
import type { AddResourcesOptions, Caller, ChangeOptions, CreateOptions, DestroyRequestOptions, InfrastructureService } from '../engine/service';
import { MASTER_KEY } from '../engine/jobs/configure';
import { defaultPlanner, type Planner } from '../engine/templates';
import { KeyedSerial } from '../../lib/async';
import type { Store } from '../store/types';
import { type Clock, systemClock } from './clock';
import { ElasticManager } from './manager';
import { ElasticMetrics } from './metrics';
import { StoreBudget } from './ratelimit';
import { ownerCaller, policiesFromPlan, remoteExecOver, serviceActions, type MasterRun } from './ports';
import type { RemoteExec } from './probes/types';
import { type SimulationView, simulate } from './simulate';
import { KvStateStore } from './state';
import type { ElasticityView } from './view';

/** What runs a command on an infrastructure's master (the engine's SshConfigurator). */
export interface MasterShell {
  runOnMaster(infId: string, command: string, opts: { timeoutMs?: number; keepBytes?: number; master?: VmTarget }): Promise<{ exitCode: number; output: string }>;
}

interface RuntimeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ElasticRuntimeOptions {
  store: Store;
  logger?: RuntimeLogger;
  /** The server's registry (GET /metrics); default a private one. */
  registry?: Registry;
  /** The master's shell; without it (and without `exec`) probes fail with a clear SensingFailed. */
  shell?: MasterShell;
  /** Replaces the master's shell (tests: a fake probe on the Dummy cloud). */
  exec?: (infId: string) => RemoteExec;
  clock?: Clock;
  /** How long a replica keeps managing an infrastructure without renewing its lease (default 30 s). */
  leaseMs?: number;
}

/** Longest wait for ticks in flight at stop() before the engine is closed under them. */
const STOP_WAIT_MS = 5_000;

export class ElasticRuntime {
  readonly manager: ElasticManager;
  readonly metrics: ElasticMetrics;
  private readonly locks = new KeyedSerial();
  private readonly callerFor: (infId: string) => Promise<Caller>;
  private engine?: InfrastructureService;
  /** Last quota read error per infrastructure, so a persistent one is logged once. */
  private readonly quotaErrors = new Map<string, string>();
  /** This replica's name on the leases it holds (the pid helps whoever reads the table). */
  readonly holder = `elastic-${process.pid}-${randomUUID()}`;
  /** Infrastructures whose manager lease this replica holds. */
  private readonly held = new Set<string>();
  private leaseTimer?: NodeJS.Timeout;
  private reconciling = false;
  private readonly leaseMs: number;

  constructor(private readonly opts: ElasticRuntimeOptions) {
    this.metrics = new ElasticMetrics(opts.registry);
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.callerFor = ownerCaller(opts.store);
    const logger = opts.logger;
    this.manager = new ElasticManager({
      clock: opts.clock ?? systemClock,
      store: new KvStateStore(opts.store),
      // The accounts' create budgets in the database: every replica spends from the same one.
      budget: new StoreBudget(opts.store),
      metrics: this.metrics,
      exec: opts.exec ?? ((infId) => remoteExecOver(this.masterRun(infId))),
      events: logger ? (infId, e) => logger.info({ inf: infId, ...e, at: new Date(e.at).toISOString() }, 'elastic') : undefined,
      actions: {
        // Lazily: the engine is created after the runtime (it needs the runtime's planner).
        listVms: (infId, node, frontEnd) => this.actions().listVms(infId, node, frontEnd),
        addNodes: (infId, node, n) => this.actions().addNodes(infId, node, n),
        removeVms: (infId, ids) => this.actions().removeVms(infId, ids),
        quotaLeft: (infId, node) => this.quotaLeft(infId, node),
        accountKey: async (infId, node) => this.engineService().cloudAccountKey?.(await this.callerFor(infId), infId, node),
        withLock: (infId, fn) => this.locks.run(infId, fn),
      },
    });
  }

  /**
   * The planner for createEngine: a template whose elastic knobs are invalid is refused (400 naming
   * the knob) before anything is created, as any other template error.
   */
  planner(base: Planner = defaultPlanner): Planner {
    return async (text, o) => {
      const plan = await base(text, o);
      policiesFromPlan(plan);
      return plan;
    };
  }

  /** The engine's service with the manager kept in step and the infrastructure's lock around add/remove. */
  attach(engine: InfrastructureService): InfrastructureService {
    this.engine = engine;
    const rt = this;
    // Every call not named here reaches the engine unchanged through the prototype (reads, actions,
    // and whatever the service gains later).
    return Object.assign(Object.create(engine) as InfrastructureService, {
      async create(caller: Caller, tosca: string, o: CreateOptions) {
        const id = await engine.create(caller, tosca, o);
        if (!o.dryRun) await rt.register(id);
        return id;
      },
      async importData(caller: Caller, data: string) {
        const id = await engine.importData(caller, data);
        await rt.register(id);
        return id;
      },
      async addResources(caller: Caller, infId: string, tosca: string, context: boolean, o?: AddResourcesOptions) {
        const ids = await rt.lockedUntilRecorded(infId, (onRecorded) => engine.addResources(caller, infId, tosca, context, { ...o, onRecorded }));
        await rt.register(infId); // the merged template may declare (or change) a policy
        return ids;
      },
      removeVms(caller: Caller, infId: string, vmIds: string[], context: boolean, o?: ChangeOptions) {
        return rt.lockedUntilRecorded(infId, (onRecorded) => engine.removeVms(caller, infId, vmIds, context, { ...o, onRecorded }));
      },
      async destroy(caller: Caller, infId: string, o: DestroyRequestOptions) {
        await engine.vmIds(caller, infId); // the owner's, before anything changes
        // Stop deciding at once (unregister drops it synchronously), then wait for a tick in flight.
        const leaving = rt.forget(infId);
        try {
          await engine.destroy(caller, infId, o);
        } catch (e) {
          await leaving;
          await rt.register(infId); // still there (the cloud refused): keep managing it
          throw e;
        }
        await leaving;
      },
      async exportData(caller: Caller, infId: string, deleteAfter: boolean) {
        const data = await engine.exportData(caller, infId, deleteAfter);
        if (deleteAfter) await rt.forget(infId);
        return data;
      },
    });
  }

  /**
   * A user's change under the infrastructure's lock until the engine has recorded it, not while its
   * job runs: the manager decides on the VMs as recorded (new ones pending, leaving ones deleting),
   * and a removal arriving while an add waits for its job (a slow launch, or an earlier remove) gets
   * the lock at once, so its leaving VMs' steps stop now (docs/engine.md, issue 6). An engine that never calls
   * `onRecorded` (or fails first) keeps the lock until the call settles, as before.
   */
  private async lockedUntilRecorded<T>(infId: string, change: (onRecorded: () => void) => Promise<T>): Promise<T> {
    let result!: Promise<T>;
    await this.locks.run(infId, () => new Promise<void>((recorded) => {
      result = change(recorded);
      result.then(() => recorded(), () => recorded());
    }));
    return result;
  }

  /** Registers every elastic infrastructure of the store (their saved state resumes) and starts the loop. */
  async start(): Promise<void> {
    await this.reconcile();
    this.manager.start();
    this.leaseTimer = setInterval(() => void this.reconcile(), Math.max(100, this.leaseMs / 3));
    this.leaseTimer.unref();
  }

  /** Stops the loop; ticks in flight get a few seconds to finish. The saved state stays; the leases are given up. */
  async stop(): Promise<void> {
    clearInterval(this.leaseTimer);
    this.manager.stop();
    const ids = await this.opts.store.listInfrastructures().then((l) => l.map((i) => i.id), () => []);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(ids.map((id) => this.manager.unregister(id))),
      new Promise((r) => { timer = setTimeout(r, STOP_WAIT_MS); }),
    ]);
    clearTimeout(timer);
    await Promise.allSettled([...this.held].map((id) => this.opts.store.releaseLease(leaseKey(id), this.holder)));
    this.held.clear();
  }

  /**
   * Renews the leases held and takes the lapsed ones of elastic infrastructures (a replica died):
   * an infrastructure whose lease is lost (this replica stalled past it) is no longer managed here.
   */
  private async reconcile(): Promise<void> {
    if (this.reconciling) return;
    this.reconciling = true;
    try {
      for (const inf of await this.opts.store.listInfrastructures()) {
        if (inf.plan.elastic.length > 0 && inf.phase !== 'deleting') await this.register(inf.id);
      }
    } catch (e) {
      this.opts.logger?.warn({ err: (e as Error).message }, 'elastic: renewing the manager leases failed');
    } finally {
      this.reconciling = false;
    }
  }

  /** Stops managing the infrastructure here and gives its lease up. */
  private async forget(infId: string): Promise<void> {
    await this.manager.unregister(infId);
    if (this.held.delete(infId)) await this.opts.store.releaseLease(leaseKey(infId), this.holder).catch(() => undefined);
  }

  /** GET …/elasticity (the route checks the owner first). */
  view(infId: string): Promise<ElasticityView> {
    return this.manager.view(infId);
  }

  /** PUT …/elasticity: knobs, pause, per-node protection; 400 naming the knob. */
  update(infId: string, body: unknown): Promise<ElasticityView> {
    return this.manager.update(infId, body);
  }

  /** POST …/elasticity/simulate (E-OBS-5): the policy in effect, with overrides, against a job trace; touches no cloud and no state. */
  async simulate(infId: string, body: unknown): Promise<SimulationView> {
    return simulate(await this.manager.policy(infId), body);
  }

  /** (Re)reads the infrastructure's plan: manages it when it declares elasticity, forgets it otherwise. */
  private async register(infId: string): Promise<void> {
    const inf = await this.opts.store.getInfrastructure(infId);
    let policies: ReturnType<typeof policiesFromPlan> = [];
    try {
      policies = inf && inf.phase !== 'deleting' ? policiesFromPlan(inf.plan) : [];
    } catch (e) {
      // Stored before the knobs were checked at create: report it, do not manage it.
      this.opts.logger?.warn({ inf: infId, err: (e as Error).message }, 'elastic: invalid policy, not managed');
    }
    if (policies.length === 0) return void (await this.forget(infId));
    // One manager per infrastructure across replicas: the one holding its lease.
    if (!(await this.opts.store.claimLease(leaseKey(infId), this.holder, this.leaseMs))) {
      this.held.delete(infId);
      return void (await this.manager.unregister(infId));
    }
    this.held.add(infId);
    if (policies.length > 1) {
      this.opts.logger?.warn({ inf: infId, targets: policies.map((p) => p.target) }, `elastic: one policy per infrastructure; managing "${policies[0].target}" only`);
    }
    this.manager.register(infId, policies[0]);
  }

  /**
   * The quota clamp's input, from the cloud the node's VMs go to. A failed read is logged (once
   * per distinct error) and counts as unknown: it must not block a scale-up, and a real refusal
   * meets the manager's back-off anyway.
   */
  private async quotaLeft(infId: string, node: string): Promise<number | undefined> {
    const svc = this.engineService();
    if (!svc.quotaRoom) return undefined;
    try {
      const room = await svc.quotaRoom(await this.callerFor(infId), infId, node);
      this.quotaErrors.delete(infId);
      return room;
    } catch (e) {
      const err = (e as Error).message;
      if (this.quotaErrors.get(infId) !== err) {
        this.quotaErrors.set(infId, err);
        this.opts.logger?.warn({ inf: infId, node, err }, 'elastic: cloud quota unreadable, scale-up not clamped by it');
      }
      return undefined;
    }
  }

  private actions() {
    return serviceActions(this.engineService(), this.callerFor, { waitForLaunch: false });
  }

  /** A command on the master the configure step chose, through the configurator's connection. */
  private masterRun(infId: string): MasterRun {
    return async (command, o) => {
      const shell = this.opts.shell;
      if (!shell) throw new Error('no shell on the master: the server has no SSH configurator');
      const masterId = await this.opts.store.getKv(infId, MASTER_KEY);
      if (typeof masterId !== 'string') throw new Error('the master is not configured yet');
      const vm = await this.engineService().vmInfo(await this.callerFor(infId), infId, masterId);
      if (vm.cloudType.toLowerCase() === 'dummy') throw new Error(`the master (VM ${masterId}) is on the Dummy cloud: there is no shell to run the probe on`);
      const publicIp = vm.publicIps[0];
      const privateKey = vm.credentials?.privateKey;
      if (!publicIp || !privateKey || !vm.credentials) throw new Error(`the master (VM ${masterId}) has no public IP or SSH key`);
      const master: VmTarget = { vmId: masterId, nodeName: vm.nodeName, privateIp: vm.privateIps[0] ?? publicIp, publicIp, ssh: { user: vm.credentials.username, privateKey } };
      return shell.runOnMaster(infId, command, { ...o, master });
    };
  }

  private engineService(): InfrastructureService {
    if (!this.engine) throw new Error('elastic runtime: attach(engine.service) first');
    return this.engine;
  }
}

const leaseKey = (infId: string): string => `elastic:${infId}`;
