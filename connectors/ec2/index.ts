/** Registers the EC2 connector for credential lines with `type = EC2`. */
import { registerConnector } from '../registry';
import { Ec2Connector } from './connector';

registerConnector('EC2', (cred) => new Ec2Connector(cred));

export { Ec2Connector } from './connector';
export type { Ec2ConnectorOptions } from './connector';
