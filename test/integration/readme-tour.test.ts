/**
 * README.md as a user reads it: its first lines are the commands, and its 5-minute tour — the shell
 * blocks, run as written by bash with curl — works against a real `tosca-im serve` process. Only the
 * server URL is changed (the test's server listens on a random port, not 8800). Behind a proxy the
 * same process builds its URIs from X-Forwarded-*.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { spawnServer, type ServerProcess } from './api-harness';

const README = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
const REQUIRE_ALL = process.env.TOSCA_IM_REQUIRE_ALL === '1';
const hasCurl = spawnSync('curl', ['--version']).status === 0;
if (!hasCurl && !REQUIRE_ALL) console.warn('\n!!! SKIPPING the README tour: curl is not installed (apt-get install -y curl)\n');
const describeTour = hasCurl || REQUIRE_ALL ? describe : describe.skip;

/** The ```sh blocks of the README section that starts with `heading`, in order. */
function shellBlocks(heading: string): string[] {
  const text = `\n${README}`;
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "${heading}" section`);
  const end = text.indexOf('\n## ', start + heading.length + 2);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('README.md', () => {
  it('starts with the install, start and test commands', () => {
    const lines = README.split('\n');
    expect(lines[0]).toBe('# tosca-im');
    const first = shellBlocks('# tosca-im')[0].split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
    expect(first).toEqual(['npm ci', 'npm start', 'npm test']);
    expect(lines[2]).toBe('```sh'); // right under the title, before any prose
  });
});

describeTour('the README 5-minute tour, run with bash and curl against tosca-im serve', () => {
  let srv: ServerProcess;
  const dataDir = tempDir('tosca-im-tour-');

  beforeAll(async () => {
    if (!hasCurl) throw new Error('curl is not installed (TOSCA_IM_REQUIRE_ALL=1)');
    srv = await spawnServer(dataDir);
  });
  afterAll(async () => {
    const code = await srv?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('creates, watches, reads outputs and a VM, lists and destroys, as the README says', () => {
    const blocks = shellBlocks('## A 5-minute tour');
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toMatch(/^IM=http:\/\/127\.0\.0\.1:8800$/m);
    // Each tour line prints its answer after a marker, so the answers can be told apart.
    const tour = blocks.join('\n')
      .replace(/^IM=.*$/m, `IM=${srv.url}`)
      .split('\n')
      .map((line) => line.replace(/\s+# .*$/, '')) // the README's comments say what to expect
      .map((line) => (/^(curl|echo) /.test(line) ? `echo '@@ ${line.replace(/'/g, '')}'; ${line}; echo` : line))
      .join('\n');
    const out = execFileSync('bash', ['-euo', 'pipefail', '-c', tour], { cwd: dataDir, encoding: 'utf8', timeout: 30_000 });
    const answers = out.split(/^@@ /m).slice(1).map((a) => a.slice(a.indexOf('\n') + 1).trim());
    const [uri, state, vmList, outputs, vm, list, destroyed] = answers;
    expect(answers).toHaveLength(7);

    const id = /^http:\/\/127\.0\.0\.1:\d+\/infrastructures\/([0-9a-f-]{36})$/.exec(uri)?.[1];
    expect(id).toBeDefined();
    expect(JSON.parse(state).state.vm_states).toEqual({ 0: expect.any(String), 1: expect.any(String), 2: expect.any(String) });
    expect(vmList.split('\n')).toEqual(['0', '1', '2'].map((n) => `${uri}/vms/${n}`));
    // the outputs are read while the async create may still be under way: the IP, or null before it
    const frontIp = JSON.parse(outputs).outputs.front_ip;
    if (frontIp !== null) expect(frontIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(vm).toMatch(/^system front \(/m);
    expect(vm).toMatch(/disk\.0\.os\.credentials\.username = '\w+'/);
    expect(JSON.parse(list)).toEqual({ 'uri-list': [{ uri }] });
    expect(destroyed).toBe('');
  });

  it('is empty again for that user, and builds its URIs from X-Forwarded-* behind a proxy', async () => {
    const auth = imAuth('me', 's3cret', 'id = dummy; type = Dummy');
    expect((await call(srv.url, 'GET', '/infrastructures', { auth })).text).toBe('');
    const proxied = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'im.example.org', 'X-Forwarded-Prefix': '/im' };
    const created = await call(srv.url, 'POST', '/infrastructures', {
      auth, type: 'text/yaml', headers: proxied,
      body: 'tosca_definitions_version: tosca_simple_yaml_1_0\ntopology_template:\n  node_templates:\n    n: { type: tosca.nodes.Compute }\n',
    });
    const id = created.headers.get('InfID');
    expect([created.status, created.text]).toEqual([200, `https://im.example.org/im/infrastructures/${id}`]);
    const vms = await call(srv.url, 'GET', `/infrastructures/${id}`, { auth, headers: proxied, accept: 'application/json' });
    expect(vms.json()).toEqual({ 'uri-list': [{ uri: `https://im.example.org/im/infrastructures/${id}/vms/0` }] });
    expect((await call(srv.url, 'DELETE', `/infrastructures/${id}`, { auth })).status).toBe(200);
  });
});
