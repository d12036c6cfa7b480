/** `tosca-im sim openstack|ec2 [--host H] [--port P]`: start a cloud simulator (sims/). */
import { parseArgs } from 'node:util';

const USAGE = 'usage: tosca-im sim openstack|ec2 [--host H] [--port P]\n' +
  '  Start a simulated cloud API on H:P (default 127.0.0.1, port 0 = any free port) and print its URL.\n';

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`tosca-im sim: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { process.stdout.write(USAGE); return 0; }
  const kind = positionals[0];
  const port = Number(values.port);
  if (positionals.length !== 1 || !(kind === 'openstack' || kind === 'ec2') || !Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(USAGE);
    return 2;
  }
  const opts = { host: values.host!, port };
  let sim: { url: string };
  try {
    sim = kind === 'openstack'
      ? await (await import('../sims/openstack')).startOpenStackSim(opts)
      : await (await import('../sims/ec2')).startEc2Sim(opts);
  } catch (err) {
    // The runtime image leaves the simulators out unless built with them (Dockerfile, WITH_SIMS).
    if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err;
    process.stderr.write('tosca-im sim: the simulators are not part of this build (docker build --build-arg WITH_SIMS=true)\n');
    return 2;
  }
  process.stdout.write(`${kind} simulator listening on ${sim.url}\n`);
  return 0;
}
