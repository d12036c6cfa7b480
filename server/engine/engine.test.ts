import * as path from 'path';
import { openStore, type Store } from '../store';
import { createEngine, type Engine } from '.';
import { clusterTemplate, dummyCaller, scaleTemplate, TEST_SECRET_KEY, tempDir, until } from '../../test/engine-fixtures';
import { ConflictError, InfrastructureForbiddenError, InfrastructureNotFoundError, InvalidInputError, VmNotFoundError } from '../errors';
import type { Caller } from './service';
import { planTemplate } from '../../tosca';

let store: Store;
let engine: Engine;
const alice = dummyCaller('alice');
const bob = dummyCaller('bob');

beforeEach(async () => {
  store = await openStore('sqlite:' + path.join(tempDir(), 'engine.db'));
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
});
afterEach(async () => {
  await engine.close();
  await store.close();
});

const configured = (c: Caller, id: string) => until(() => engine.service.state(c, id), (s) => s.state === 'configured');

describe('create', () => {
  test('sync create launches every planned VM and configuration follows', async () => {
    const id = await engine.service.create(alice, clusterTemplate(2), { async: false });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const vms = await engine.service.vmIds(alice, id);
    expect(vms).toEqual(['0', '1', '2']);
    const st = await configured(alice, id);
    expect(st.vm_states).toEqual({ 0: 'configured', 1: 'configured', 2: 'configured' });
    const out = await engine.service.outputs(alice, id);
    const front = await engine.service.vmInfo(alice, id, '0');
    expect(front.nodeName).toBe('front');
    expect(front.publicIps).toHaveLength(1);
    expect(out.front_ip).toBe(front.publicIps[0]);
    expect(out.wn_ips).toHaveLength(2);
    const wn = await engine.service.vmInfo(alice, id, '1');
    expect(wn.publicIps).toEqual([]); // only nodes that ask for it get a public IP
    expect(wn.privateIps[0]).toMatch(/^10\./);
    expect(wn.credentials?.username).toBe('cloudadm');
    expect(wn.credentials?.privateKey).toContain('OPENSSH PRIVATE KEY');
    expect(wn.instanceId).toMatch(/^dummy-/);
    expect(await engine.service.list(alice)).toEqual([id]);
  });

  test('async create returns at once and reaches configured', async () => {
    const slow = dummyCaller('alice', { delay_ms: '300' });
    const t0 = Date.now();
    const id = await engine.service.create(slow, clusterTemplate(1), { async: true });
    expect(Date.now() - t0).toBeLessThan(300);
    const first = await engine.service.state(slow, id);
    expect(['pending', 'running']).toContain(first.state);
    expect(Object.keys(first.vm_states)).toEqual(['0', '1']);
    await configured(slow, id);
  });

  test('a failing node makes the infrastructure failed, with the reason in contmsg', async () => {
    const c = dummyCaller('alice', { fail_nodes: 'wn' });
    const id = await engine.service.create(c, clusterTemplate(1), { async: false });
    const st = await until(() => engine.service.state(c, id), (s) => s.vm_states['0'] === 'configured');
    expect(st.vm_states).toEqual({ 0: 'configured', 1: 'failed' });
    expect(st.state).toBe('failed');
    expect(await engine.service.contmsg(c, id, false)).toContain('fail_nodes');
  });

  test('invalid templates and missing credentials are 400s naming the problem', async () => {
    await expect(engine.service.create(alice, 'a: [', { async: false })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(engine.service.create(alice, '', { async: false })).rejects.toThrow(/Empty/);
    const bad = clusterTemplate().replace('tosca.nodes.Compute', 'tosca.nodes.NoSuchType');
    await expect(engine.service.create(alice, bad, { async: false })).rejects.toThrow(/NoSuchType/);
    const noCreds: Caller = { ...alice, credentials: [] };
    await expect(engine.service.create(noCreds, clusterTemplate(), { async: false })).rejects.toThrow(/No cloud credentials/);
    const unknown: Caller = { ...alice, credentials: [{ id: 'x', type: 'Nebula', fields: {} }] };
    await expect(engine.service.create(unknown, clusterTemplate(), { async: false })).rejects.toThrow(/supported type .*"Nebula"/);
    expect(await engine.service.list(alice)).toEqual([]);
  });

  test('a placement policy chooses the cloud of a node; else the first cloud credential', async () => {
    const two: Caller = { ...alice, credentials: [{ id: 'd1', type: 'Dummy', fields: {} }, { id: 'd2', type: 'Dummy', fields: {} }] };
    const placed = clusterTemplate(1).replace('  outputs:', `  policies:
    - workers_on_d2:
        type: tosca.policies.Placement
        properties: { cloud_id: d2 }
        targets: [ wn ]
  outputs:`);
    const id = await engine.service.create(two, placed, { async: false });
    expect((await engine.service.vmInfo(two, id, '0')).cloudId).toBe('d1');
    expect((await engine.service.vmInfo(two, id, '1')).cloudId).toBe('d2');
    const onlyD1: Caller = { ...alice, credentials: [two.credentials[0]] };
    await expect(engine.service.create(onlyD1, placed, { async: false })).rejects.toThrow(/placed on cloud "d2"/);
  });

  test('dry run reports the resources per cloud and creates nothing', async () => {
    const r = JSON.parse(await engine.service.create(alice, clusterTemplate(2), { async: false, dryRun: true }));
    expect(r.dummy.cloudType).toBe('Dummy');
    expect(r.dummy.compute).toHaveLength(3);
    const front = (await planTemplate(clusterTemplate(2))).computes[0];
    expect(r.dummy.compute[0]).toEqual({ cpuCores: 2, memoryInMegabytes: front.host.memSizeMB, diskSizeInGigabytes: 0 });
    expect(front.host.memSizeMB).toBeGreaterThan(1900);
    expect(await engine.service.list(alice)).toEqual([]);
  });
});

describe('isolation', () => {
  test("another owner's infrastructure is forbidden (403), an unknown one missing (404), on every route", async () => {
    const id = await engine.service.create(alice, clusterTemplate(0), { async: false });
    const calls: Array<(c: Caller, i: string) => Promise<unknown>> = [
      (c, i) => engine.service.state(c, i),
      (c, i) => engine.service.vmIds(c, i),
      (c, i) => engine.service.contmsg(c, i, false),
      (c, i) => engine.service.outputs(c, i),
      (c, i) => engine.service.tosca(c, i),
      (c, i) => engine.service.radl(c, i),
      (c, i) => engine.service.vmInfo(c, i, '0'),
      (c, i) => engine.service.exportData(c, i, false),
      (c, i) => engine.service.addResources(c, i, scaleTemplate({ wn: 1 }), true),
      (c, i) => engine.service.removeVms(c, i, ['0'], true),
      (c, i) => engine.service.action(c, i, 'stop'),
      (c, i) => engine.service.reconfigure(c, i),
      (c, i) => engine.service.destroy(c, i, { force: true, async: false, releaseFloatingIps: false }),
    ];
    for (const call of calls) {
      const theirs = await call(bob, id).catch((e) => e);
      const missing = await call(bob, '00000000-0000-4000-8000-000000000000').catch((e) => e);
      const notUuid = await call(bob, '../etc').catch((e) => e);
      // IM: someone else's existing infrastructure is 403 "Access … not granted."; an unknown id 404.
      expect(theirs).toBeInstanceOf(InfrastructureForbiddenError);
      expect((theirs as Error).message).toBe('Access to this infrastructure not granted.');
      for (const e of [missing, notUuid]) expect(e).toBeInstanceOf(InfrastructureNotFoundError);
    }
    expect(await engine.service.list(bob)).toEqual([]);
    expect((await configured(alice, id)).state).toBe('configured');
  });
});

describe('changes', () => {
  test('add resources with a higher count, then a removal_list, then a lower count', async () => {
    const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
    expect(await engine.service.addResources(alice, id, scaleTemplate({ wn: 3 }), true)).toEqual(['2', '3']);
    expect(await engine.service.vmIds(alice, id)).toEqual(['0', '1', '2', '3']);
    await configured(alice, id);
    expect(await engine.service.addResources(alice, id, scaleTemplate({ wn: 2 }, { wn: ['1'] }), true)).toEqual([]);
    expect(await engine.service.vmIds(alice, id)).toEqual(['0', '2', '3']);
    // Lower count without a list: the newest go.
    await engine.service.addResources(alice, id, scaleTemplate({ wn: 1 }), false);
    expect(await engine.service.vmIds(alice, id)).toEqual(['0', '2']);
    // Ids are never reused.
    expect(await engine.service.addResources(alice, id, scaleTemplate({ wn: 2 }), true)).toEqual(['4']);
    const tosca = await engine.service.tosca(alice, id);
    expect(tosca).toMatch(/wn:[\s\S]*count: 2/);
    expect(tosca).not.toContain('removal_list');
    await configured(alice, id);
    expect((await engine.service.outputs(alice, id)).wn_ips).toHaveLength(2);
  });

  test('concurrent add-resources requests are decided one after the other', async () => {
    const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
    const [a, b] = await Promise.all([
      engine.service.addResources(alice, id, scaleTemplate({ wn: 3 }), true),
      engine.service.addResources(alice, id, scaleTemplate({ wn: 3 }), true),
    ]);
    expect([...a, ...b].sort()).toEqual(['2', '3']);
    expect(await engine.service.vmIds(alice, id)).toEqual(['0', '1', '2', '3']);
  });

  test('add resources rejects unknown removal ids', async () => {
    const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
    await expect(engine.service.addResources(alice, id, scaleTemplate({ wn: 0 }, { wn: ['9'] }), true)).rejects.toBeInstanceOf(InvalidInputError);
  });

  test('remove VMs by id, unknown ids are 404', async () => {
    const id = await engine.service.create(alice, clusterTemplate(2), { async: false });
    await expect(engine.service.removeVms(alice, id, ['7'], true)).rejects.toBeInstanceOf(VmNotFoundError);
    expect(await engine.service.removeVms(alice, id, ['1', '2'], true)).toBe(2);
    expect(await engine.service.vmIds(alice, id)).toEqual(['0']);
    await configured(alice, id);
    expect(await engine.service.tosca(alice, id)).toMatch(/wn:[\s\S]*count: 0/);
  });

  test('stop, start, reboot an infrastructure and a VM', async () => {
    const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
    await configured(alice, id);
    await engine.service.action(alice, id, 'stop');
    expect(await engine.service.state(alice, id)).toEqual({ state: 'stopped', vm_states: { 0: 'stopped', 1: 'stopped' } });
    await engine.service.vmAction(alice, id, '1', 'start');
    expect((await engine.service.state(alice, id)).vm_states).toEqual({ 0: 'stopped', 1: 'configured' });
    await engine.service.action(alice, id, 'start');
    await engine.service.action(alice, id, 'reboot');
    expect((await engine.service.state(alice, id)).state).toBe('configured');
    await expect(engine.service.vmAction(alice, id, '5', 'stop')).rejects.toBeInstanceOf(VmNotFoundError);
  });

  test('reconfigure resets the configured flags and configures again', async () => {
    const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
    await configured(alice, id);
    await engine.service.reconfigure(alice, id, ['1']);
    await configured(alice, id);
    expect(await engine.service.vmContmsg(alice, id, '1')).toMatch(/VM configured\.[\s\S]*VM configured\./);
    await expect(engine.service.reconfigure(alice, id, ['8'])).rejects.toBeInstanceOf(VmNotFoundError);
  });

  test('destroy removes the infrastructure; a second destroy is a 404', async () => {
    const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
    await engine.service.destroy(alice, id, { force: false, async: false, releaseFloatingIps: false });
    expect(await engine.service.list(alice)).toEqual([]);
    await expect(engine.service.state(alice, id)).rejects.toBeInstanceOf(InfrastructureNotFoundError);
    await expect(engine.service.destroy(alice, id, { force: false, async: false, releaseFloatingIps: false })).rejects.toBeInstanceOf(InfrastructureNotFoundError);
  });

  test('async destroy during a slow create: deleting at once, gone after, create caller told', async () => {
    const slow = dummyCaller('alice', { delay_ms: '2000' });
    const id = await engine.service.create(slow, clusterTemplate(1), { async: true });
    await until(() => store.getVm(id, '1'), (vm) => !!vm?.handle);
    await engine.service.destroy(slow, id, { force: false, async: true, releaseFloatingIps: false });
    expect((await engine.service.state(slow, id)).state).toBe('deleting');
    await expect(engine.service.addResources(slow, id, scaleTemplate({ wn: 2 }), true)).rejects.toBeInstanceOf(ConflictError);
    // a second destroy joins the first
    await engine.service.destroy(slow, id, { force: false, async: false, releaseFloatingIps: false });
    await expect(engine.service.state(slow, id)).rejects.toBeInstanceOf(InfrastructureNotFoundError);
    expect(await store.listOpenJobs()).toEqual([]);
  });
});

describe('documents', () => {
  test('contmsg with and without VM sections; radl of every VM', async () => {
    const id = await engine.service.create(alice, clusterTemplate(1), { async: false });
    await configured(alice, id);
    const header = await engine.service.contmsg(alice, id, true);
    const full = await engine.service.contmsg(alice, id, false);
    expect(header).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}: Contextualization/);
    expect(header).not.toContain('VM 0:');
    expect(full.startsWith(header)).toBe(true);
    expect(full).toContain('VM 0:\n');
    expect(full).toContain('*'.repeat(75));
    const radl = await engine.service.radl(alice, id);
    expect(radl).toContain("network public ( outbound = 'yes' )");
    expect(radl.match(/^system /gm)).toHaveLength(2);
  });

  test('export and import keep the VMs under a new id owned by the importer', async () => {
    const id = await engine.service.create(alice, clusterTemplate(2), { async: false });
    await configured(alice, id);
    const data = await engine.service.exportData(alice, id, false);
    expect(data).not.toContain('"fields"'); // no cloud credentials in exports
    const copy = await engine.service.importData(bob, data);
    expect(copy).not.toBe(id);
    expect(await engine.service.vmIds(bob, copy)).toEqual(['0', '1', '2']);
    expect((await engine.service.state(bob, copy)).state).toBe('configured');
    expect((await engine.service.vmInfo(bob, copy, '0')).publicIps).toEqual((await engine.service.vmInfo(alice, id, '0')).publicIps);
    // ids continue after the imported ones
    expect(await engine.service.addResources(bob, copy, scaleTemplate({ wn: 3 }), false)).toEqual(['3']);
    // export with delete forgets it here
    await engine.service.exportData(alice, id, true);
    expect(await engine.service.list(alice)).toEqual([]);
    await expect(engine.service.importData(bob, '{"format":"other"}')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(engine.service.importData(bob, 'not json')).rejects.toBeInstanceOf(InvalidInputError);
  });

  test('list filter is a regex over the template', async () => {
    const a = await engine.service.create(alice, clusterTemplate(1), { async: true });
    const b = await engine.service.create(alice, clusterTemplate(1).replace('test cluster', 'special one'), { async: true });
    expect(await engine.service.list(alice, 'special')).toEqual([b]);
    expect((await engine.service.list(alice)).sort()).toEqual([a, b].sort());
    await expect(engine.service.list(alice, '(')).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('job pool', () => {
  test('different infrastructures deploy in parallel, never more than poolSize at once', async () => {
    await engine.close();
    engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, poolSize: 2 });
    const slow = dummyCaller('alice', { delay_ms: '250' });
    const ids = await Promise.all([1, 2, 3].map(() => engine.service.create(slow, clusterTemplate(0), { async: true })));
    let maxRunning = 0;
    await until(async () => {
      const open = await store.listOpenJobs();
      maxRunning = Math.max(maxRunning, open.filter((j) => j.status === 'running').length);
      return Promise.all(ids.map((id) => engine.service.state(slow, id)));
    }, (states) => states.every((s) => s.state === 'configured'));
    expect(maxRunning).toBe(2);
  });
});
