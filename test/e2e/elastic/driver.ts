/**
 * Loaded by a ServerProcess inside the lab's server namespace: the elastic manager with the real
 * Configurator (SSH through the master) as its master shell and as the configuration step of a
 * small fake cloud whose "VMs" are lab hosts the test prepared (a pool of private addresses).
 */
import { Configurator } from '../../../server/configure/configurator';
import type { VmTarget } from '../../../server/configure/types';
import { FakeClock } from '../../../server/elastic/clock';
import { ElasticManager } from '../../../server/elastic/manager';
import { DEFAULTS, type ElasticPolicy } from '../../../server/elastic/policy';
import { remoteExecOver } from '../../../server/elastic/ports';
import { MemoryStateStore } from '../../../server/elastic/state';
import { MASTER_PRIVATE_IP, MASTER_PUBLIC_IP, clusterPlan, workerIp } from '../../lab/cluster-fixture';

export const INF = 'inf-elastic';
let configurator: Configurator;
let manager: ElasticManager;
const clock = new FakeClock(Date.UTC(2026, 10, 25, 9, 0, 0));
const workers = new Map<string, VmTarget>();
const removed: string[] = [];
let pool: number[] = [];
let master: VmTarget;
let privateKey = '';

const configure = (changes: { added?: string[]; removed?: { vmId: string; nodeName: string }[] }) =>
  configurator.submit({ infrastructureId: INF, plan: clusterPlan(workers.size), vms: [master, ...workers.values()], masterVmId: '0', changes });

export async function init(opts: { workDir: string; privateKey: string; pool: number[]; artifacts: Record<string, string>; policy: Partial<ElasticPolicy> }): Promise<void> {
  privateKey = opts.privateKey;
  pool = [...opts.pool];
  configurator = new Configurator({
    workDir: opts.workDir, sshWaitTimeoutMs: 20_000, stepTimeoutMs: 60_000,
    artifacts: () => ({ inline: opts.artifacts, allowDownload: false }),
  });
  master = { vmId: '0', nodeName: 'front', privateIp: MASTER_PRIVATE_IP, publicIp: MASTER_PUBLIC_IP, ssh: { user: 'root', privateKey } };
  // The deployment: the master alone (0 workers).
  await configurator.submit({ infrastructureId: INF, plan: clusterPlan(0), vms: [master], masterVmId: '0' });
  manager = new ElasticManager({
    clock,
    store: new MemoryStateStore(),
    exec: () => remoteExecOver((cmd, o) => configurator.runOnMaster(INF, cmd, o)),
    actions: {
      listVms: async () => ({ workers: [...workers.values()].map((w) => ({ vmId: w.vmId, state: 'running' as const, privateIps: [w.privateIp] })), masterVmIds: ['0'] }),
      addNodes: async (_inf, node, n) => {
        const ids: string[] = [];
        for (const i of pool.splice(0, n)) {
          const vmId = String(i);
          workers.set(vmId, { vmId, nodeName: node, privateIp: workerIp(i), ssh: { user: 'root', privateKey } });
          ids.push(vmId);
        }
        // New workers run their life cycle through the master; the master re-renders its worker list.
        if (ids.length) await configure({ added: ids });
        return ids;
      },
      removeVms: async (_inf, ids) => {
        for (const id of ids) { workers.delete(id); removed.push(id); }
        // The master's configuration is updated before the VM is gone (E-DOWN-2 / issue 7).
        await configure({ removed: ids.map((vmId) => ({ vmId, nodeName: 'wn' })) });
      },
    },
  });
  manager.register(INF, { ...DEFAULTS, target: 'wn', frontEnd: 'front', source: 'scaling-policy', lrms: 'generic', max_nodes: 3, ...opts.policy } as ElasticPolicy);
}

export async function tick(ms: number): Promise<{ intents: unknown[]; reason: string }> {
  clock.advance(ms);
  const r = await manager.tick(INF);
  return { intents: r.decision.intents, reason: r.decision.reason };
}

export function view() { return manager.view(INF); }
export function cluster() { return { workers: [...workers.keys()], removed }; }
export function stats() { return configurator.sshStats(INF) ?? null; }
export async function release(): Promise<void> { await configurator?.release(INF); }
