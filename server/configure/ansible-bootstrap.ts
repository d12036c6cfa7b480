/**
 * Ansible on the master VM: users' playbooks run there (never on the server), so before the first
 * playbook of an infrastructure the server checks for `ansible-playbook` on the master and, when
 * it is missing, installs it with the distribution's package manager or, failing that, pip into a
 * virtual environment in the login's home. A fixed script of ours; its last line says what it did.
 * Idempotent: a second run only finds what the first installed.
 */
import { ConfigureError } from './errors';
import { shellQuote } from './script-step';
import type { SshNode, SshRunner } from './ssh-runner';

/** Where the pip fallback installs (relative to the login's home); on PATH of every playbook run. */
export const ANSIBLE_VENV = '.tosca-im/ansible-venv';

/** PATH for commands on the master: the pip fallback's venv and ~/.local/bin first. */
export const MASTER_PATH = `PATH="$HOME/${ANSIBLE_VENV}/bin:$HOME/.local/bin:$PATH"`;

/** Marker of the script's result line. */
const RESULT = 'tosca-im-ansible:';

/**
 * POSIX sh. Root installs directly, another login through `sudo -n` (cloud images' default users
 * have password-less sudo). Package managers are tried before pip: they bring a tested Python.
 */
export const BOOTSTRAP_SCRIPT = `export ${MASTER_PATH}
found() { command -v ansible-playbook >/dev/null 2>&1; }
version() { ansible-playbook --version 2>/dev/null | head -n 1; }
if found; then echo "${RESULT} found $(version)"; exit 0; fi
S=; [ "$(id -u)" = 0 ] || S="sudo -n"
how=
if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  { $S apt-get install -y -q ansible-core || { $S apt-get update -q && $S apt-get install -y -q ansible-core; } || $S apt-get install -y -q ansible; } && how="apt-get"
elif command -v dnf >/dev/null 2>&1; then
  { $S dnf install -y -q ansible-core || $S dnf install -y -q ansible; } && how="dnf"
elif command -v yum >/dev/null 2>&1; then
  { $S yum install -y -q ansible-core || $S yum install -y -q ansible; } && how="yum"
elif command -v zypper >/dev/null 2>&1; then
  $S zypper --non-interactive install ansible-core && how="zypper"
elif command -v apk >/dev/null 2>&1; then
  $S apk add --no-cache ansible-core && how="apk"
fi
if ! found && command -v python3 >/dev/null 2>&1; then
  python3 -m venv "$HOME/${ANSIBLE_VENV}" && "$HOME/${ANSIBLE_VENV}/bin/pip" install -q ansible-core && how="pip (in ~/${ANSIBLE_VENV})"
fi
if found; then echo "${RESULT} installed $(version) with $how"; exit 0; fi
echo "${RESULT} could not install ansible-core (no package manager or pip worked)"
exit 1
`;

export interface AnsibleReady {
  /** What the bootstrap did, for contmsg: "found ansible-playbook [core 2.14.18]" or "installed … with apt-get". */
  summary: string;
}

/** Checks for (and if needed installs) Ansible on the master; rejects with the script's output. */
export async function ensureAnsible(runner: SshRunner, master: SshNode, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<AnsibleReady> {
  const res = await runner.exec(master, `sh -c ${shellQuote(BOOTSTRAP_SCRIPT)} </dev/null`, { timeoutMs: opts.timeoutMs ?? 15 * 60_000, signal: opts.signal, keepBytes: 8 * 1024 });
  return bootstrapOutcome(master.vmId, res.exitCode, res.output);
}

/** The script's exit code and output → what it did, or a ConfigureError carrying the output. */
export function bootstrapOutcome(vmId: string, exitCode: number, output: string): AnsibleReady {
  const line = output.split('\n').reverse().find((l) => l.startsWith(RESULT));
  const summary = line?.slice(RESULT.length).trim();
  if (exitCode !== 0 || !summary) {
    throw Object.assign(new ConfigureError(`Ansible is not available on the master VM ${vmId}: ${summary ?? `exit ${exitCode}`}`), { output });
  }
  return { summary: `${summary} on the master` };
}
