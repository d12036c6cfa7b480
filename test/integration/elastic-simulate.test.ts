/**
 * POST /infrastructures/{id}/elasticity/simulate (E-OBS-5) over real HTTP: the real engine,
 * SQLite, the Dummy cloud and the elastic runtime as `serve` wires them. The simulation replays a
 * job trace against the infrastructure's policy on a simulated HTCondor cluster: it answers the
 * actions and totals and leaves the infrastructure and its manager untouched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { loadOpenApi } from '../../server/api/openapi';
import { clusterTemplate, tempDir } from '../engine-fixtures';
import type { RemoteExec } from '../../server/elastic/probes/types';
import { call, imAuth } from '../api/http';
import { startElasticServer, type ElasticServer } from './elastic-harness';

jest.setTimeout(60_000);

const ALICE = imAuth('alice', 'alice-pw', 'id = dummy; type = Dummy');
const BOB = imAuth('bob', 'bob-pw', 'id = dummy; type = Dummy');
const PROBE = 'cat /var/lib/queue.json';
const probes: string[] = [];
/** The real batch system stays empty: whatever the simulation does must not reach the real manager. */
const exec: RemoteExec = async (cmd) => {
  probes.push(cmd);
  return cmd === PROBE ? { code: 0, stdout: '{"waiting": 0, "busy": {}}', stderr: '' } : { code: 127, stdout: '', stderr: 'not found' };
};

const template = clusterTemplate(0) + `  policies:
    - scale_wn:
        type: tosca.policies.Scaling
        targets: [ wn ]
        properties:
          min_instances: 0
          max_instances: 3
          probe_command: "${PROBE}"
          slots_per_node: 4
          scale_up_pending_for_s: 0
          idle_before_scale_down_s: 300
          scale_down_delay_after_add_s: 0
`;

/** 12 one-slot jobs of 10 minutes at t = 0: 3 nodes of 4 slots. */
const burst = Array.from({ length: 12 }, () => ({ submit_s: 0, runtime_s: 600 }));

describe('POST …/elasticity/simulate (real HTTP, engine, SQLite, Dummy)', () => {
  const dir = tempDir('tosca-im-elastic-sim-');
  let srv: ElasticServer;
  let infId = '';
  beforeAll(async () => {
    srv = await startElasticServer(path.join(dir, 'im.db'), exec);
    const created = await call(srv.url, 'POST', '/infrastructures', { auth: ALICE, type: 'text/yaml', body: template });
    expect(created.status).toBe(200);
    infId = created.headers.get('InfID')!;
  });
  afterAll(async () => {
    await srv?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const simulate = (body: unknown, o: { auth?: string; type?: string; id?: string } = {}) =>
    call(srv.url, 'POST', `/infrastructures/${o.id ?? infId}/elasticity/simulate`, {
      auth: o.auth ?? ALICE, type: o.type ?? 'application/json', body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  test('12 jobs → 3 nodes added at the first check, drained and removed once idle; totals; the schema of openapi.yaml', async () => {
    const r = await simulate({ jobs: burst, boot_s: 300, horizon_s: 3600 });
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    const sim = r.json().simulation;
    const ajv = new Ajv({ strict: false });
    const schemas = (loadOpenApi().doc as unknown as { components: { schemas: Record<string, object> } }).components.schemas;
    expect(ajv.validate(schemas.ElasticitySimulation, sim)).toBe(true);

    expect(sim.policy).toMatchObject({ max_nodes: 3, slots_per_node: 4, idle_before_scale_down_s: 300, lrms: 'htcondor' });
    expect([sim.horizon_s, sim.jobs]).toEqual([3600, 12]);
    // Jobs submitted at 0 are first seen by the check at 15 s.
    expect(sim.actions[0]).toEqual({ at_s: 15, kind: 'add', count: 3, vm_ids: ['1', '2', '3'], reason: expect.stringMatching(/^scale-up 3 \(12 slots waiting/) });
    expect(sim.actions.filter((a: { kind: string }) => a.kind === 'add')).toHaveLength(1);
    // Joined at 315 s, jobs done by ~935 s, idle 300 s, then drained and removed by name.
    const drained = sim.actions.filter((a: { kind: string }) => a.kind === 'drain').flatMap((a: { vm_ids: string[] }) => a.vm_ids);
    const removed = sim.actions.filter((a: { kind: string }) => a.kind === 'remove').flatMap((a: { vm_ids: string[] }) => a.vm_ids);
    expect(drained.sort()).toEqual(['1', '2', '3']);
    expect(removed.sort()).toEqual(['1', '2', '3']);
    const firstDrain = sim.actions.find((a: { kind: string }) => a.kind === 'drain');
    expect(firstDrain.at_s).toBeGreaterThanOrEqual(915 + 300);
    expect(firstDrain.reason).toMatch(/idle/);
    expect(sim.totals).toMatchObject({ vms_launched: 3, busy_removed: 0, unfinished_jobs: 0 });
    // Every job waited for the first check (15 s), the boot (300 s) and at most one negotiator cycle (20 s).
    expect(sim.totals.mean_wait_s).toBeGreaterThanOrEqual(315);
    expect(sim.totals.mean_wait_s).toBeLessThanOrEqual(335);
    expect(sim.totals.node_hours).toBeGreaterThan(3 * (1200 - 0) / 3600);
    expect(sim.totals.node_hours).toBeLessThan(3 * 1800 / 3600);
  });

  test('knob overrides change the replay, not the infrastructure; the real manager saw none of it', async () => {
    const one = (await simulate({ policy: { max_vms: 1 }, jobs: burst, boot_s: 300, horizon_s: 7200 })).json().simulation;
    expect(one.policy.max_nodes).toBe(1);
    expect(one.actions[0]).toMatchObject({ at_s: 15, kind: 'add', count: 1, reason: expect.stringMatching(/scale-up 1 of 3 .*max_nodes reached/) });
    expect(one.totals.vms_launched).toBe(1);
    expect(one.totals.mean_wait_s).toBeGreaterThan(600); // three rounds of 4 jobs on one node

    const rate = (await simulate({ policy: { max_creates_per_minute: 1, check_every_s: 15 }, jobs: burst, boot_s: 300, horizon_s: 3600 })).json().simulation;
    const adds = rate.actions.filter((a: { kind: string }) => a.kind === 'add');
    expect(adds.slice(0, 3).map((a: { at_s: number; count: number }) => [a.at_s, a.count])).toEqual([[15, 1], [75, 1], [135, 1]]);
    expect(adds[0].reason).toMatch(/max_creates_per_minute/);

    const view = (await call(srv.url, 'GET', `/infrastructures/${infId}/elasticity`, { auth: ALICE, accept: 'application/json' })).json().elasticity;
    expect(view.policy).toMatchObject({ max_nodes: 3, max_creates_per_minute: 60 });
    expect(view.nodes).toEqual([]);
    expect(view.events.map((e: { type: string }) => e.type)).not.toContain('ScaleUpRequested');
    const ids = (await call(srv.url, 'GET', `/infrastructures/${infId}`, { auth: ALICE })).text.split('\n').filter(Boolean);
    expect(ids).toHaveLength(1); // the master only: no VM was created anywhere
    expect(probes.every((c) => c === PROBE)).toBe(true); // no condor command reached the real master
  });

  test('a bad body is a 400 naming the problem; other media types 415; other owners 403 (as IM), no elasticity 404', async () => {
    const bad = async (body: unknown, re: RegExp) => {
      const r = await simulate(body);
      expect([r.status, r.text]).toEqual([400, expect.stringMatching(re)]);
    };
    await bad({ policy: { max_nodes: 0 }, jobs: burst }, /knob "max_nodes" must be an integer >= 1/);
    await bad({ policy: { nope: 1 }, jobs: burst }, /nope/);
    await bad({ jobs: [] }, /"jobs" must be a non-empty array/);
    await bad({ jobs: [{ submit_s: 0, runtime_s: 60 }, { submit_s: 0, runtime_s: -5 }] }, /jobs\[1\]\.runtime_s/);
    await bad({ jobs: [{ submit_s: 'soon', runtime_s: 60 }] }, /jobs\[0\]\.submit_s/);
    await bad({ jobs: [{ submit_s: 0, runtime_s: 60, cpus: 2 }] }, /"jobs\[0\]": unknown field "cpus"/);
    await bad({ jobs: Array.from({ length: 2001 }, () => ({ submit_s: 0, runtime_s: 60 })) }, /2001 entries; at most 2000/);
    await bad({ jobs: burst, horizon_s: 3 * 24 * 3600 }, /"horizon_s" must be .* <= 172800/);
    // The CPU bound: checks × jobs (each check renders every waiting job).
    await bad({ jobs: burst, horizon_s: 172800, policy: { check_every_s: 1 } }, /too large to simulate: 172801 checks/);
    await bad({ jobs: Array.from({ length: 2000 }, () => ({ submit_s: 0, runtime_s: 60 })), horizon_s: 86400 }, /5761 checks .* × 2000 jobs; at most 11520 checks and 6000000/);
    await bad({ jobs: burst, trace: [] }, /unknown field "trace"/);
    await bad([1, 2], /must be a JSON object/);
    await bad('{not json', /not JSON/);
    await bad('', /Empty body/);
    expect((await simulate({ jobs: burst }, { type: 'text/plain' })).status).toBe(415);
    expect((await simulate({ jobs: burst }, { auth: BOB })).status).toBe(403);
    const anonymous = await call(srv.url, 'POST', `/infrastructures/${infId}/elasticity/simulate`, { type: 'application/json', body: JSON.stringify({ jobs: burst }) });
    expect(anonymous.status).toBe(401);

    const plain = await call(srv.url, 'POST', '/infrastructures', { auth: ALICE, type: 'text/yaml', body: clusterTemplate(0) });
    const r = await simulate({ jobs: burst }, { id: plain.headers.get('InfID')! });
    expect([r.status, r.text]).toEqual([404, expect.stringMatching(/has no elasticity policy/)]);
  });
});
