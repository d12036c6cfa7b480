/** TOSCA outputs as IM computes them (IM/tosca/Tosca.py _get_attribute_result, the inf_info branch). */
import { evaluateOutputs } from './outputs';
import type { Plan, PlanValue } from '../../tosca/plan';
import type { VmView } from './service';

function vm(id: string, pub: string, priv: string, creds: VmView['credentials']): VmView {
  return {
    id, infrastructureId: 'inf', nodeName: 'web', state: 'configured', cloudId: 'd', cloudType: 'Dummy', instanceId: `i-${id}`,
    privateIps: [priv], publicIps: [pub], credentials: creds, system: {}, contmsg: '',
  };
}

const ref = (node: string, path: string[], index?: number): PlanValue => ({ $ref: 'get_attribute', node, path, ...(index === undefined ? {} : { index }) });

function plan(type: string, outputs: Record<string, PlanValue>): Plan {
  return {
    toscaVersion: 'tosca_simple_yaml_1_0', inputs: {}, nodes: [{ name: 'web', type, properties: {} }],
    computes: [{ name: 'web', type, count: 2, removalList: [], host: {}, os: {}, publicIp: true, networks: [], ports: [], software: [] }],
    software: [], volumes: [], networks: [], order: ['web'], elastic: [],
    outputs: Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { value }])),
  };
}

const vms = [
  vm('0', '203.0.113.1', '10.0.0.1', { username: 'cloudadm', privateKey: 'KEY0' }),
  vm('1', '203.0.113.2', '10.0.0.2', { username: 'cloudadm', password: 'pw' }),
];

test('indigo Compute: addresses without an index are the list, with an index one; endpoint credential objects', () => {
  const p = plan('tosca.nodes.indigo.Compute', {
    server_url: ref('web', ['public_address']),
    first: ref('web', ['public_address'], 0),
    privs: ref('web', ['private_address']),
    server_creds: ref('web', ['endpoint', 'credential'], 0),
    all_creds: ref('web', ['endpoint', 'credential']),
    past_end: ref('web', ['private_address'], 7),
  });
  expect(evaluateOutputs({ plan: p, vmsOf: () => vms })).toEqual({
    server_url: ['203.0.113.1', '203.0.113.2'],
    first: '203.0.113.1',
    privs: ['10.0.0.1', '10.0.0.2'],
    server_creds: { user: 'cloudadm', token: 'KEY0', token_type: 'private_key' },
    all_creds: [{ user: 'cloudadm', token: 'KEY0', token_type: 'private_key' }, { user: 'cloudadm', token: 'pw', token_type: 'password' }],
    past_end: '10.0.0.2',
  });
  // one VM: still a list, as test_94_get_outputs reads server_url[0]
  expect(evaluateOutputs({ plan: p, vmsOf: () => vms.slice(0, 1) }).server_url).toEqual(['203.0.113.1']);
});
