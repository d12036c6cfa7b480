/**
 * The cloud quota clamp of the elasticity manager (E-QUOTA-1), as `serve` wires it: the real engine
 * on SQLite, the ElasticRuntime on the real clock, the OpenStack simulator over real HTTP with a
 * small project quota. The queue asks for 5 workers; the project's cores leave room for 2: exactly 2
 * are asked for, a QuotaLimited event says so through GET …/elasticity, and Nova never refuses a
 * server (no 403 storm). A raised quota is seen on the next scale-up; an unreadable quota does not
 * block scaling.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStackTuning, resetOpenStackClouds } from '../../connectors/openstack';
import { tempDir } from '../engine-fixtures';
import type { RemoteExec } from '../../server/elastic/probes/types';
import { call, imAuth } from '../api/http';
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';
import { waitFor } from './api-harness';
import { startElasticServer, type ElasticServer } from './elastic-harness';

jest.setTimeout(60_000);

const PROBE = 'cat /var/lib/queue.json';
/** 20 waiting jobs at 4 slots a node: 5 workers wanted. */
const queue = { waiting: 20, busy: {} as Record<string, number> };
const exec: RemoteExec = async (cmd) =>
  cmd === PROBE ? { code: 0, stdout: JSON.stringify(queue), stderr: '' } : { code: 127, stdout: '', stderr: `${cmd}: not found` };

/**
 * A public master (m1.tiny: 1 vCPU) and 0..10 workers (m1.medium: 2 vCPUs, 4 GB). The workers never
 * join (the fake queue lists no hosts) and the join timeout is long, so every worker stays booting
 * and in flight; the join-failure budget is raised so that only the quota can bind below 5.
 */
const template = `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    front:
      type: tosca.nodes.Compute
      capabilities:
        endpoint: { properties: { network_name: PUBLIC } }
        host: { properties: { num_cpus: 1, mem_size: 512 MB } }
        os: { properties: { image: ubuntu-22.04 } }
    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable: { properties: { count: 0 } }
        host: { properties: { num_cpus: 2, mem_size: 4 GB } }
        os: { properties: { image: ubuntu-22.04 } }
  policies:
    - scale_wn:
        type: tosca.policies.Scaling
        targets: [ wn ]
        properties:
          min_instances: 0
          max_instances: 10
          probe_command: "${PROBE}"
          slots_per_node: 4
          check_every_s: 1
          scale_up_pending_for_s: 0
          join_timeout_s: 600
          max_consecutive_join_failures: 10
`;

interface Event { type: string; reason: string; vmIds?: string[] }

describe('the elasticity manager clamps scale-up by the OpenStack project quota', () => {
  const dir = tempDir('tosca-im-elastic-quota-');
  let sim: OpenStackSim;
  let srv: ElasticServer;
  const warnings: { obj: object; msg?: string }[] = [];

  beforeAll(async () => {
    resetOpenStackClouds();
    openStackTuning.deletePoll = { intervalMs: 30, maxIntervalMs: 200, timeoutMs: 20_000 };
    // 5 cores: the master's 1 and room for two 2-vCPU workers; instances and RAM would allow more.
    sim = await startOpenStackSim({ quotas: { cores: 5, instances: 20 }, faults: { activeDelayMs: 50, deleteDelayMs: 20 } });
    srv = await startElasticServer(path.join(dir, 'im.db'), exec, { onWarn: (obj, msg) => warnings.push({ obj, msg }) });
  });
  afterAll(async () => {
    await srv?.close();
    await sim?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const auth = () => imAuth('alice', 'pw', `id = ost; type = OpenStack; host = ${sim.authUrl}; username = demo; password = secret; tenant = demo; domain = Default; auth_version = 3.x_password`);
  const req = (method: string, p: string, o: { accept?: string; type?: string; body?: string } = {}) => call(srv.url, method, p, { auth: auth(), ...o });
  const view = async (id: string) => (await req('GET', `/infrastructures/${id}/elasticity`, { accept: 'application/json' })).json().elasticity;
  const vmIds = async (id: string) => (await req('GET', `/infrastructures/${id}`)).text.split('\n').filter(Boolean).map((u) => u.split('/').pop()!);
  const workers = (id: string) => sim.inspect().servers.filter((s) => s.metadata.im_infrastructure_id === id && s.metadata.im_node === 'wn');
  const refusedServers = () => sim.requests.filter((r) => r.method === 'POST' && /\/servers$/.test(r.path) && r.status >= 400);
  const quotaReads = () => sim.requests.filter((r) => r.path.includes('/os-quota-sets/')).length;
  const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, 30_000);
  /** Waits until the manager has decided `n` more times (each decision is a tick with its own timestamp). */
  const decisions = async (id: string, n: number) => {
    const seen = new Set<string>();
    await until(`${n} more decisions`, async () => {
      const at = (await view(id)).last_decision?.at;
      if (at) seen.add(at);
      return seen.size > n ? true : undefined;
    });
  };

  let infId = '';

  test('room for 2 of the 5 wanted: exactly 2 are added, QuotaLimited says so, Nova refuses nothing', async () => {
    const created = await req('POST', '/infrastructures', { type: 'text/yaml', body: template });
    expect(created.status).toBe(200);
    infId = created.headers.get('InfID')!;

    const grown = await until('2 elastic workers', async () => { const v = await view(infId); return v.nodes.length >= 2 ? v : undefined; });
    // Several more ticks with the queue still asking for 5: nothing more is asked of the cloud.
    await decisions(infId, 4);
    const v = await view(infId);
    expect(v.nodes.map((n: { vm_id: string }) => n.vm_id)).toEqual(['1', '2']);
    expect(await vmIds(infId)).toEqual(['0', '1', '2']);
    expect(workers(infId)).toHaveLength(2);
    expect(refusedServers()).toEqual([]);
    const events = v.events as Event[];
    expect(events.filter((e) => e.type === 'ScaleUpRequested').map((e) => e.vmIds)).toEqual([['1', '2']]);
    const limited = events.filter((e) => e.type === 'QuotaLimited');
    expect(limited).toHaveLength(1); // when the limit starts, not on every tick
    expect(limited[0].reason).toMatch(/scale-up 2 of 5 .*cloud quota reached/);
    expect(grown.events.map((e: Event) => e.type)).toContain('QuotaLimited');
    expect(v.last_decision.reason).toMatch(/scale-up 0 of 3 .*cloud quota reached/);
    expect(events.map((e) => e.type)).not.toContain('ScaleUpFailed');
    expect(v.scale_up.suspended_until).toBeFalsy();
    expect(warnings.filter((w) => /quota/.test(w.msg ?? ''))).toEqual([]);
  });

  test('a raised quota is read on the next scale-up: the 3 still wanted are added, no longer limited', async () => {
    sim.state.quotaOf(sim.state.projects[0].id).cores = 11;
    await until('5 elastic workers', async () => ((await view(infId)).nodes.length === 5 ? true : undefined));
    await decisions(infId, 2);
    expect(workers(infId)).toHaveLength(5);
    expect(refusedServers()).toEqual([]);
    const v = await view(infId);
    expect(v.events.filter((e: Event) => e.type === 'ScaleUpRequested').map((e: Event) => e.vmIds)).toEqual([['1', '2'], ['3', '4', '5']]);
    expect(v.last_decision.reason).not.toMatch(/quota/);
  });

  test('nothing to add: the quota is not read at all', async () => {
    const before = quotaReads();
    await decisions(infId, 3);
    expect(quotaReads()).toBe(before);
  });

  test('an unreadable quota does not block scaling; it is logged once', async () => {
    // One worker a tick, so the quota is read (and fails) on two scale-ups.
    const step = await req('PUT', `/infrastructures/${infId}/elasticity`, { type: 'application/json', body: '{"max_nodes_per_step": 1}' });
    expect(step.status).toBe(200);
    sim.state.quotaOf(sim.state.projects[0].id).cores = 100;
    sim.faults.errors.push({ match: /^GET \/compute\/v2\.1\/os-quota-sets\//, status: 500, count: 1000 });
    queue.waiting = 28; // 7 workers wanted: 2 more
    await until('7 elastic workers', async () => ((await view(infId)).nodes.length === 7 ? true : undefined));
    await decisions(infId, 2);
    expect(refusedServers()).toEqual([]);
    const requested = (await view(infId)).events.filter((e: Event) => e.type === 'ScaleUpRequested').map((e: Event) => e.vmIds);
    expect(requested.slice(-2)).toEqual([['6'], ['7']]);
    const logged = warnings.filter((w) => /cloud quota unreadable/.test(w.msg ?? ''));
    expect(logged).toHaveLength(1);
    expect(logged[0].obj).toMatchObject({ inf: infId, node: 'wn' });
    sim.faults.errors.length = 0;
    queue.waiting = 0;
    expect((await req('DELETE', `/infrastructures/${infId}`)).status).toBe(200);
    expect(sim.inspect().servers.filter((s) => s.metadata.im_infrastructure_id === infId)).toEqual([]);
  });
});
