/**
 * The cloud quota clamp's input (E-QUOTA-1): the arithmetic (instances, cores, RAM → VMs of one
 * size), each connector's answer against its simulator (real HTTP), and the engine's quotaRoom,
 * which picks the node's cloud and size and counts the VMs it accepted but has not launched yet.
 */
import { randomUUID } from 'node:crypto';
import { connectorFor } from '../../connectors/registry';
import '../../connectors/all';
import { OpenStackConnector } from '../../connectors/openstack';
import { vmsThatFit } from '../../connectors/shared/quota';
import type { CloudQuotas } from '../../connectors/types';
import { createEngine, type Engine } from '../../server/engine';
import { TEST_SECRET_KEY, dummyCaller } from '../engine-fixtures';
import type { Caller } from '../../server/engine/service';
import { openStore, type Store } from '../../server/store';
import { startEc2Sim, type Ec2Sim } from '../../sims/ec2';
import type { OpenStackSim } from '../../sims/openstack';
import * as ec2 from '../ec2/helpers';
import * as ost from '../openstack/helpers';

const q = (instances: [number, number], cores: [number, number], ramGB: [number, number]): CloudQuotas => ({
  instances: { used: instances[0], limit: instances[1] },
  cores: { used: cores[0], limit: cores[1] },
  ram: { used: ramGB[0], limit: ramGB[1] },
});
const MEDIUM = { cpus: 2, memoryMB: 4096 };

describe('vmsThatFit: the smallest room over instances, cores and RAM', () => {
  test.each([
    ['instances bind', q([7, 10], [0, 100], [0, 1000]), MEDIUM, 3],
    ['cores bind (2 a VM)', q([0, 100], [1, 6], [0, 1000]), MEDIUM, 2],
    ['RAM binds (4 GB a VM, GB in the quotas)', q([0, 100], [0, 100], [4, 16]), MEDIUM, 3],
    ['RAM in MB that is not a whole GB', q([0, 100], [0, 100], [0.5, 2]), { cpus: 1, memoryMB: 512 }, 3],
    ['no room left is 0', q([10, 10], [0, 100], [0, 1000]), MEDIUM, 0],
    ['over-used (a lowered quota) is 0, not negative', q([0, 100], [12, 8], [0, 1000]), MEDIUM, 0],
    ['-1 (no limit) does not bind', q([3, -1], [1, 5], [0, -1]), MEDIUM, 2],
  ])('%s', (_name, quotas, size, expected) => {
    expect(vmsThatFit(quotas, size)).toBe(expected);
  });

  test('nothing stated, or only unrelated keys: unknown (undefined), so nothing is clamped', () => {
    expect(vmsThatFit(q([3, -1], [1, -1], [0, -1]), MEDIUM)).toBeUndefined();
    expect(vmsThatFit({ floating_ips: { used: 0, limit: 1 } }, MEDIUM)).toBeUndefined();
    // A size without a figure (an unknown EC2 type) does not bind on that figure.
    expect(vmsThatFit(q([0, 4], [0, 1], [0, 1]), { cpus: 0, memoryMB: 0 })).toBe(4);
  });
});

describe('connectors: how many more VMs of a compute the account allows', () => {
  let sim: OpenStackSim;
  let ec2Sim: Ec2Sim;
  beforeAll(async () => {
    [sim, ec2Sim] = await Promise.all([ost.startSim(), startEc2Sim({ bootMs: 20, shutdownMs: 10, limits: { instances: 3 } })]);
  });
  afterAll(async () => {
    await sim?.close();
    await ec2Sim?.close();
  });

  test('OpenStack: Nova quota against the flavor the compute gets, min over instances, cores and RAM', async () => {
    const conn = new OpenStackConnector(ost.credential(sim));
    const quota = sim.state.quotaOf(sim.state.projects[0].id);
    const medium = ost.compute('wn', { host: { numCpus: 2, memSizeMB: 4096 } }); // m1.medium: 2 vCPUs, 4096 MB
    Object.assign(quota, { instances: 3, cores: 100, ram: 100 * 1024 });
    expect(await conn.roomFor(medium)).toBe(3);
    Object.assign(quota, { instances: 100, cores: 5, ram: 100 * 1024 });
    expect(await conn.roomFor(medium)).toBe(2);
    Object.assign(quota, { instances: 100, cores: 100, ram: 6 * 1024 });
    expect(await conn.roomFor(medium)).toBe(1);
    // What runs counts: one m1.medium leaves 12 - 4 GB = 2 more.
    Object.assign(quota, { ram: 12 * 1024 });
    await ost.deploy(conn, `quota-${randomUUID()}`, [medium]);
    expect(await conn.roomFor(medium)).toBe(2);
    expect(await conn.roomFor(ost.compute('tiny', { host: { numCpus: 1, memSizeMB: 512 } }))).toBe(16); // 8 GB / 512 MB
    Object.assign(quota, { instances: -1, cores: -1, ram: -1 });
    expect(await conn.roomFor(medium)).toBeUndefined();
  });

  test('EC2-compatible endpoint: max-instances, as RunInstances enforces it; AWS itself: unknown, no call', async () => {
    const conn = ec2.connector(ec2Sim);
    const c = ec2.compute('wn');
    expect(await conn.roomFor(c)).toBe(3);
    await conn.launch(ec2.launchRequest(ec2.newInfraId(), '0', c));
    expect(await conn.roomFor(c)).toBe(2);
    const aws = connectorFor({ id: 'aws', type: 'EC2', fields: { username: 'AKIDEXAMPLE', password: 'SECRETEXAMPLE', region: 'us-east-1' } });
    expect(await aws.roomFor?.(c)).toBeUndefined();
  });

  test('Dummy: no quota to clamp by', () => {
    expect(connectorFor({ id: 'd', type: 'Dummy', fields: {} }).roomFor).toBeUndefined();
  });
});

describe('engine quotaRoom: the node\'s cloud and size, minus VMs accepted but not launched', () => {
  let sim: OpenStackSim;
  let store: Store;
  let engine: Engine;
  let caller: Caller;
  beforeAll(async () => {
    sim = await ost.startSim();
    store = await openStore('sqlite::memory:');
    engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, tuning: { pollMinMs: 20, pollMaxMs: 100 } });
    caller = { owner: 'alice', username: 'alice', credentials: [ost.credential(sim)] };
  });
  afterAll(async () => {
    await engine?.close();
    await store?.close();
    await sim?.close();
  });

  const template = `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    front:
      type: tosca.nodes.Compute
      capabilities:
        host: { properties: { num_cpus: 1, mem_size: 512 MB } }
        os: { properties: { image: cirros-0.6.2-x86_64-disk } }
    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable: { properties: { count: 0 } }
        host: { properties: { num_cpus: 2, mem_size: 4 GB } }
        os: { properties: { image: cirros-0.6.2-x86_64-disk } }
`;

  test('cores left for two workers; a row not yet launched takes one of them; a row being removed does not', async () => {
    Object.assign(sim.state.quotaOf(sim.state.projects[0].id), { instances: 100, cores: 5, ram: 100 * 1024 });
    const infId = await engine.service.create(caller, template, { async: false });
    const room = (node = 'wn', who = caller) => engine.service.quotaRoom!(who, infId, node);
    expect(await room()).toBe(2); // (5 - 1 for the master) / 2
    // The manager's caller carries no credentials: the stored ones are used.
    expect(await room('wn', { ...caller, credentials: [] })).toBe(2);
    const row = { nodeName: 'wn', cloudId: 'ost', cloudType: 'OpenStack', handle: null, state: 'pending' as const, configured: null,
      privateIps: [], publicIps: [], contmsg: '', removing: false };
    await store.addVms(infId, [row, { ...row, removing: true }]);
    expect(await room()).toBe(1);
    expect(await room('front')).toBe(4); // another size, its own siblings
    expect(await room('no-such-node')).toBeUndefined();
  });

  test('a node on a cloud that states no quota (Dummy): unknown', async () => {
    const dummy = dummyCaller('bob');
    const infId = await engine.service.create(dummy, template.replace(/cirros-0\.6\.2-x86_64-disk/g, 'mock0://linux.for.ev.er/x'), { async: false });
    expect(await engine.service.quotaRoom!(dummy, infId, 'wn')).toBeUndefined();
  });
});
