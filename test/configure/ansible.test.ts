/**
 * Ansible playbooks run on the front end (the master VM): for itself as a local connection, for
 * the private workers over the private network; the workers doing the same operation share one
 * ansible-playbook run, and a host failing in it marks only that VM. Ansible is checked on the
 * master once per infrastructure; each run's folder there (with the workers' key) goes afterwards.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateSshKeyPair } from '../../server/configure/keys';
import type { ConfigureRequest, ConfigureResult, ContextLogEntry } from '../../server/configure/types';
import type { Plan } from '../../tosca/plan';
import { addMaster, addWorker, clusterPlan, nodeFile, workerIp, type ClusterVm } from '../lab/cluster-fixture';
import { createLab, type Lab } from '../lab/lab';
import { describeWithLab } from '../lab/require-lab';
import { startServerProcess, type ServerProcess } from '../lab/server-process';

jest.setTimeout(60_000);

const playbook = (extraTask = '') => `
- hosts: all
  gather_facts: false
  tasks:
    - name: leave proof of the variables
      copy:
        dest: /root/ansible_proof
        content: "front={{ FRONT_IP }} workers={{ WORKER_IPS | join(',') }} inventory={{ inventory_hostname }} play_hosts={{ ansible_play_hosts_all | length }}\\n"
    - name: leave proof of the host
      shell: hostname > /root/ansible_hostname
${extraTask}`;

const FAIL_ON_VM2 = `    - name: break one worker
      fail:
        msg: "broken on purpose"
      when: IM_HOST == 'vm-2'
`;

/** The cluster plan with both configure steps done by the playbook instead of scripts. */
function ansiblePlan(workers: number): Plan {
  const plan = clusterPlan(workers);
  const inputs = {
    FRONT_IP: { $ref: 'get_attribute' as const, node: 'front', path: ['private_address'], index: 0 },
    WORKER_IPS: { $ref: 'get_attribute' as const, node: 'wn', path: ['private_address'] },
  };
  for (const sw of plan.software) {
    sw.operations = [{ interface: 'Standard', name: 'configure', implementation: { kind: 'ansible', path: 'site.yml' }, inputs }];
  }
  return plan;
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms: ${cond.toString()}`);
  }
}

describeWithLab('Ansible playbooks on the front end', () => {
  const key = generateSshKeyPair('ansible-test');
  let lab: Lab;
  let server: ServerProcess;
  let master: ClusterVm;
  const workers: ClusterVm[] = [];
  const log: ContextLogEntry[] = [];
  const request = (extra: Partial<ConfigureRequest> = {}): ConfigureRequest => ({
    infrastructureId: 'inf-ansible', plan: ansiblePlan(2), vms: [master.target, ...workers.map((w) => w.target)], masterVmId: '0', ...extra,
  });

  beforeAll(async () => {
    lab = await createLab({ name: 'ans' });
    master = await addMaster(lab, key);
    workers.push(await addWorker(lab, key, 1), await addWorker(lab, key, 2));
    server = await startServerProcess(lab, require.resolve('../lab/configure-driver.ts'), (ev) => {
      const e = ev as { type: string; entries: ContextLogEntry[] };
      if (e.type === 'logs') log.push(...e.entries);
    });
    await server.call('init', { workDir: join(lab.dir, 'server-work'), artifacts: { 'site.yml': playbook() } });
  });

  /** ansible-playbook processes in the master's network namespace. */
  const ansibleOnMaster = () => execFileSync('ip', ['netns', 'pids', master.host.ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean)
    .filter((pid) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ansible-playbook'); } catch { return false; } });

  afterAll(async () => {
    await server?.call('release', 'inf-ansible').catch(() => undefined);
    await server?.close();
    await lab?.destroy();
  });

  test('runs on the front end for itself and for both private workers in one run', async () => {
    const res = await server.call<ConfigureResult>('configure', request());
    expect(log.filter((e) => e.status === 'failed').map((e) => e.output)).toEqual([]);
    expect(res.vms).toEqual({ 0: 'configured', 1: 'configured', 2: 'configured' });
    const proof = `front=10.77.0.10 workers=${workerIp(1)},${workerIp(2)} inventory=`;
    for (const [i, w] of workers.entries()) {
      expect(nodeFile(w.host, 'ansible_proof')).toBe(`${proof}vm-${i + 1} play_hosts=2\n`);
      expect(nodeFile(w.host, 'ansible_hostname')).toBe(`w${i + 1}\n`);
    }
    expect(nodeFile(master.host, 'ansible_proof')).toBe(`${proof}vm-0 play_hosts=1\n`);
    expect(nodeFile(master.host, 'ansible_hostname')).toBe('m0\n');
    const ok1 = log.find((e) => e.vmId === '1' && e.status === 'ok')!;
    expect(ok1.output).toMatch(/vm-1\s+:\s+ok=2\s+changed=2/);
    expect(ok1.output).not.toContain('vm-2');
  });

  test('a host failing in a shared run marks only its VM unconfigured, with its output', async () => {
    await server.call('setArtifacts', { 'site.yml': playbook(FAIL_ON_VM2) });
    const from = log.length;
    const res = await server.call<ConfigureResult>('configure', request({ vmList: ['1', '2'] }));
    expect(res.vms).toEqual({ 0: 'configured', 1: 'configured', 2: 'unconfigured' });
    const failed = log.slice(from).find((e) => e.vmId === '2' && e.status === 'failed')!;
    expect(failed).toMatchObject({ step: 'Standard.configure', exitCode: 2 });
    expect(failed.output).toContain('broken on purpose');
  });

  test('Ansible was checked on the master once for both runs; no run folder (nor key) is left there', () => {
    const installs = log.filter((e) => e.step === 'ansible.install');
    expect(installs.map((e) => [e.vmId, e.status])).toEqual([['0', 'running'], ['0', 'ok']]);
    expect(installs[1].output).toMatch(/^found ansible-playbook \[core [\d.]+\] on the master$/);
    expect(readdirSync(join(master.host.homeDir, '.tosca-im', 'inf-ansible', 'ansible'))).toEqual([]);
  });

  test('a playbook cancelled mid-run is stopped on the master and its folder (with the key) removed', async () => {
    await server.call('setArtifacts', { 'site.yml': playbook('    - name: hang\n      shell: sleep 120\n') });
    const runs = join(master.host.homeDir, '.tosca-im', 'inf-ansible', 'ansible');
    const running = server.call<ConfigureResult>('configure', request({ vmList: ['2'] }));
    await until(() => readdirSync(runs).length === 1 && log.some((e) => e.vmId === '2' && e.status === 'running'));
    await until(() => ansibleOnMaster().length > 0);
    await server.call('cancelVm', 'inf-ansible', '2');
    const res = await running;
    expect(res.vms['2']).toBeUndefined();
    await until(() => readdirSync(runs).length === 0 && ansibleOnMaster().length === 0);
  });
}, ['/usr/bin/ansible-playbook', '/usr/bin/ssh']);
