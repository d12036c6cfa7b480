/**
 * The EC2 simulator's host mode (see ../host-mode.ts): an instance that is not shutting down or
 * terminated is a lab host with its private IP; the Elastic IP associated with it is its public
 * address; its key pair (`KeyName`) and user data give the keys. Elastic IPs are allocated from
 * the lab's public range instead of the documentation ranges, which the lab cannot reach.
 */
import { HostMode, HostModeError, labPublicRange, type BootedVm, type HostModeOptions } from '../host-mode';
import type { Ec2Model } from './model';

export { HostMode, HostModeError, type HostModeOptions, type SimHost } from '../host-mode';

/** Apart from the OpenStack simulator's ranges, so both can share a lab. */
const EC2_RANGE = 8;

export async function startEc2HostMode(model: Ec2Model, opts: HostModeOptions = {}): Promise<HostMode> {
  if (model.addresses.size > 0) throw new HostModeError('the EC2 account already has Elastic IPs; start the host mode before allocating any');
  const mode = await HostMode.start(() => bootedInstances(model), opts);
  let next = 10;
  model.allocatePublicIp = () => {
    const n = next++;
    return `${labPublicRange(EC2_RANGE + Math.floor(n / 250)).prefix}.${n % 250 + 1}`;
  };
  return mode;
}

/** The instances that should be hosts now, as the account's records say. */
export function bootedInstances(model: Ec2Model): BootedVm[] {
  model.advance();
  return [...model.instances.values()]
    .filter((i) => i.state !== 'shutting-down' && i.state !== 'terminated')
    .map((i) => ({
      id: i.id,
      name: model.tags.get(i.id)?.get('Name') ?? i.id,
      privateIp: i.privateIp,
      publicIp: model.addressOf(i.id)?.publicIp,
      keypairKey: i.keyName ? [...model.keyPairs.values()].find((k) => k.name === i.keyName)?.publicKey : undefined,
      userData: i.userData,
    }));
}
