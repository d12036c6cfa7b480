/**
 * The differential check is only as good as its comparator: it must report every kind of disagreement
 * (a node on one side only, another type, another value at any depth, another reference) and nothing
 * when both engines agree, our typed references included.
 */
import type { NodeSummary } from '../../tosca';
import type { OracleResult } from './oracle';
import { compareWithOracle } from './oracle-compare';

type Accepted = Extract<OracleResult, { ok: true }>;

const ours: NodeSummary[] = [
  {
    name: 'front',
    type: 'tosca.nodes.indigo.Compute',
    properties: {
      size: '2 GB',
      ports: { http: { port: 80, protocol: 'tcp' } },
      tags: ['a', 'b'],
      ip: { $ref: 'get_attribute', node: 'front', path: ['public_address'], index: 0 },
      url: { $ref: 'concat', args: ['http://', { $ref: 'get_attribute', node: 'front', path: ['public_address'] }] },
    },
  },
  { name: 'wn', type: 'tosca.nodes.Compute', properties: {} },
];

function oracle(patch: (o: Accepted) => void = () => undefined): Accepted {
  const o: Accepted = {
    ok: true, inputs: [], outputs: [], policies: [],
    nodes: [{ name: 'front', type: 'tosca.nodes.indigo.Compute', properties: {} }, { name: 'wn', type: 'tosca.nodes.Compute', properties: {} }],
    resolved: {
      front: {
        size: '2 GB',
        ports: { http: { port: 80, protocol: 'tcp' } },
        tags: ['a', 'b'],
        ip: { $ref: 'get_attribute', args: ['front', 'public_address', 0] },
        url: { $ref: 'concat', args: ['http://', { $ref: 'get_attribute', args: ['front', 'public_address'] }] },
      },
      wn: {},
    },
  };
  patch(o);
  return o;
}

describe('compareWithOracle', () => {
  test('agreeing plans, references included, give no difference', () => {
    expect(compareWithOracle('t.yaml', ours, oracle())).toEqual([]);
  });

  test('a node template only one side has', () => {
    const d = compareWithOracle('t.yaml', ours, oracle((o) => { o.nodes.pop(); delete o.resolved.wn; }));
    expect(d).toEqual([{ template: 't.yaml', node: 'wn', kind: 'node', path: '', ours: 'tosca.nodes.Compute', oracle: undefined }]);
  });

  test('another type', () => {
    const d = compareWithOracle('t.yaml', ours, oracle((o) => { o.nodes[1].type = 'tosca.nodes.Root'; }));
    expect(d).toEqual([expect.objectContaining({ node: 'wn', kind: 'type', ours: 'tosca.nodes.Compute', oracle: 'tosca.nodes.Root' })]);
  });

  test.each<[string, (r: Record<string, any>) => void, string]>([
    ['a scalar', (r) => { r.size = '2 GiB'; }, 'size'],
    ['a nested value', (r) => { r.ports.http.port = 8080; }, 'ports.http.port'],
    ['a list item', (r) => { r.tags[1] = 'c'; }, 'tags.1'],
    ['a list length', (r) => { r.tags.push('c'); }, 'tags'],
    ['a property only the oracle has', (r) => { r.extra = 1; }, 'extra'],
    ['a reference index', (r) => { r.ip.args[2] = 1; }, 'ip'],
    ['a reference inside a function', (r) => { r.url.args[1].args[0] = 'wn'; }, 'url'],
  ])('another value: %s', (_what, change, at) => {
    const d = compareWithOracle('t.yaml', ours, oracle((o) => change(o.resolved.front as Record<string, any>)));
    expect(d.map((x) => [x.node, x.kind, x.path])).toEqual([['front', 'property', at]]);
  });
});
