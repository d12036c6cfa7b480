/**
 * Configuration over SSH on real sshd hosts in a sealed lab: a front end with a public IP and
 * private workers reached only through it; growth, shrink, a failing step, host keys by VM.
 */
import { join } from 'node:path';
import { generateSshKeyPair } from '../../server/configure/keys';
import type { ConfigureRequest, ConfigureResult, ContextLogEntry, VmTarget } from '../../server/configure/types';
import { addMaster, addWorker, clusterPlan, nodeFile, SCRIPTS, stepCount, workerIp, type ClusterVm } from '../lab/cluster-fixture';
import { createLab, type Lab } from '../lab/lab';
import { describeWithLab } from '../lab/require-lab';
import { startServerProcess, type ServerProcess } from '../lab/server-process';

jest.setTimeout(60_000);

describeWithLab('Configurator on a sealed SSH lab', () => {
  const key = generateSshKeyPair('cluster-test');
  const INF = 'inf-cluster';
  let lab: Lab;
  let server: ServerProcess;
  const log: ContextLogEntry[] = [];
  let master: ClusterVm;
  const workers = new Map<number, ClusterVm>();

  const targets = (): VmTarget[] => [master.target, ...[...workers.values()].map((w) => w.target)];
  const request = (extra: Partial<ConfigureRequest> = {}): ConfigureRequest => ({
    infrastructureId: INF, plan: clusterPlan(workers.size), vms: targets(), masterVmId: '0', ...extra,
  });
  const configure = (req: ConfigureRequest) => server.call<ConfigureResult>('configure', req);
  const counts = (w: ClusterVm) => ['create', 'configure', 'start'].map((op) => stepCount(w.host, 'lrms_wn', op));

  beforeAll(async () => {
    lab = await createLab({ name: 'cfg' });
    master = await addMaster(lab, key);
    for (const i of [1, 2, 3]) workers.set(i, await addWorker(lab, key, i));
    server = await startServerProcess(lab, require.resolve('../lab/configure-driver.ts'), (ev) => {
      const e = ev as { type: string; entries: ContextLogEntry[] };
      if (e.type === 'logs') log.push(...e.entries);
    });
    await server.call('init', { workDir: join(lab.dir, 'server-work'), artifacts: SCRIPTS });
  });

  afterAll(async () => {
    await server?.call('release', INF).catch(() => undefined);
    await server?.close();
    await lab?.destroy();
  });

  test('configures the front end and 3 private workers through the front end', async () => {
    const res = await configure(request());
    expect(res.vms).toEqual({ 0: 'configured', 1: 'configured', 2: 'configured', 3: 'configured' });
    expect(nodeFile(master.host, 'worker_list')).toBe([1, 2, 3].map((i) => workerIp(i) + '\n').join(''));
    expect(nodeFile(master.host, 'hostname')).toBe('m0\n');
    for (const [i, w] of workers) {
      expect(nodeFile(w.host, 'master_ip')).toBe('10.77.0.10\n');
      expect(nodeFile(w.host, 'hostname')).toBe(`w${i}\n`);
      expect(counts(w)).toEqual([1, 1, 1]);
    }
    // the log names each step with time, VM, exit status and the output's tail
    const wnConf = log.find((e) => e.vmId === '2' && e.step === 'Standard.configure' && e.status === 'ok');
    expect(wnConf).toMatchObject({ node: 'lrms_wn', exitCode: 0 });
    expect(wnConf!.output).toContain(`front end at 10.77.0.10, I am ${workerIp(2)}`);
    expect(Date.parse(wnConf!.time)).toBeGreaterThan(0);
    // workers' create waited for the front end's steps (lrms_wn depends on lrms_front)
    const frontDone = log.findIndex((e) => e.vmId === '0' && e.step === 'Standard.configure' && e.status === 'ok');
    const firstWn = log.findIndex((e) => e.node === 'lrms_wn' && e.status === 'running');
    expect(frontDone).toBeGreaterThanOrEqual(0);
    expect(firstWn).toBeGreaterThan(frontDone);
    // one direct connection (the front end), the workers through it
    expect(await server.call('stats', INF)).toMatchObject({ opened: 4, direct: 1, jumped: 3 });
  });

  test('the master never changes once chosen: another VM with a public IP is refused (409), nothing runs', async () => {
    const before = stepCount(master.host, 'lrms_front', 'configure');
    const vms = targets().map((v) => (v.vmId === '1' ? { ...v, publicIp: '198.18.0.99' } : v));
    const refused = await configure(request({ vms, masterVmId: '1' })).then(() => undefined, (e: Error) => e);
    expect({ name: refused?.name, message: refused?.message }).toEqual({
      name: 'MasterChangedError', message: `infrastructure ${INF}: the master VM is 0 and cannot become 1`,
    });
    const probe = await server.call('runOnMaster', INF, 'true', { master: vms[1] }).then(() => undefined, (e: Error) => e.name);
    expect(probe).toBe('MasterChangedError');
    expect(stepCount(master.host, 'lrms_front', 'configure')).toBe(before);
  });

  test('commands run on the master over the same connection (the elasticity probes)', async () => {
    const before = await server.call<{ opened: number }>('stats', INF);
    const res = await server.call<{ exitCode: number; output: string }>('runOnMaster', INF, 'hostname; wc -l < worker_list; exit 4');
    expect(res).toEqual({ exitCode: 4, output: 'm0\n3\n' });
    expect((await server.call<{ opened: number }>('stats', INF)).opened).toBe(before.opened);
  });

  test('a direct SSH attempt to a worker fails at once; the front end is reachable directly', async () => {
    const direct = await server.call<{ ok: boolean; code?: string; ms: number }>('directSsh', workerIp(1), key.privateKey);
    expect(direct.ok).toBe(false);
    expect(direct.code).toMatch(/EHOSTUNREACH|ENETUNREACH/);
    expect(direct.ms).toBeLessThan(1000);
    const front = await server.call<{ ok: boolean }>('directSsh', '198.18.0.10', key.privateKey);
    expect(front.ok).toBe(true);
  });

  test('growth by 2: new workers run their life cycle, old nodes only the step that reads the worker list', async () => {
    for (const i of [4, 5]) workers.set(i, await addWorker(lab, key, i));
    const res = await configure(request({ changes: { added: ['4', '5'] } }));
    expect(Object.values(res.vms).every((s) => s === 'configured')).toBe(true);
    expect(Object.keys(res.vms)).toHaveLength(6);
    expect(nodeFile(master.host, 'worker_list')!.trim().split('\n')).toEqual([1, 2, 3, 4, 5].map(workerIp));
    expect(stepCount(master.host, 'lrms_front', 'create')).toBe(1);
    expect(stepCount(master.host, 'lrms_front', 'configure')).toBe(2);
    for (const i of [1, 2, 3]) expect(counts(workers.get(i)!)).toEqual([1, 1, 1]);
    for (const i of [4, 5]) {
      expect(counts(workers.get(i)!)).toEqual([1, 1, 1]);
      expect(nodeFile(workers.get(i)!.host, 'master_ip')).toBe('10.77.0.10\n');
    }
    expect(res.steps.filter((s) => s.vmId === '0').map((s) => s.step)).toEqual(['Standard.configure']);
  });

  test('shrink by one; a new VM reusing the removed IP (new host key) is configured', async () => {
    const gone = workers.get(5)!;
    workers.delete(5);
    let res = await configure(request({ changes: { removed: [{ vmId: '5', nodeName: 'wn' }] } }));
    await lab.removeHost(gone.host.name);
    expect(nodeFile(master.host, 'worker_list')!.trim().split('\n')).toEqual([1, 2, 3, 4].map(workerIp));
    expect(stepCount(master.host, 'lrms_front', 'configure')).toBe(3);
    expect(res.vms['5']).toBeUndefined();

    workers.set(6, await addWorker(lab, key, 6, 5)); // VM 6 takes VM 5's address
    res = await configure(request({ changes: { added: ['6'] } }));
    expect(res.vms['6']).toBe('configured');
    expect(nodeFile(workers.get(6)!.host, 'hostname')).toBe('w6\n');
    expect(nodeFile(master.host, 'worker_list')!.trim().split('\n')).toEqual([1, 2, 3, 4, 5].map(workerIp));
  });

  test('a VM whose sshd comes up late is waited for (backoff)', async () => {
    const late = await addWorker(lab, key, 10, 10, false); // booting: connections refused
    workers.set(10, late);
    const before = await server.call<{ attempts: number; opened: number }>('stats', INF);
    const run = configure(request({ changes: { added: ['10'] } }));
    await new Promise((r) => setTimeout(r, 1000));
    await lab.startSshd(late.host.name);
    const res = await run;
    expect(res.vms['10']).toBe('configured');
    expect(counts(late)).toEqual([1, 1, 1]);
    const after = await server.call<{ attempts: number; opened: number }>('stats', INF);
    expect(after.opened - before.opened).toBe(1);
    expect(after.attempts - before.attempts).toBeGreaterThan(2);
  });

  test('waiting for SSH gives up at its deadline with a clear error', async () => {
    const off = await addWorker(lab, key, 11, 11, false);
    try {
      const r = await server.call<{ result: string; ms: number; attempts: number }>('waitForSsh', master.target, off.target, 1500);
      expect(r.result).toMatch(/^SshUnreachableError: VM 11: SSH to 10\.77\.1\.11 not available: through master: .*refused/i);
      expect(r.ms).toBeGreaterThan(500);
      expect(r.ms).toBeLessThan(5000);
      expect(r.attempts).toBeGreaterThan(2);
    } finally {
      await lab.removeHost(off.host.name);
    }
  });

  test('a changed host key for the same VM is refused', async () => {
    const w = workers.get(1)!;
    const ok = await server.call<string>('connectWithKnownKey', master.target, w.target, w.host.hostKey);
    expect(ok).toBe('ok:w1');
    const other = workers.get(2)!.host.hostKey;
    expect(await server.call<string>('connectWithKnownKey', master.target, w.target, other)).toBe('HostKeyMismatchError');
  });

  test('a failing step marks only its worker unconfigured; it succeeds after the script is fixed', async () => {
    const before = new Map([...workers].map(([i, w]) => [i, counts(w)]));
    await server.call('setArtifacts', { 'wn_configure.sh': `#!/bin/sh\n${'echo x >> "$HOME/count.$TOSCA_NODE.$TOSCA_OPERATION"'}\nif [ "$(hostname)" = w2 ]; then echo "disk full on purpose" >&2; exit 3; fi\necho "$FRONT_IP" > "$HOME/master_ip"\n` });
    const logFrom = log.length;
    let res = await configure(request({ vmList: [...workers.keys()].map(String) }));
    expect(res.vms['2']).toBe('unconfigured');
    for (const i of [1, 3, 4, 6]) expect(res.vms[String(i)]).toBe('configured');
    const failed = log.slice(logFrom).find((e) => e.vmId === '2' && e.status === 'failed');
    expect(failed).toMatchObject({ step: 'Standard.configure', exitCode: 3 });
    expect(failed!.output).toContain('disk full on purpose');
    // the step after it on that VM did not run
    expect(log.slice(logFrom).find((e) => e.vmId === '2' && e.step === 'Standard.start')?.status).toBe('skipped');

    await server.call('setArtifacts', { 'wn_configure.sh': SCRIPTS['wn_configure.sh'] });
    const mid = new Map([...workers].map(([i, w]) => [i, counts(w)]));
    res = await configure(request({ changes: {} }));
    expect(Object.values(res.vms).every((s) => s === 'configured')).toBe(true);
    // only the failed worker ran again, from scratch
    expect(counts(workers.get(2)!)).toEqual(mid.get(2)!.map((n) => n + 1));
    for (const i of [1, 3, 4, 6]) expect(counts(workers.get(i)!)).toEqual(mid.get(i));
    expect(before.get(1)![0] + 1).toBe(mid.get(1)![0]);
  });

  test('additions arriving during a run are coalesced into one next run', async () => {
    for (const i of [7, 8, 9]) workers.set(i, await addWorker(lab, key, i));
    const all = targets();
    const without = (ids: string[]) => all.filter((v) => !ids.includes(v.vmId));
    const plan = clusterPlan(workers.size);
    const reqs: ConfigureRequest[] = [
      { infrastructureId: INF, plan, vms: without(['8', '9']), masterVmId: '0', changes: { added: ['7'] } },
      { infrastructureId: INF, plan, vms: without(['9']), masterVmId: '0', changes: { added: ['8'] } },
      { infrastructureId: INF, plan, vms: all, masterVmId: '0', changes: { added: ['9'] } },
    ];
    const frontBefore = stepCount(master.host, 'lrms_front', 'configure');
    const [r1, r2, r3] = await server.call<ConfigureResult[]>('configureMany', reqs);
    expect(r1.vms['7']).toBe('configured');
    expect(r2).toEqual(r3); // 8 and 9 were batched into one run
    expect(r3.vms['8']).toBe('configured');
    expect(r3.vms['9']).toBe('configured');
    expect(stepCount(master.host, 'lrms_front', 'configure')).toBe(frontBefore + 2);
    const expected = [...workers.entries()].sort(([a], [b]) => a - b).map(([, w]) => w.target.privateIp);
    expect(nodeFile(master.host, 'worker_list')!.trim().split('\n')).toEqual(expected);
    expect(expected).toHaveLength(9);
  });

  test('deleting a VM during a run cancels its steps and the run ends', async () => {
    await server.call('setArtifacts', { 'wn_start.sh': `#!/bin/sh\nif [ "$(hostname)" = w3 ]; then sleep 30; fi\n` });
    const logFrom = log.length;
    const t0 = Date.now();
    const run = configure(request({ vmList: ['3', '4'] }));
    while (!log.slice(logFrom).some((e) => e.vmId === '3' && e.step === 'Standard.start' && e.status === 'running')) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await server.call('cancelVm', INF, '3');
    const res = await run;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(res.vms['3']).toBeUndefined();
    expect(res.vms['4']).toBe('configured');
    expect(log.slice(logFrom).find((e) => e.vmId === '3' && e.step === 'Standard.start' && e.status !== 'running')?.status).toBe('skipped');
    await server.call('setArtifacts', { 'wn_start.sh': SCRIPTS['wn_start.sh'] });
    await lab.removeHost(workers.get(3)!.host.name);
    workers.delete(3);
  });
});
