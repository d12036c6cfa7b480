/**
 * A user's playbook is never evaluated on the server's host (issue 10): a hostile playbook that
 * reads the server's key with `lookup('pipe')`, runs `local_action` / `delegate_to: localhost`
 * and writes proof files finds nothing of the server. Its controller side runs on the master VM,
 * in the master's network and mount namespaces, and never as a descendant of the server process.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSshKeyPair } from '../../server/configure/keys';
import type { ConfigureResult, ContextLogEntry } from '../../server/configure/types';
import type { Plan } from '../../tosca/plan';
import { addMaster, addWorker, clusterPlan, nodeFile, type ClusterVm } from '../lab/cluster-fixture';
import { createLab, type Lab } from '../lab/lab';
import { describeWithLab } from '../lab/require-lab';
import { startServerProcess, type ServerProcess } from '../lab/server-process';

jest.setTimeout(60_000);

const tag = randomBytes(4).toString('hex');
const PROOF = `/tmp/tosca-im-proof-${tag}`;
const PROOF_DELEGATED = `/tmp/tosca-im-delegated-${tag}`;

const evilPlaybook = (secretPath: string) => `
- hosts: all
  gather_facts: false
  tasks:
    - name: steal the server key
      copy:
        dest: /root/p
        content: "{{ lookup('pipe', 'cat ${secretPath}') }}"
      ignore_errors: true
    - name: run on the controller
      local_action:
        module: shell
        cmd: |
          {
            echo "net=$(readlink /proc/self/ns/net)"
            echo "mnt=$(readlink /proc/self/ns/mnt)"
            echo "host=$(cat /proc/sys/kernel/hostname)"
            p=$$
            while [ "$p" -gt 1 ]; do echo "ancestor=$p"; p=$(awk '/^PPid:/ {print $2}' /proc/$p/status); done
          } > ${PROOF}
    - name: delegate to the controller
      shell: readlink /proc/self/ns/net > ${PROOF_DELEGATED}
      delegate_to: localhost
`;

/** One worker whose only operation is the hostile playbook; the front end has none. */
function evilPlan(): Plan {
  const plan = clusterPlan(1);
  for (const sw of plan.software) sw.operations = [];
  plan.software.find((s) => s.host === 'wn')!.operations = [{ interface: 'Standard', name: 'configure', implementation: { kind: 'ansible', path: 'evil.yml' }, inputs: {} }];
  return plan;
}

const fields = (text: string, key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);

describeWithLab('a hostile playbook runs on the master, never on the server', () => {
  const key = generateSshKeyPair('isolation-test');
  const secret = `server-secret-${randomBytes(16).toString('hex')}`;
  let lab: Lab;
  let server: ServerProcess;
  let master: ClusterVm;
  let worker: ClusterVm;
  let secretPath: string;
  const log: ContextLogEntry[] = [];

  beforeAll(async () => {
    lab = await createLab({ name: 'iso' });
    // the server's data dir with its sealing key, as `tosca-im serve` keeps it
    const dataDir = join(lab.dir, 'server-data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    secretPath = join(dataDir, 'secret.key');
    writeFileSync(secretPath, secret, { mode: 0o600 });
    master = await addMaster(lab, key);
    worker = await addWorker(lab, key, 1);
    server = await startServerProcess(lab, require.resolve('../lab/configure-driver.ts'), (ev) => {
      const e = ev as { type: string; entries: ContextLogEntry[] };
      if (e.type === 'logs') log.push(...e.entries);
    });
    await server.call('init', { workDir: join(dataDir, 'configure'), artifacts: { 'evil.yml': evilPlaybook(secretPath) } });
  });

  afterAll(async () => {
    await server?.call('release', 'inf-evil').catch(() => undefined);
    await server?.close();
    await lab?.destroy();
  });

  test('the key stays unread, the proof files land on the master, made in its namespaces', async () => {
    const res = await server.call<ConfigureResult>('configure', {
      infrastructureId: 'inf-evil', plan: evilPlan(), vms: [master.target, worker.target], masterVmId: '0',
    });
    const contmsg = log.map((e) => `${e.vmId} ${e.step} ${e.status}\n${e.output ?? ''}`).join('\n');
    // the playbook ran (its failed lookup is ignored): the assertions below are not vacuous
    expect([res.vms, contmsg]).toEqual([{ 0: 'configured', 1: 'configured' }, contmsg]);

    // the server key: not on either VM, not even readable from the master
    for (const vm of [master, worker]) expect(nodeFile(vm.host, 'p') ?? '').not.toContain(secret);
    const direct = await server.call<{ exitCode: number; output: string }>('runOnMaster', 'inf-evil', `cat ${secretPath}`);
    expect(direct.exitCode).not.toBe(0);
    expect(direct.output).not.toContain(secret);

    // the proof files: in the master's /tmp, not in the server's filesystem view
    expect(await server.call('exists', PROOF)).toBe(false);
    expect(await server.call('exists', PROOF_DELEGATED)).toBe(false);
    const proof = readFileSync(join(master.host.tmpDir, PROOF.slice('/tmp/'.length)), 'utf8');
    const delegated = readFileSync(join(master.host.tmpDir, PROOF_DELEGATED.slice('/tmp/'.length)), 'utf8').trim();

    // …made in the master's network and mount namespaces, on the master's host name
    const ns = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
    expect(fields(proof, 'net')).toEqual([ns(master.host.sshdPid, 'net')]);
    expect(fields(proof, 'mnt')).toEqual([ns(master.host.sshdPid, 'mnt')]);
    expect(delegated).toBe(ns(master.host.sshdPid, 'net'));
    expect(ns(server.pid, 'net')).not.toBe(ns(master.host.sshdPid, 'net'));
    expect(fields(proof, 'host')).toEqual(['m0']);

    // …and not by a descendant of the server process: its ancestors lead to the master's sshd
    const ancestors = fields(proof, 'ancestor').map(Number);
    expect(ancestors.length).toBeGreaterThan(1);
    expect(ancestors).not.toContain(server.pid);
    expect(ancestors).toContain(master.host.sshdPid);
  });
}, ['/usr/bin/ansible-playbook', '/usr/bin/ssh']);

afterAll(() => {
  // on a code base where the playbook did run on the server, do not leave its proof behind
  for (const p of [PROOF, PROOF_DELEGATED]) rmSync(p, { force: true });
});
