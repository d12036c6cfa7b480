/**
 * The engine: InfrastructureService over a Store, with durable jobs run by a bounded pool.
 *
 *   const store = await openStore('sqlite:./data/tosca-im.db');
 *   const engine = await createEngine({ store, secretKey });   // resumes unfinished jobs
 *   await engine.service.create(caller, toscaText, { async: true });
 *   await engine.close(); await store.close();
 */
import '../../connectors/all';
import { fetchText, type FetchPolicy } from '../../lib/fetch';
import type { ImportMap, PlanOptions } from '../../tosca';
import type { Store } from '../store/types';
import type { Configurator } from './configurator';
import { NoopConfigurator } from './configurator';
import { defaultTuning, EngineContext, type EngineTuning } from './context';
import { silentLogger, type Logger } from './logger';
import { JobRunner } from './runner';
import { SecretBox } from './secrets';
import type { InfrastructureService } from './service';
import { InfrastructureServiceImpl } from './infrastructures';
import { defaultPlanner, type Planner } from './templates';
import { deployJob } from './jobs/deploy';
import { configureJob } from './jobs/configure';
import { removeJob } from './jobs/remove';
import { destroyJob } from './jobs/destroy';
import { actionJob } from './jobs/action';
import { alterJob } from './alter';
import { VmRefresher } from './refresher';

export interface EngineOptions {
  store: Store;
  /** 32 bytes; seals credentials and SSH private keys at rest. */
  secretKey: Buffer;
  /** Jobs of different infrastructures running at once (default 8). */
  poolSize?: number;
  /**
   * How long a claimed job stays this process's without a heartbeat (default 30 s): after a crash,
   * another replica on the same PostgreSQL resumes the job once it lapsed.
   */
  jobLeaseMs?: number;
  importMap?: ImportMap;
  importMapDir?: string;
  cacheDir?: string;
  /** Guards of import downloads (lib/fetch); templates from the API never read local paths. */
  fetchPolicy?: FetchPolicy;
  logger?: Logger;
  /** The configuration step (default: mark VMs configured without SSH). */
  configurator?: Configurator;
  /** Refuse TOSCA input defaults outside their constraints (IM accepts them with a warning). */
  strictInputs?: boolean;
  /** Replaces the TOSCA planner (tests). */
  planner?: Planner;
  tuning?: Partial<EngineTuning>;
}

export interface Engine {
  service: InfrastructureService;
  /** Stops the job runner (running jobs stay resumable) and closes the configurator. Does not close the store. */
  close(): Promise<void>;
}

export async function createEngine(opts: EngineOptions): Promise<Engine> {
  const logger = opts.logger ?? silentLogger;
  const planOptions: PlanOptions = {
    importMap: opts.importMap, importMapDir: opts.importMapDir, cacheDir: opts.cacheDir,
    localFiles: false, fetchText: (url) => fetchText(url, opts.fetchPolicy), strictInputs: opts.strictInputs,
  };
  const tuning: EngineTuning = { ...defaultTuning(), ...opts.tuning };
  const ctx = new EngineContext(
    opts.store, new SecretBox(opts.secretKey), opts.configurator ?? new NoopConfigurator(), logger,
    opts.planner ?? defaultPlanner, planOptions, tuning,
  );
  const runner = new JobRunner(opts.store, {
    deploy: deployJob(ctx),
    configure: configureJob(ctx),
    remove: removeJob(ctx),
    destroy: destroyJob(ctx),
    action: actionJob(ctx),
    alter: alterJob(ctx),
  }, { poolSize: opts.poolSize ?? 8, leaseMs: opts.jobLeaseMs, scanMs: opts.jobLeaseMs ? Math.min(1000, opts.jobLeaseMs / 3) : undefined, logger });
  ctx.runner = runner;
  await runner.start();
  const refresher = new VmRefresher(ctx, tuning.refreshIntervalMs);
  refresher.start();
  return {
    service: new InfrastructureServiceImpl(ctx),
    close: async () => {
      await refresher.close();
      await runner.close();
      await ctx.configurator.close?.();
    },
  };
}

export type { InfrastructureService, Caller, StateView, VmView, CreateOptions, DestroyRequestOptions } from './service';
export type { Configurator, ConfigureRequest, ConfigureResult } from './configurator';
export { NoopConfigurator } from './configurator';
// SshConfigurator is imported from './ssh-configurator' by whoever wires it, so that the engine's
// entry does not load server/configure (and its SSH stack) unless it is used.
export type { Logger } from './logger';
export { vmRadlText, vmRadlJson } from './radl';
