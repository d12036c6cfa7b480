/**
 * A shell-script operation: the script is copied over SFTP into ~/.tosca-im/<infrastructure>/ on
 * the VM and run there with the inputs as environment variables.
 */
import { ConfigureError } from './errors';
import type { ResolvedValue } from './attributes';
import type { ExecResult, SshNode, SshRunner } from './ssh-runner';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * How an input looks in the environment: scalars as text, a list of scalars space-separated
 * (`for ip in $WORKER_IPS`), anything nested as JSON.
 */
export function envText(v: ResolvedValue): string {
  if (v === null) return '';
  if (Array.isArray(v)) return v.every((x) => x === null || typeof x !== 'object') ? v.map((x) => (x === null ? '' : String(x))).join(' ') : JSON.stringify(v);
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** `A='x' B='y z'`: the inputs as assignments prefixed to the script's command (exported to it). */
export function envAssignments(vars: Record<string, ResolvedValue>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(vars)) {
    if (!ENV_NAME.test(k)) throw new ConfigureError(`input "${k}" is not a valid environment variable name for a script`);
    parts.push(`${k}=${shellQuote(envText(v))}`);
  }
  return parts.join(' ');
}

/** Where a step's script lives on the VM, relative to the login's home. */
export function scriptPath(infrastructureId: string, stem: string): string {
  return `.tosca-im/${infrastructureId.replace(/[^A-Za-z0-9_.-]/g, '_')}/${stem.replace(/[^A-Za-z0-9_.-]/g, '_')}.sh`;
}

/** Copies the script; done ahead of the step (while earlier steps run) to keep round trips off the critical path. */
export function uploadScript(runner: SshRunner, node: SshNode, path: string, script: Buffer, signal?: AbortSignal): Promise<void> {
  return runner.writeFile(node, path, script, 0o700, signal);
}

export interface ScriptRun {
  /** As returned by scriptPath, already uploaded. */
  path: string;
  vars: Record<string, ResolvedValue>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export function runScript(runner: SshRunner, node: SshNode, step: ScriptRun): Promise<ExecResult> {
  const slash = step.path.lastIndexOf('/');
  // inputs travel in the command (no second file to copy); a script without #! runs under sh
  const cmd = `cd ${shellQuote(step.path.slice(0, slash))} && ${envAssignments(step.vars)} exec ./${step.path.slice(slash + 1)} </dev/null`;
  return runner.exec(node, cmd, { timeoutMs: step.timeoutMs, signal: step.signal });
}
