/** `tosca-im sim openstack|ec2 --host H --port P`: start a cloud simulator (test/sims). */
import { parseArgs } from 'node:util';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } },
  });
  const kind = positionals[0];
  const opts = { host: values.host!, port: Number(values.port) };
  let sim: { url: string };
  if (kind === 'openstack') sim = await (await import('../test/sims/openstack')).startOpenStackSim(opts);
  else if (kind === 'ec2') sim = await (await import('../test/sims/ec2')).startEc2Sim(opts);
  else {
    process.stderr.write('usage: tosca-im sim openstack|ec2 [--host H] [--port P]\n');
    return 2;
  }
  process.stdout.write(`${kind} simulator listening on ${sim.url}\n`);
  return 0;
}
