/**
 * What sensing produces and what it needs. A probe reads the batch system on the master through
 * RemoteExec (the SSH layer provides it) and returns one ProbeSample; it never decides anything.
 */
import type { LrmsKind } from '../policy';

export interface ExecResult { code: number; stdout: string; stderr: string }
/** Run a shell command on the infrastructure's master (provided by server/configure). */
export type RemoteExec = (command: string) => Promise<ExecResult>;

/** A group of identical waiting jobs (generic probes only give a count). */
export interface WaitingJob {
  id?: string;
  /** Slots (CPUs) one job asks for; at least 1. */
  cpus: number;
  /** When the job started waiting (ms epoch, LRMS clock) if the LRMS says so. */
  since?: number;
  /** How many such jobs; default 1. */
  count?: number;
}

/** 'unknown' always counts as busy: a state we cannot read must never look idle (clues#14/#97). */
export type HostActivity = 'idle' | 'busy' | 'unknown';

export interface HostUsage {
  /** The LRMS's name for the host (condor Machine, k8s node name, generic key). */
  name: string;
  /** Addresses the LRMS knows for it (used to map hosts to VMs by private IP). */
  ips: string[];
  /** Slots in use by jobs. */
  busy: number;
  state: HostActivity;
  /** The LRMS's own "idle since" (ms epoch) when it reports one. */
  idleSince?: number;
  /** False when cordoned/draining/owner: it takes no new work. */
  schedulable: boolean;
}

export interface ProbeSample {
  takenAt: number;
  waiting: WaitingJob[];
  hosts: HostUsage[];
}

/** The probe could not read the LRMS (command failed, unparsable output). */
export class ProbeError extends Error {
  constructor(message: string) { super(message); this.name = 'ProbeError'; }
}

/** One batch system: how to read it and how to drain a node of it. */
export interface LrmsAdapter {
  readonly kind: LrmsKind;
  sense(exec: RemoteExec, now: number): Promise<ProbeSample>;
  /** Stop new work on the host and let running work finish (must be safe on an idle host). */
  drainCommand(host: string): string;
  /** Put the host back in service after an aborted drain. */
  undrainCommand(host: string): string;
  /** Clean-up on the master after the VM is gone (e.g. `kubectl delete node`), if any. */
  forgetCommand?(host: string): string;
}

/** Single-quote for sh: host names come from the LRMS, never trusted as shell syntax. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function run(exec: RemoteExec, command: string): Promise<string> {
  let r: ExecResult;
  try {
    r = await exec(command);
  } catch (e) {
    throw new ProbeError(`${command.split(' ')[0]}: ${(e as Error).message}`);
  }
  if (r.code !== 0) throw new ProbeError(`${command.split(' ')[0]} exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
  return r.stdout;
}

/** JSON that may be empty (no results) or several arrays back to back (condor -json per schedd). */
export function parseJsonArrays(text: string, what: string): Record<string, unknown>[] {
  const t = text.trim();
  if (t === '') return [];
  try {
    const v = JSON.parse(t.replace(/\]\s*\[/g, ','));
    if (!Array.isArray(v)) throw new Error('not an array');
    return v.filter((x) => x && typeof x === 'object') as Record<string, unknown>[];
  } catch (e) {
    throw new ProbeError(`${what}: unparsable JSON output (${(e as Error).message})`);
  }
}
