/** E-DECL-1 on real templates: every elastic example of the corpus plans to one valid policy. */
import { planCorpus } from '../tosca/plan-corpus';
import { policiesFromPlan } from '../../server/elastic/ports';

test.each<[string, string, string, string, number]>([
  ['indigo-dc__tosca-templates/galaxy_elastic_cluster_elixir_it.yaml', 'lrms_wn', 'lrms_server', 'slurm', 1],
  ['indigo-dc__tosca-types/examples/elastic_cluster.yaml', 'lrms_wn', 'lrms_server', 'slurm', 5],
  ['indigo-dc__tosca-types/examples/elastic_cluster_im.yaml', 'wn', 'front', 'slurm', 5],
  ['indigo-dc__tosca-types/examples/galaxy_elastic_cluster.yaml', 'lrms_wn', 'lrms_server', 'slurm', 5],
  ['indigo-dc__tosca-types/examples/galaxy_elastic_cluster_aws.yaml', 'lrms_wn', 'lrms_server', 'slurm', 5],
  ['indigo-dc__tosca-types/examples/disvis_elastic_cluster.yaml', 'lrms_wn', 'lrms_server', 'slurm', 5],
  ['indigo-dc__tosca-types/examples/hybrid_elastic_cluster.yaml', 'lrms_wn', 'lrms_server', 'slurm', 5],
  ['indigo-dc__tosca-types/examples/hybrid_elastic_cluster_vr_l2.yaml', 'lrms_wn', 'lrms_server', 'slurm', 5],
  ['indigo-dc__tosca-types/examples/mesos_elastic_cluster.yaml', 'mesos_slave_server', 'mesos_master_server', 'generic', 3],
  ['indigo-dc__tosca-types/examples/hybrid_mesos_elastic_cluster.yaml', 'mesos_slave_server', 'mesos_master_server', 'generic', 3],
  ['indigo-dc__tosca-types/examples/kubernetes_elastic_cluster.yaml', 'lrms_wn', 'lrms_server', 'kubernetes', 5],
  ['indigo-dc__tosca-types/examples/hybrid_kubernetes_elastic_cluster.yaml', 'lrms_wn', 'lrms_server', 'kubernetes', 5],
  ['grycap__im/test/files/tosca_add_hybrid.yml', 'lrms_wn', 'lrms_server', 'slurm', 5],
])('%s', async (file, target, frontEnd, lrms, max) => {
  const policies = policiesFromPlan(await planCorpus(file));
  expect(policies).toHaveLength(1);
  expect(policies[0]).toMatchObject({ source: 'elastic-cluster', target, frontEnd, lrms, min_nodes: 0, max_nodes: max });
});
