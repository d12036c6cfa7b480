/**
 * Every way a template can be wrong gives a ToscaError that names the file, the line and column of the
 * offending key, and its YAML path — in the fields and at the start of the message.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { planTemplate, ToscaError } from '../../tosca';

const HEAD = 'tosca_definitions_version: tosca_simple_yaml_1_0\n';

async function failure(text: string, opts: Parameters<typeof planTemplate>[1] = {}): Promise<ToscaError> {
  try {
    await planTemplate(text, { fileName: 'bad.yaml', ...opts });
  } catch (e) {
    if (e instanceof ToscaError) return e;
    throw new Error(`expected a ToscaError, got ${String(e)}`);
  }
  throw new Error('expected the template to be rejected');
}

function expectLocated(e: ToscaError, code: string, line: number, column: number, yamlPath: string, detail: RegExp, file = 'bad.yaml'): void {
  expect({ code: e.code, file: e.file, line: e.line, column: e.column, path: e.yamlPath }).toEqual({ code, file, line, column, path: yamlPath });
  expect(e.message.startsWith(`${file}:${line}:${column} ${yamlPath || '(root)'}: `)).toBe(true);
  expect(e.message).toMatch(detail);
}

const APP_TYPE = `
node_types:
  my.App:
    derived_from: tosca.nodes.SoftwareComponent
    properties:
      port:
        type: integer
        constraints:
          - in_range: [ 1, 100 ]
`;

describe('located errors', () => {
  test('unknown type', async () => {
    const e = await failure(`${HEAD}topology_template:
  node_templates:
    front:
      type: tosca.nodes.Nope
`);
    expectLocated(e, 'unknown-type', 5, 7, 'topology_template.node_templates.front.type', /unknown node type tosca\.nodes\.Nope/);
  });

  test('missing required property', async () => {
    const e = await failure(`${HEAD}${APP_TYPE}topology_template:
  node_templates:
    app:
      type: my.App
      properties:
        other: 1
`);
    expectLocated(e, 'missing-required', 15, 7, 'topology_template.node_templates.app.properties', /missing required property port/);
  });

  test('wrong property type', async () => {
    const e = await failure(`${HEAD}${APP_TYPE}topology_template:
  node_templates:
    app:
      type: my.App
      properties:
        port: eighty
`);
    expectLocated(e, 'wrong-type', 16, 9, 'topology_template.node_templates.app.properties.port', /"eighty" is not a valid integer/);
  });

  test('constraint violated', async () => {
    const e = await failure(`${HEAD}${APP_TYPE}topology_template:
  node_templates:
    app:
      type: my.App
      properties:
        port: 200
`);
    expectLocated(e, 'constraint', 16, 9, 'topology_template.node_templates.app.properties.port', /in_range violated: 200 is not in range \[1, 100\]/);
  });

  const OUTSIDE_DEFAULT = `${HEAD}topology_template:
  inputs:
    cpus:
      type: integer
      default: 0
      constraints:
        - greater_or_equal: 1
`;

  test('constraint on an input default, under strictInputs', async () => {
    const e = await failure(OUTSIDE_DEFAULT, { strictInputs: true });
    expectLocated(e, 'constraint', 6, 7, 'topology_template.inputs.cpus.default', /greater_or_equal violated/);
  });

  test('an input default outside its constraints is accepted with a located warning, as IM does', async () => {
    const plan = await planTemplate(OUTSIDE_DEFAULT, { fileName: 'bad.yaml' });
    expect(plan.inputs.cpus).toBe(0);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings![0]).toMatch(/^bad\.yaml:6:7 topology_template\.inputs\.cpus\.default: .*greater_or_equal violated.*accepted as IM accepts it/);
  });

  test('a caller-given input value outside the constraints is still refused', async () => {
    const e = await failure(OUTSIDE_DEFAULT.replace('default: 0', 'default: 2'), { inputs: { cpus: 0 } });
    expect(e.code).toBe('constraint');
  });

  test('unknown requirement target', async () => {
    const e = await failure(`${HEAD}topology_template:
  node_templates:
    app:
      type: tosca.nodes.SoftwareComponent
      requirements:
        - host: nowhere
`);
    expectLocated(e, 'unknown-node', 7, 11, 'topology_template.node_templates.app.requirements.0.host', /unknown node nowhere/);
  });

  test('dependency cycle', async () => {
    const e = await failure(`${HEAD}topology_template:
  node_templates:
    a:
      type: tosca.nodes.Root
      requirements:
        - dependency: b
    b:
      type: tosca.nodes.Root
      requirements:
        - dependency: a
`);
    expectLocated(e, 'cycle', 7, 11, 'topology_template.node_templates.a.requirements.0.dependency', /dependency cycle: a -> b -> a/);
  });

  test('bad function arguments', async () => {
    const e = await failure(`${HEAD}topology_template:
  node_templates:
    server:
      type: tosca.nodes.Compute
  outputs:
    ip:
      value: { get_attribute: [ server ] }
`);
    expectLocated(e, 'bad-function', 8, 16, 'topology_template.outputs.ip.value.get_attribute', /get_attribute: expects \[entity, attribute/);
  });

  test('token with a bad index', async () => {
    const e = await failure(`${HEAD}topology_template:
  outputs:
    x:
      value: { token: [ "a:b", ":", "one" ] }
`);
    expectLocated(e, 'bad-function', 5, 16, 'topology_template.outputs.x.value.token', /index must be a non-negative integer/);
  });

  test('undefined input', async () => {
    const e = await failure(`${HEAD}topology_template:
  node_templates:
    server:
      type: tosca.nodes.Compute
      capabilities:
        host:
          properties:
            num_cpus: { get_input: cpus }
`);
    expectLocated(e, 'unknown-input', 9, 25, 'topology_template.node_templates.server.capabilities.host.properties.num_cpus.get_input', /undefined input cpus/);
  });

  test('YAML syntax error', async () => {
    const e = await failure(`${HEAD}topology_template:
  node_templates:
    server: [ unclosed
`);
    expect(e.code).toBe('yaml-syntax');
    expect(e.file).toBe('bad.yaml');
    expect(e.line).toBeGreaterThanOrEqual(4);
    expect(e.message).toMatch(new RegExp(`^bad\\.yaml:${e.line}:${e.column} `));
    expect(e.message).toMatch(/YAML syntax error/);
    // the path of the last key read before the error, also in the message
    expect(e.yamlPath).toMatch(/^topology_template\.node_templates\.server/);
    expect(e.message).toContain(` ${e.yamlPath}: YAML syntax error`);
  });

  test('duplicate keys', async () => {
    const e = await failure(`${HEAD}topology_template:
  node_templates:
    server:
      type: tosca.nodes.Compute
    server:
      type: tosca.nodes.Compute
`);
    expectLocated(e, 'duplicate-key', 6, 5, 'topology_template.node_templates.server', /duplicate key/);
  });

  test('duplicate keys are accepted, last one winning, when asked (IM compatibility)', async () => {
    const plan = await planTemplate(`${HEAD}topology_template:
  node_templates:
    server:
      type: tosca.nodes.Root
    server:
      type: tosca.nodes.Compute
`, { allowDuplicateKeys: true });
    expect(plan.computes.map((c) => c.name)).toEqual(['server']);
  });

  test('unresolvable import (URL not in the import map, no download cache)', async () => {
    const e = await failure(`${HEAD}imports:
  - other: https://example.invalid/types.yaml
`);
    expectLocated(e, 'unresolvable-import', 3, 5, 'imports.0.other', /unresolvable import https:\/\/example\.invalid\/types\.yaml/);
  });

  test('unresolvable relative import', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tosca-err-'));
    const e = await failure(`${HEAD}imports:\n  - missing.yaml\n`, { baseDir: dir });
    expectLocated(e, 'unresolvable-import', 3, 5, 'imports.0', /unresolvable import .*missing\.yaml: ENOENT/);
  });

  test('an error inside an imported file names that file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tosca-err-'));
    writeFileSync(path.join(dir, 'types.yaml'), `${HEAD}node_types:\n  my.Broken:\n    derived_from: my.Missing\n`);
    const e = await failure(`${HEAD}imports:\n  - types.yaml\ntopology_template:\n  node_templates:\n    x:\n      type: my.Broken\n`, { baseDir: dir });
    expectLocated(e, 'unknown-type', 4, 5, 'node_types.my.Broken.derived_from', /unknown type my\.Missing/, path.join(dir, 'types.yaml'));
  });

  test('keys that YAML 1.1 reads as booleans (n, y) are located at themselves', async () => {
    const e = await failure(`${HEAD}topology_template:
  node_templates:
    y:
      type: tosca.nodes.Compute
    n:
      type: tosca.nodes.Compute
      capabilities:
        host:
          properties:
            num_cpus: many
`);
    expectLocated(e, 'wrong-type', 11, 13, 'topology_template.node_templates.n.capabilities.host.properties.num_cpus', /"many" is not a valid integer/);
  });

  test('not a TOSCA document', async () => {
    const e = await failure('just: a map\n');
    expectLocated(e, 'invalid', 1, 1, 'tosca_definitions_version', /tosca_definitions_version is missing/);
  });
});

describe('hostile YAML', () => {
  test('alias expansion bombs are refused quickly with a located error', async () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const started = Date.now();
    const e = await failure(`${HEAD}metadata:\n${lines.map((l) => '  ' + l).join('\n')}\n`);
    expect(Date.now() - started).toBeLessThan(5000);
    expectLocated(e, 'yaml-syntax', 1, 1, '', /too large once aliases are expanded/);
  });
});
