/** Intrinsic functions over a small template built on the normative types. */
import { planTemplate } from '..';

const TEMPLATE = `
tosca_definitions_version: tosca_simple_yaml_1_3
node_types:
  my.App:
    derived_from: tosca.nodes.SoftwareComponent
    properties:
      port: { type: integer, default: 8080 }
      config: { type: map, required: false }
      label: { type: string, required: false }
    artifacts:
      installer: { file: install.sh, type: tosca.artifacts.Implementation.Bash }
topology_template:
  inputs:
    cpus: { type: integer, default: 2 }
    conf: { type: map, default: { a: { b: deep } } }
    names: { type: list, default: [ x, y ] }
    flag: { type: boolean, default: false }
  node_templates:
    server:
      type: tosca.nodes.Compute
      capabilities:
        host:
          properties:
            num_cpus: { get_input: cpus }
            mem_size: 2 GB
        os:
          properties: { distribution: ubuntu }
    app:
      type: my.App
      properties:
        config: { get_input: conf }
        label: { concat: [ { get_property: [ HOST, host, num_cpus ] }, "-", { get_property: [ server, os, distribution ] } ] }
      requirements:
        - host: server
      interfaces:
        Standard:
          create:
            implementation: installer
            inputs:
              port: { get_property: [ SELF, port ] }
              deep: { get_property: [ SELF, config, a, b ] }
              nested_input: { get_input: [ conf, a, b ] }
              joined: { join: [ { get_input: names }, "," ] }
              tok: { token: [ "a.b.c", ".", 1 ] }
              host_ip: { get_attribute: [ HOST, private_address ] }
              art: { get_artifact: [ SELF, installer ] }
              out: { get_operation_output: [ SELF, Standard, create, result ] }
              later: { concat: [ "ip=", { get_attribute: [ server, public_address, 0 ] } ] }
              cpus_of_host_req: { get_property: [ SELF, host, num_cpus ] }
`;

describe('intrinsic functions', () => {
  let inputs: Record<string, unknown>;
  beforeAll(async () => {
    const plan = await planTemplate(TEMPLATE, { inputs: { cpus: '4', flag: 'true' } });
    inputs = plan.software[0].operations[0].inputs;
    expect(plan.software[0].properties.label).toBe('4-ubuntu');
    expect(plan.computes[0].host).toEqual({ numCpus: 4, memSizeMB: 2048 });
    expect(plan.inputs.flag).toBe(true);
  });

  test('get_property on SELF, nested paths, capability of a requirement target', () => {
    expect(inputs.port).toBe(8080);
    expect(inputs.deep).toBe('deep');
    expect(inputs.cpus_of_host_req).toBe(4);
  });

  test('get_input with nested keys; join and token evaluated when known', () => {
    expect(inputs.nested_input).toBe('deep');
    expect(inputs.joined).toBe('x,y');
    expect(inputs.tok).toBe('b');
  });

  test('run-time values stay typed references', () => {
    expect(inputs.host_ip).toEqual({ $ref: 'get_attribute', node: 'server', path: ['private_address'], keyword: 'HOST' });
    expect(inputs.out).toEqual({ $ref: 'get_operation_output', node: 'app', interface: 'Standard', operation: 'create', output: 'result' });
    expect(inputs.later).toEqual({ $ref: 'concat', args: ['ip=', { $ref: 'get_attribute', node: 'server', path: ['public_address'], index: 0 }] });
  });

  test('get_artifact gives the artifact file; an implementation naming an artifact uses it', async () => {
    expect(inputs.art).toBe('install.sh');
    const plan = await planTemplate(TEMPLATE);
    expect(plan.software[0].operations[0].implementation).toEqual({ kind: 'script', path: 'install.sh' });
  });

  test('a CLI string that is not a number is rejected by the input type, located at the input', async () => {
    await expect(planTemplate(TEMPLATE, { fileName: 't.yaml', inputs: { cpus: 'four' } })).rejects.toThrow(
      /^t\.yaml:14:5 topology_template\.inputs\.cpus: input cpus: "four" is not a valid integer/,
    );
  });

  test('get_property of a missing property is a located bad-function error', async () => {
    const bad = TEMPLATE.replace('{ get_property: [ SELF, port ] }', '{ get_property: [ SELF, nope ] }');
    await expect(planTemplate(bad, { fileName: 't.yaml' })).rejects.toThrow(/get_property: property nope not found on node app/);
  });

  test('a property that refers to itself is an error, not a hang', async () => {
    const bad = TEMPLATE.replace("label: { concat: [", 'label: { get_property: [ SELF, label ] }\n        x: { concat: [');
    await expect(planTemplate(bad, { fileName: 't.yaml' })).rejects.toThrow(/refers to itself/);
  });
});
