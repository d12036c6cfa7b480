/**
 * The simulated clouds the end-to-end scenarios run on, behind one face: started in host mode in a
 * given lab, the IM credential line as the server reaches them, and what the cloud's records say
 * about an infrastructure's VMs and public addresses (Nova metadata / EC2 tags written by our
 * connectors: im_infrastructure_id, im_node, im_vm_id).
 */
import type { Lab } from '../../lab/lab';
import type { HostMode } from '../../../sims/host-mode';
import { startEc2Sim } from '../../../sims/ec2';
import { startOpenStackSim } from '../../../sims/openstack';

export type CloudKind = 'openstack' | 'ec2';

export interface CloudVm {
  /** The simulator's id (server id / instance id): the key of its host in hostMode. */
  simId: string;
  imVmId: string;
  node: string;
  privateIp: string;
  publicIp?: string;
}

export interface SimCloud {
  kind: CloudKind;
  hostMode: HostMode;
  /** TCP port of its API in the test's namespace. */
  port: number;
  /** The template's os.image for this cloud. */
  image: string;
  /** The IM credential line, for an API reached at http://127.0.0.1:port. */
  credentialLine(port: number): string;
  /** The infrastructure's VMs that exist (not being deleted), by IM VM id. */
  vmsOf(infId: string): CloudVm[];
  /** Every public address of the account/project and whether it is associated with a VM. */
  publicAddresses(): { address: string; attached: boolean }[];
  /** The next VM launched gets this (free) private address, as a cloud may give a freed one. */
  reuseAddressNext(ip: string): void;
  close(): Promise<void>;
}

export async function startCloud(kind: CloudKind, lab: Lab): Promise<SimCloud> {
  return kind === 'openstack' ? openStack(lab) : ec2(lab);
}

async function openStack(lab: Lab): Promise<SimCloud> {
  const sim = await startOpenStackSim({ hostMode: { lab }, faults: { activeDelayMs: 200, deleteDelayMs: 50 } });
  return {
    kind: 'openstack',
    hostMode: sim.hostMode!,
    port: Number(new URL(sim.url).port),
    image: 'ubuntu-22.04',
    credentialLine: (port) => `id = ost; type = OpenStack; host = http://127.0.0.1:${port}/identity; username = demo; password = secret; ` +
      'tenant = demo; domain = Default; auth_version = 3.x_password',
    vmsOf: (infId) => {
      const seen = sim.inspect();
      return seen.servers.filter((s) => s.metadata.im_infrastructure_id === infId && !s.deleting).map((s) => {
        const port = seen.ports.find((p) => p.deviceId === s.id);
        return {
          simId: s.id, imVmId: s.metadata.im_vm_id, node: s.metadata.im_node, privateIp: port?.ip ?? '',
          publicIp: seen.floatingIps.find((f) => port && f.portId === port.id)?.address,
        };
      });
    },
    publicAddresses: () => sim.inspect().floatingIps.map((f) => ({ address: f.address, attached: f.portId !== null })),
    reuseAddressNext: (ip) => {
      const net = sim.state.networks.find((n) => n.name === 'private')!;
      const subnet = sim.state.subnets.find((x) => x.networkId === net.id)!;
      subnet.nextHost = Number(ip.split('.')[3]); // Neutron's allocator starts from here
    },
    close: () => sim.close(),
  };
}

async function ec2(lab: Lab): Promise<SimCloud> {
  const sim = await startEc2Sim({ hostMode: { lab }, bootMs: 200, shutdownMs: 50 });
  const { model } = sim.inspect;
  return {
    kind: 'ec2',
    hostMode: sim.hostMode!,
    port: Number(new URL(sim.url).port),
    image: 'aws://us-east-1/ami-0123456789abcdef0',
    credentialLine: (port) => `id = ec2; type = EC2; username = AKIDEXAMPLE; password = SECRETEXAMPLE; host = http://127.0.0.1:${port}/; region = us-east-1`,
    vmsOf: (infId) => {
      model.advance();
      return [...model.instances.values()]
        .filter((i) => model.tags.get(i.id)?.get('im_infrastructure_id') === infId && !['shutting-down', 'terminated'].includes(i.state))
        .map((i) => {
          const tags = model.tags.get(i.id)!;
          return { simId: i.id, imVmId: tags.get('im_vm_id') ?? '', node: tags.get('im_node') ?? '', privateIp: i.privateIp, publicIp: model.addressOf(i.id)?.publicIp };
        });
    },
    publicAddresses: () => [...model.addresses.values()].map((a) => ({ address: a.publicIp, attached: a.instanceId !== undefined })),
    reuseAddressNext: (ip) => {
      const allocate = model.allocatePrivateIp.bind(model);
      model.allocatePrivateIp = () => {
        model.allocatePrivateIp = allocate;
        return ip;
      };
    },
    close: () => sim.close(),
  };
}
