import { diffPlans } from './diff';
import type { ComputePlan, Plan } from './plan';

function planWith(computes: Partial<ComputePlan>[]): Plan {
  return {
    toscaVersion: 'tosca_simple_yaml_1_0', inputs: {}, nodes: [], software: [], volumes: [], networks: [], order: [], outputs: {}, elastic: [],
    computes: computes.map((c) => ({ name: 'wn', type: 'tosca.nodes.Compute', count: 1, removalList: [], host: {}, os: {}, publicIp: false, networks: [], ports: [], software: [], ...c })),
  };
}

describe('diffPlans (IM add-resources rules)', () => {
  const current = planWith([{ name: 'front', count: 1 }, { name: 'wn', count: 2 }]);
  const vms = { front: ['0'], wn: ['1', '2'] };

  test('a higher count adds the difference', () => {
    expect(diffPlans(current, planWith([{ name: 'front', count: 1 }, { name: 'wn', count: 5 }]), vms)).toEqual({ add: [{ node: 'wn', count: 3 }], remove: [] });
  });

  test('a lower count without removal_list removes the newest VMs', () => {
    expect(diffPlans(current, planWith([{ name: 'wn', count: 1 }]), vms)).toEqual({ add: [], remove: ['2'] });
  });

  test('removal_list names the VMs to remove', () => {
    expect(diffPlans(current, planWith([{ name: 'wn', count: 1, removalList: ['1'] }]), vms)).toEqual({ add: [], remove: ['1'] });
  });

  test('removal_list with the same count replaces the removed VMs', () => {
    expect(diffPlans(current, planWith([{ name: 'wn', count: 2, removalList: ['1'] }]), vms)).toEqual({ add: [{ node: 'wn', count: 1 }], remove: ['1'] });
  });

  test('unknown ids in removal_list are ignored; a new node is added whole', () => {
    expect(diffPlans(current, planWith([{ name: 'wn', count: 2, removalList: ['99'] }, { name: 'gpu', count: 2 }]), vms))
      .toEqual({ add: [{ node: 'gpu', count: 2 }], remove: [] });
  });

  test('count 0 removes every VM of the node', () => {
    expect(diffPlans(current, planWith([{ name: 'wn', count: 0 }]), vms)).toEqual({ add: [], remove: ['1', '2'] });
  });
});
