#!/usr/bin/env node
/** `tosca-im <command>`: each command lives in its own module, loaded on demand. */
const commands: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  serve: () => import('./serve'),
  plan: () => import('./plan'),
  sim: () => import('./sim'),
};

const USAGE =
  'usage: tosca-im <command> [options]   (tosca-im <command> --help for its options)\n' +
  '  serve   run the IM REST API server\n' +
  '  plan    parse, resolve and plan a TOSCA template, print the plan or the located errors\n' +
  '  sim     start a simulated cloud API (openstack or ec2)\n';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`tosca-im: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  return (await load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== 0 || !['serve', 'sim'].includes(process.argv[2] ?? '')) process.exitCode = code; },
  (err) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1; },
);
