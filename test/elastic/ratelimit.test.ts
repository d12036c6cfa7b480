/**
 * E-RATE-1: the create budget of a cloud account (max_creates_per_minute), shared by every
 * infrastructure whose workers go to that account; fake clock, simulated HTCondor masters on the
 * Dummy cloud (FakeCluster), one manager for all infrastructures as in the server.
 */
import * as path from 'node:path';
import { createEngine } from '../../server/engine';
import { accountKeyOf } from '../../server/engine/account';
import { TEST_SECRET_KEY, clusterTemplate, dummyCaller, tempDir } from '../engine-fixtures';
import type { RemoteExec } from '../../server/elastic/probes/types';
import { ElasticRuntime } from '../../server/elastic/runtime';
import { openStore } from '../../server/store';
import { FakeClock } from '../../server/elastic/clock';
import { ElasticManager, type ElasticActions } from '../../server/elastic/manager';
import { type ElasticPolicy, applyKnobChanges } from '../../server/elastic/policy';
import { CreateBudget, StoreBudget } from '../../server/elastic/ratelimit';
import { type ElasticEvent, MemoryStateStore } from '../../server/elastic/state';
import { InvalidInputError } from '../../server/errors';
import { FakeCluster } from './fakes';
import { MIN, S, T0, pol } from './helpers';

/** 20 nodes wanted at once: only the account's budget may hold them back. */
const burstPolicy = (o: Partial<ElasticPolicy> = {}) =>
  pol({ lrms: 'htcondor', probe_command: undefined, max_nodes: 21, max_nodes_per_step: 20, max_creates_per_minute: 5, ...o });

/** One manager over several infrastructures, each with its own simulated cluster and an account key. */
function setup(infs: Record<string, { account?: string; policy?: ElasticPolicy }>) {
  const clock = new FakeClock(T0);
  const clusters = new Map(Object.keys(infs).map((id) => [id, new FakeCluster(id)]));
  const c = (infId: string) => clusters.get(infId)!;
  const events: (ElasticEvent & { inf: string })[] = [];
  const actions: ElasticActions = {
    listVms: (infId, node) => c(infId).listVms(infId, node),
    addNodes: (infId, node, n) => c(infId).addNodes(infId, node, n),
    removeVms: (infId, ids) => c(infId).removeVms(infId, ids),
    accountKey: async (infId) => infs[infId].account,
  };
  const m = new ElasticManager({ clock, actions, exec: (infId) => c(infId).exec, store: new MemoryStateStore(), events: (inf, e) => events.push({ ...e, inf }) });
  for (const [id, o] of Object.entries(infs)) m.register(id, o.policy ?? burstPolicy());
  /** A node already proven (one joined, busy worker) and 80 single-slot jobs waiting: 20 nodes wanted. */
  const load = async (infId: string) => {
    const cl = c(infId);
    await cl.addNodes(infId, 'wn', 1);
    cl.join('1');
    cl.setBusy('1', 4);
    cl.waiting = 80;
    cl.queuedAt = (T0 - 10 * MIN) / 1000;
    cl.calls = [];
  };
  const created = (infId: string) => c(infId).calls.filter((x) => x.startsWith('add')).reduce((n, x) => n + Number(x.split(' ')[2]), 0);
  const tickAll = async () => { for (const id of Object.keys(infs)) await m.tick(id); };
  return { clock, m, events, load, created, tickAll };
}

describe('E-RATE-1 CreateBudget: tokens come back one minute after they were spent', () => {
  test('5 per minute: 5 at once, none within the minute, 5 again after it; refunds return tokens', () => {
    const b = new CreateBudget();
    expect(b.take('a', 5, 20, T0)).toBe(5);
    expect(b.take('a', 5, 20, T0 + 59 * S)).toBe(0);
    expect(b.take('b', 5, 2, T0 + 59 * S)).toBe(2); // another account has its own budget
    expect(b.take('a', 5, 20, T0 + 60 * S)).toBe(5);
    b.refund('a', 3, T0 + 60 * S);
    expect(b.available('a', 5, T0 + 61 * S)).toBe(3);
    // A smaller limit on the same account sees the same spent tokens.
    expect(b.available('a', 2, T0 + 61 * S)).toBe(0);
  });
});

describe('E-RATE-1 the manager: 20 demanded nodes with a budget of 5/min', () => {
  test('5 creates in the first minute (ticks every 15 s), then 5 more per minute until 20; reason and RateLimited say so', async () => {
    const { clock, m, events, load, created } = setup({ inf1: { account: 'acct-A' } });
    await load('inf1');
    const first = await m.tick('inf1');
    expect(first.decision.intents).toEqual([{ kind: 'add', count: 5 }]);
    expect(first.decision.reason).toMatch(/scale-up 5 of 20 .*max_creates_per_minute \(cloud account\) reached/);
    for (let t = 15; t < 60; t += 15) {
      clock.advance(15 * S);
      const r = await m.tick('inf1');
      expect(r.decision.intents).toEqual([]);
      expect(r.decision.reason).toMatch(/scale-up 0 of 15 .*max_creates_per_minute/);
    }
    expect(created('inf1')).toBe(5);
    const perMinute: number[] = [created('inf1')];
    for (let minute = 1; minute < 5; minute++) {
      for (let t = 0; t < 60; t += 15) { clock.advance(15 * S); await m.tick('inf1'); }
      perMinute.push(created('inf1') - perMinute.reduce((a, b) => a + b, 0));
    }
    expect(perMinute).toEqual([5, 5, 5, 5, 0]);
    // Reported when the limit starts, not on every tick (and again after a minute that was not limited).
    const limited = events.filter((e) => e.type === 'RateLimited');
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited[0]).toMatchObject({ at: T0, reason: expect.stringMatching(/max_creates_per_minute/) });
    expect(limited.length).toBeLessThan(8);
    expect((await m.view('inf1')).events.map((e) => e.type)).toContain('RateLimited');
  });

  test('0 = no limit: the same burst is limited only by the other clamps', async () => {
    const { m, load, created } = setup({ inf1: { account: 'acct-A', policy: burstPolicy({ max_creates_per_minute: 0 }) } });
    await load('inf1');
    await m.tick('inf1');
    expect(created('inf1')).toBe(20);
  });

  test('a dry run spends nothing', async () => {
    const { clock, m, load, created } = setup({ inf1: { account: 'acct-A', policy: burstPolicy({ dry_run: true }) } });
    await load('inf1');
    const d = await m.tick('inf1');
    expect(d.decision.reason).toMatch(/scale-up 5 of 20/);
    await m.update('inf1', { dry_run: false });
    clock.advance(1 * S);
    expect((await m.tick('inf1')).decision.intents).toEqual([{ kind: 'add', count: 5 }]);
    expect(created('inf1')).toBe(5);
  });
});

describe('E-RATE-1 the budget belongs to the cloud account, not to the infrastructure', () => {
  test('two infrastructures on one account share it: 5 creates between them in the first minute', async () => {
    const { clock, load, created, tickAll } = setup({ inf1: { account: 'acct-A' }, inf2: { account: 'acct-A' } });
    await load('inf1');
    await load('inf2');
    for (let t = 0; t < 60; t += 15) { await tickAll(); clock.advance(15 * S); }
    expect(created('inf1') + created('inf2')).toBe(5);
    expect(created('inf1')).toBe(5); // the first to tick took the whole budget
    await tickAll(); // t = 60 s: the tokens are back, for whoever asks first
    expect(created('inf1') + created('inf2')).toBe(10);
  });

  test('different accounts do not share: 5 each in the first minute', async () => {
    const { clock, load, created, tickAll } = setup({ inf1: { account: 'acct-A' }, inf2: { account: 'acct-B' } });
    await load('inf1');
    await load('inf2');
    for (let t = 0; t < 60; t += 15) { await tickAll(); clock.advance(15 * S); }
    expect([created('inf1'), created('inf2')]).toEqual([5, 5]);
  });

  test('without an account key the budget is the infrastructure\'s own', async () => {
    const { clock, load, created, tickAll } = setup({ inf1: {}, inf2: {} });
    await load('inf1');
    await load('inf2');
    for (let t = 0; t < 60; t += 15) { await tickAll(); clock.advance(15 * S); }
    expect([created('inf1'), created('inf2')]).toEqual([5, 5]);
  });
});

describe('E-RATE-1 the account key and the knob', () => {
  const os = (id: string, fields: Record<string, string>) => ({ id, type: 'OpenStack', fields });
  test('same account under another line id or password → same key; another user or project → another; no secret in it', () => {
    const a = accountKeyOf(os('ost', { host: 'https://keystone:5000', username: 'alice', password: 's3cret-pw', tenant: 'proj' }));
    expect(accountKeyOf(os('mycloud', { host: 'https://keystone:5000', username: 'alice', password: 'other-pw', tenant: 'proj' }))).toBe(a);
    expect(accountKeyOf(os('ost', { host: 'https://keystone:5000', username: 'bob', password: 's3cret-pw', tenant: 'proj' }))).not.toBe(a);
    expect(accountKeyOf(os('ost', { host: 'https://keystone:5000', username: 'alice', password: 's3cret-pw', tenant: 'other' }))).not.toBe(a);
    expect(a).toMatch(/^openstack:[0-9a-f]{16}$/);
    expect(a).not.toMatch(/s3cret|alice|keystone/);
  });
  test('an invalid max_creates_per_minute is refused naming the knob; 60 by default', () => {
    expect(() => applyKnobChanges(pol(), { max_creates_per_minute: -1 })).toThrow(InvalidInputError);
    expect(() => applyKnobChanges(pol(), { max_creates_per_minute: 2.5 })).toThrow(/knob "max_creates_per_minute" must be an integer >= 0/);
    expect(pol().max_creates_per_minute).toBe(60);
  });
});

describe('E-RATE-1 in the server: the engine\'s account key through ElasticRuntime (SQLite, Dummy)', () => {
  test('alice and bob on one account (different line ids) share 5 creates/min; carol on another account has her own', async () => {
    const store = await openStore('sqlite:' + path.join(tempDir('elastic-rate-'), 'im.db'));
    const clock = new FakeClock(T0);
    const PROBE = 'cat /var/lib/queue.json';
    const exec: RemoteExec = async (cmd) => (cmd === PROBE ? { code: 0, stdout: '{"waiting": 80, "busy": {}}', stderr: '' } : { code: 0, stdout: '', stderr: '' });
    const runtime = new ElasticRuntime({ store, clock, exec: () => exec });
    const engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, planner: runtime.planner() });
    try {
      const service = runtime.attach(engine.service);
      await runtime.start();
      const template = clusterTemplate(0) + `  policies:
    - scale_wn:
        type: tosca.policies.Scaling
        targets: [ wn ]
        properties:
          min_instances: 0
          max_instances: 20
          probe_command: "${PROBE}"
          slots_per_node: 4
          scale_up_pending_for_s: 0
          max_nodes_per_step: 20
          max_creates_per_minute: 5
`;
      const callers = {
        alice: dummyCaller('alice', { host: 'https://cloud-a', username: 'team', password: 'pw-1' }, 'dummy'),
        bob: dummyCaller('bob', { host: 'https://cloud-a', username: 'team', password: 'pw-2' }, 'mycloud'),
        carol: dummyCaller('carol', { host: 'https://cloud-b', username: 'team', password: 'pw-1' }, 'dummy'),
      };
      const ids: Record<string, string> = {};
      for (const [who, caller] of Object.entries(callers)) ids[who] = await service.create(caller, template, { async: false });
      const reasons: Record<string, string> = {};
      for (const who of Object.keys(callers)) reasons[who] = (await runtime.manager.tick(ids[who])).decision.reason;
      const workers = async (who: keyof typeof callers) => (await service.vmIds(callers[who], ids[who])).length - 1;
      // An unproven image allows 3 VMs in flight (E-FAIL-3): alice takes 3 of the account's 5, bob the 2 left.
      expect([await workers('alice'), await workers('bob'), await workers('carol')]).toEqual([3, 2, 3]);
      expect(reasons.bob).toMatch(/scale-up 2 of 20 .*max_creates_per_minute \(cloud account\) reached/);
      expect(reasons.carol).toMatch(/scale-up 3 of 20 .*join failures reached/);
    } finally {
      await runtime.stop();
      await engine.close();
      await store.close();
    }
  });
});

test('E-RATE-1 StoreBudget: managers on one store (replicas on one database) spend one budget', async () => {
  const store = await openStore('sqlite::memory:');
  try {
    const a = new StoreBudget(store);
    const b = new StoreBudget(store);
    expect(await a.take('acct', 5, 3, 0)).toBe(3);
    expect(await b.take('acct', 5, 3, 1)).toBe(2);
    await b.refund('acct', 1, 1);
    expect(await a.take('acct', 5, 3, 2)).toBe(1);
    expect(await b.take('acct', 5, 5, 60_000)).toBe(3); // the 3 of t=0 came back one window later
  } finally {
    await store.close();
  }
});
