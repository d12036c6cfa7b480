/**
 * Ansible operations run ON THE MASTER VM, never on the server: a user's playbook may run lookups,
 * `local_action` and `delegate_to: localhost` tasks, which execute wherever ansible-playbook runs.
 * The server only does its own fixed steps over its SSH connection to the master (as IM's
 * contextualization agent): copy the playbook, an inventory of the targets' private addresses,
 * an ssh_config, the known host keys and the key the master needs into a per-run folder
 * (~/.tosca-im/<inf>/ansible/run-<random>/, removed after the run), then run `ansible-playbook`
 * there. The master reaches the workers directly on the private network; itself as a local
 * connection. One run for every VM doing the same operation at the same time (30 new workers →
 * one run with 30 hosts); the PLAY RECAP tells which hosts failed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ResolvedValue } from './attributes';
import { MASTER_PATH } from './ansible-bootstrap';
import { ConfigureError } from './errors';
import type { HostKeyStore } from './keys';
import { shellQuote } from './script-step';
import type { SshNode, SshRunner } from './ssh-runner';

export interface PlaybookTarget extends SshNode {
  nodeName: string;
  vars: Record<string, ResolvedValue>;
}

export interface PlaybookRun {
  infrastructureId: string;
  /** The infrastructure's runner: the master's connection carries every file and the command. */
  runner: SshRunner;
  master: SshNode;
  playbook: { name: string; content: Buffer };
  targets: PlaybookTarget[];
  /** The host keys the runner learned (by VM id): the master checks the workers' keys strictly. */
  hostKeys: HostKeyStore;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Python interpreter per worker VM id (found by interpretersOf); missing → Ansible discovers it. */
  interpreters?: Map<string, string>;
}

export interface PlaybookHostResult {
  /** 0 when the host ran every task, 2 when a task failed, 4 when unreachable. */
  exitCode: number;
  /** The run's output lines about this host (or the tail of the whole output). */
  output: string;
}

export const hostAlias = (vmId: string) => `vm-${vmId}`;

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

/** The SSH multiplexing sockets on the master (relative to the home; short: a socket path is ≤ 107 bytes). */
const CONTROL_DIR = '.tosca-im/cp';

const safeName = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** Folder of one run on the master, relative to the login's home. */
export function remoteRunDir(infrastructureId: string): string {
  return `.tosca-im/${safeName(infrastructureId)}/ansible/run-${randomBytes(6).toString('hex')}`;
}

/** ssh_config on the master: each worker by its private address, its host key pinned under its VM id. */
function hostBlock(node: SshNode, keyPath: string, dir: string, hostKey: string): string {
  return [
    `Host ${hostAlias(node.vmId)}`,
    `  HostName ${node.privateIp}`,
    `  Port ${node.ssh.port ?? 22}`,
    `  User ${node.ssh.user}`,
    `  IdentityFile ~/${keyPath}`,
    '  IdentitiesOnly yes',
    `  HostKeyAlias ${hostAlias(node.vmId)}`,
    `  UserKnownHostsFile ~/${dir}/known_hosts`,
    '  StrictHostKeyChecking yes',
    `  HostKeyAlgorithms ${hostKey.split(' ')[0]}`,
    '  BatchMode yes',
    '  ConnectTimeout 30',
    '  ServerAliveInterval 15',
  ].join('\n');
}

/** The files of a run, by path relative to the login's home, with their modes. */
export function runFiles(run: PlaybookRun, dir: string): { path: string; content: string | Buffer; mode: number }[] {
  const { targets, master, hostKeys } = run;
  const files: { path: string; content: string | Buffer; mode: number }[] = [];
  const keys = new Map<string, string>();
  const blocks: string[] = [];
  const known: string[] = [];
  const hostVars: Record<string, object> = {};
  const groups: Record<string, { hosts: Record<string, object> }> = {};
  for (const t of targets) {
    const alias = hostAlias(t.vmId);
    const isMaster = t.vmId === master.vmId;
    // no interpreter discovery (a shell and a Python run per host and run): the master runs its
    // tasks with ansible-playbook's own Python, a worker with the one the server found over its
    // own connection (interpreterOf); the operation's inputs may still name one
    const python = isMaster ? '{{ ansible_playbook_python }}' : run.interpreters?.get(t.vmId) ?? 'auto_silent';
    hostVars[alias] = {
      ansible_python_interpreter: python, ...t.vars, IM_HOST: alias, IM_NODE_NAME: t.nodeName,
      ...(isMaster ? { ansible_connection: 'local' } : {}),
    };
    (groups[t.nodeName.replace(/[^A-Za-z0-9_]/g, '_')] ??= { hosts: {} }).hosts[alias] = {};
    if (isMaster) continue;
    const hk = hostKeys.get(t.vmId);
    if (!hk) throw new ConfigureError(`VM ${t.vmId}: host key unknown (connect with the SshRunner first)`);
    known.push(`${hostAlias(t.vmId)} ${hk}`);
    let keyPath = keys.get(t.ssh.privateKey);
    if (!keyPath) {
      keyPath = `${dir}/key-${createHash('sha256').update(t.ssh.privateKey).digest('hex').slice(0, 12)}`;
      keys.set(t.ssh.privateKey, keyPath);
      files.push({ path: keyPath, content: t.ssh.privateKey.endsWith('\n') ? t.ssh.privateKey : t.ssh.privateKey + '\n', mode: 0o600 });
    }
    blocks.push(hostBlock(t, keyPath, dir, hk));
  }
  files.push(
    { path: `${dir}/ssh_config`, content: blocks.join('\n') + '\n', mode: 0o600 },
    { path: `${dir}/known_hosts`, content: known.join('\n') + '\n', mode: 0o600 },
    // YAML inventory written as JSON: every host with its own inputs as host vars, grouped by node
    { path: `${dir}/inventory.yml`, content: JSON.stringify({ all: { hosts: hostVars, children: groups } }), mode: 0o600 },
    { path: `${dir}/${playbookFile(run)}`, content: run.playbook.content, mode: 0o600 },
  );
  return files;
}

const playbookFile = (run: PlaybookRun) => `playbook-${safeName(run.playbook.name)}`;

/** The command run on the master: ansible-playbook in the run's folder, which goes afterwards. */
export function runCommand(run: PlaybookRun, dir: string): string {
  const aliases = run.targets.map((t) => hostAlias(t.vmId));
  const env = [
    MASTER_PATH,
    // one SSH connection per worker, reused by every task and by the next runs: a multiplexing
    // master per VM (the VM id in its socket name: a new VM reusing an address gets its own), gone
    // after 60 s idle; pipelining runs each task's module over one session (no temp files, no sftp)
    `ANSIBLE_SSH_ARGS="-F $PWD/ssh_config -o ControlMaster=auto -o ControlPersist=60s -o ControlPath=$HOME/${CONTROL_DIR}/%n-%C"`,
    'ANSIBLE_PIPELINING=True',
    // the controller polls its forks' results every 1 ms by default (busy on a small master with
    // 30 forks); 10 ms is Ansible's own advice for automation and adds at most that per task
    'ANSIBLE_INTERNAL_POLL_INTERVAL=0.01',
    'ANSIBLE_HOST_KEY_CHECKING=True',
    'ANSIBLE_HOME="$PWD/home"',
    'ANSIBLE_LOCAL_TEMP="$PWD/home/tmp"',
    'ANSIBLE_NOCOLOR=1',
    'ANSIBLE_RETRY_FILES_ENABLED=False',
    'ANSIBLE_SSH_RETRIES=2',
    'ANSIBLE_STDOUT_CALLBACK=default',
  ];
  const args = ['-i', 'inventory.yml', '--limit', aliases.join(','), '--forks', String(Math.min(50, Math.max(5, aliases.length))), playbookFile(run)];
  return `mkdir -p -m 700 ${CONTROL_DIR} && cd ${shellQuote(dir)} || exit 70; echo $$ > pid; ${env.join(' ')} ansible-playbook ${args.map(shellQuote).join(' ')} </dev/null; rc=$?; cd && rm -rf ${shellQuote(dir)}; exit $rc`;
}

/** The first Python on a worker's PATH, as Ansible's discovery would pick it (python3 first). */
const FIND_PYTHON = 'for p in python3 /usr/libexec/platform-python python; do command -v "$p" && exit 0; done; exit 1';

/** Found Pythons, by runner (one per infrastructure) and VM id + host key (a new VM reusing an id has another key). */
const found = new WeakMap<SshRunner, Map<string, Promise<string | undefined>>>();

/**
 * Each worker's Python, looked up once per VM over the server's own connection to it (already
 * open: it learned the host key), so the master's ansible-playbook skips interpreter discovery on
 * every host of every run. A worker that has none (or fails to answer) is left to Ansible.
 */
export async function interpretersOf(run: PlaybookRun): Promise<Map<string, string>> {
  let cache = found.get(run.runner);
  if (!cache) found.set(run.runner, (cache = new Map()));
  const out = new Map<string, string>();
  await Promise.all(run.targets.filter((t) => t.vmId !== run.master.vmId && t.vars.ansible_python_interpreter === undefined).map(async (t) => {
    const key = `${t.vmId} ${run.hostKeys.get(t.vmId) ?? ''}`;
    let p = cache!.get(key);
    if (!p) {
      p = run.runner.exec(t, FIND_PYTHON, { timeoutMs: 30_000, keepBytes: 4096 })
        .then((r) => (r.exitCode === 0 && /^\/\S+$/.test(r.output.trim()) ? r.output.trim() : undefined), () => undefined);
      cache!.set(key, p);
      void p.then((v) => { if (!v) cache!.delete(key); });
    }
    const python = await p;
    if (python) out.set(t.vmId, python);
  }));
  return out;
}

export async function runPlaybook(run: PlaybookRun): Promise<Map<string, PlaybookHostResult>> {
  const { runner, master, targets } = run;
  const dir = remoteRunDir(run.infrastructureId);
  const files = runFiles({ ...run, interpreters: run.interpreters ?? (await interpretersOf(run)) }, dir);
  // one SFTP session on the master's connection; the writes are pipelined
  await Promise.all(files.map((f) => runner.writeFile(master, f.path, f.content, f.mode, run.signal)));
  let output: string;
  let exit: number;
  try {
    ({ output, exitCode: exit } = await runner.exec(master, runCommand(run, dir), { timeoutMs: run.timeoutMs, signal: run.signal, keepBytes: 64 * 1024 }));
  } catch (err) {
    // timed out or cancelled: stop what is still running there and remove the folder (its key)
    runner.exec(master, `P=$(cat ${shellQuote(dir)}/pid 2>/dev/null) && pkill -TERM -P "$P"; sleep 2; rm -rf ${shellQuote(dir)}`, { timeoutMs: 30_000 }).catch(() => undefined);
    throw err;
  }
  const aliases = targets.map((t) => hostAlias(t.vmId));
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
