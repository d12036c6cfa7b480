/** Topology features on small templates over the normative types. */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parseTemplate, planTemplate } from '..';
import { planCorpus } from '../../test/tosca/plan-corpus';

const HEAD = 'tosca_definitions_version: tosca_simple_yaml_1_0\n';

describe('topology', () => {
  test('tosca.policies.Scaling on a group becomes one elastic policy per compute', async () => {
    const plan = await planTemplate(`${HEAD}topology_template:
  node_templates:
    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable: { properties: { min_instances: 1, max_instances: 3 } }
    app:
      type: tosca.nodes.SoftwareComponent
      requirements: [ { host: wn } ]
  groups:
    workers: { type: tosca.groups.Root, members: [ app ] }
  policies:
    - grow:
        type: tosca.policies.Scaling
        targets: [ workers ]
        properties: { min_instances: 0, max_instances: 10, default_instances: 2, increment: 1 }
`);
    expect(plan.elastic).toEqual([{ source: 'scaling-policy', target: 'wn', minInstances: 0, maxInstances: 10, defaultInstances: 2, options: { increment: 1, policy: 'grow' } }]);
    expect(plan.computes[0]).toMatchObject({ count: 1, minInstances: 1, maxInstances: 3, software: ['app'] });
  });

  test('relationship templates, requirement by node type, substitution mappings', async () => {
    const plan = await planTemplate(`${HEAD}topology_template:
  substitution_mappings:
    node_type: tosca.nodes.Compute
  relationship_templates:
    mount:
      type: tosca.relationships.AttachesTo
      properties: { location: /data, device: /dev/vdb }
  node_templates:
    disk:
      type: tosca.nodes.BlockStorage
      properties: { size: 5 GB }
    vm:
      type: tosca.nodes.Compute
      requirements:
        - local_storage: { node: disk, relationship: mount }
    app:
      type: tosca.nodes.SoftwareComponent
      requirements:
        - host: tosca.nodes.Compute
`);
    expect(plan.volumes).toEqual([{ name: 'disk', sizeGB: 5, attachedTo: 'vm', location: '/data', device: '/dev/vdb' }]);
    expect(plan.software[0].host).toBe('vm');
    expect(plan.substitutionMappings).toEqual({ node_type: 'tosca.nodes.Compute' });
    expect(plan.order).toEqual(['disk', 'vm', 'app']);
  });

  test('data type defaults are filled in (as tosca-parser does)', async () => {
    const plan = await planTemplate(`${HEAD}topology_template:
  node_templates:
    app:
      type: tosca.nodes.SoftwareComponent
      properties:
        admin_credential: { user: root, token: secret }
`);
    expect(plan.nodes[0].properties.admin_credential).toEqual({ user: 'root', token: 'secret', token_type: 'password' });
  });

  test('a template imported as template_file merges its topology (IM tosca_repo)', async () => {
    const plan = await planCorpus('grycap__im/test/files/tosca_repo.yml'); // baseDir: the corpus copy of IM's tosca_repo
    expect(plan.nodes.map((n) => n.name).sort()).toEqual(['my_block_storage', 'simple_node', 'swap_storage']);
    expect(plan.inputs.num_cpus).toBe(16); // a plain value over an imported input sets its default
    expect(plan.computes[0].host.numCpus).toBe(16);
    expect(plan.outputs.new_output.value).toBe(1);
  });

  test('parseTemplate gives the typed template with the type chain resolved', async () => {
    const st = await parseTemplate(`${HEAD}topology_template:\n  node_templates:\n    vm: { type: Compute }\n`);
    expect(st.nodes.get('vm')!.type.chain).toEqual(['tosca.nodes.Compute', 'tosca.nodes.Root']);
  });

  test('an error in a node that came from an imported template names that file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tosca-tpl-'));
    writeFileSync(path.join(dir, 'base.yml'), `${HEAD}topology_template:\n  node_templates:\n    vm:\n      type: tosca.nodes.Compute\n      capabilities:\n        host: { properties: { num_cpus: many } }\n`);
    await expect(planTemplate(`${HEAD}imports:\n  - template_file: base.yml\n`, { baseDir: dir })).rejects.toThrow(
      new RegExp(`^${path.join(dir, 'base.yml')}:7:31 topology_template\\.node_templates\\.vm\\.capabilities\\.host\\.properties\\.num_cpus: "many" is not a valid integer`),
    );
  });
});

describe('floating IPs', () => {
  test('a FloatingIP linked to a port makes the bound compute public, from its pool', async () => {
    const plan = await planTemplate(`${HEAD}topology_template:
  node_templates:
    vm: { type: tosca.nodes.Compute }
    other: { type: tosca.nodes.Compute }
    net: { type: tosca.nodes.network.Network, properties: { network_name: private } }
    port:
      type: tosca.nodes.network.Port
      requirements: [ { binding: vm }, { link: net } ]
    fip:
      type: tosca.nodes.network.FloatingIP
      properties: { floating_network: ext-net }
      requirements: [ { link: port } ]
`);
    expect(plan.computes.map((c) => [c.name, c.publicIp, c.publicNetwork, c.networks])).toEqual([
      ['vm', true, 'ext-net', ['private']],
      ['other', false, undefined, []],
    ]);
  });
});

describe('node_filter', () => {
  test('a requirement without a node is fulfilled by the node whose values meet the filter', async () => {
    const plan = await planTemplate(`${HEAD}topology_template:
  node_templates:
    small:
      type: tosca.nodes.Compute
      capabilities: { host: { properties: { num_cpus: 1, mem_size: 1 GB } } }
    big:
      type: tosca.nodes.Compute
      capabilities: { host: { properties: { num_cpus: 8, mem_size: 16 GB } } }
    app:
      type: tosca.nodes.SoftwareComponent
      requirements:
        - host:
            node_filter:
              capabilities:
                - host:
                    properties:
                      - num_cpus: { greater_or_equal: 4 }
                      - mem_size: { greater_or_equal: 8 GB }
`);
    expect(plan.software[0].host).toBe('big');
    expect(plan.computes.find((c) => c.name === 'big')!.software).toEqual(['app']);
  });
});
