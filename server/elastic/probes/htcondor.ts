/**
 * HTCondor: waiting jobs from `condor_q -json`, per-machine use from `condor_status -json`
 * (startd slot ads). Partitionable slots hold no job themselves: their dynamic children do, so a
 * machine's busy count is the CPUs of its claimed static/dynamic slots.
 */
import { type HostUsage, type LrmsAdapter, type ProbeSample, type WaitingJob, parseJsonArrays, run, shq } from './types';

export const CONDOR_Q = `condor_q -allusers -constraint 'JobStatus == 1' -json -attributes ClusterId,ProcId,JobStatus,RequestCpus,QDate`;
export const CONDOR_STATUS =
  'condor_status -json -attributes Name,Machine,MyAddress,State,Activity,SlotType,Cpus,EnteredCurrentActivity';

function num(v: unknown, dflt: number): number {
  // Unevaluated ClassAd expressions come out as strings ("\/Expr(...)\/"): use the default.
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

export function parseCondorQ(stdout: string): WaitingJob[] {
  return parseJsonArrays(stdout, 'condor_q')
    .filter((ad) => ad.JobStatus === 1)
    .map((ad) => ({
      id: `${num(ad.ClusterId, 0)}.${num(ad.ProcId, 0)}`,
      cpus: Math.max(1, Math.ceil(num(ad.RequestCpus, 1))),
      since: typeof ad.QDate === 'number' ? ad.QDate * 1000 : undefined,
    }));
}

/** condor's NO_DNS names encode the address: 10-0-0-5.example → 10.0.0.5. */
export function ipFromNoDnsName(name: string): string | undefined {
  const m = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})(?:\.|$)/.exec(name);
  return m ? m.slice(1, 5).join('.') : undefined;
}

/** IPs inside a sinful string: "<10.0.0.5:9618?addrs=10.0.0.5-9618+[fd00::5]-9618&…>". */
export function ipsFromSinful(addr: string): string[] {
  const out = new Set<string>();
  const host = /^<([0-9.]+):/.exec(addr);
  if (host) out.add(host[1]);
  const addrs = /[?&]addrs=([^&>]*)/.exec(addr);
  if (addrs) {
    for (const a of addrs[1].split('+')) {
      const v4 = /^([0-9.]+)-\d+$/.exec(a);
      if (v4) out.add(v4[1]);
    }
  }
  return [...out];
}

type SlotVerdict = 'idle' | 'busy' | 'unknown';
/** Slot state → does it hold (or is about to hold) a job. Anything unlisted is unknown. */
function slotVerdict(state: unknown, activity: unknown): SlotVerdict {
  switch (state) {
    case 'Unclaimed': return activity === 'Idle' || activity === 'Benchmarking' ? 'idle' : 'unknown';
    case 'Owner': return 'idle'; // START is false: nothing runs here
    case 'Claimed': case 'Matched': case 'Preempting': case 'Backfill': return 'busy';
    case 'Drained': return activity === 'Idle' ? 'idle' : 'busy';
    default: return 'unknown';
  }
}

export function parseCondorStatus(stdout: string): HostUsage[] {
  const hosts = new Map<string, HostUsage>();
  for (const ad of parseJsonArrays(stdout, 'condor_status')) {
    const name = typeof ad.Machine === 'string' ? ad.Machine
      : typeof ad.Name === 'string' ? ad.Name.replace(/^[^@]*@/, '') : undefined;
    if (!name) continue;
    let h = hosts.get(name);
    if (!h) {
      h = { name, ips: [], busy: 0, state: 'idle', schedulable: true };
      const fromName = ipFromNoDnsName(name);
      if (fromName) h.ips.push(fromName);
      hosts.set(name, h);
    }
    if (typeof ad.MyAddress === 'string') for (const ip of ipsFromSinful(ad.MyAddress)) if (!h.ips.includes(ip)) h.ips.push(ip);
    const v = slotVerdict(ad.State, ad.Activity);
    if (v === 'busy') h.busy += Math.max(1, num(ad.Cpus, 1));
    if (ad.State === 'Owner' || ad.State === 'Drained') h.schedulable = false;
    if (v === 'unknown') h.state = 'unknown';
    else if (v === 'busy' && h.state !== 'unknown') h.state = 'busy';
    if (v === 'idle' && typeof ad.EnteredCurrentActivity === 'number') {
      h.idleSince = Math.max(h.idleSince ?? 0, ad.EnteredCurrentActivity * 1000);
    }
  }
  for (const h of hosts.values()) if (h.state !== 'idle') delete h.idleSince;
  return [...hosts.values()];
}

export const htcondor: LrmsAdapter = {
  kind: 'htcondor',
  async sense(exec, now): Promise<ProbeSample> {
    const [q, s] = [await run(exec, CONDOR_Q), await run(exec, CONDOR_STATUS)];
    return { takenAt: now, waiting: parseCondorQ(q), hosts: parseCondorStatus(s) };
  },
  drainCommand: (host) => `condor_off -peaceful -startd ${shq(host)}`,
  undrainCommand: (host) => `condor_on -startd ${shq(host)}`,
};
