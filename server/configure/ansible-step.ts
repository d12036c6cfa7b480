/**
 * Ansible operations: ansible-playbook runs on the server, once for every VM that runs the same
 * operation at the same time (30 new workers → one run with 30 hosts, not 30 Ansible start-ups).
 * The generated ssh_config reaches a VM with a public IP directly and every private VM with a
 * ProxyCommand through the master; host keys are the ones the SshRunner learned (by VM id, as
 * HostKeyAlias), checked strictly. Each host's inputs are its host vars; the PLAY RECAP tells
 * which hosts failed.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedValue } from './attributes';
import { ConfigureError, StepCancelledError, StepTimeoutError } from './errors';
import type { HostKeyStore } from './keys';
import { TailBuffer, type SshNode } from './ssh-runner';

export interface PlaybookTarget extends SshNode {
  nodeName: string;
  vars: Record<string, ResolvedValue>;
}

export interface PlaybookRun {
  /** Per-infrastructure working directory on the server; each run gets its own directory in it. */
  workDir: string;
  playbookPath: string;
  targets: PlaybookTarget[];
  master: SshNode;
  hostKeys: HostKeyStore;
  timeoutMs?: number;
  signal?: AbortSignal;
  ansiblePlaybook?: string;
}

export interface PlaybookHostResult {
  /** 0 when the host ran every task, 2 when a task failed, 4 when unreachable. */
  exitCode: number;
  /** The run's output lines about this host (or the tail of the whole output). */
  output: string;
}

export const hostAlias = (vmId: string) => `vm-${vmId}`;

async function keyFile(dir: string, privateKey: string): Promise<string> {
  const path = join(dir, `key-${createHash('sha256').update(privateKey).digest('hex').slice(0, 12)}`);
  await writeFile(path, privateKey.endsWith('\n') ? privateKey : privateKey + '\n', { mode: 0o600 });
  return path;
}

function hostBlock(node: SshNode, key: string, cfg: string, kh: string, hostKey: string, jump?: SshNode): string {
  const lines = [
    `Host ${hostAlias(node.vmId)}`,
    `  HostName ${jump ? node.privateIp : node.publicIp}`,
    `  Port ${node.ssh.port ?? 22}`,
    `  User ${node.ssh.user}`,
    `  IdentityFile ${key}`,
    '  IdentitiesOnly yes',
    `  HostKeyAlias ${hostAlias(node.vmId)}`,
    `  UserKnownHostsFile ${kh}`,
    '  StrictHostKeyChecking yes',
    `  HostKeyAlgorithms ${hostKey.split(' ')[0]}`,
    '  BatchMode yes',
    '  ConnectTimeout 30',
    '  ServerAliveInterval 15',
  ];
  if (jump) lines.push(`  ProxyCommand ssh -F ${cfg} -W %h:%p ${hostAlias(jump.vmId)}`);
  return lines.join('\n');
}

/** Per-host outcome from the PLAY RECAP lines; a host missing from it did not run. */
export function recapResults(output: string, aliases: string[]): Map<string, number> {
  const out = new Map<string, number>();
  const re = /^(\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)/gm;
  for (let m = re.exec(output); m; m = re.exec(output)) {
    out.set(m[1], Number(m[2]) > 0 ? 4 : Number(m[3]) > 0 ? 2 : 0);
  }
  for (const a of aliases) if (!out.has(a)) out.set(a, 2);
  return out;
}

function linesAbout(output: string, alias: string): string {
  const mine = output.split('\n').filter((l) => l.includes(`[${alias}]`) || l.startsWith(`${alias} `) || /^(TASK|PLAY) \[/.test(l));
  return mine.some((l) => l.includes(alias)) ? mine.join('\n') : output;
}

export async function runPlaybook(run: PlaybookRun): Promise<Map<string, PlaybookHostResult>> {
  const { targets, master, hostKeys } = run;
  await mkdir(join(run.workDir, 'ansible'), { recursive: true, mode: 0o700 });
  // a directory per run: batches of different operations may run at once; it holds keys, so it goes
  const dir = await mkdtemp(join(run.workDir, 'ansible', 'run-'));
  try {
    return await runIn(dir, run, targets, master, hostKeys);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runIn(dir: string, run: PlaybookRun, targets: PlaybookTarget[], master: SshNode, hostKeys: HostKeyStore): Promise<Map<string, PlaybookHostResult>> {
  await mkdir(join(dir, 'home', 'tmp'), { recursive: true });
  const cfg = join(dir, 'ssh_config');
  const kh = join(dir, 'known_hosts');
  const needsMaster = targets.some((t) => !t.publicIp);
  const hosts: SshNode[] = needsMaster && !targets.some((t) => t.vmId === master.vmId) ? [master, ...targets] : [...targets];
  const blocks: string[] = [];
  const known: string[] = [];
  for (const h of hosts) {
    const hk = hostKeys.get(h.vmId);
    if (!hk) throw new ConfigureError(`VM ${h.vmId}: host key unknown (connect with the SshRunner first)`);
    known.push(`${hostAlias(h.vmId)} ${hk}`);
    blocks.push(hostBlock(h, await keyFile(dir, h.ssh.privateKey), cfg, kh, hk, h.publicIp ? undefined : master));
  }
  await writeFile(cfg, blocks.join('\n') + '\n', { mode: 0o600 });
  await writeFile(kh, known.join('\n') + '\n', { mode: 0o600 });

  // YAML inventory written as JSON: every host with its own inputs as host vars, grouped by node
  const groups: Record<string, { hosts: Record<string, object> }> = {};
  const hostVars: Record<string, object> = {};
  for (const t of targets) {
    const alias = hostAlias(t.vmId);
    hostVars[alias] = { ...t.vars, IM_HOST: alias, IM_NODE_NAME: t.nodeName, ansible_python_interpreter: 'auto_silent' };
    const group = t.nodeName.replace(/[^A-Za-z0-9_]/g, '_');
    (groups[group] ??= { hosts: {} }).hosts[alias] = {};
  }
  const inventory = join(dir, 'inventory.yml');
  await writeFile(inventory, JSON.stringify({ all: { hosts: hostVars, children: groups } }));

  const aliases = targets.map((t) => hostAlias(t.vmId));
  const args = ['-i', inventory, '--limit', aliases.join(','), '--forks', String(Math.min(50, Math.max(5, targets.length))), run.playbookPath];
  const env = {
    ...process.env,
    // replaces Ansible's default ControlMaster/ControlPersist args: no ssh processes left behind
    ANSIBLE_SSH_ARGS: `-F ${cfg}`,
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_HOME: join(dir, 'home'),
    ANSIBLE_LOCAL_TEMP: join(dir, 'home', 'tmp'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_SSH_RETRIES: '2',
    ANSIBLE_STDOUT_CALLBACK: 'default',
  };
  const tail = new TailBuffer(64 * 1024);
  const exit = await new Promise<number>((resolve, reject) => {
    const child = spawn(run.ansiblePlaybook ?? 'ansible-playbook', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let failure: Error | undefined;
    const stop = (e: Error) => { failure = e; child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 3000).unref(); };
    const timer = run.timeoutMs ? setTimeout(() => stop(new StepTimeoutError(`playbook timed out after ${run.timeoutMs} ms`)), run.timeoutMs) : undefined;
    const onAbort = () => stop(new StepCancelledError('playbook cancelled'));
    run.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => tail.push(d));
    child.stderr.on('data', (d: Buffer) => tail.push(d));
    child.on('error', (e) => { failure = new ConfigureError(`ansible-playbook: ${e.message}`); });
    child.on('close', (code) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      if (failure) reject(Object.assign(failure, { output: tail.toString() }));
      else resolve(code ?? -1);
    });
  });
  const output = tail.toString();
  const recap = recapResults(output, aliases);
  const results = new Map<string, PlaybookHostResult>();
  for (const t of targets) {
    const alias = hostAlias(t.vmId);
    // no recap at all (syntax error, missing file): every host failed with the run's own code
    const code = /PLAY RECAP/.test(output) ? recap.get(alias)! : exit || 2;
    results.set(t.vmId, { exitCode: code, output: linesAbout(output, alias) });
  }
  return results;
}
