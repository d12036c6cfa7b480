/**
 * Generic probe: any command on the master printing {"waiting": N, "busy": {"host": jobs}}.
 * Host keys may be names or IPs. A host whose value is not a number is in an unknown state.
 * There is no generic drain: the drain phase still waits for a fresh sample showing the host idle.
 */
import { type HostUsage, type LrmsAdapter, type ProbeSample, ProbeError, run } from './types';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function parseGeneric(stdout: string, now: number): ProbeSample {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch (e) {
    throw new ProbeError(`probe: unparsable JSON output (${(e as Error).message})`);
  }
  const o = v as { waiting?: unknown; busy?: unknown };
  if (!o || typeof o !== 'object' || typeof o.waiting !== 'number' || !Number.isInteger(o.waiting) || o.waiting < 0) {
    throw new ProbeError('probe: output must be {"waiting": N, "busy": {"host": jobs}} with N an integer >= 0');
  }
  if (o.busy !== undefined && (typeof o.busy !== 'object' || o.busy === null || Array.isArray(o.busy))) {
    throw new ProbeError('probe: "busy" must be an object of host → running jobs');
  }
  const hosts: HostUsage[] = Object.entries((o.busy ?? {}) as Record<string, unknown>).map(([name, jobs]) => {
    const known = typeof jobs === 'number' && Number.isFinite(jobs) && jobs >= 0;
    return {
      name,
      ips: IPV4.test(name) ? [name] : [],
      busy: known ? (jobs as number) : 0,
      state: !known ? 'unknown' : (jobs as number) > 0 ? 'busy' : 'idle',
      schedulable: true,
    };
  });
  return { takenAt: now, waiting: o.waiting > 0 ? [{ cpus: 1, count: o.waiting }] : [], hosts };
}

export function genericAdapter(command: string): LrmsAdapter {
  return {
    kind: 'generic',
    async sense(exec, now) { return parseGeneric(await run(exec, command), now); },
    drainCommand: () => 'true',
    undrainCommand: () => 'true',
  };
}
