/**
 * `npm run bench:scale`: configuration time as an elastic cluster grows, on real sshd hosts in the
 * sealed lab (root only). 1 front end (public IP) + workers 0 → 1 → 20 → 50; each growth step is an
 * incremental run (new workers' whole life cycle + the front end's worker-list step). VM creation
 * (the lab's part, standing in for the cloud) is not timed.
 *
 * Three scenarios, one table each:
 *  - lan: the server next to the cloud (no delay). Pure overhead; +30 is bound by the test machine's
 *    CPU, which the 30 "VMs" share with the server (on a cloud they are 30 machines).
 *  - wan: the server reaches the floating IP over a WAN (WAN_RTT_MS, default 20 ms round trip,
 *    relayed by the lab's router); the cloud's private network has no delay. The deployment IM is
 *    made for, and the scenario of the last line:
 *      scale: plus1_s=N plus30_s=N ratio=N ssh_connections=N
 *  - ansible: wan, with both `configure` steps as Ansible playbooks instead of scripts. The server
 *    copies each playbook and an inventory to the master and runs ansible-playbook THERE (users'
 *    playbooks never run on the server), one run for all the new workers; Ansible is checked on the
 *    master once, in the initial run. Line: scale(ansible): ...
 * Env: WAN_RTT_MS, PARALLEL (steps at once, default 32), SCALE_TRACE=1 (each step's timeline),
 * SCALE_ONLY=lan|wan|ansible (one scenario).
 */
import { join } from 'node:path';
import { generateSshKeyPair } from '../server/configure/keys';
import type { SshStats } from '../server/configure/ssh-runner';
import type { ConfigureRequest, ConfigureResult, ContextLogEntry, VmTarget } from '../server/configure/types';
import type { Plan } from '../tosca/plan';
import { addMaster, addWorker, clusterPlan, nodeFile, SCRIPTS } from '../test/lab/cluster-fixture';
import { createLab, labMissing, type Lab, type LabHost } from '../test/lab/lab';
import { startServerProcess, type ServerProcess } from '../test/lab/server-process';

const INF = 'bench-scale';
const HEADER = ['step', 'workers', 'vm_setup_s', 'configure_s', 'server_cpu_s', 'master_cpu_s', 'workers_cpu_s', 'steps_run', 'ssh_opened', 'all_configured'];

interface Outcome { rows: string[][]; plus1: number; plus30: number; connections: number }

/** The same proof as the scripts' (worker list on the front end, its address on each worker), by Ansible. */
const PLAYBOOKS: Record<string, string> = {
  'front_configure.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: { dest: /root/worker_list, content: "{{ WORKER_IPS | join('\\n') }}\\n" }\n`,
  'wn_configure.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: { dest: /root/master_ip, content: "{{ FRONT_IP }}\\n" }\n`,
};

/** clusterPlan with the `configure` steps as playbooks. */
function ansiblePlan(workers: number): Plan {
  const plan = clusterPlan(workers);
  for (const sw of plan.software) {
    for (const op of sw.operations ?? []) {
      if (op.name === 'configure') op.implementation = { kind: 'ansible', path: op.implementation!.path.replace(/\.sh$/, '.yml') };
    }
  }
  return plan;
}

async function growth(lab: Lab, server: ServerProcess, events: ContextLogEntry[], playbooks: boolean): Promise<Outcome> {
  const key = generateSshKeyPair('bench-scale');
  const artifacts = playbooks ? { ...SCRIPTS, ...PLAYBOOKS } : SCRIPTS;
  const planOf = playbooks ? ansiblePlan : clusterPlan;
  await server.call('init', { workDir: join(lab.dir, 'server-work'), artifacts, parallelSteps: Number(process.env.PARALLEL ?? 32), stepTimeoutMs: 600_000 });
  const master = await addMaster(lab, key);
  const vms: VmTarget[] = [master.target];
  const workerHosts: LabHost[] = [];
  const configure = (extra: Partial<ConfigureRequest>) =>
    server.call<ConfigureResult>('configure', { infrastructureId: INF, plan: planOf(vms.length - 1), vms: [...vms], masterVmId: '0', ...extra });
  const stats = () => server.call<SshStats>('stats', INF);
  const vmCpu = async () => [
    await lab.cpuSeconds(master.host.ns),
    (await Promise.all(workerHosts.map((h) => lab.cpuSeconds(h.ns)))).reduce((a, b) => a + b, 0),
  ];
  const out: Outcome = { rows: [HEADER], plus1: NaN, plus30: NaN, connections: 0 };

  let t = Date.now();
  let res = await configure({});
  out.rows.push(['initial', '0', '-', ((Date.now() - t) / 1000).toFixed(2), '-', '-', '-', String(res.steps.length), String((await stats()).opened), String(Object.values(res.vms).every((s) => s === 'configured'))]);

  for (const target of [1, 20, 50]) {
    const from = vms.length - 1;
    const ids = Array.from({ length: target - from }, (_, k) => from + 1 + k);
    t = Date.now();
    const added = await Promise.all(ids.map((i) => addWorker(lab, key, i)));
    const setup = (Date.now() - t) / 1000;
    for (const w of added) { vms.push(w.target); workerHosts.push(w.host); }
    const before = (await stats()).opened;
    const cpu0 = await server.call<number>('cpuMs');
    const [m0, w0] = await vmCpu();
    events.length = 0;
    t = Date.now();
    res = await configure({ changes: { added: ids.map(String) } });
    const secs = (Date.now() - t) / 1000;
    const cpu = ((await server.call<number>('cpuMs')) - cpu0) / 1000;
    const [m1, w1] = await vmCpu();
    const after = await stats();
    if (process.env.SCALE_TRACE) {
      for (const e of events.filter((x) => x.status !== 'running')) console.log(Date.parse(e.time) - t, e.vmId, e.step, e.status, e.durationMs);
    }
    const ok = Object.values(res.vms).every((s) => s === 'configured') && nodeFile(master.host, 'worker_list')!.trim().split('\n').length === target;
    out.rows.push([`+${ids.length}`, `${from}→${target}`, setup.toFixed(2), secs.toFixed(2), cpu.toFixed(2), (m1 - m0).toFixed(2), (w1 - w0).toFixed(2), String(res.steps.length), String(after.opened - before), String(ok)]);
    if (!ok) {
      const why = events.find((e) => e.status === 'failed');
      throw new Error(`growth to ${target} workers did not configure every VM: ${JSON.stringify(res.vms)}${why ? `\nVM ${why.vmId} ${why.step}:\n${why.output}` : ''}`);
    }
    if (ids.length === 1) out.plus1 = secs;
    if (ids.length === 30) out.plus30 = secs;
    out.connections = after.opened;
  }
  return out;
}

async function scenario(name: string, rttMs: number, playbooks = false): Promise<Outcome> {
  const lab = await createLab({ name: 'bsc', ...(rttMs > 0 ? { wan: { delayMs: rttMs / 2 } } : {}) });
  const events: ContextLogEntry[] = [];
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess(lab, require.resolve('../test/lab/configure-driver'), (ev) => {
      const e = ev as { type: string; entries: ContextLogEntry[] };
      if (e.type === 'logs') events.push(...e.entries);
    });
    const out = await growth(lab, server, events, playbooks);
    console.log(`\n${name} (server ↔ floating IP round trip ${rttMs} ms)`);
    const widths = HEADER.map((_, c) => Math.max(...out.rows.map((r) => r[c].length)));
    for (const r of out.rows) console.log(r.map((x, c) => x.padEnd(widths[c])).join('  '));
    return out;
  } finally {
    await server?.call('release', INF).catch(() => undefined);
    await server?.close();
    await lab.destroy();
  }
}

const summary = (o: Outcome) =>
  `plus1_s=${o.plus1.toFixed(2)} plus30_s=${o.plus30.toFixed(2)} ratio=${(o.plus30 / o.plus1).toFixed(2)} ssh_connections=${o.connections}`;

async function main(): Promise<void> {
  const missing = labMissing();
  if (missing) throw new Error(`bench:scale needs the SSH lab: ${missing}`);
  const rtt = Number(process.env.WAN_RTT_MS ?? 20);
  const only = process.env.SCALE_ONLY;
  const run = (name: string, rttMs: number, playbooks = false) => (!only || only === name ? scenario(name, rttMs, playbooks) : undefined);
  const lan = await run('lan', 0);
  const wan = await run('wan', rtt);
  const ansible = await run('ansible', rtt, true);
  console.log('');
  if (lan) console.log(`scale(lan): ${summary(lan)}`);
  if (ansible) console.log(`scale(ansible): ${summary(ansible)}`);
  if (wan) console.log(`scale: ${summary(wan)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
