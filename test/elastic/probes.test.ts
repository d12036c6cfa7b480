/** Sensing: parsers fed recorded tool outputs (E-SENSE-1, E-SENSE-2, E-SENSE-4) and the probe port. */
import { readFileSync } from 'fs';
import * as path from 'path';
import {
  CONDOR_Q, CONDOR_STATUS, htcondor, ipFromNoDnsName, ipsFromSinful, parseCondorQ, parseCondorStatus,
} from '../../server/elastic/probes/htcondor';
import { KUBECTL_NODES, KUBECTL_PODS, cpuQuantity, kubernetesAdapter, parseNodes, parsePods } from '../../server/elastic/probes/kubernetes';
import { genericAdapter, parseGeneric } from '../../server/elastic/probes/generic';
import { ProbeError, type RemoteExec } from '../../server/elastic/probes/types';
import { SINFO, SQUEUE, parseSinfo, parseSqueue, slurm } from '../../server/elastic/probes/slurm';

const fx = (f: string) => readFileSync(path.join(__dirname, 'fixtures', f), 'utf8');
const byName = <T extends { name: string }>(xs: T[]) => Object.fromEntries(xs.map((x) => [x.name, x]));

/** A master that answers known commands with fixture text. */
function fakeMaster(answers: Record<string, string | { code: number; stderr: string }>): RemoteExec & { calls: string[] } {
  const calls: string[] = [];
  const f = (async (cmd: string) => {
    calls.push(cmd);
    const a = answers[cmd];
    if (a === undefined) return { code: 127, stdout: '', stderr: `${cmd.split(' ')[0]}: command not found` };
    return typeof a === 'string' ? { code: 0, stdout: a, stderr: '' } : { code: a.code, stdout: '', stderr: a.stderr };
  }) as RemoteExec & { calls: string[] };
  f.calls = calls;
  return f;
}

describe('E-SENSE-1 HTCondor parsers', () => {
  test('condor_q -json: idle jobs with requested CPUs and queue dates; held jobs and expressions', () => {
    const jobs = parseCondorQ(fx('condor_q.json'));
    expect(jobs).toEqual([
      { id: '101.0', cpus: 1, since: 1764061200000 },
      { id: '101.1', cpus: 1, since: 1764061200000 },
      { id: '102.0', cpus: 2, since: 1764061500000 },
      { id: '103.0', cpus: 1, since: 1764061800000 }, // unevaluated RequestCpus expression → 1
    ]);
    expect(parseCondorQ(fx('condor_q_empty.txt'))).toEqual([]);
    expect(parseCondorQ('[{"ClusterId":1,"ProcId":0,"JobStatus":1,"RequestCpus":1}]\n[{"ClusterId":2,"ProcId":0,"JobStatus":1,"RequestCpus":3}]'))
      .toHaveLength(2); // one array per schedd
  });

  test('condor_status static slots: busy counts claimed slots, NO_DNS names and sinful strings give IPs', () => {
    const h = byName(parseCondorStatus(fx('condor_status_static.json')));
    expect(h['10-0-0-5.novalocal']).toMatchObject({ busy: 1, state: 'busy', ips: ['10.0.0.5'] });
    expect(h['10-0-0-6.novalocal']).toMatchObject({ busy: 0, state: 'idle', ips: ['10.0.0.6'], idleSince: 1764060200000 });
    expect(h['wn-7.cluster.local']).toMatchObject({ busy: 1, state: 'busy', ips: ['10.0.0.7'] });
  });

  test('condor_status partitionable slots: dynamic children make the machine busy; Owner takes no work', () => {
    const h = byName(parseCondorStatus(fx('condor_status_partitionable.json')));
    expect(h['10-0-1-10.novalocal']).toMatchObject({ busy: 2, state: 'busy', schedulable: true });
    expect(h['10-0-1-11.novalocal']).toMatchObject({ busy: 0, state: 'idle', ips: ['10.0.1.11'] });
    expect(h['10-0-1-12.novalocal']).toMatchObject({ busy: 0, state: 'idle', schedulable: false });
  });

  test('E-SENSE-4 unknown slot states make the machine unknown (never idle)', () => {
    const h = byName(parseCondorStatus(fx('condor_status_unknown.json')));
    expect(h['10-0-2-20.novalocal'].state).toBe('unknown');
    expect(h['10-0-2-21.novalocal'].state).toBe('unknown'); // no State at all
    expect(h['10-0-2-20.novalocal'].idleSince).toBeUndefined();
  });

  test.each([
    ['10-0-0-5.novalocal', '10.0.0.5'], ['192-168-10-200', '192.168.10.200'], ['wn1.localdomain', undefined], ['10-0-0.x', undefined],
  ])('NO_DNS name %s → %s', (name, ip) => expect(ipFromNoDnsName(name)).toBe(ip));

  test('sinful strings', () => {
    expect(ipsFromSinful('<10.0.0.5:9618?addrs=10.0.0.5-9618+172.16.0.5-9618&noUDP>')).toEqual(['10.0.0.5', '172.16.0.5']);
    expect(ipsFromSinful('<wn1:9618>')).toEqual([]);
  });

  test('adapter runs condor_q and condor_status on the master and drains with condor_off -peaceful', async () => {
    const exec = fakeMaster({ [CONDOR_Q]: fx('condor_q.json'), [CONDOR_STATUS]: fx('condor_status_static.json') });
    const s = await htcondor.sense(exec, 5);
    expect(s.waiting).toHaveLength(4);
    expect(s.hosts).toHaveLength(3);
    expect(exec.calls).toEqual([CONDOR_Q, CONDOR_STATUS]);
    expect(htcondor.drainCommand("wn'1")).toBe(`condor_off -peaceful -startd 'wn'\\''1'`);
    expect(htcondor.undrainCommand('wn1')).toBe(`condor_on -startd 'wn1'`);
  });

  test('a failing or garbled command is a ProbeError', async () => {
    await expect(htcondor.sense(fakeMaster({ [CONDOR_Q]: { code: 1, stderr: 'Failed to connect to schedd' } }), 0))
      .rejects.toThrow(/condor_q exited 1: Failed to connect/);
    await expect(htcondor.sense(fakeMaster({ [CONDOR_Q]: 'Error: not JSON', [CONDOR_STATUS]: '[]' }), 0)).rejects.toBeInstanceOf(ProbeError);
    await expect(htcondor.sense(async () => { throw new Error('ssh: connection refused'); }, 0)).rejects.toThrow(/connection refused/);
  });
});

describe('E-SENSE-2 Kubernetes parsers', () => {
  const pods = parsePods(fx('kubectl_pods.json'));
  test('demand = Unschedulable pending pods with their CPU requests and creation time', () => {
    expect(pods.waiting).toEqual([
      { id: 'dask/dask-worker-3', cpus: 1, since: Date.parse('2026-11-25T08:10:00Z') },
      { id: 'dask/dask-worker-4', cpus: 2, since: Date.parse('2026-11-25T08:11:00Z') },
    ]);
  });
  test('per-node use ignores DaemonSet and mirror pods and finished pods', () => {
    const h = byName(parseNodes(fx('kubectl_nodes.json'), pods.busyByNode));
    expect(h['wn-1']).toMatchObject({ busy: 3, state: 'busy', ips: ['10.0.0.11'], schedulable: true });
    expect(h['wn-2']).toMatchObject({ busy: 0, state: 'idle', schedulable: true });
    expect(h['wn-3'].state).toBe('unknown'); // NotReady: E-SENSE-4
    expect(h['wn-4']).toMatchObject({ busy: 1, state: 'busy', schedulable: false }); // cordoned
    expect(h.master).toMatchObject({ busy: 1, schedulable: false }); // coredns; the mirror pod does not count
  });
  test.each([['500m', 0.5], ['2', 2], ['1.5', 1.5], [undefined, 0], ['garbage', 0]])('cpu quantity %s', (q, v) => expect(cpuQuantity(q)).toBe(v));
  test('adapter commands: cordon + drain with the drain timeout, uncordon, delete node', async () => {
    const k = kubernetesAdapter(300);
    const s = await k.sense(fakeMaster({ [KUBECTL_PODS]: fx('kubectl_pods.json'), [KUBECTL_NODES]: fx('kubectl_nodes.json') }), 1);
    expect(s.waiting).toHaveLength(2);
    expect(k.drainCommand('wn-2')).toBe(`kubectl cordon 'wn-2' && { nohup kubectl drain 'wn-2' --ignore-daemonsets --delete-emptydir-data --timeout=300s </dev/null >/dev/null 2>&1 & }`);
    expect(k.undrainCommand('wn-2')).toBe(`kubectl uncordon 'wn-2'`);
    expect(k.forgetCommand!('wn-2')).toBe(`kubectl delete node 'wn-2' --ignore-not-found`);
    expect(() => parsePods('{"kind":"Status"}')).toThrow(ProbeError);
  });
});

describe('generic probe', () => {
  test('{"waiting": N, "busy": {host: jobs}}; a non-number is an unknown state', () => {
    const s = parseGeneric(fx('generic.json'), 9);
    expect(s.waiting).toEqual([{ cpus: 1, count: 12 }]);
    expect(byName(s.hosts)).toMatchObject({
      '10.0.0.5': { busy: 3, state: 'busy', ips: ['10.0.0.5'] },
      wn2: { busy: 0, state: 'idle', ips: [] },
      wn3: { state: 'unknown' },
    });
  });
  test.each([['{"busy":{}}'], ['{"waiting":-1}'], ['{"waiting":1.5}'], ['{"waiting":1,"busy":[1]}'], ['nope']])('rejects %s', (out) => {
    expect(() => parseGeneric(out, 0)).toThrow(ProbeError);
  });
  test('runs the configured command', async () => {
    const exec = fakeMaster({ 'cat /var/queue.json': '{"waiting":0,"busy":{}}' });
    await expect(genericAdapter('cat /var/queue.json').sense(exec, 3)).resolves.toEqual({ takenAt: 3, waiting: [], hosts: [] });
  });
});

describe('Slurm parsers (E-SENSE-4: mixed blocks removal)', () => {
  test('squeue: pending jobs waiting for resources, with CPUs and epoch submit time', () => {
    expect(parseSqueue(fx('squeue.txt'))).toEqual([
      { id: '4101', cpus: 1, since: 1764061200000 },
      { id: '4102', cpus: 1, since: 1764061200000 },
      { id: '4103', cpus: 8, since: 1764061500000 },
      { id: '4106', cpus: 4, since: 1764061950000 },
    ]);
    expect(() => parseSqueue('garbage')).toThrow(ProbeError);
  });
  test('sinfo -N: mixed/allocated busy, drained idle but not schedulable, flags and unknown states are unknown', () => {
    const h = byName(parseSinfo(fx('sinfo.txt')));
    expect(h['vnode-1']).toMatchObject({ busy: 2, state: 'busy', ips: ['10.0.1.11'], schedulable: true });
    expect(h['vnode-2']).toMatchObject({ busy: 0, state: 'idle', schedulable: true });
    expect(h['vnode-3']).toMatchObject({ busy: 4, state: 'busy' });
    expect(h['vnode-4'].state).toBe('unknown'); // powered off (~)
    expect(h['vnode-5'].state).toBe('unknown'); // not responding (*)
    expect(h['vnode-6']).toMatchObject({ busy: 0, state: 'idle', schedulable: false });
    expect(h['vnode-7']).toMatchObject({ busy: 1, state: 'busy', schedulable: false });
    expect(h['vnode-8']).toMatchObject({ ips: [], state: 'idle' });
    expect(h['vnode-9'].state).toBe('unknown'); // a state this parser does not know
    expect(Object.keys(h)).toHaveLength(9); // one entry per node, whatever its partitions
  });
  test('adapter commands', async () => {
    const s = await slurm.sense(fakeMaster({ [SQUEUE]: fx('squeue.txt'), [SINFO]: fx('sinfo.txt') }), 1);
    expect(s.waiting).toHaveLength(4);
    expect(slurm.drainCommand('vnode-2')).toBe(`scontrol update NodeName='vnode-2' State=DRAIN Reason='elastic scale-down'`);
    expect(slurm.undrainCommand('vnode-2')).toBe(`scontrol update NodeName='vnode-2' State=RESUME`);
  });
});
