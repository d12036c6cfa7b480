/**
 * A `tosca-im serve` replica for the replica tests: the real server (cli/serve.ts) with the
 * NoopConfigurator, since the simulated cloud's VMs have no SSH to log in to (and no packet may
 * leave 127.0.0.1), and a fake elasticity probe answering from TOSCA_IM_TEST_QUEUE (jobs queued).
 * Arguments as `tosca-im`'s: `serve --db … --port 0 …`.
 */
import * as fs from 'node:fs';
import { run } from '../../cli/serve';
import { NoopConfigurator } from '../../server/engine/configurator';
import type { RemoteExec } from '../../server/elastic/probes/types';

const [command, ...args] = process.argv.slice(2);
if (command !== 'serve') throw new Error(`replica-main: only "serve" (got ${command})`);

/**
 * The master's answer to any command: TOSCA_IM_TEST_PROBE (a generic probe's output). Each call is
 * logged as "pid ms" to TOSCA_IM_TEST_PROBE_LOG, so a test sees which replica managed when.
 */
const fakeProbe = (): RemoteExec => async () => {
  const log = process.env.TOSCA_IM_TEST_PROBE_LOG;
  if (log) fs.appendFileSync(log, `${process.pid} ${Date.now()}\n`);
  return { code: 0, stdout: process.env.TOSCA_IM_TEST_PROBE ?? '', stderr: '' };
};

run(args, process.env, { configurator: new NoopConfigurator(), elasticExec: fakeProbe }).then(
  (code) => { process.exitCode = code; },
  (err: Error) => { process.stderr.write(`${err.stack}\n`); process.exitCode = 1; },
);
