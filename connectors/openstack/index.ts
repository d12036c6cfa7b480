/** Registers the OpenStack connector under IM's credential type "OpenStack". */
import { registerConnector } from '../registry';
import { OpenStackConnector } from './connector';

registerConnector('OpenStack', (cred) => new OpenStackConnector(cred));

export { OpenStackConnector, openStackTuning, observe } from './connector';
export { parseOpenStackCredential } from './credential';
export { resetOpenStackClouds } from './cloud';
export { keystoneTuning } from './keystone';
