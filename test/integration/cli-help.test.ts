/**
 * Every `tosca-im` command answers --help/-h with its usage on stdout (exit 0), and an unknown
 * option or command prints the usage on stderr (exit 2), never a stack trace. Runs the built CLI
 * (dist/, as `npx tosca-im` does; npm test builds first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { MAIN_JS } from './api-harness';

const cli = (...args: string[]) => spawnSync(process.execPath, [MAIN_JS, ...args], { encoding: 'utf8', timeout: 20_000 });
const STACK = /\n\s+at .+\(|\.js:\d+:\d+/;

describe.each([
  ['(top level)', [], /usage: tosca-im <command>/],
  ['serve', ['serve'], /usage: tosca-im serve .*--port PORT/],
  ['plan', ['plan'], /usage: tosca-im plan TEMPLATE\.yaml/],
  ['sim', ['sim'], /usage: tosca-im sim openstack\|ec2/],
  ['sim openstack', ['sim', 'openstack'], /usage: tosca-im sim openstack\|ec2/],
])('tosca-im %s', (_name, prefix, usage) => {
  it.each(['--help', '-h'])('answers %s with its usage and exit 0', (flag) => {
    const r = cli(...prefix, flag);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toMatch(usage);
  });

  it('answers an unknown option with the usage on stderr and exit 2, no stack trace', () => {
    const r = cli(...prefix, '--no-such-option');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(usage);
    expect(r.stderr).not.toMatch(STACK);
  });
});

test('an unknown command names itself and prints the usage', () => {
  const r = cli('frobnicate');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/unknown command "frobnicate"[\s\S]*usage: tosca-im <command>/);
});

test('the usage offers only commands that answer --help', () => {
  const commands = [...cli('--help').stdout.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]);
  expect(commands).toEqual(['serve', 'plan', 'sim']);
  for (const c of commands) expect(cli(c, '--help').status).toBe(0);
});

test('serve --help lists the flags the server reads, with both stores it supports', () => {
  const out = cli('serve', '--help').stdout;
  for (const flag of ['--host', '--port', '--db', '--log-level', '--import-map', '--data-dir', '--job-lease']) expect(out).toContain(flag);
  expect(out).toMatch(/--db \(TOSCA_IM_DB\) .*sqlite:PATH.*postgres:\/\//);
});

test('`tosca-im sim openstack --port 0` starts from dist and prints its URL', async () => {
  const child = spawn(process.execPath, [MAIN_JS, 'sim', 'openstack', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out); });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect(line).toMatch(/^openstack simulator listening on http:\/\/127\.0\.0\.1:\d+/);
    const url = /(http:\/\/\S+)/.exec(line)![1];
    expect((await fetch(url)).status).toBeLessThan(500);
  } finally {
    child.kill('SIGTERM');
  }
});
