/**
 * The server's elasticity lock (server/elastic/runtime.ts) around a user's add/remove covers
 * deciding and recording the change, not the wait for its job (docs/engine.md, "Reconfiguration
 * while a run is in progress"). A POST add waits for its job while a configure run hangs on a step:
 * the test configurator holds that run open, and since an add's VMs are launched during a run, a
 * test cloud holds the new VM's boot (as a slow cloud would). A DELETE of another VM must still
 * stop that VM's steps at once, and the manager's tick must still run, seeing the VMs as recorded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clusterTemplate, RecordingConfigurator, scaleTemplate, tempDir, until } from '../engine-fixtures';
import { DummyConnector } from '../../connectors/dummy';
import { registerConnector } from '../../connectors/registry';
import type { VmHandle } from '../../connectors/types';
import type { RemoteExec } from '../../server/elastic/probes/types';
import { call, imAuth, type Reply } from '../api/http';
import { startElasticServer, type ElasticServer } from './elastic-harness';

jest.setTimeout(30_000);

/** While set, VMs launched since then stay pending. */
let bootHeldSince: number | undefined;
class BootHoldDummy extends DummyConnector {
  override async describe(vm: VmHandle) {
    const obs = await super.describe(vm);
    return bootHeldSince !== undefined && Number(vm.extra?.launchedAt) >= bootHeldSince ? { ...obs, state: 'pending' as const } : obs;
  }
}
registerConnector('BootHoldDummy', (cred) => new BootHoldDummy(cred));

const AUTH = imAuth('alice', 'alice-pw', 'id = dummy; type = BootHoldDummy');
const PROBE = 'cat /var/lib/queue.json';
const exec: RemoteExec = async (cmd) =>
  cmd === PROBE ? { code: 0, stdout: JSON.stringify({ waiting: 0, busy: {} }), stderr: '' } : { code: 127, stdout: '', stderr: `${cmd}: not found` };

/** Front end + 2 workers under a paused policy: the manager decides (under the lock) but never acts. */
const template = clusterTemplate(2) + `  policies:
    - scale_wn:
        type: tosca.policies.Scaling
        targets: [ wn ]
        properties:
          min_instances: 0
          max_instances: 5
          probe_command: "${PROBE}"
          check_every_s: 3600
          paused: true
`;

/** Fails with `what` unless `p` settles within `ms`: the bound of "not blocked", not a pause. */
const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(what)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
};

describe('the elasticity lock is not held while a user\'s add waits for its job', () => {
  const dir = tempDir('tosca-im-elastic-lock-');
  const rec = new RecordingConfigurator();
  let srv: ElasticServer;
  beforeAll(async () => { srv = await startElasticServer(path.join(dir, 'im.db'), exec, { configurator: rec }); });
  /** The run a test holds and its requests in flight: after a failed test too, they end before the server. */
  let held: { release: () => void } | undefined;
  const inFlight: Promise<unknown>[] = [];
  afterEach(async () => {
    held?.release();
    await Promise.allSettled(inFlight.splice(0));
  });
  afterAll(async () => {
    await srv?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const req = (method: string, p: string, body?: string) => {
    const r = call(srv.url, method, p, { auth: AUTH, body, type: body === undefined ? undefined : 'text/yaml' });
    inFlight.push(r);
    return r;
  };
  const vmIds = async (id: string) => (await req('GET', `/infrastructures/${id}`)).text.split('\n').filter(Boolean).map((u) => u.split('/').pop()!);
  const state = async (id: string) => (await call(srv.url, 'GET', `/infrastructures/${id}/state`, { auth: AUTH, accept: 'application/json' })).json().state;

  /**
   * A configured cluster whose next configure run hangs, and a POST adding a third worker (VM 3)
   * recorded and waiting for its boot. Returns the pending POST and the release of both.
   */
  async function addWaitingBehindHungRun() {
    const create = await req('POST', '/infrastructures', template);
    expect(create.status).toBe(200);
    const id = create.headers.get('InfID')!;
    await until(() => state(id), (s) => s.state === 'configured');
    const hold = rec.holdRuns();
    const run = (held = { release: () => { bootHeldSince = undefined; hold.release(); } });
    expect((await req('PUT', `/infrastructures/${id}/reconfigure`)).status).toBe(200);
    await hold.started;
    bootHeldSince = Date.now();
    rec.leaving = [];
    let answered = false;
    const add: Promise<Reply> = req('POST', `/infrastructures/${id}`, scaleTemplate({ wn: 3 })).finally(() => { answered = true; });
    await until(() => vmIds(id), (ids) => ids.length === 4);
    return { id, run, add, answered: () => answered };
  }

  test('a DELETE of another VM stops its steps at once, while the add still waits for its job', async () => {
    const { id, run, add, answered } = await addWaitingBehindHungRun();
    const del = req('DELETE', `/infrastructures/${id}/vms/2`);
    await until(async () => rec.leaving, (l) => l.includes('2'), 1000);
    expect(answered()).toBe(false); // the run is still held: the add has not got its answer
    run.release();
    const [added, deleted] = await Promise.all([add, del]);
    expect([added.status, added.text.split('/').pop()]).toEqual([200, '3']);
    expect(deleted.status).toBe(200);
    expect(await until(() => state(id), (s) => s.state === 'configured')).toEqual({
      state: 'configured', vm_states: { 0: 'configured', 1: 'configured', 3: 'configured' },
    });
  });

  test('the manager\'s tick is not held up by the add\'s wait, and sees the VMs as recorded', async () => {
    const { id, run, add, answered } = await addWaitingBehindHungRun();
    const tick = () => within(srv.runtime.manager.tick(id), 2000, 'the tick waited for the user\'s change');
    const nodes = (r: Awaited<ReturnType<typeof tick>>) => Object.fromEntries(Object.values(r.state.nodes).map((n) => [n.vmId, n.phase]));
    // The added VM is pending in the engine: the manager takes it as a booting worker.
    expect(nodes(await tick())).toEqual({ 1: 'booting', 2: 'booting', 3: 'booting' });
    // A VM being removed is no worker any more, though its removal job has not run yet.
    const del = req('DELETE', `/infrastructures/${id}/vms/2`);
    await until(async () => rec.leaving, (l) => l.includes('2'), 1000);
    expect(nodes(await tick())).toEqual({ 1: 'booting', 3: 'booting' });
    expect(answered()).toBe(false);
    run.release();
    expect((await add).status).toBe(200);
    expect((await del).status).toBe(200);
  });
});
