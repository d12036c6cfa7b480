/** Plans of real corpus templates: the facts the server and connectors rely on. */
import { planCorpus } from '../../test/tosca/plan-corpus';

describe('IM tosca_long.yml', () => {
  let plan: Awaited<ReturnType<typeof planCorpus>>;
  beforeAll(async () => {
    plan = await planCorpus('grycap__im/test/files/tosca_long.yml');
  });
  const compute = (name: string) => plan.computes.find((c) => c.name === name)!;

  test('computes, counts and sizes', () => {
    expect(plan.computes.map((c) => c.name)).toEqual(['other_server', 'lrms_server', 'lrms_wn']);
    expect(compute('lrms_wn')).toMatchObject({ count: 1, host: { numCpus: 1, memSizeMB: 2048, instanceType: 'some_type', preemptible: false } });
    expect(compute("lrms_server").host).toEqual({ numCpus: 1, memSizeMB: 1024 });
    expect(compute('lrms_wn').os).toEqual({ type: 'linux', architecture: 'x86_64' });
  });

  test('a public IP only where the template asks for one', () => {
    expect(compute('lrms_server')).toMatchObject({ publicIp: true, publicNetwork: 'pool_name', dnsName: 'slurmserver' });
    expect(compute('other_server').publicIp).toBe(true); // endpoint PUBLIC (and apache's public data_endpoint)
    expect(compute('lrms_wn').publicIp).toBe(false);
  });

  test('ports with protocol, ranges and source CIDR', () => {
    expect(compute('lrms_wn').ports).toEqual([
      { from: 10000, to: 10000, protocol: 'tcp', source: '0.0.0.0/0', public: false },
      { from: 80, to: 80, protocol: 'tcp', source: '8.0.0.0/24', public: false },
    ]);
    expect(compute('other_server').ports).toEqual([
      { from: 1, to: 4, protocol: 'tcp', source: '0.0.0.0/0', public: true },
      { from: 80, to: 80, protocol: 'tcp', source: '0.0.0.0/0', public: true },
    ]);
  });

  test('dependency order puts hosts and targets first', () => {
    const at = (n: string) => plan.order.indexOf(n);
    expect(plan.order).toHaveLength(11);
    expect(at('lrms_server')).toBeLessThan(at('lrms_front_end'));
    expect(at('lrms_front_end')).toBeLessThan(at('elastic_cluster_front_end'));
    expect(at('wn_node')).toBeLessThan(at('elastic_cluster_front_end'));
    expect(at('my_storage')).toBeLessThan(at('lrms_wn'));
  });

  test('software hosted on computes, lifecycle operations in order', () => {
    expect(compute('lrms_server').software).toEqual(['lrms_front_end', 'elastic_cluster_front_end']);
    const apache = plan.software.find((s) => s.name === 'apache')!;
    expect(apache.host).toBe('other_server');
    expect(apache.operations.map((o) => [o.name, o.implementation?.kind])).toEqual([['create', 'ansible'], ['start', 'ansible']]);
    const ec = plan.software.find((s) => s.name === 'elastic_cluster_front_end')!;
    expect(ec.dependsOn).toEqual(['lrms_front_end', 'wn_node']);
    expect(ec.operations[0].inputs.clues_queue_system).toBe('slurm'); // get_property [SELF, lrms, type]
    expect(ec.operations[0].inputs.ec3_max_instances).toBe(5); // get_property [SELF, wn, max_instances]
  });

  test('volumes attached with their mount point', () => {
    expect(plan.volumes.find((v) => v.name === 'my_storage')).toEqual({ name: 'my_storage', sizeGB: 10, type: 'ssd', attachedTo: 'lrms_wn', location: '/mnt/disk' });
    expect(plan.volumes.find((v) => v.name === 'my_storage3')).toMatchObject({ sizeGB: 20, attachedTo: 'lrms_server', location: '/mnt/disk3' });
  });

  test('the ElasticCluster pattern becomes one elastic policy', () => {
    expect(plan.elastic).toEqual([
      expect.objectContaining({ source: 'elastic-cluster', target: 'lrms_wn', frontEnd: 'lrms_server', minInstances: 0, maxInstances: 5, defaultInstances: 1 }),
    ]);
  });

  test('placement policies choose the cloud of computes and groups', () => {
    expect(plan.computes.map((c) => c.cloudId)).toEqual(['cloudid', 'cloudid', 'cloudid']);
    expect(plan.groups).toEqual({ my_placement_group: { type: 'tosca.groups.Root', members: ['lrms_server', 'lrms_wn'] } });
  });

  test('IM list-index get_attribute stays a reference; concat over it is deferred', () => {
    expect(plan.outputs.galaxy_url.value).toEqual({
      $ref: 'concat',
      args: ['http://', { $ref: 'get_attribute', node: 'lrms_server', path: ['public_address'], index: 0 }, ':8080'],
    });
  });

  test('nodes lists every node template with resolved properties', () => {
    expect(plan.nodes).toHaveLength(11);
    expect(plan.nodes.find((n) => n.name === 'lrms_server')!.properties.instance_name).toBe('myslurmserver');
    expect(plan.nodes.find((n) => n.name === 'my_storage2')!.properties.size).toBe('10GB');
  });
});

describe('INDIGO elastic cluster (devel types via the import map)', () => {
  test('inputs flow into sizes; workers start at zero and grow to wn_num', async () => {
    const plan = await planCorpus('indigo-dc__tosca-types/examples/elastic_cluster.yaml', { inputs: { wn_num: '7', fe_mem: '2 GB' } });
    const fe = plan.computes.find((c) => c.name === 'lrms_server')!;
    const wn = plan.computes.find((c) => c.name === 'lrms_wn')!;
    expect(fe).toMatchObject({ publicIp: true, host: { numCpus: 1, memSizeMB: 2048 }, os: { distribution: 'ubuntu', version: '16.04' } });
    expect(wn).toMatchObject({ count: 0, publicIp: false });
    expect(plan.elastic).toEqual([expect.objectContaining({ source: 'elastic-cluster', target: 'lrms_wn', frontEnd: 'lrms_server', minInstances: 0, maxInstances: 7 })]);
    expect(plan.inputs.wn_num).toBe(7);
  });
});

describe('IM removal_list on tosca.capabilities.Scalable', () => {
  test('count and removal_list are read from the scalable capability', async () => {
    const plan = await planCorpus('grycap__im/test/files/tosca_remove.yml');
    const db = plan.computes.find((c) => c.name === 'db_server')!;
    expect(db.count).toBe(1);
    expect(db.removalList).toEqual(['2']);
  });
});

describe('networks through ports', () => {
  test('a port on a public network gives the compute a public IP; private ones name the network', async () => {
    const plan = await planCorpus('grycap__tosca/templates/scipion.yaml');
    const server = plan.computes.find((c) => c.name === 'lrms_server')!;
    const wn = plan.computes.find((c) => c.name === 'lrms_wn')!;
    expect(server.publicIp).toBe(true);
    expect(server.networks).toEqual(['priv_network']);
    expect(wn.publicIp).toBe(false);
    expect(plan.networks.map((n) => [n.name, n.public])).toEqual([['pub_network', true], ['priv_network', false]]);
  });
});

describe('relationship operations (IM runs them with the nodes)', () => {
  test('pre/post_configure_source run between the source node own steps, with SELF/TARGET resolved', async () => {
    const { planTemplate } = await import('..');
    const plan = await planTemplate(`tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
    vol:
      type: tosca.nodes.BlockStorage
      properties: { size: 1 GB, volume_id: vol-1 }
    app:
      type: tosca.nodes.SoftwareComponent
      interfaces:
        Standard:
          create: install.sh
          configure: configure.yml
      requirements:
        - host: vm
        - dependency:
            node: vol
            relationship:
              type: tosca.relationships.AttachesTo
              properties: { location: /mnt/data }
              interfaces:
                Configure:
                  pre_configure_source:
                    implementation: mount.yml
                    inputs:
                      where: { get_property: [ SELF, location ] }
                      id: { get_property: [ TARGET, volume_id ] }
    vm: { type: tosca.nodes.Compute }
`);
    const app = plan.software.find((s) => s.name === 'app')!;
    expect(app.operations.map((o) => `${o.interface}.${o.name}`)).toEqual(['Standard.create', 'Configure.pre_configure_source', 'Standard.configure']);
    expect(app.operations[1]).toMatchObject({ implementation: { kind: 'ansible', path: 'mount.yml' }, inputs: { where: '/mnt/data', id: 'vol-1' } });
  });
});
