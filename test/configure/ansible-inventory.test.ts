/**
 * The inventory the master's ansible-playbook gets: no Python interpreter discovery (a shell and a
 * Python run per host and run) — the master uses ansible-playbook's own Python, a worker the one the
 * server found once over its own connection; an operation input still wins.
 */
import { interpretersOf, runCommand, runFiles, type PlaybookRun } from '../../server/configure/ansible-step';
import { MemoryHostKeyStore } from '../../server/configure/keys';
import type { SshRunner } from '../../server/configure/ssh-runner';

const node = (vmId: string) => ({ vmId, privateIp: `10.0.0.${vmId}`, ssh: { user: 'root', privateKey: 'KEY' } });

function run(execs: string[]): PlaybookRun {
  const hostKeys = new MemoryHostKeyStore();
  for (const id of ['1', '2', '3']) hostKeys.set(id, `ssh-ed25519 AAAA${id}`);
  const runner = {
    exec: async (n: { vmId: string }, command: string) => {
      execs.push(`${n.vmId}: ${command}`);
      return n.vmId === '3' ? { exitCode: 1, output: '' } : { exitCode: 0, output: `/usr/bin/python3.${n.vmId}\n` };
    },
  } as unknown as SshRunner;
  return {
    infrastructureId: 'inf', runner, master: node('0'), playbook: { name: 'site.yml', content: Buffer.from('- hosts: all\n') }, hostKeys,
    targets: [
      { ...node('0'), nodeName: 'front', vars: {} },
      { ...node('1'), nodeName: 'wn', vars: {} },
      { ...node('2'), nodeName: 'wn', vars: { ansible_python_interpreter: '/opt/py/bin/python' } },
      { ...node('3'), nodeName: 'wn', vars: {} },
    ],
  };
}

test('each worker\'s Python is looked up once per VM; the inventory names it, the master uses ansible-playbook\'s own', async () => {
  const execs: string[] = [];
  const r = run(execs);
  const interpreters = await interpretersOf(r);
  expect(Object.fromEntries(interpreters)).toEqual({ 1: '/usr/bin/python3.1' });
  // vm 2 names its own in the operation's inputs; vm 0 is the master: neither is asked
  expect(execs.map((e) => e.split(':')[0]).sort()).toEqual(['1', '3']);
  await interpretersOf(r);
  // found once (vm 1); a VM without a Python (vm 3) is asked again next time
  expect(execs.map((e) => e.split(':')[0]).sort()).toEqual(['1', '3', '3']);
  const inventory = JSON.parse(runFiles({ ...r, interpreters }, 'd').find((f) => f.path === 'd/inventory.yml')!.content as string);
  const py = (alias: string) => inventory.all.hosts[alias].ansible_python_interpreter;
  expect([py('vm-0'), py('vm-1'), py('vm-2'), py('vm-3')]).toEqual(['{{ ansible_playbook_python }}', '/usr/bin/python3.1', '/opt/py/bin/python', 'auto_silent']);
});

test('the run polls its forks every 10 ms, pipelined, over one multiplexed connection per worker, forks sized to the hosts', () => {
  const cmd = runCommand(run([]), 'd');
  expect(cmd).toMatch(/ANSIBLE_INTERNAL_POLL_INTERVAL=0\.01 /);
  expect(cmd).toMatch(/ANSIBLE_PIPELINING=True /);
  expect(cmd).toMatch(/ControlPersist=60s/);
  expect(cmd).toMatch(/'--forks' '5'/);
});
