/**
 * The engine against the real OpenStack and EC2 simulators over HTTP (real connectors, a temp
 * SQLite store): boot failures retried with new client tokens and reported, bad keys and quota
 * refusals answered as the caller's errors, a DELETE with rejected credentials, concurrent polling.
 */
import * as path from 'path';
import { openStore, type Store } from '../store';
import { createEngine, type Engine } from '.';
import type { Caller } from './service';
import { TEST_SECRET_KEY, tempDir, until as waitUntil } from '../../test/engine-fixtures';
import { CloudError, InfrastructureNotFoundError } from '../errors';
import { keystoneTuning, openStackTuning, resetOpenStackClouds } from '../../connectors/openstack';
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';
import { startEc2Sim, type Ec2Sim } from '../../sims/ec2';

/** This file's default wait: 20_000 ms, polling every 25 ms. */
const until = <T,>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> => waitUntil(f, ok, ms, 25);


const DEMO_PROJECT = 'p-demo-0000000000000000000000000001';
const FAST = { pollMinMs: 20, pollMaxMs: 200 };

function template(count: number, image = 'cirros-0.6.2-x86_64-disk'): string {
  return `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable:
          properties:
            count: ${count}
        host:
          properties:
            num_cpus: 1
            mem_size: 512 MB
        os:
          properties:
            type: linux
            image: ${image}
`;
}

function osCaller(sim: OpenStackSim, owner: string, password = 'secret'): Caller {
  return {
    owner: `owner-${owner}`, username: owner,
    credentials: [{ id: 'ost', type: 'OpenStack', fields: { host: sim.authUrl, username: 'demo', password, tenant: 'demo', domain: 'Default', auth_version: '3.x_password' } }],
  };
}


async function openEngine(tuning: Record<string, number> = {}, file = path.join(tempDir(), 'clouds.db')) {
  const store = await openStore(`sqlite:${file}`);
  const engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, tuning: { ...FAST, ...tuning } });
  return { store, engine, file };
}

const settled = (engine: Engine, caller: Caller, id: string) =>
  until(() => engine.service.state(caller, id), (s) => s.state !== 'pending' && s.state !== 'running' && !Object.values(s.vm_states).includes('running'));

const serversOf = (sim: OpenStackSim, infId: string) => sim.inspect().servers.filter((s) => s.metadata.im_infrastructure_id === infId);
const serverPosts = (sim: OpenStackSim) => sim.requestCount((r) => r.method === 'POST' && r.path === '/compute/v2.1/servers');

describe('OpenStack simulator', () => {
  let sim: OpenStackSim;
  let store: Store;
  let engine: Engine;

  beforeAll(async () => {
    resetOpenStackClouds();
    openStackTuning.deletePoll = { intervalMs: 20, maxIntervalMs: 100, timeoutMs: 20_000 };
    sim = await startOpenStackSim({ faults: { activeDelayMs: 60, deleteDelayMs: 20 } });
    ({ store, engine } = await openEngine());
  });
  afterAll(async () => {
    await engine?.close();
    await store?.close();
    await sim?.close();
  });
  beforeEach(() => {
    sim.faults.bootFailures.length = 0;
    sim.resetRequests();
  });

  test('a VM that fails to boot twice is deleted and launched again with a new token; the other 3 are kept', async () => {
    const caller = osCaller(sim, 'retry');
    sim.faults.bootFailures.push({ pattern: /-wn-2$/, times: 2, message: 'No valid host was found (injected)' });
    const id = await engine.service.create(caller, template(4), { async: false });
    const st = await settled(engine, caller, id);
    expect(st).toEqual({ state: 'configured', vm_states: { 0: 'configured', 1: 'configured', 2: 'configured', 3: 'configured' } });

    const servers = serversOf(sim, id);
    expect(servers.map((s) => [s.metadata.im_vm_id, s.status]).sort()).toEqual([['0', 'ACTIVE'], ['1', 'ACTIVE'], ['2', 'ACTIVE'], ['3', 'ACTIVE']]);
    // The failed instances are gone; the third attempt used its own token; the good VMs were never relaunched.
    expect(servers.find((s) => s.metadata.im_vm_id === '2')!.metadata.im_client_token).toBe(`${id}-2-retry3`);
    expect(servers.filter((s) => s.metadata.im_vm_id !== '2').every((s) => !s.metadata.im_client_token.includes('retry'))).toBe(true);
    expect(serverPosts(sim)).toBe(6);
    expect(await store.getKv(id, 'deploy.attempt.2')).toEqual({ attempt: 3 });

    const vmLog = await engine.service.vmContmsg(caller, id, '2');
    expect(vmLog).toContain('Attempt 1 of 3 failed: No valid host was found (injected). Deleting it and launching it again.');
    expect(vmLog).toContain('Attempt 2 of 3 failed: No valid host was found (injected).');
    expect(vmLog).toMatch(/VM launched in cloud "ost" with id \S+ \(attempt 3 of 3\)/);
    expect(await engine.service.contmsg(caller, id, true)).toContain('VM 2 (wn) failed in cloud "ost" (attempt 1 of 3): No valid host was found (injected); launching it again.');
    expect(await engine.service.vmContmsg(caller, id, '1')).not.toContain('failed');

    // Removing the VM drops its attempt record.
    expect(await engine.service.removeVms(caller, id, ['2'], false)).toBe(1);
    expect(await store.getKv(id, 'deploy.attempt.2')).toBeUndefined();
    expect(serversOf(sim, id)).toHaveLength(3);

    await engine.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: false });
    expect(serversOf(sim, id)).toEqual([]);
  }, 60_000);

  test('a VM that always fails is left failed after 3 attempts with the fault in contmsg; the 3 good VMs stay', async () => {
    const caller = osCaller(sim, 'permanent');
    sim.faults.bootFailures.push({ pattern: /-wn-1$/, times: Infinity, message: 'Exceeded maximum number of retries (injected)' });
    const id = await engine.service.create(caller, template(4), { async: false });
    const st = await settled(engine, caller, id);
    expect(st).toEqual({ state: 'failed', vm_states: { 0: 'configured', 1: 'failed', 2: 'configured', 3: 'configured' } });

    const servers = serversOf(sim, id);
    // Three good VMs and the last failed attempt (kept to be seen; deleted with the infrastructure).
    expect(servers.map((s) => [s.metadata.im_vm_id, s.status]).sort()).toEqual([['0', 'ACTIVE'], ['1', 'ERROR'], ['2', 'ACTIVE'], ['3', 'ACTIVE']]);
    expect(serverPosts(sim)).toBe(6);
    const vmLog = await engine.service.vmContmsg(caller, id, '1');
    expect(vmLog.match(/Exceeded maximum number of retries \(injected\)/g)).toHaveLength(3);
    expect(vmLog).toContain('Attempt 3 of 3 failed: Exceeded maximum number of retries (injected). Giving up: the VM stays failed.');
    expect(await engine.service.contmsg(caller, id, true)).toContain('VM 1 (wn) failed in cloud "ost" after 3 attempts: Exceeded maximum number of retries (injected)');
    expect((await engine.service.vmInfo(caller, id, '0')).privateIps).toHaveLength(1);

    // Adding a VM later does not relaunch the one that was given up on.
    expect(await engine.service.addResources(caller, id, template(5), true)).toEqual(['4']);
    expect((await settled(engine, caller, id)).vm_states).toEqual({ 0: 'configured', 1: 'failed', 2: 'configured', 3: 'configured', 4: 'configured' });
    expect(serverPosts(sim)).toBe(7);
    expect((await engine.service.vmContmsg(caller, id, '1')).match(/Exceeded maximum number of retries \(injected\)/g)).toHaveLength(3);

    await engine.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: false });
    expect(serversOf(sim, id)).toEqual([]);
  }, 60_000);

  test('a rejected password: sync create → CloudError 401 naming the cloud; async → failed + contmsg; DELETE answers clearly, force removes', async () => {
    const caller = osCaller(sim, 'badpw', 'wrong');
    const err = await engine.service.create(caller, template(2), { async: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ status: 401, code: 'AuthFailed' });
    expect((err as Error).message).toMatch(/^Error launching the VMs in cloud "ost": OpenStack credential "ost" was rejected by Keystone/);
    expect(await engine.service.list(caller)).toEqual([]);
    expect(serverPosts(sim)).toBe(0);

    const id = await engine.service.create(caller, template(2), { async: true });
    expect(await until(() => engine.service.state(caller, id), (s) => s.state === 'failed')).toEqual({ state: 'failed', vm_states: { 0: 'failed', 1: 'failed' } });
    expect(await engine.service.contmsg(caller, id, true)).toContain('in cloud "ost": OpenStack credential "ost" was rejected by Keystone');

    const refused = await engine.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: false }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CloudError);
    expect(refused).toMatchObject({ status: 401 });
    expect((refused as Error).message).toMatch(/^Error destroying the infrastructure: OpenStack credential "ost" was rejected by Keystone.*force=yes/);
    expect((await engine.service.state(caller, id)).state).toBe('failed');
    // The cloud's current credentials in the DELETE's header replace the stored ones.
    await engine.service.destroy(osCaller(sim, 'badpw'), id, { force: false, async: false, releaseFloatingIps: false });
    await expect(engine.service.state(caller, id)).rejects.toBeInstanceOf(InfrastructureNotFoundError);

    const id2 = await engine.service.create(caller, template(1), { async: true });
    await until(() => engine.service.state(caller, id2), (s) => s.state === 'failed');
    await engine.service.destroy(caller, id2, { force: true, async: false, releaseFloatingIps: false });
    await expect(engine.service.state(caller, id2)).rejects.toBeInstanceOf(InfrastructureNotFoundError);
  }, 60_000);

  test('a quota refusal on a sync create answers 403 naming the cloud and the quota', async () => {
    const quota = sim.state.quotaOf(DEMO_PROJECT);
    const before = quota.instances;
    quota.instances = 0;
    try {
      const caller = osCaller(sim, 'quota');
      const err = await engine.service.create(caller, template(2), { async: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CloudError);
      expect(err).toMatchObject({ status: 403, code: 'QuotaExceeded' });
      expect((err as Error).message).toMatch(/^Error launching the VMs in cloud "ost": OpenStack quota exceeded \(POST \/servers\): Quota exceeded for instances/);
      expect(await engine.service.list(caller)).toEqual([]);
    } finally {
      quota.instances = before;
    }
  }, 60_000);

  test('a VM that failed for want of a floating IP is not relaunched (a new one would fail the same way)', async () => {
    const quota = sim.state.quotaOf(DEMO_PROJECT);
    const before = quota.floatingips;
    quota.floatingips = 0;
    try {
      const caller = osCaller(sim, 'fip');
      const text = template(1).replace('  node_templates:\n', `  node_templates:
    front:
      type: tosca.nodes.Compute
      capabilities:
        endpoint:
          properties:
            network_name: PUBLIC
        os:
          properties:
            type: linux
            image: cirros-0.6.2-x86_64-disk
`);
      const id = await engine.service.create(caller, text, { async: false });
      const st = await settled(engine, caller, id);
      expect(st).toEqual({ state: 'failed', vm_states: { 0: 'failed', 1: 'configured' } });
      expect(serverPosts(sim)).toBe(2);
      expect(await engine.service.vmContmsg(caller, id, '0')).toMatch(/VM failed: Could not attach a floating IP: .*quota.*Not launched again/i);
      await engine.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: false });
      expect(serversOf(sim, id)).toEqual([]);
    } finally {
      quota.floatingips = before;
    }
  }, 60_000);

  test('the refresher shows VMs deleted or stopped outside tosca-im', async () => {
    const fast = await openEngine({ refreshIntervalMs: 100 });
    try {
      const caller = osCaller(sim, 'refresh');
      const id = await fast.engine.service.create(caller, template(3), { async: false });
      await settled(fast.engine, caller, id);
      const vms = await fast.store.listVms(id);
      // Someone else deletes VM 1 and stops VM 2 with the cloud's own API.
      const { OpenStackConnector } = await import('../../connectors/openstack');
      const outsider = new OpenStackConnector(caller.credentials[0]);
      await outsider.terminate({ ...vms[1].handle!, extra: {} }, { releaseFloatingIps: false });
      await outsider.stop(vms[2].handle!);
      const st = await until(() => fast.engine.service.state(caller, id), (s) => s.vm_states[1] === 'off' && s.vm_states[2] === 'stopped', 10_000);
      expect(st.vm_states[0]).toBe('configured');
      // (the line follows the state change)
      await until(() => fast.engine.service.vmContmsg(caller, id, '1'), (m) => m.includes('The cloud reports the VM off (it was running): changed outside tosca-im.'), 5000);

      // The password is changed at the cloud: the refresher backs off (passes 1, 3, 7, 15...) instead
      // of knocking every 100 ms.
      const demo = sim.state.users.find((u) => u.name === 'demo')!;
      demo.password = 'changed-elsewhere';
      sim.revokeTokens();
      sim.resetRequests();
      try {
        await new Promise((r) => setTimeout(r, 1600));
        const knocks = sim.requests.filter((r) => r.path === '/identity/v3/auth/tokens').map((r) => r.at);
        const passes = knocks.filter((t, i) => i === 0 || t - knocks[i - 1] > 50).length;
        expect(passes).toBeGreaterThanOrEqual(2);
        expect(passes).toBeLessThanOrEqual(5);
        expect((await fast.engine.service.state(caller, id)).vm_states).toEqual(st.vm_states);
      } finally {
        demo.password = 'secret';
        // The connector holds a rejection back for a moment (one Keystone attempt per burst).
        await new Promise((r) => setTimeout(r, keystoneTuning.rejectedForMs + 50));
      }
      await fast.engine.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: false });
      expect(serversOf(sim, id)).toEqual([]);
    } finally {
      await fast.engine.close();
      await fast.store.close();
    }
  }, 60_000);

  test('a restart in the middle of the retries neither resets the attempts nor duplicates a VM', async () => {
    const file = path.join(tempDir(), 'retry-restart.db');
    const { store: s1, engine: e1 } = await openEngine({}, file);
    const caller = osCaller(sim, 'restart');
    sim.faults.bootFailures.push({ pattern: /-wn-0$/, times: 2, message: 'Boot failure (injected)' });
    const id = await e1.service.create(caller, template(2), { async: true });
    // Close as soon as the first failure was recorded (the relaunch may be anywhere on its way).
    await until(() => s1.getKv(id, 'deploy.attempt.0'), (r) => (r as { attempt?: number } | undefined)?.attempt === 2);
    await e1.close();
    await s1.close();

    const { store: s2, engine: e2 } = await openEngine({}, file);
    try {
      const st = await settled(e2, caller, id);
      expect(st).toEqual({ state: 'configured', vm_states: { 0: 'configured', 1: 'configured' } });
      expect(await s2.getKv(id, 'deploy.attempt.0')).toEqual({ attempt: 3 });
      const servers = serversOf(sim, id);
      expect(servers.map((s) => [s.metadata.im_vm_id, s.status, s.metadata.im_client_token]).sort()).toEqual([
        ['0', 'ACTIVE', `${id}-0-retry3`], ['1', 'ACTIVE', `${id}-1`],
      ]);
      expect(serverPosts(sim)).toBe(4); // 2 VMs + 2 relaunches, none twice
      expect((await e2.service.vmContmsg(caller, id, '0')).match(/Boot failure \(injected\)/g)).toHaveLength(2);
      await e2.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: false });
      expect(serversOf(sim, id)).toEqual([]);
    } finally {
      await e2.close();
      await s2.close();
    }
  }, 60_000);
});

describe('OpenStack simulator with 200 ms of API latency', () => {
  let sim: OpenStackSim;

  beforeAll(async () => {
    resetOpenStackClouds();
    openStackTuning.deletePoll = { intervalMs: 20, maxIntervalMs: 100, timeoutMs: 20_000 };
    sim = await startOpenStackSim({ faults: { activeDelayMs: 1500, deleteDelayMs: 20 } });
  });
  afterAll(async () => {
    await sim?.close();
  });

  test('50 VMs are polled concurrently: one round costs about one round trip', async () => {
    const { store, engine } = await openEngine({ vmConcurrency: 25, pollMinMs: 100, pollMaxMs: 400 });
    try {
      const caller = osCaller(sim, 'poll');
      sim.faults.latencyMs = 200;
      sim.resetRequests();
      const t0 = Date.now();
      const id = await engine.service.create(caller, template(50), { async: false });
      const createMs = Date.now() - t0;
      const describes = sim.requests.filter((r) => r.method === 'GET' && /^\/compute\/v2\.1\/servers\/[0-9a-f-]{36}$/.test(r.path));
      const first = Math.min(...describes.map((r) => r.at));
      const last = Math.max(...describes.map((r) => r.at));
      // Rounds are at least a sleep (≥ 100 ms) plus a round trip (200 ms) apart: answers closer belong to one round.
      const times = describes.map((r) => r.at).sort((a, b) => a - b);
      const rounds: number[][] = [];
      for (const t of times) {
        if (rounds.length && t - rounds[rounds.length - 1][rounds[rounds.length - 1].length - 1] < 250) rounds[rounds.length - 1].push(t);
        else rounds.push([t]);
      }
      const spans = rounds.map((r) => r[r.length - 1] - r[0]);
      console.log(`50 VMs, 200 ms latency: create ${createMs} ms; ${describes.length} describes (${(describes.length / 50).toFixed(1)}/VM) ` +
        `in ${rounds.length} rounds over ${last - first} ms; longest round ${Math.max(...spans)} ms (one after another: ≥ 10000 ms per round)`);
      expect((await engine.service.state(caller, id)).state).not.toBe('pending');
      // The first round asks about every VM at once and each round answers within about one round
      // trip (one after another it would take 50 × 200 ms = 10 s; 8 at a time, 7 round trips = 1.4 s).
      expect(rounds[0]).toHaveLength(50);
      expect(Math.max(...spans)).toBeLessThan(600);
      expect(last - first).toBeLessThan(8000);
      const t1 = Date.now();
      await engine.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: false });
      console.log(`destroy ${Date.now() - t1} ms; create + destroy: ${(sim.requests.length / 50).toFixed(1)} API calls per VM`);
      expect(serversOf(sim, id)).toEqual([]);
    } finally {
      sim.faults.latencyMs = 0;
      await engine.close();
      await store.close();
    }
  }, 120_000);
});

describe('EC2 simulator', () => {
  let sim: Ec2Sim;
  let store: Store;
  let engine: Engine;
  const image = 'aws://us-east-1/ami-0123456789abcdef0';
  const ec2Caller = (owner: string, secret = 'SECRETEXAMPLE'): Caller => ({
    owner: `owner-${owner}`, username: owner,
    credentials: [{ id: 'ec2', type: 'EC2', fields: { username: 'AKIDEXAMPLE', password: secret, host: `${sim.url}/`, region: 'us-east-1' } }],
  });
  const liveOf = (infId: string) => sim.inspect.state().instances.filter((i) => i.tags.im_infrastructure_id === infId && i.state !== 'terminated');

  beforeAll(async () => {
    sim = await startEc2Sim({ bootMs: 80, shutdownMs: 40 });
    ({ store, engine } = await openEngine());
  });
  afterAll(async () => {
    await engine?.close();
    await store?.close();
    await sim?.close();
  });

  test('an instance that dies while booting is relaunched with a new ClientToken; all 4 end running', async () => {
    const caller = ec2Caller('retry');
    sim.inspect.resetCounters();
    sim.faults.add({ kind: 'boot-failure', action: 'RunInstances', times: 1 });
    const id = await engine.service.create(caller, template(4, image), { async: false });
    expect(await settled(engine, caller, id)).toEqual({ state: 'configured', vm_states: { 0: 'configured', 1: 'configured', 2: 'configured', 3: 'configured' } });
    expect(sim.inspect.requests().byAction.RunInstances).toBe(5);
    const live = liveOf(id);
    expect(live).toHaveLength(4);
    expect(live.filter((i) => i.tags.im_client_token?.endsWith('-retry2'))).toHaveLength(1);
    expect(await engine.service.contmsg(caller, id, false)).toMatch(/Attempt 1 of 3 failed: .*Server\.InternalError/);
    await engine.service.destroy(caller, id, { force: false, async: false, releaseFloatingIps: false });
    expect(liveOf(id)).toEqual([]);
  }, 60_000);

  test('bad keys on a sync create → CloudError 401 through the service, nothing kept', async () => {
    const caller = ec2Caller('badkeys', 'WRONGSECRET');
    const err = await engine.service.create(caller, template(2, image), { async: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ status: 401 });
    expect((err as Error).message).toMatch(/^Error launching the VMs in cloud "ec2": EC2 cloud "ec2" rejected the credentials \(AuthFailure/);
    expect(await engine.service.list(caller)).toEqual([]);
  }, 60_000);
});
