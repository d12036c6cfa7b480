/**
 * kill -9 of `tosca-im serve` in the middle of a create on OpenStack and on EC2, then DELETE on a
 * server restarted on the same database: the cloud is back to where it started (no server or
 * instance, port, keypair or security group of the infrastructure), the public address the master
 * had is detached and kept (the default policy), and the VM whose create reached the cloud but
 * whose answer the dead process never recorded is found by its tags and deleted too.
 *
 * The simulators hold chosen calls (holds.ts) so that the kill lands at a known point:
 * - OpenStack attaches the floating IP while polling, after every launch returned, so the kill
 *   comes during relaunches: two workers fail to boot; one relaunch reaches Nova and its answer is
 *   held (the unrecorded server), the other is held before Nova sees it (never created).
 * - EC2 associates the Elastic IP inside the master's launch, so the kill comes during the first
 *   launches: the master and one worker are up, one worker's RunInstances is done but unanswered,
 *   the last one never reaches EC2.
 * The restarted server's calls are held until DELETE was accepted, as when DELETE beats the resumed
 * create: otherwise the resumed job could adopt the unrecorded VM by its client token first, and
 * whether the destroy's search by tags is tested would depend on a race.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { startOpenStackSim, type Hold, type OpenStackSim, type SimRequest as NovaRequest } from '../../sims/openstack';
import { startEc2Sim, type Ec2Sim, type SimRequest as Ec2Request } from '../../sims/ec2';
import { resourcesOf } from '../openstack/helpers';
import { infraState } from '../ec2/helpers';
import { spawnServer, waitFor, type ServerProcess } from './api-harness';

/** A public master and three workers. */
function template(image: string): string {
  const os = `        os:\n          properties:\n            type: linux\n            image: ${image}\n`;
  return `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    front:
      type: tosca.nodes.Compute
      capabilities:
        endpoint:
          properties:
            network_name: PUBLIC
${os}    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable:
          properties:
            count: 3
${os}`;
}

/** What of the cloud a crash could leave behind; addresses separately (they are kept). */
interface CloudPicture {
  vms: string[];
  ports: string[];
  keypairs: string[];
  groups: string[];
  /** Public address → what it is attached to (null: free). */
  addresses: Record<string, string | null>;
}

interface CloudCase {
  name: string;
  start(): Promise<void>;
  close(): Promise<void>;
  credentialLine(): string;
  template: string;
  /** Faults and holds that shape the create; released after the kill. */
  arm(): Hold[];
  /** True once the kill lands where this case wants it (see the file comment). */
  readyToKill(infId: string): boolean;
  /** Instance ids of the master (recorded before the kill) and of the VM whose create was never answered. */
  instances(infId: string): { front: string; unrecorded: string };
  /** Holds every API call (the restarted server's). */
  holdEverything(): Hold;
  picture(): CloudPicture;
  /** The resources the infrastructure's name or tags still mark. */
  marked(infId: string): unknown[];
}

const isRetryCreate = (r: NovaRequest) =>
  r.method === 'POST' && r.path === '/compute/v2.1/servers' && /-retry2$/.test(r.body?.server?.metadata?.im_client_token ?? '');

function openStackCase(): CloudCase {
  let sim: OpenStackSim;
  let holds: Hold[] = [];
  const ours = (infId: string) => resourcesOf(sim, infId);
  return {
    name: 'OpenStack',
    async start() { sim = await startOpenStackSim({ faults: { activeDelayMs: 800, deleteDelayMs: 50 } }); },
    close: () => sim.close(),
    credentialLine: () => `id = ost; type = OpenStack; host = ${sim.authUrl}; username = demo; password = secret; tenant = demo; domain = Default; auth_version = 3.x_password`,
    template: template('cirros-0.6.2-x86_64-disk'),
    arm() {
      sim.faults.bootFailures.push({ pattern: /-wn-/, times: 2 });
      holds = [sim.hold({ when: isRetryCreate, afterHandling: true }), sim.hold({ when: isRetryCreate, count: Infinity })];
      return holds;
    },
    readyToKill(infId) {
      const { servers, floatingIps } = ours(infId);
      const front = servers.find((s) => s.metadata.im_node === 'front');
      const frontPorts = sim.inspect().ports.filter((p) => p.deviceId === front?.id).map((p) => p.id);
      return holds[0].caught === 1 && holds[1].caught === 1 && servers.length === 3 &&
        servers.some((s) => s.metadata.im_client_token?.endsWith('-retry2')) &&
        floatingIps.some((f) => f.portId !== null && frontPorts.includes(f.portId));
    },
    instances(infId) {
      const { servers } = ours(infId);
      return {
        front: servers.find((s) => s.metadata.im_node === 'front')!.id,
        unrecorded: servers.find((s) => s.metadata.im_client_token?.endsWith('-retry2'))!.id,
      };
    },
    holdEverything: () => sim.hold({ count: Infinity }),
    picture() {
      const s = sim.inspect();
      return {
        vms: s.servers.map((x) => x.id),
        ports: s.ports.map((p) => p.id),
        keypairs: s.keypairs.map((k) => k.name),
        groups: s.securityGroups.map((g) => g.id),
        addresses: Object.fromEntries(s.floatingIps.map((f) => [f.address, f.portId])),
      };
    },
    marked(infId) {
      const { servers, ports, groups, keypairs } = ours(infId);
      return [...servers, ...ports, ...groups, ...keypairs];
    },
  };
}

function ec2Case(): CloudCase {
  let sim: Ec2Sim;
  let holds: Hold[] = [];
  const launchOf = (vmId: string) => ({ action, params }: Ec2Request) =>
    action === 'RunInstances' && params.tagSpecs('instance').some((t) => t.key === 'im_vm_id' && t.value === vmId);
  return {
    name: 'EC2',
    async start() { sim = await startEc2Sim({ bootMs: 800, shutdownMs: 100 }); },
    close: () => sim.close(),
    credentialLine: () => `id = ec2; type = EC2; username = AKIDEXAMPLE; password = SECRETEXAMPLE; host = ${sim.url}/`,
    template: template('aws://us-east-1/ami-0123456789abcdef0'),
    arm() {
      // VM ids follow the template: front 0, workers 1-3.
      holds = [sim.hold({ when: launchOf('2'), afterHandling: true }), sim.hold({ when: launchOf('3') })];
      return holds;
    },
    readyToKill(infId) {
      const live = infraState(sim, infId).live;
      return holds[0].caught === 1 && holds[1].caught === 1 && live.length === 3 &&
        live.some((i) => i.tags.im_vm_id === '2') && !!live.find((i) => i.tags.im_node === 'front')?.publicIp;
    },
    instances(infId) {
      const { live } = infraState(sim, infId);
      return { front: live.find((i) => i.tags.im_node === 'front')!.id, unrecorded: live.find((i) => i.tags.im_vm_id === '2')!.id };
    },
    holdEverything: () => sim.hold({ count: Infinity }),
    picture() {
      const s = sim.inspect.state();
      return {
        vms: s.instances.filter((i) => i.state !== 'terminated').map((i) => i.id),
        ports: [], // the simulator has no network interfaces of their own
        keypairs: s.keyPairs.map((k) => k.name),
        groups: s.securityGroups.map((g) => g.id),
        addresses: Object.fromEntries(s.addresses.map((a) => [a.publicIp, a.instanceId ?? null])),
      };
    },
    marked(infId) {
      const { live, groups, keys } = infraState(sim, infId);
      return [...live, ...groups, ...keys];
    },
  };
}

describe.each([openStackCase(), ec2Case()])('SIGKILL during a create on $name', (cloud) => {
  const scratch = tempDir('tosca-im-crash-clouds-');
  const db = `sqlite:${path.join(scratch, 'im.db')}`;
  const serve = () => spawnServer(scratch, ['--host', '127.0.0.1', '--db', db], {}, { fromSource: true });

  beforeAll(() => cloud.start());
  afterAll(async () => {
    await cloud.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('DELETE on the restarted server leaves the cloud as it was, addresses detached and kept', async () => {
    const auth = imAuth('crash', 'pw', cloud.credentialLine());
    const before = cloud.picture();
    const armed = cloud.arm();
    let first: ServerProcess | undefined;
    let second: ServerProcess | undefined;
    let parked: Hold | undefined;
    try {
      first = await serve();
      const created = await call(first.url, 'POST', '/infrastructures?async=yes', { auth, type: 'text/yaml', body: cloud.template });
      expect(created.status).toBe(200);
      const infId = created.headers.get('InfID')!;
      const inf = `/infrastructures/${infId}`;
      await waitFor('the create to reach the kill point', async () => cloud.readyToKill(infId) || undefined, 20_000)
        .catch((e: Error) => { throw new Error(`${e.message}\n${first!.stderr()}`); });
      const { front, unrecorded } = cloud.instances(infId);
      const atKill = cloud.picture();
      expect(Object.values(atKill.addresses).filter((to) => to !== null)).toHaveLength(1);
      await first.kill();
      expect(first.child.signalCode).toBe('SIGKILL');

      // Released only once the sockets of the dead process are closed, or a create held before the
      // cloud saw it would now be done for nobody.
      await waitFor('the dead process\'s held calls to be dropped', async () => (armed.every((h) => h.waiting === 0) ? true : undefined));
      for (const h of armed) h.release();
      parked = cloud.holdEverything();
      second = await serve();
      // The resumed create is waiting for its first cloud call.
      await waitFor('the resumed create to call the cloud', async () => (parked!.caught > 0 ? true : undefined));
      // The create held before the cloud saw it died with its client: it never happened.
      expect(cloud.picture().vms).toEqual(atKill.vms);
      const state = await call(second.url, 'GET', `${inf}/state`, { auth, accept: 'application/json' });
      expect(state.status).toBe(200);
      expect(state.json().state.state).toBe('pending');
      expect(Object.keys(state.json().state.vm_states).sort()).toEqual(['0', '1', '2', '3']);
      // The database knows the master's server, not the one whose create was never answered.
      const radl = (await call(second.url, 'GET', `${inf}/radl`, { auth })).text;
      expect(radl).toContain(`instance_id = '${front}'`);
      expect(radl).not.toContain(unrecorded);

      expect((await call(second.url, 'DELETE', `${inf}?async=yes`, { auth })).status).toBe(200);
      expect((await call(second.url, 'GET', `${inf}/state`, { auth, accept: 'application/json' })).json().state.state).toBe('deleting');
      parked.release();
      await waitFor('the destroy to finish', async () => ((await call(second!.url, 'GET', `${inf}/state`, { auth })).status === 404 ? true : undefined), 20_000)
        .catch((e: Error) => { throw new Error(`${e.message}\n${second!.stderr()}`); });
      expect((await call(second.url, 'GET', '/infrastructures', { auth })).text).toBe('');

      const after = cloud.picture();
      expect(cloud.marked(infId)).toEqual([]);
      expect(after.vms).toEqual(before.vms);
      expect(after.ports).toEqual(before.ports);
      expect(after.keypairs).toEqual(before.keypairs);
      expect(after.groups).toEqual(before.groups);
      // Every address is still in the account, none attached; the master's was detached, not released.
      expect(Object.keys(after.addresses).sort()).toEqual(Object.keys(atKill.addresses).sort());
      expect(Object.values(after.addresses).every((to) => to === null)).toBe(true);
    } finally {
      parked?.release();
      for (const h of armed) h.release();
      await first?.kill();
      if (second) expect(await second.stop()).toBe(0);
    }
  }, 30_000);
});
