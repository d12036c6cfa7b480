/** The configuration layer's pure parts: attribute resolution, step selection, request merging, env encoding, artifacts. */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { recapResults } from '../../server/configure/ansible-step';
import { ArtifactStore } from '../../server/configure/artifacts';
import { Batcher } from '../../server/configure/batcher';
import { referencedComputes, resolveValue } from '../../server/configure/attributes';
import { mergeRequests } from '../../server/configure/configurator';
import { ArtifactError, AttributeResolutionError, ConfigureError } from '../../server/configure/errors';
import { envAssignments, envText } from '../../server/configure/script-step';
import { planSteps, teardownSteps } from '../../server/configure/steps';
import type { ConfigureRequest, VmTarget } from '../../server/configure/types';
import type { PlanValue } from '../../tosca/plan';
import { clusterPlan } from '../lab/cluster-fixture';

const ssh = { user: 'root', privateKey: 'k' };
const front: VmTarget = { vmId: '0', nodeName: 'front', privateIp: '10.0.0.10', publicIp: '198.18.0.10', ssh };
const wn = (i: number): VmTarget => ({ vmId: String(i), nodeName: 'wn', privateIp: `10.0.1.${i}`, ssh });
const vms = [front, wn(2), wn(1), wn(10)];
const attr = (node: string, path: string[], more: object = {}) => ({ $ref: 'get_attribute', node, path, ...more }) as PlanValue;

describe('resolveValue', () => {
  const plan = clusterPlan(3);
  const onWorker = { plan, vms, self: wn(2) };
  const onFront = { plan, vms, self: front };

  test('a scalable node named explicitly gives every instance, ordered by VM id; an index picks one', () => {
    expect(resolveValue(attr('wn', ['private_address']), onFront)).toEqual(['10.0.1.1', '10.0.1.2', '10.0.1.10']);
    expect(resolveValue(attr('wn', ['private_address']), onWorker)).toEqual(['10.0.1.1', '10.0.1.2', '10.0.1.10']);
    expect(resolveValue(attr('front', ['private_address'], { index: 0 }), onWorker)).toBe('10.0.0.10');
    expect(resolveValue(attr('wn', ['private_address'], { index: 5 }), onFront)).toBeNull();
  });
  test('HOST/SELF read the running instance; hosted software resolves to its compute', () => {
    expect(resolveValue(attr('wn', ['private_address'], { keyword: 'HOST' }), onWorker)).toBe('10.0.1.2');
    expect(resolveValue(attr('lrms_wn', ['tosca_id'], { keyword: 'SELF' }), onWorker)).toBe('2');
    expect(resolveValue(attr('lrms_front', ['public_address'], { index: 0 }), onWorker)).toBe('198.18.0.10');
    expect(resolveValue(attr('front', ['endpoint', 'ip_address'], { index: 0 }), onWorker)).toBe('198.18.0.10');
    expect(resolveValue(attr('wn', ['public_address'], { keyword: 'HOST' }), onWorker)).toBeNull();
  });
  test('concat, join and token around references; nested values', () => {
    const v = { $ref: 'concat', args: ['http://', attr('front', ['private_address'], { index: 0 }), ':8080'] } as PlanValue;
    expect(resolveValue(v, onWorker)).toBe('http://10.0.0.10:8080');
    expect(resolveValue({ $ref: 'join', args: [attr('wn', ['private_address']), ' '] } as PlanValue, onFront)).toBe('10.0.1.1 10.0.1.2 10.0.1.10');
    expect(resolveValue({ $ref: 'token', args: ['a.b-c', '.-', 2] } as PlanValue, onFront)).toBe('c');
    expect(resolveValue({ list: [attr('front', ['tosca_name'], { index: 0 })] }, onFront)).toEqual({ list: ['front'] });
  });
  test('unknown attributes and nodes are clear errors', () => {
    expect(() => resolveValue(attr('front', ['no_such_attr'], { index: 0 }), onFront)).toThrow(AttributeResolutionError);
    expect(() => resolveValue(attr('ghost', ['private_address']), onFront)).toThrow(/ghost/);
  });
  test('referencedComputes leaves out the running instance itself', () => {
    expect([...referencedComputes(attr('wn', ['private_address'], { keyword: 'HOST' }), plan, 'wn')]).toEqual([]);
    expect([...referencedComputes(attr('wn', ['private_address']), plan, 'wn')]).toEqual(['wn']);
    expect([...referencedComputes({ $ref: 'concat', args: [attr('front', ['private_address'], { index: 0 })] } as PlanValue, plan, 'wn')]).toEqual(['front']);
  });
});

describe('planSteps', () => {
  const req = (extra: Partial<ConfigureRequest> = {}): ConfigureRequest => ({ infrastructureId: 'i', plan: clusterPlan(3), vms, masterVmId: '0', ...extra });
  const ids = (r: ConfigureRequest, prev = {}) => planSteps(r, prev).map((s) => s.id);

  test('full run: every step, per VM in order, workers after the front end they depend on', () => {
    const steps = planSteps(req());
    expect(steps).toHaveLength(2 + 3 * 3);
    const wnCreate = steps.find((s) => s.id === '1/lrms_wn/Standard.create')!;
    expect(wnCreate.after.sort()).toEqual(['0/lrms_front/Standard.configure', '0/lrms_front/Standard.create']);
    expect(steps.find((s) => s.id === '1/lrms_wn/Standard.start')!.after).toEqual(['1/lrms_wn/Standard.configure']);
    const pos = (id: string) => steps.findIndex((s) => s.id === id);
    expect(pos('0/lrms_front/Standard.configure')).toBeLessThan(pos('2/lrms_wn/Standard.create'));
  });
  test('growth: new VMs run everything, old ones only what reads the changed node', () => {
    expect(ids(req({ changes: { added: ['10'] } }))).toEqual(expect.arrayContaining([
      '0/lrms_front/Standard.configure', '10/lrms_wn/Standard.create', '10/lrms_wn/Standard.configure', '10/lrms_wn/Standard.start',
    ]));
    expect(ids(req({ changes: { added: ['10'] } }))).toHaveLength(4);
    expect(ids(req({ changes: { removed: [{ vmId: '7', nodeName: 'wn' }] } }))).toEqual(['0/lrms_front/Standard.configure']);
  });
  test('vm_list and a VM whose last run failed run their whole life cycle', () => {
    expect(ids(req({ vmList: ['2'] }))).toEqual(['2/lrms_wn/Standard.create', '2/lrms_wn/Standard.configure', '2/lrms_wn/Standard.start']);
    expect(ids(req({ changes: {} }), { 1: 'unconfigured' })).toHaveLength(3);
    const failedAgain = req({ changes: {}, vms: vms.map((v) => (v.vmId === '10' ? { ...v, lastResult: 'unconfigured' as const } : v)) });
    expect(ids(failedAgain)).toEqual(['10/lrms_wn/Standard.create', '10/lrms_wn/Standard.configure', '10/lrms_wn/Standard.start']);
  });
  test("a compute's own operations run first on its VMs", () => {
    const plan = clusterPlan(3);
    plan.computes[1].operations = [{ interface: 'Standard', name: 'configure', implementation: { kind: 'ansible', path: 'users.yml' }, inputs: {} }];
    const steps = planSteps(req({ plan, vmList: ['1'] }));
    expect(steps.map((s) => s.id)).toEqual(['1/wn/Standard.configure', '1/lrms_wn/Standard.create', '1/lrms_wn/Standard.configure', '1/lrms_wn/Standard.start']);
  });
  test('teardown of a leaving VM: stop → delete, the software started last stops first; never in a run', () => {
    const plan = clusterPlan(3);
    const op = (name: string) => ({ interface: 'Standard', name, implementation: { kind: 'script' as const, path: `${name}.sh` }, inputs: {} });
    plan.software.find((x) => x.name === 'lrms_wn')!.teardown = [op('stop'), op('delete')];
    plan.software.push({ name: 'monitor', type: 't', host: 'wn', properties: {}, operations: [], teardown: [op('stop')], dependsOn: [] });
    plan.order.push('monitor');
    const steps = teardownSteps(plan, wn(2));
    expect(steps.map((s) => [s.id, s.after])).toEqual([
      ['2/monitor/Standard.stop', []], ['2/lrms_wn/Standard.stop', ['2/monitor/Standard.stop']], ['2/lrms_wn/Standard.delete', ['2/lrms_wn/Standard.stop']],
    ]);
    expect(teardownSteps(plan, front)).toEqual([]);
    expect(planSteps(req({ plan })).some((s) => ['stop', 'delete'].includes(s.op.name))).toBe(false);
  });
});

describe('mergeRequests', () => {
  const base: ConfigureRequest = { infrastructureId: 'i', plan: clusterPlan(3), vms, masterVmId: '0' };
  test('a full run absorbs incremental ones; otherwise the change sets are united against the latest VMs', () => {
    expect(mergeRequests({ ...base, changes: { added: ['1'] } }, base).changes).toBeUndefined();
    const later = { ...base, vms: vms.filter((v) => v.vmId !== '2') };
    const m = mergeRequests({ ...base, changes: { added: ['1', '2'] } }, { ...later, changes: { added: ['10'], removed: [{ vmId: '2', nodeName: 'wn' }] } });
    expect(m.changes).toEqual({ added: ['1', '10'], removed: [{ vmId: '2', nodeName: 'wn' }] });
    expect(m.vms).toBe(later.vms);
    expect(mergeRequests({ ...base, vmList: ['1'] }, { ...base, changes: { added: ['10'] } }).vmList).toEqual(['1']);
  });
});

describe('script environment', () => {
  test('lists of scalars are space-separated, nested values JSON, all single-quoted', () => {
    expect(envText(['a', 'b', 3])).toBe('a b 3');
    expect(envText({ k: [1] })).toBe('{"k":[1]}');
    expect(envText(null)).toBe('');
    expect(envAssignments({ A: "it's", B: ['x', 'y'] })).toBe(`A='it'\\''s' B='x y'`);
    expect(() => envAssignments({ 'bad-name': 'x' })).toThrow(ConfigureError);
  });
});

describe('ArtifactStore', () => {
  let server: Server;
  let hits = 0;
  let base: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'artifacts-'));
    server = createServer((req, res) => {
      hits++;
      if (req.url === '/ok.sh') res.end('echo downloaded\n');
      else { res.statusCode = 404; res.end('nope'); }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => { server.close(); rmSync(dir, { recursive: true, force: true }); });

  test('downloads once per infrastructure, maps URLs offline, reads local paths fresh', async () => {
    mkdirSync(join(dir, 'tpl', 'refs', 'v1'), { recursive: true });
    writeFileSync(join(dir, 'tpl', 'local.sh'), 'echo local\n');
    writeFileSync(join(dir, 'tpl', 'refs', 'v1', 'x.yml'), '- hosts: all\n');
    const store = new ArtifactStore(join(dir, 'cache'), {
      baseDir: join(dir, 'tpl'), importMap: { 'https://example.org/repo/{ref}/': 'tpl/refs/v1/' }, importMapDir: dir, inline: { 'inline.sh': 'echo inline\n' },
      fetchPolicy: { allowPrivate: true }, // the artifact server of this test is on loopback
    });
    const a = await store.get({ kind: 'script', path: `${base}/ok.sh` });
    await store.get({ kind: 'script', path: `${base}/ok.sh` });
    expect(a.content.toString()).toBe('echo downloaded\n');
    expect(hits).toBe(1);
    expect((await store.get({ kind: 'ansible', path: 'x.yml', url: 'https://example.org/repo/devel/x.yml' })).content.toString()).toBe('- hosts: all\n');
    expect((await store.get({ kind: 'script', path: 'inline.sh' })).content.toString()).toBe('echo inline\n');
    expect((await store.get({ kind: 'script', path: 'local.sh' })).content.toString()).toBe('echo local\n');
    writeFileSync(join(dir, 'tpl', 'local.sh'), 'echo fixed\n');
    const fixed = await store.get({ kind: 'script', path: 'local.sh' });
    expect(fixed.content.toString()).toBe('echo fixed\n');
    await expect(store.get({ kind: 'script', path: `${base}/missing.sh` })).rejects.toThrow(ArtifactError);
    await expect(store.get({ kind: 'script', path: 'nowhere.sh' })).rejects.toThrow(/cannot read/);
    const offline = new ArtifactStore(join(dir, 'cache2'), { allowDownload: false });
    await expect(offline.get({ kind: 'script', path: `${base}/ok.sh` })).rejects.toThrow(/downloads are disabled/);
  });

  test('server mode: no local paths, no loopback downloads, a mapped URL stays in its map folder', async () => {
    mkdirSync(join(dir, 'srv', 'scripts'), { recursive: true });
    writeFileSync(join(dir, 'srv', 'scripts', 'ok.sh'), 'echo mapped\n');
    writeFileSync(join(dir, 'srv', 'secret.key'), 'SERVER-KEY');
    const server = new ArtifactStore(join(dir, 'cache3'), {
      baseDir: join(dir, 'srv'), localFiles: false, importMapDir: join(dir, 'srv'), importMap: { 'https://example.org/s/': 'scripts/' },
      allowDownload: false, // no DNS query leaves this machine
    });
    symlinkSync(join(dir, 'srv', 'secret.key'), join(dir, 'srv', 'scripts', 'link.sh'));
    expect((await server.get({ kind: 'script', path: 'https://example.org/s/ok.sh' })).content.toString()).toBe('echo mapped\n');
    await expect(server.get({ kind: 'script', path: join(dir, 'srv', 'secret.key') })).rejects.toThrow(/local paths are not allowed/);
    await expect(server.get({ kind: 'script', path: 'secret.key' })).rejects.toThrow(/local paths are not allowed/);
    for (const path of ['https://example.org/s/../secret.key', 'https://example.org/s/%2e%2e/secret.key', 'https://example.org/s/link.sh']) {
      const escape = await server.get({ kind: 'script', path }).catch((e: Error) => e);
      expect((escape as Error).message).toMatch(/not found in the import map|not in the import map/);
      expect((escape as Error).message).not.toMatch(/SERVER-KEY/);
    }
    const online = new ArtifactStore(join(dir, 'cache4'), { localFiles: false });
    await expect(online.get({ kind: 'script', path: `${base}/ok.sh` })).rejects.toThrow(/private, loopback/);
  });
});

describe('Batcher and the Ansible recap', () => {
  test('items arriving together run once per key, each caller gets its own result', async () => {
    const runs: string[][] = [];
    const b = new Batcher<string, string>(async (key, items) => { runs.push([key, ...items]); return items.map((i) => i.toUpperCase()); }, 20, 200);
    const p = [b.submit('k', 'a'), b.submit('k', 'b'), b.submit('other', 'c')];
    await new Promise((r) => setTimeout(r, 5));
    p.push(b.submit('k', 'd'));
    expect(await Promise.all(p)).toEqual(['A', 'B', 'C', 'D']);
    expect(runs.sort()).toEqual([['k', 'a', 'b', 'd'], ['other', 'c']]);
    const failing = new Batcher<string, string>(async () => { throw new Error('boom'); }, 1);
    await expect(failing.submit('k', 'x')).rejects.toThrow('boom');
  });
  test('PLAY RECAP gives each host its outcome; a host missing from it failed', () => {
    const out = 'PLAY RECAP ***\nvm-1                       : ok=2    changed=2    unreachable=0    failed=0    skipped=0\n' +
      'vm-2                       : ok=1    changed=0    unreachable=0    failed=1    skipped=0\nvm-3 : ok=0 changed=0 unreachable=1 failed=0\n';
    expect(Object.fromEntries(recapResults(out, ['vm-1', 'vm-2', 'vm-3', 'vm-4']))).toEqual({ 'vm-1': 0, 'vm-2': 2, 'vm-3': 4, 'vm-4': 2 });
  });
});
