/**
 * Slurm: demand from `squeue` (pending jobs waiting for resources, with their CPUs and submit
 * time), per-node use from `sinfo -N` (allocated CPUs, state). `mixed` is busy (clues#14), any
 * state with a not-responding/failing flag or not listed below is unknown, i.e. never idle.
 * Times come as epoch seconds (SLURM_TIME_FORMAT=%s) so the controller's time zone does not matter.
 */
import { type HostUsage, type LrmsAdapter, type ProbeSample, type WaitingJob, ProbeError, run, shq } from './types';

export const SQUEUE = `SLURM_TIME_FORMAT=%s squeue -h -t PD -o '%i|%C|%V|%r'`;
export const SINFO = `sinfo -h -N -o '%N|%o|%T|%C'`;

/** Pending reasons that are not a lack of resources: such jobs do not ask for nodes. */
const NOT_DEMAND = new Set([
  'Dependency', 'DependencyNeverSatisfied', 'JobHeldUser', 'JobHeldAdmin', 'BeginTime', 'PartitionDown',
  'PartitionInactive', 'PartitionTimeLimit', 'PartitionNodeLimit', 'AssocGrpCpuLimit', 'AssocMaxJobsLimit', 'QOSMaxJobsPerUserLimit',
  'InvalidAccount', 'InvalidQOS', 'BadConstraints',
]);

function lines(stdout: string): string[][] {
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.split('|'));
}

export function parseSqueue(stdout: string): WaitingJob[] {
  return lines(stdout).flatMap((f, i) => {
    if (f.length < 4) throw new ProbeError(`squeue: line ${i + 1}: expected id|cpus|submit|reason`);
    const [id, cpus, submit, reason] = f;
    if (NOT_DEMAND.has(reason)) return [];
    const t = Number(submit);
    return [{ id, cpus: Math.max(1, Number(cpus) || 1), since: Number.isFinite(t) && t > 0 ? t * 1000 : undefined }];
  });
}

type Verdict = 'idle' | 'busy' | 'unknown';
/** Base state (flags stripped) → verdict; schedulable is false for drain states. */
const STATES: Record<string, [Verdict, boolean]> = {
  idle: ['idle', true], mixed: ['busy', true], allocated: ['busy', true], completing: ['busy', true],
  draining: ['busy', false], drained: ['idle', false], 'idle+drain': ['idle', false], 'mixed+drain': ['busy', false],
  'allocated+drain': ['busy', false], reserved: ['idle', false], planned: ['idle', true],
};

export function parseSinfo(stdout: string): HostUsage[] {
  const hosts = new Map<string, HostUsage>();
  for (const [i, f] of lines(stdout).entries()) {
    if (f.length < 4) throw new ProbeError(`sinfo: line ${i + 1}: expected node|addr|state|cpus`);
    const [name, addr, rawState, cpus] = f;
    const allocated = Number(cpus.split('/')[0]);
    // Flags: * not responding, ~ powered off, # powering up, ! powering down, % powering down, $ maintenance, @ reboot, ^ rebooting, - planned.
    const flagged = /[*~#!%$@^]$/.test(rawState);
    const known = STATES[rawState.replace(/[*~#!%$@^-]$/, '').toLowerCase()];
    const [verdict, schedulable] = flagged || !known || !Number.isFinite(allocated) ? (['unknown', false] as [Verdict, boolean]) : known;
    const busy = Number.isFinite(allocated) ? allocated : 0;
    const prev = hosts.get(name); // a node in several partitions is listed once per partition
    if (prev) continue;
    hosts.set(name, {
      name, ips: /^\d{1,3}(\.\d{1,3}){3}$/.test(addr) ? [addr] : [], busy,
      state: verdict === 'idle' && busy > 0 ? 'busy' : verdict, schedulable,
    });
  }
  return [...hosts.values()];
}

export const slurm: LrmsAdapter = {
  kind: 'slurm',
  async sense(exec, now): Promise<ProbeSample> {
    const waiting = parseSqueue(await run(exec, SQUEUE));
    return { takenAt: now, waiting, hosts: parseSinfo(await run(exec, SINFO)) };
  },
  drainCommand: (host) => `scontrol update NodeName=${shq(host)} State=DRAIN Reason='elastic scale-down'`,
  undrainCommand: (host) => `scontrol update NodeName=${shq(host)} State=RESUME`,
};
