/**
 * Issue 6's shrink order: the VMs that stay are re-configured without the leaving ones BEFORE those
 * are terminated (so the master stops sending them work), then they are terminated and forgotten;
 * context=false skips the re-configuration; a removal interrupted by a restart neither re-configures
 * twice, nor loses a VM, nor terminates one twice.
 */
import * as path from 'path';
import { openStore, type Store } from '../store';
import { createEngine, type Engine } from '.';
import { clusterTemplate, dummyCaller, scaleTemplate, TEST_SECRET_KEY, tempDir, until } from '../../test/engine-fixtures';
import type { Configurator, ConfigureRequest, ConfigureResult, TeardownRequest } from './configurator';
import { registerConnector } from '../../connectors/registry';
import { DummyConnector } from '../../connectors/dummy';
import type { DestroyOptions, VmHandle } from '../../connectors/types';

/** What happened, in order, across the configurator and the cloud. */
type Event =
  | { kind: 'configure'; vms: string[]; full: boolean; removed: string[]; added: string[]; removedRowsPresent: boolean }
  | { kind: 'terminate'; instanceId: string; node: string }
  | { kind: 'forget'; vmId: string }
  | { kind: 'teardown'; leaving: string[]; vms: string[]; master?: string };
let events: Event[] = [];
let store: Store;

/** Dummy that records every terminate (and refuses those of `refuse`). */
class RecordingDummy extends DummyConnector {
  static refuse = new Set<string>();
  override async terminate(vm: VmHandle, opts: DestroyOptions): Promise<void> {
    events.push({ kind: 'terminate', instanceId: vm.instanceId, node: String(vm.extra?.nodeName) });
    if (RecordingDummy.refuse.has(vm.instanceId)) throw new Error('the cloud says no');
    return super.terminate(vm, opts);
  }
}
registerConnector('RecordingDummy', (cred) => new RecordingDummy(cred));

class Recorder implements Configurator {
  /** Set to make a run wait (until released or aborted). */
  hold?: Promise<void>;
  entered?: () => void;
  async configure(req: ConfigureRequest): Promise<ConfigureResult> {
    const removed = req.changes?.removed.map((r) => r.vmId) ?? [];
    // The leaving VMs must still exist while the others are re-configured without them.
    const rows = await Promise.all(removed.map((id) => store.getVm(req.infrastructureId, id)));
    events.push({
      kind: 'configure', vms: req.vms.map((v) => v.id), full: !req.changes, removed, added: req.changes?.added ?? [],
      removedRowsPresent: rows.every((r) => r !== undefined),
    });
    if (this.hold) {
      this.entered?.();
      await Promise.race([
        this.hold,
        new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
      ]);
    }
    return { vms: Object.fromEntries(req.vms.map((v) => [v.id, 'configured' as const])) };
  }
  /** The last teardown request, and what it does. */
  teardownReq?: TeardownRequest;
  teardownFails = false;
  async teardown(req: TeardownRequest): Promise<void> {
    this.teardownReq = req;
    events.push({ kind: 'teardown', leaving: req.leaving, vms: req.vms.map((v) => v.id), master: req.masterVmId });
    if (this.teardownFails) throw new Error('stop script exploded');
  }
  vmRemoved(_inf: string, vmId: string) { events.push({ kind: 'forget', vmId }); }
}

const alice = { ...dummyCaller('alice'), credentials: [{ id: 'rec', type: 'RecordingDummy', fields: {} }] };
let engine: Engine;
let rec: Recorder;
let file: string;

const settled = (id: string) => until(() => store.listOpenJobs(id), (jobs) => jobs.length === 0);

/** A configured front + `workers` wn; returns its id and the instance id of each VM. */
async function cluster(workers: number): Promise<{ id: string; instances: Map<string, string> }> {
  const id = await engine.service.create(alice, clusterTemplate(workers), { async: false });
  await settled(id);
  const instances = new Map((await store.listVms(id)).map((v) => [v.id, v.handle!.instanceId]));
  events = [];
  return { id, instances };
}

/** The events with instance ids mapped back to VM ids. */
function story(instances: Map<string, string>): unknown[] {
  const vmOf = new Map([...instances].map(([vm, inst]) => [inst, vm]));
  return events.map((e) => (e.kind === 'terminate' ? { kind: 'terminate', vm: vmOf.get(e.instanceId) ?? e.instanceId } : e));
}

beforeEach(async () => {
  file = path.join(tempDir(), 'shrink.db');
  store = await openStore('sqlite:' + file);
  rec = new Recorder();
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: rec, tuning: { vmConcurrency: 1 } });
  events = [];
});
afterEach(async () => {
  RecordingDummy.refuse.clear();
  await engine.close();
  await store.close();
});

const reconfiguredWithout = (vms: string[], removed: string[]) => ({ kind: 'configure', vms, full: false, removed, added: [], removedRowsPresent: true });

test('DELETE of VMs: the rest is re-configured without them first, then they are terminated and forgotten', async () => {
  const { id, instances } = await cluster(3);
  expect(await engine.service.removeVms(alice, id, ['1', '3'], true)).toBe(2);
  expect(story(instances)).toEqual([
    reconfiguredWithout(['0', '2'], ['1', '3']),
    { kind: 'teardown', leaving: ['1', '3'], vms: ['0', '1', '2', '3'], master: '0' }, // between the two: stop/delete on the leaving VMs
    { kind: 'terminate', vm: '1' }, { kind: 'forget', vmId: '1' },
    { kind: 'terminate', vm: '3' }, { kind: 'forget', vmId: '3' },
  ]);
  await settled(id);
  expect(events).toHaveLength(6); // no configure run after the deletion
  expect((await store.listVms(id)).map((v) => v.id)).toEqual(['0', '2']);
  expect(await engine.service.state(alice, id)).toEqual({ state: 'configured', vm_states: { 0: 'configured', 2: 'configured' } });
  const log = await engine.service.contmsg(alice, id, true);
  const removing = log.indexOf('Removing VM(s) 1, 3: re-configuring');
  expect(removing).toBeGreaterThan(-1);
  expect(log.indexOf('Removed VM(s) 1, 3.')).toBeGreaterThan(removing);
  expect(Object.keys(await store.listKv(id)).filter((k) => k.startsWith('shrink.'))).toEqual([]);
});

test('count decrease and removal_list in add-resources: same order; a replacement is configured after', async () => {
  const { id, instances } = await cluster(3);
  // count 3 → 2 without a removal_list: IM drops the newest (3)
  await engine.service.addResources(alice, id, scaleTemplate({ wn: 2 }), true);
  await settled(id);
  expect(story(instances)).toEqual([
    reconfiguredWithout(['0', '1', '2'], ['3']), { kind: 'teardown', leaving: ['3'], vms: ['0', '1', '2', '3'], master: '0' }, { kind: 'terminate', vm: '3' }, { kind: 'forget', vmId: '3' },
  ]);

  // same count with removal_list [1]: VM 1 leaves first, then the new VM 4 is launched and configured
  events = [];
  const added = await engine.service.addResources(alice, id, scaleTemplate({ wn: 2 }, { wn: ['1'] }), true);
  expect(added).toEqual(['4']);
  await settled(id);
  expect(story(instances)).toEqual([
    reconfiguredWithout(['0', '2'], ['1']), { kind: 'teardown', leaving: ['1'], vms: ['0', '1', '2'], master: '0' }, { kind: 'terminate', vm: '1' }, { kind: 'forget', vmId: '1' },
    { kind: 'configure', vms: ['0', '2', '4'], full: false, removed: [], added: ['4'], removedRowsPresent: true },
  ]);
  expect((await engine.service.state(alice, id)).state).toBe('configured');
});

test('context=false: the VMs are removed without any re-configuration', async () => {
  const { id, instances } = await cluster(2);
  await engine.service.removeVms(alice, id, ['2'], false);
  await engine.service.addResources(alice, id, scaleTemplate({ wn: 0 }), false);
  await settled(id);
  expect(story(instances)).toEqual([
    { kind: 'terminate', vm: '2' }, { kind: 'forget', vmId: '2' },
    { kind: 'terminate', vm: '1' }, { kind: 'forget', vmId: '1' },
  ]);
  expect(await engine.service.contmsg(alice, id, true)).not.toContain('re-configuring');
});

test('a removal interrupted during the re-configuration re-configures again, then terminates each VM once', async () => {
  const { id, instances } = await cluster(3);
  let release!: () => void;
  rec.hold = new Promise<void>((r) => { release = r; });
  const entered = new Promise<void>((r) => { rec.entered = r; });
  const removal = engine.service.removeVms(alice, id, ['2', '3'], true).catch((e: Error) => e);
  await entered;
  await engine.close(); // the run is aborted: the job stays running, nothing was terminated
  expect(await removal).toBeInstanceOf(Error);
  expect(events.filter((e) => e.kind === 'terminate')).toEqual([]);
  release();
  rec.hold = undefined;
  await store.close();

  store = await openStore('sqlite:' + file);
  expect((await store.listOpenJobs(id)).map((j) => [j.kind, j.status])).toEqual([['remove', 'running']]);
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: rec, tuning: { vmConcurrency: 1 } });
  await settled(id);
  expect(story(instances)).toEqual([
    reconfiguredWithout(['0', '1'], ['2', '3']), // the interrupted run
    // after the restart: still before any deletion and without 2 and 3; a full run, since the
    // interrupted one had reset the outcomes of 0 and 1 (IM shows them running meanwhile)
    { kind: 'configure', vms: ['0', '1'], full: true, removed: [], added: [], removedRowsPresent: true },
    { kind: 'teardown', leaving: ['2', '3'], vms: ['0', '1', '2', '3'], master: '0' },
    { kind: 'terminate', vm: '2' }, { kind: 'forget', vmId: '2' },
    { kind: 'terminate', vm: '3' }, { kind: 'forget', vmId: '3' },
  ]);
  expect((await store.listVms(id)).map((v) => v.id)).toEqual(['0', '1']);
});

test('a removal interrupted after the re-configuration and one deletion finishes without re-configuring or deleting twice', async () => {
  const { id, instances } = await cluster(3);
  await engine.close();
  // The store as a crash would leave it: the API recorded the job and the marks, the
  // re-configuration was done (its marker), VM 2 was terminated and forgotten, VM 3 not yet.
  const job = await store.enqueueJob(
    { infrastructureId: id, kind: 'remove', payload: { vmIds: ['2', '3'], context: true } },
    { vmChanges: ['2', '3'].map((vmId) => ({ vmId, patch: { removing: true } })) },
  );
  await store.putKv(id, `shrink.${job.id}`, true);
  await store.deleteVms(id, ['2']);
  events = [];

  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, configurator: rec, tuning: { vmConcurrency: 1 } });
  await settled(id);
  expect(story(instances)).toEqual([{ kind: 'terminate', vm: '3' }, { kind: 'forget', vmId: '3' }]);
  expect(await store.getJob(job.id)).toMatchObject({ status: 'done', result: { removed: 2 } });
  expect((await store.listVms(id)).map((v) => v.id)).toEqual(['0', '1']);
  expect(await store.getKv(id, `shrink.${job.id}`)).toBeUndefined();
});

test('a VM the cloud refuses to delete stays, and the nodes that depend on it get it back', async () => {
  const { id, instances } = await cluster(3);
  RecordingDummy.refuse.add(instances.get('1')!);
  await expect(engine.service.removeVms(alice, id, ['1', '2'], true)).rejects.toThrow('Error removing VM 1: the cloud says no');
  expect(story(instances)).toEqual([
    reconfiguredWithout(['0', '3'], ['1', '2']),
    { kind: 'teardown', leaving: ['1', '2'], vms: ['0', '1', '2', '3'], master: '0' },
    { kind: 'terminate', vm: '1' },
    { kind: 'terminate', vm: '2' }, { kind: 'forget', vmId: '2' },
    { kind: 'configure', vms: ['0', '1', '3'], full: false, removed: ['1'], added: [], removedRowsPresent: true },
  ]);
  expect(await engine.service.state(alice, id)).toEqual({ state: 'configured', vm_states: { 0: 'configured', 1: 'configured', 3: 'configured' } });
  expect(await engine.service.contmsg(alice, id, true)).toContain('VM(s) 1 could not be removed: re-configuring the nodes that depend on them again.');
});

test('stop/delete operations: the plan carries them, a failing teardown is logged and the VMs still go', async () => {
  const withStop = clusterTemplate(2).replace('  outputs:', `    lrms_wn:
      type: tosca.nodes.SoftwareComponent
      requirements:
        - host: wn
      interfaces:
        Standard:
          configure: https://example.org/wn_configure.sh
          stop:
            implementation: https://example.org/wn_stop.sh
            inputs:
              FRONT_IP: { get_attribute: [ front, private_address, 0 ] }
          delete: https://example.org/wn_delete.sh
  outputs:`);
  const id = await engine.service.create(alice, withStop, { async: false });
  await settled(id);
  const instances = new Map((await store.listVms(id)).map((v) => [v.id, v.handle!.instanceId]));
  events = [];
  rec.teardownFails = true;
  await engine.service.removeVms(alice, id, ['2'], true);
  expect(story(instances)).toEqual([
    reconfiguredWithout(['0', '1'], ['2']),
    { kind: 'teardown', leaving: ['2'], vms: ['0', '1', '2'], master: '0' },
    { kind: 'terminate', vm: '2' }, { kind: 'forget', vmId: '2' },
  ]);
  const wn = rec.teardownReq!.plan.software.find((s) => s.name === 'lrms_wn')!;
  expect(wn.teardown?.map((o) => [o.name, o.implementation?.path])).toEqual([['stop', 'https://example.org/wn_stop.sh'], ['delete', 'https://example.org/wn_delete.sh']]);
  expect(wn.operations.map((o) => o.name)).toEqual(['configure']); // never part of a configuration run
  expect(rec.teardownReq!.vms.find((v) => v.id === '2')).toMatchObject({ nodeName: 'wn', adminUser: 'cloudadm' });
  expect(await engine.service.contmsg(alice, id, true)).toContain(
    'Error running the stop/delete operations of VM(s) 2 (they are removed anyway): stop script exploded');
  expect((await store.listVms(id)).map((v) => v.id)).toEqual(['0', '1']);
});
