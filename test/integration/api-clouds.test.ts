/**
 * GET /clouds/{cloudId}/images|quotas through the real server and engine against the OpenStack and
 * EC2 simulators (real HTTP both ways), and the owners of an infrastructure surviving a restart of
 * the SQLite store.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resetOpenStackClouds } from '../../connectors/openstack';
import { SqliteStore } from '../../server/store';
import { tempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { startEc2Sim, type Ec2Sim, DEFAULT_INSTANCE_TYPES } from '../../sims/ec2';
import { startOpenStackSim, type OpenStackSim } from '../../sims/openstack';
import { compute, connector, deploy, newInfraId } from '../ec2/helpers';
import { inProcessServer, type TestServer } from './api-harness';

let srv: TestServer;
let ost: OpenStackSim;
let ec2: Ec2Sim;

beforeAll(async () => {
  resetOpenStackClouds();
  [srv, ost, ec2] = await Promise.all([
    inProcessServer(),
    startOpenStackSim({ faults: { activeDelayMs: 50, deleteDelayMs: 20 }, quotas: { cores: 12, ram: 8 * 1024, instances: 5, floatingips: 3, securityGroups: 4 } }),
    startEc2Sim({ bootMs: 50, shutdownMs: 20, limits: { instances: 7, addresses: 3 } }),
  ]);
});
afterAll(async () => {
  await srv?.close();
  await ost?.close();
  await ec2?.close();
});

const osLine = (password = 'secret') =>
  `id = ost; type = OpenStack; host = ${ost.authUrl}; username = demo; password = ${password}; tenant = demo; domain = Default; auth_version = 3.x_password`;
const ec2Line = () => `id = aws; type = EC2; username = AKIDEXAMPLE; password = SECRETEXAMPLE; host = ${ec2.url}/; region = us-east-1`;

describe('OpenStack', () => {
  it('lists Glance images as ost://<keystone host>/<id>, usable as a template image, with filters', async () => {
    const auth = imAuth('ann', 'pw', osLine());
    const r = await call(srv.url, 'GET', '/clouds/ost/images', { auth });
    expect(r.status).toBe(200);
    const images = r.json().images as { uri: string; name: string }[];
    expect(images).toEqual(ost.state.images.map((i) => ({ uri: `ost://127.0.0.1/${i.id}`, name: i.name })));
    const filtered = await call(srv.url, 'GET', '/clouds/ost/images?filters=name=ubuntu-22.04', { auth });
    expect(filtered.json().images).toEqual([{ uri: 'ost://127.0.0.1/0c1d2e3f-1111-4a2b-8c3d-000000000002', name: 'ubuntu-22.04' }]);
  });

  it('reads Nova and Neutron quotas in IM\'s shape (ram in GB), and they follow what runs', async () => {
    const auth = imAuth('ann', 'pw', osLine());
    const before = await call(srv.url, 'GET', '/clouds/ost/quotas', { auth, accept: 'application/json' });
    expect(before.status).toBe(200);
    expect(before.json()).toEqual({
      quotas: {
        cores: { used: 0, limit: 12 }, ram: { used: 0, limit: 8 }, instances: { used: 0, limit: 5 },
        floating_ips: { used: 0, limit: 3 }, security_groups: { used: 1, limit: 4 },
      },
    });
    // Deploy one VM of the listed ubuntu image through the API: m1.medium (2 vCPU, 4 GB).
    const image = (await call(srv.url, 'GET', '/clouds/ost/images?filters=name=ubuntu-22.04', { auth })).json().images[0].uri as string;
    const tosca = `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    node:
      type: tosca.nodes.Compute
      capabilities:
        host: { properties: { num_cpus: 2, mem_size: 4 GB } }
        os: { properties: { image: '${image}' } }
`;
    const created = await call(srv.url, 'POST', '/infrastructures', { auth, type: 'text/yaml', body: tosca });
    expect(created.status).toBe(200);
    const after = (await call(srv.url, 'GET', '/clouds/ost/quotas', { auth })).json().quotas;
    expect(after).toEqual({
      cores: { used: 2, limit: 12 }, ram: { used: 4, limit: 8 }, instances: { used: 1, limit: 5 },
      floating_ips: { used: 0, limit: 3 }, security_groups: { used: 2, limit: 4 },
    });
    // OpenStack VMs cannot be snapshotted yet: an IM-shaped 400 that says which clouds can.
    const snap = await call(srv.url, 'PUT', `${new URL(created.text).pathname}/vms/0/disks/0/snapshot?image_name=x`, { auth, accept: 'application/json' });
    expect(snap.json()).toEqual({ message: 'Error creating snapshot: Cloud "ost" (type OpenStack) cannot snapshot a disk yet; supported for: Dummy', code: 400 });
    expect((await call(srv.url, 'DELETE', new URL(created.text).pathname, { auth })).status).toBe(200);
  }, 30_000);

  it('answers a rejected password as an error naming the cloud, not a crash', async () => {
    const r = await call(srv.url, 'GET', '/clouds/ost/quotas', { auth: imAuth('ann', 'pw', osLine('wrong')) });
    expect(r.status).toBe(401);
    expect(r.text).toMatch(/^Error getting cloud info: .*OpenStack/);
    expect(r.text).not.toContain('wrong');
  });
});

describe('EC2', () => {
  const auth = () => imAuth('ann', 'pw', ec2Line());

  it('lists the account\'s own and Marketplace machine images as IM does (aws://region/ami, region/Name)', async () => {
    const r = await call(srv.url, 'GET', '/clouds/aws/images', { auth: auth() });
    expect(r.status).toBe(200);
    // The Amazon-owned image is not the account's own: IM leaves it out (Owners self, aws-marketplace).
    expect(r.json()).toEqual({ images: [{ uri: 'aws://us-east-1/ami-0fedcba9876543210', name: 'us-east-1/rocky-9-site-image' }] });
    const none = await call(srv.url, 'GET', '/clouds/aws/images?filters=name=ubuntu*', { auth: auth() });
    expect(none.json()).toEqual({ images: [] });
  });

  it('reads the limits EC2 states (DescribeAccountAttributes) and counts what the account uses', async () => {
    const before = (await call(srv.url, 'GET', '/clouds/aws/quotas', { auth: auth() })).json().quotas;
    expect(before.instances).toEqual({ used: 0, limit: 7 });
    expect(before.floating_ips).toEqual({ used: 0, limit: 3 });
    expect(before.cores).toEqual({ used: 0, limit: -1 });
    const groupsBefore = before.security_groups.used as number;
    expect(before.security_groups.limit).toBe(-1);

    const conn = connector(ec2);
    const { handles } = await deploy(conn, newInfraId(), [compute('big', { host: { numCpus: 4, memSizeMB: 16384 } })]);
    const type = ec2.inspect.state().instances.find((i) => i.id === handles[0].instanceId)!.type;
    const size = DEFAULT_INSTANCE_TYPES.find((t) => t.name === type)!;
    const after = (await call(srv.url, 'GET', '/clouds/aws/quotas', { auth: auth() })).json().quotas;
    expect(after).toEqual({
      cores: { used: size.vcpus, limit: -1 }, ram: { used: size.memoryMiB / 1024, limit: -1 },
      instances: { used: 1, limit: 7 }, floating_ips: { used: 0, limit: 3 }, security_groups: { used: groupsBefore + 1, limit: -1 },
    });
    expect(size.vcpus).toBeGreaterThanOrEqual(4);
  }, 30_000);

  it('answers bad keys with the cloud\'s refusal', async () => {
    const r = await call(srv.url, 'GET', '/clouds/aws/images', { auth: imAuth('ann', 'pw', `id = aws; type = EC2; username = AKIDEXAMPLE; password = nope; host = ${ec2.url}/`) });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.text).toMatch(/^Error getting cloud info: /);
  });
});

const PY = '/usr/bin/python3';
const JUDGE = path.join(__dirname, 'clouds_judge.py');

function python(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(PY, args, { timeout: 60_000 }, (e, out, err) => resolve({ code: e ? Number((e as { code?: unknown }).code) || 1 : 0, out, err }));
  });
}

/** The judge needs python3-openstacksdk and python3-boto3; TOSCA_IM_REQUIRE_ALL=1 makes their absence a failure. */
async function judgeAvailable(): Promise<boolean> {
  const ok = fs.existsSync(PY) && (await python(['-c', 'import openstack, boto3'])).code === 0;
  if (!ok && process.env.TOSCA_IM_REQUIRE_ALL === '1') throw new Error('python3-openstacksdk and python3-boto3 are required (TOSCA_IM_REQUIRE_ALL=1)');
  // eslint-disable-next-line no-console
  if (!ok) console.warn('SKIPPED: python3-openstacksdk/boto3 missing; the /clouds answers were not judged by them');
  return ok;
}

describe('the same figures as openstacksdk and boto3 read from the clouds', () => {
  it('OpenStack: quotas (Nova detail, Neutron details) and images', async () => {
    if (!(await judgeAvailable())) return;
    const r = await python([JUDGE, 'openstack', `${ost.authUrl}/v3`]);
    if (r.code !== 0) throw new Error(`clouds_judge.py openstack failed:\n${r.out}${r.err}`);
    const { images, ...quotas } = JSON.parse(r.out) as { images: { id: string; name: string }[] } & Record<string, unknown>;
    const auth = imAuth('ann', 'pw', osLine());
    expect((await call(srv.url, 'GET', '/clouds/ost/quotas', { auth })).json().quotas).toEqual(quotas);
    expect((await call(srv.url, 'GET', '/clouds/ost/images', { auth })).json().images)
      .toEqual(images.map((i) => ({ uri: `ost://127.0.0.1/${i.id}`, name: i.name })));
  }, 60_000);

  it('EC2: account limits and IM\'s image listing', async () => {
    if (!(await judgeAvailable())) return;
    const r = await python([JUDGE, 'ec2', `${ec2.url}/`]);
    if (r.code !== 0) throw new Error(`clouds_judge.py ec2 failed:\n${r.out}${r.err}`);
    const seen = JSON.parse(r.out) as { limits: Record<string, number>; images: { id: string; name: string }[] };
    expect(seen.limits).toEqual({ 'max-instances': 7, 'vpc-max-elastic-ips': 3 });
    const auth = imAuth('ann', 'pw', ec2Line());
    const quotas = (await call(srv.url, 'GET', '/clouds/aws/quotas', { auth })).json().quotas;
    expect([quotas.instances.limit, quotas.floating_ips.limit]).toEqual([7, 3]);
    expect((await call(srv.url, 'GET', '/clouds/aws/images', { auth })).json().images)
      .toEqual(seen.images.map((i) => ({ uri: `aws://us-east-1/${i.id}`, name: `us-east-1/${i.name}` })));
  }, 60_000);
});

describe('owners in the store', () => {
  it('survive a restart: every owner lists and reaches the infrastructure, the replaced ones do not', async () => {
    const dir = tempDir('tosca-im-owners-');
    const file = path.join(dir, 'im.db');
    const inf = {
      id: '11111111-1111-4111-8111-111111111111', owner: 'owner-a', template: 't', plan: { computes: [], volumes: [], networks: [], outputs: {} } as never,
      credentials: 'c', sshPublicKey: 'k', sshPrivateKey: 'k', phase: 'configured' as const, contmsg: '', outputs: {},
    };
    let store = await SqliteStore.open(file);
    await store.createInfrastructure(inf, []);
    await store.setOwners(inf.id, [{ id: 'owner-a', username: 'ann' }, { id: 'owner-b', username: 'bob' }]);
    expect(await store.listInfrastructureIds('owner-b')).toEqual([inf.id]);
    await store.close();

    store = await SqliteStore.open(file);
    expect((await store.getInfrastructure(inf.id))!.owners).toEqual([{ id: 'owner-a', username: 'ann' }, { id: 'owner-b', username: 'bob' }]);
    expect(await store.listInfrastructureIds('owner-a')).toEqual([inf.id]);
    expect(await store.listInfrastructureIds('owner-b')).toEqual([inf.id]);
    await store.setOwners(inf.id, [{ id: 'owner-c', username: 'carl' }]);
    await store.close();

    store = await SqliteStore.open(file);
    const after = (await store.getInfrastructure(inf.id))!;
    expect([after.owner, after.owners]).toEqual(['owner-c', [{ id: 'owner-c', username: 'carl' }]]);
    expect(await store.listInfrastructureIds('owner-a')).toEqual([]);
    expect(await store.listInfrastructureIds('owner-c')).toEqual([inf.id]);
    await store.deleteInfrastructure(inf.id);
    expect(await store.listInfrastructureIds('owner-c')).toEqual([]);
    await store.close();
  });
});
