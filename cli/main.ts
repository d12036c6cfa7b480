#!/usr/bin/env node
/** `tosca-im <command>`: each command lives in its own module, loaded on demand. */
const commands: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  serve: () => import('./serve'),
  plan: () => import('./plan'),
  sim: () => import('./sim'),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(
      'usage: tosca-im <command>\n' +
        '  serve [--host H] [--port P] [--db sqlite:PATH|postgres://...] [--log-level L] [--strict-inputs]\n' +
        '  plan TEMPLATE.yaml [--input k=v ...] [--import-map FILE] [--json]\n' +
        '  sim openstack|ec2 [--host H] [--port P]\n',
    );
    return name ? 2 : 0;
  }
  return (await load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== 0 || !['serve', 'sim'].includes(process.argv[2] ?? '')) process.exitCode = code; },
  (err) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1; },
);
