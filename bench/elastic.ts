/**
 * npm run bench:elastic — replay a generated, bursty 24-hour job trace with a fake clock against
 * our elastic manager (server/elastic/simulate.ts: real policy, decide, manager loop and HTCondor
 * probe/drain commands) and against elastiq's algorithm, on identical simulated clusters (same
 * trace, same boot times).
 * Prints node-hours, job wait and actions for both. The last line is machine-readable.
 *
 *   node dist/bench/elastic.js [--seed 42] [--max-nodes 20] [--set knob=value ...]
 */
import { DEFAULTS, type ElasticPolicy, applyKnobChanges } from '../server/elastic/policy';
import { type ReplayResult, replay, summarise } from '../server/elastic/simulate';
import { ClusterSim, type Job, generateTrace } from './elastic-sim';
import { ELASTIQ_DEFAULTS, Elastiq } from './elastic-elastiq';

const S = 1000;
const H = 3600 * S;
const SLOTS = 4;

type Result = Omit<ReplayResult, 'log'>;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}
function sets(): Record<string, string> {
  const out: Record<string, string> = {};
  process.argv.forEach((a, i) => {
    if (a === '--set' && process.argv[i + 1]) {
      const [k, v] = process.argv[i + 1].split('=');
      out[k] = v;
    }
  });
  return out;
}

async function runOurs(trace: Job[], seed: number, maxNodes: number, end: number, overrides: Record<string, string>): Promise<Result> {
  const base: ElasticPolicy = {
    ...DEFAULTS, target: 'wn', frontEnd: 'front', source: 'elastic-cluster', lrms: 'htcondor', max_nodes: maxNodes, slots_per_node: SLOTS,
  };
  const { policy } = applyKnobChanges(base, overrides);
  return replay({ policy, jobs: trace, seed, endMs: end });
}

function runElastiq(trace: Job[], seed: number, maxNodes: number, end: number): Result {
  const sim = new ClusterSim(trace, seed, SLOTS);
  const e = new Elastiq({ ...ELASTIQ_DEFAULTS, n_jobs_per_vm: SLOTS, max_vms: maxNodes }, sim);
  for (let t = 0; t <= end; t += ELASTIQ_DEFAULTS.sleep_s * S) {
    sim.advance(t);
    e.step(t);
  }
  return summarise(sim, end, e.actions);
}

async function main(): Promise<void> {
  const seed = Number(arg('seed', '42'));
  const maxNodes = Number(arg('max-nodes', '20'));
  const overrides = sets();
  // Jobs arrive for 24 h; both runs continue to the same end so the scale-down tail is counted.
  const end = 27 * H;
  const trace = generateTrace(seed);
  const t0 = Date.now();
  const ours = await runOurs(trace, seed, maxNodes, end, overrides);
  const theirs = runElastiq(trace, seed, maxNodes, end);
  const f1 = (x: number) => x.toFixed(1);
  const row = (name: string, r: Result) =>
    `${name.padEnd(9)} ${f1(r.nodeHours).padStart(10)} ${f1(r.meanWait).padStart(11)} ${f1(r.p95Wait).padStart(10)} ${String(r.launched).padStart(12)} ${String(r.actions).padStart(8)} ${String(r.busyRemoved).padStart(12)} ${String(r.unfinished).padStart(10)}`;
  console.log(`elastic bench: seed ${seed}, ${trace.length} jobs over 24 h (bursty), ${SLOTS} slots/node, max ${maxNodes} nodes, boot+ctxt 3-12 min, horizon 27 h`);
  if (Object.keys(overrides).length) console.log(`policy overrides: ${JSON.stringify(overrides)}`);
  console.log('policy    node_hours mean_wait_s p95_wait_s vms_launched  actions busy_removed unfinished');
  console.log(row('ours', ours));
  console.log(row('elastiq', theirs));
  console.log(`(simulated in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  console.log(`elastic: node_hours=${f1(ours.nodeHours)} elastiq_node_hours=${f1(theirs.nodeHours)} mean_wait_s=${f1(ours.meanWait)} elastiq_mean_wait_s=${f1(theirs.meanWait)} busy_removed=${ours.busyRemoved} actions=${ours.actions}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
