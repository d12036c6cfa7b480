/** Destroy against a cloud that records calls and can be told to fail. */
import * as path from 'path';
import { openStore, type Store } from '../store';
import { createEngine, type Engine } from '.';
import { clusterTemplate, dummyCaller, TEST_SECRET_KEY, tempDir } from '../../test/engine-fixtures';
import { registerConnector } from '../../connectors/registry';
import { DummyConnector } from '../../connectors/dummy';
import type { DestroyOptions, VmHandle } from '../../connectors/types';
import { CloudError, InfrastructureNotFoundError } from '../errors';

const calls: string[] = [];
let failTerminate = false;
class SpyCloud extends DummyConnector {
  override async terminate(vm: VmHandle, opts: DestroyOptions) {
    calls.push(`terminate ${vm.instanceId} release=${opts.releaseFloatingIps}`);
    if (failTerminate) throw new CloudError('the cloud said no');
    return super.terminate(vm, opts);
  }
  override async cleanup(inf: string, opts: DestroyOptions) {
    calls.push(`cleanup ${inf} release=${opts.releaseFloatingIps}`);
  }
}
registerConnector('SpyCloud', (cred) => new SpyCloud(cred));

let store: Store;
let engine: Engine;
const caller = { ...dummyCaller('alice'), credentials: [{ id: 'spy', type: 'SpyCloud', fields: {} }] };

beforeEach(async () => {
  calls.length = 0;
  failTerminate = false;
  store = await openStore('sqlite:' + path.join(tempDir(), 'destroy.db'));
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
});
afterEach(async () => {
  await engine.close();
  await store.close();
});

test('terminates every VM and cleans up the cloud, passing releaseFloatingIps', async () => {
  const id = await engine.service.create(caller, clusterTemplate(1), { async: false });
  await engine.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: true });
  expect(calls.filter((c) => c.startsWith('terminate'))).toHaveLength(2);
  expect(calls.every((c) => c.endsWith('release=true'))).toBe(true);
  expect(calls[calls.length - 1]).toBe(`cleanup ${id} release=true`);
  await expect(engine.service.state(caller, id)).rejects.toBeInstanceOf(InfrastructureNotFoundError);
});

test('a cloud error fails the destroy and keeps the infrastructure; force removes it anyway', async () => {
  const id = await engine.service.create(caller, clusterTemplate(1), { async: false });
  for (let i = 0; i < 250 && (await store.listOpenJobs(id)).length; i++) await new Promise((r) => setTimeout(r, 20));
  const before = (await engine.service.state(caller, id)).state;
  failTerminate = true;
  const err = await engine.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: false }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CloudError);
  expect((err as Error).message).toMatch(/the cloud said no/);
  expect(before).toBe('configured');
  expect((await engine.service.state(caller, id)).state).toBe(before);
  expect(await engine.service.contmsg(caller, id, true)).toMatch(/Error destroying the infrastructure/);
  expect(calls.some((c) => c.startsWith('cleanup'))).toBe(true); // cleanup still tried

  await engine.service.destroy(caller, id, { force: true, async: false, releaseFloatingIps: false });
  await expect(engine.service.state(caller, id)).rejects.toBeInstanceOf(InfrastructureNotFoundError);
});

class RefusingCloud extends DummyConnector {
  override async launch(): Promise<VmHandle> {
    throw new CloudError('quota exceeded', 403);
  }
}
registerConnector('RefusingCloud', (cred) => new RefusingCloud(cred));

test('a sync create that cannot launch any VM fails with the cloud error and leaves nothing; async shows failed', async () => {
  const refused = { ...dummyCaller('alice'), credentials: [{ id: 'r', type: 'RefusingCloud', fields: {} }] };
  const err = await engine.service.create(refused, clusterTemplate(1), { async: false }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CloudError);
  expect((err as CloudError).status).toBe(403);
  expect((err as Error).message).toBe('Error launching the VMs in cloud "r": quota exceeded');
  expect(await engine.service.list(refused)).toEqual([]);

  const id = await engine.service.create(refused, clusterTemplate(1), { async: true });
  for (let i = 0; i < 250 && (await store.listOpenJobs(id)).length; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await engine.service.state(refused, id)).toEqual({ state: 'failed', vm_states: { 0: 'failed', 1: 'failed' } });
  expect(await engine.service.contmsg(refused, id, false)).toContain('quota exceeded');
});
