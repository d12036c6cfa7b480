/** `tosca-im plan`: the plan on stdout (text or --json), located errors on stderr with exit 1. */
import { spawnSync } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { run } from '../../cli/plan';
import { corpusDir } from './corpus';

async function plan(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; } });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'cli-plan-'));
const file = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p; };

const SIMPLE = file('simple.yaml', `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  inputs:
    cpus: { type: integer, default: 1 }
  node_templates:
    app:
      type: tosca.nodes.SoftwareComponent
      properties: { component_version: "1.2" }
      requirements: [ { host: server } ]
    server:
      type: tosca.nodes.Compute
      capabilities:
        host: { properties: { num_cpus: { get_input: cpus }, mem_size: 2 GB } }
        endpoint: { properties: { network_name: PUBLIC } }
  outputs:
    ip: { value: { get_attribute: [ server, public_address ] } }
`);

describe('tosca-im plan', () => {
  it('prints a readable plan', async () => {
    const r = await plan(SIMPLE);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('server (tosca.nodes.Compute) x1');
    expect(r.out).toContain('app (tosca.nodes.SoftwareComponent) on server');
    expect(r.out).toContain('public IP');
    expect(r.out).toContain('get_attribute(server, public_address)');
  });

  it('--json prints one object whose nodes list every node template with resolved properties', async () => {
    const r = await plan(SIMPLE, '--json', '--input', 'cpus=4');
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out);
    expect(p.nodes.map((n: { name: string }) => n.name).sort()).toEqual(['app', 'server']);
    expect(p.nodes.find((n: { name: string }) => n.name === 'app')).toMatchObject({ type: 'tosca.nodes.SoftwareComponent', properties: { component_version: '1.2' } });
    expect(p.computes[0]).toMatchObject({ name: 'server', publicIp: true, host: { numCpus: 4, memSizeMB: 2048 } });
  });

  it('fails with file:line:column and the YAML path, exit 1', async () => {
    const bad = file('bad.yaml', 'tosca_definitions_version: tosca_simple_yaml_1_0\ntopology_template:\n  node_templates:\n    x:\n      type: tosca.nodes.Nope\n');
    const r = await plan(bad);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:\\d+ topology_template\\.node_templates\\.x\\.type`));
    const j = await plan(bad, '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out).error).toMatchObject({ code: 'unknown-type', file: bad, line: 5, path: 'topology_template.node_templates.x.type' });
  });

  it('resolves imports by URL through --import-map', async () => {
    const t = join(corpusDir(), 'indigo-dc__tosca-types', 'examples', 'elastic_cluster.yaml');
    const without = await plan(t);
    expect(without.code).toBe(1);
    expect(without.err).toMatch(/import/i);
    const r = await plan(t, '--import-map', join(corpusDir(), 'import-map.json'), '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).elastic.length).toBe(1);
  });

  it('rejects a bad command line with exit 2', async () => {
    expect((await plan()).code).toBe(2);
    expect((await plan(SIMPLE, '--input', 'novalue')).code).toBe(2);
    expect((await plan(SIMPLE, '--bogus')).code).toBe(2);
  });

  it('reports an unreadable file or import map with exit 1', async () => {
    const r = await plan(join(dir, 'missing.yaml'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('missing.yaml');
    expect((await plan(SIMPLE, '--import-map', join(dir, 'nope.json'))).code).toBe(1);
  });
});

describe('tosca-im plan as a process', () => {
  // the real entry point (cli/main.ts → cli/plan.ts) and exit codes, loaded through the swc hook
  const cli = (...argv: string[]) => spawnSync(process.execPath, ['-r', join(__dirname, '..', 'lab', 'swc-register.js'), join(__dirname, '..', '..', 'cli', 'main.ts'), 'plan', ...argv], { encoding: 'utf8' });

  it('exits 0 with the plan, 1 with a located error', () => {
    const ok = cli(SIMPLE, '--json');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).computes[0].name).toBe('server');
    const bad = cli(file('cycle.yaml', 'tosca_definitions_version: tosca_simple_yaml_1_0\ntopology_template:\n  node_templates:\n    a: { type: tosca.nodes.Root, requirements: [ { dependency: b } ] }\n    b: { type: tosca.nodes.Root, requirements: [ { dependency: a } ] }\n'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/cycle\.yaml:\d+:\d+ topology_template\.node_templates\.[ab]/);
  });
});

test('tosca-im plan accepts an input default outside its constraints and warns on stderr, as IM accepts it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plan-inputs-'));
  const file = join(dir, 't.yaml');
  writeFileSync(file, `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  inputs:
    cpus:
      type: integer
      default: 0
      constraints:
        - greater_or_equal: 1
  node_templates:
    vm:
      type: tosca.nodes.Compute
`);
  const r = await plan(file);
  expect(r.code).toBe(0);
  expect(r.err).toMatch(/^warning: .*t\.yaml:6:\d+ topology_template\.inputs\.cpus\.default: .*greater_or_equal violated/);
});
