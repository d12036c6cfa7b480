/**
 * Durable jobs across an engine restart: the engine is closed in the middle of a create (VMs slow
 * to boot, some not yet launched) and a new engine is opened on the same SQLite file.
 */
import * as path from 'path';
import { openStore } from '../store';
import { createEngine } from '.';
import { clusterTemplate, dummyCaller, RecordingConfigurator, scaleTemplate, TEST_SECRET_KEY, tempDir, until as waitUntil } from '../../test/engine-fixtures';
import { registerConnector } from '../../connectors/registry';
import { DummyConnector } from '../../connectors/dummy';
import type { DestroyOptions, LaunchRequest, VmHandle } from '../../connectors/types';

/** This file's default wait: 10_000 ms, polling every 20 ms. */
const until = <T,>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> => waitUntil(f, ok, ms, 20);


/** Dummy whose launch call itself takes a while, so a restart can fall between launches. */
class SlowLaunchDummy extends DummyConnector {
  static launches = 0;
  override async launch(req: LaunchRequest) {
    SlowLaunchDummy.launches++;
    await new Promise((r) => setTimeout(r, 60));
    return super.launch(req);
  }
}
registerConnector('SlowLaunchDummy', (cred) => new SlowLaunchDummy(cred));


test('a create interrupted mid-way resumes on the next engine with exactly the planned VMs', async () => {
  const file = path.join(tempDir(), 'restart.db');
  const caller = { ...dummyCaller('alice'), credentials: [{ id: 'slow', type: 'SlowLaunchDummy', fields: { delay_ms: '400' } }] };
  let store = await openStore(`sqlite:${file}`);
  // One VM launch at a time, so closing after the first launch leaves launched and unlaunched VMs.
  let engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, tuning: { vmConcurrency: 1 } });
  const id = await engine.service.create(caller, clusterTemplate(4), { async: true });
  await until(() => store.listVms(id), (vms) => vms.some((v) => v.handle));
  const before = await store.listVms(id);
  expect(before).toHaveLength(5);
  const launchedBefore = new Map(before.filter((v) => v.handle).map((v) => [v.id, v.handle!.instanceId]));
  expect(launchedBefore.size).toBeLessThan(5);
  const launchCalls = SlowLaunchDummy.launches;
  await engine.close();
  await store.close();

  store = await openStore(`sqlite:${file}`);
  const open = await store.listOpenJobs(id);
  expect(open.map((j) => [j.kind, j.status])).toEqual([['deploy', 'running']]);
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
  const st = await until(() => engine.service.state(caller, id), (s) => s.state === 'configured');
  expect(Object.keys(st.vm_states)).toEqual(['0', '1', '2', '3', '4']);
  const after = await store.listVms(id);
  // The VMs launched before the restart kept their cloud instance; no VM was added or lost.
  for (const [vmId, instanceId] of launchedBefore) expect(after.find((v) => v.id === vmId)?.handle?.instanceId).toBe(instanceId);
  expect(new Set(after.map((v) => v.handle?.instanceId)).size).toBe(5);
  // Only the VMs without a recorded handle were launched again (at most one launch was cut short).
  expect(SlowLaunchDummy.launches - launchCalls).toBeLessThanOrEqual(5 - launchedBefore.size);
  // the configure job records its end just after the state turns configured
  await until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);
  const deploy = await store.getJob(open[0].id);
  expect(deploy).toMatchObject({ status: 'done', attempts: 2 });
  await engine.close();
  await store.close();
});

test('a destroy interrupted mid-way is finished by the next engine', async () => {
  const file = path.join(tempDir(), 'restart-destroy.db');
  const caller = dummyCaller('alice');
  let store = await openStore(`sqlite:${file}`);
  let engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
  const id = await engine.service.create(caller, clusterTemplate(2), { async: false });
  await engine.close(); // the configure job may be left queued or running
  // Enqueue a destroy as the API would, without a runner to run it.
  await store.enqueueJob({ infrastructureId: id, kind: 'destroy', payload: { force: false, releaseFloatingIps: false, previousPhase: 'configured' } }, { patch: { phase: 'deleting' } });
  await store.close();

  store = await openStore(`sqlite:${file}`);
  expect((await store.getInfrastructure(id))?.phase).toBe('deleting');
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
  await until(() => store.getInfrastructure(id), (inf) => inf === undefined);
  expect(await store.listVms(id)).toEqual([]);
  // the job records its end just after the rows are gone
  expect(await until(() => store.listOpenJobs(), (jobs) => jobs.length === 0)).toEqual([]);
  await engine.close();
  await store.close();
});

test('a deploy and a configure job both interrupted mid-way resume side by side, the configure runs never overlapping', async () => {
  const file = path.join(tempDir(), 'restart-add.db');
  // VMs stay pending for a second, so the add's deploy job is still running at the crash
  const caller = dummyCaller('alice', { delay_ms: '1000' });
  let store = await openStore(`sqlite:${file}`);
  const rec1 = new RecordingConfigurator();
  let engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: rec1 });
  const id = await engine.service.create(caller, clusterTemplate(1), { async: false });
  await until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);
  rec1.holdRuns();
  await engine.service.reconfigure(caller, id);
  await engine.service.addResources(caller, id, scaleTemplate({ wn: 2 }), true, { wait: false });
  await until(() => store.listOpenJobs(id), (jobs) => jobs.every((j) => j.status === 'running') && jobs.length === 2);
  await engine.close();
  await store.close();

  store = await openStore(`sqlite:${file}`);
  const open = await store.listOpenJobs(id);
  expect(open.map((j) => [j.kind, j.status])).toEqual([['configure', 'running'], ['deploy', 'running']]);
  const rec2 = new RecordingConfigurator();
  const run = rec2.holdRuns();
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: rec2 });
  await run.started;
  // the deploy finishes while the resumed run is held; its configure job waits for that run
  await until(() => store.getJob(open[1].id), (j) => j?.status === 'done');
  expect((await store.listOpenJobs(id)).map((j) => [j.kind, j.status])).toEqual([['configure', 'running'], ['configure', 'queued']]);
  expect(rec2.requests).toHaveLength(1);
  run.release();
  await until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);
  expect(rec2.requests).toHaveLength(2);
  expect(rec2.requests[1].vms.map((v) => v.id)).toEqual(['0', '1', '2']);
  expect(rec2.maxInProgress).toBe(1);
  expect(await engine.service.state(caller, id)).toEqual({ state: 'configured', vm_states: { 0: 'configured', 1: 'configured', 2: 'configured' } });
  await engine.close();
  await store.close();
});

test('resumed with the wrong server key: the deploy fails visibly instead of leaving VMs pending', async () => {
  const file = path.join(tempDir(), 'restart-key.db');
  const caller = { ...dummyCaller('alice'), credentials: [{ id: 'slow', type: 'SlowLaunchDummy', fields: {} }] };
  let store = await openStore(`sqlite:${file}`);
  let engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, tuning: { vmConcurrency: 1 } });
  const id = await engine.service.create(caller, clusterTemplate(3), { async: true });
  await until(() => store.listVms(id), (vms) => vms.some((v) => v.handle));
  await engine.close();
  await store.close();

  store = await openStore(`sqlite:${file}`);
  engine = await createEngine({ store, secretKey: Buffer.alloc(32, 7) });
  await until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);
  const st = await engine.service.state(caller, id);
  expect(st).toEqual({ state: 'failed', vm_states: { 0: 'failed', 1: 'failed', 2: 'failed', 3: 'failed' } });
  expect(await engine.service.contmsg(caller, id, true)).toMatch(/Error deploying the infrastructure: Cannot decrypt/);
  await engine.close();
  await store.close();
});

test('a VM launched just before a crash (handle never recorded) is found again, not launched twice', async () => {
  const file = path.join(tempDir(), 'restart-token.db');
  const caller = dummyCaller('alice');
  let store = await openStore(`sqlite:${file}`);
  let engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
  const id = await engine.service.create(caller, clusterTemplate(1), { async: false });
  await engine.close();
  // Simulate the crash window: a new VM row and its deploy job are recorded, the cloud accepts the
  // launch, and the process dies before the handle is written.
  const { vms } = await store.addVms(id, [{
    nodeName: 'wn', cloudId: 'dummy', cloudType: 'Dummy', handle: null, state: 'pending', configured: null,
    privateIps: [], publicIps: [], contmsg: '', removing: false,
  }], { job: { infrastructureId: id, kind: 'deploy', payload: { context: true } } });
  const inf = (await store.getInfrastructure(id))!;
  const launchedByTheDeadProcess = await new DummyConnector({ id: 'dummy', type: 'Dummy', fields: {} }).launch({
    infrastructureId: id, vmId: vms[0].id, nodeName: 'wn', compute: inf.plan.computes[1], publicKey: inf.sshPublicKey,
    adminUser: 'cloudadm', clientToken: vms[0].clientToken,
  });
  await store.close();

  store = await openStore(`sqlite:${file}`);
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
  await until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);
  const vm = (await store.getVm(id, vms[0].id))!;
  expect(vm.handle?.instanceId).toBe(launchedByTheDeadProcess.instanceId);
  expect(await engine.service.vmIds(caller, id)).toEqual(['0', '1', '2']);
  expect((await engine.service.state(caller, id)).state).toBe('configured');
  await engine.close();
  await store.close();
});

/** Dummy whose VM "0" fails to boot on its first attempt; its first launch can be held. */
class BootFailDummy extends DummyConnector {
  static launches: string[] = [];
  static terminated: string[] = [];
  static gate: Promise<void> | null = null;
  override async launch(req: LaunchRequest) {
    BootFailDummy.launches.push(req.clientToken);
    if (BootFailDummy.gate && req.vmId === '0') await BootFailDummy.gate;
    const h = await super.launch(req);
    return { ...h, extra: { ...h.extra, token: req.clientToken } };
  }
  override async describe(vm: VmHandle) {
    const obs = await super.describe(vm);
    const token = String(vm.extra?.token);
    return token.endsWith('-0') ? { ...obs, state: 'failed' as const, fault: 'injected boot failure' } : obs;
  }
  override async terminate(vm: VmHandle, opts: DestroyOptions) {
    BootFailDummy.terminated.push(vm.instanceId);
    return super.terminate(vm, opts);
  }
}
registerConnector('BootFailDummy', (cred) => new BootFailDummy(cred));

test.each(['before its handle was cleared', 'after its handle was cleared'])(
  'a crash while relaunching a failed VM (%s) resumes the same attempt: no extra attempt, no duplicate',
  async (when) => {
    const file = path.join(tempDir(), 'restart-retry.db');
    const caller = { ...dummyCaller('alice'), credentials: [{ id: 'bf', type: 'BootFailDummy', fields: {} }] };
    BootFailDummy.launches = [];
    BootFailDummy.terminated = [];
    let release!: () => void;
    BootFailDummy.gate = new Promise((r) => { release = r; });
    let store = await openStore(`sqlite:${file}`);
    let engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
    const id = await engine.service.create(caller, clusterTemplate(1), { async: true });
    // The first launch of VM 0 is in flight when the process goes down.
    await until(async () => BootFailDummy.launches, (l) => l.includes(`${id}-0`));
    const closing = engine.close();
    release();
    await closing;
    BootFailDummy.gate = null;
    // The crash window: the next attempt is recorded with the failed instance to delete, and the
    // VM row still has (or no longer has) that instance's handle.
    const failed = (await store.getVm(id, '0'))!.handle!;
    await store.putKv(id, 'deploy.attempt.0', { attempt: 2, discard: failed });
    if (when.startsWith('after')) await store.updateVm(id, '0', { state: 'pending', handle: null });
    await store.close();

    store = await openStore(`sqlite:${file}`);
    engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
    const st = await until(() => engine.service.state(caller, id), (s) => s.state === 'configured');
    expect(st.vm_states).toEqual({ 0: 'configured', 1: 'configured' });
    expect(BootFailDummy.launches.filter((t) => t === `${id}-0-retry2`)).toHaveLength(1);
    expect(BootFailDummy.launches.some((t) => t.endsWith('-retry3'))).toBe(false);
    expect(BootFailDummy.terminated.filter((i) => i === failed.instanceId)).toHaveLength(1);
    expect(await store.getKv(id, 'deploy.attempt.0')).toEqual({ attempt: 2 });
    expect((await store.getVm(id, '0'))!.handle!.instanceId).not.toBe(failed.instanceId);
    expect(await engine.service.vmContmsg(caller, id, '0')).not.toContain('Attempt 2 of 3 failed');
    await engine.close();
    await store.close();
  },
);
