/** The IM-Dashboard style merge of a fragment into its parent template. */
import { parse } from 'yaml';
import { mergeFragment } from './merge-fragment';

const PARENT = `tosca_definitions_version: tosca_simple_yaml_1_0
imports:
  - types: https://example.org/custom_types.yaml
# the VM everything runs on
topology_template:
  inputs:
    size: { type: integer, default: 1 }
  node_templates:
    simple_node: { type: tosca.nodes.Compute }
    app: { type: tosca.nodes.SoftwareComponent, properties: { v: parent } }
`;
const FRAGMENT = `tosca_definitions_version: tosca_simple_yaml_1_0
imports:
  - types: https://example.org/custom_types.yaml
  - more: https://example.org/more.yaml
metadata: { parents: [ parent.yml ] }
topology_template:
  inputs:
    flag: { type: boolean, default: no }
  node_templates:
    docker: { type: tosca.nodes.SoftwareComponent, requirements: [ { host: simple_node } ] }
    app: { type: tosca.nodes.SoftwareComponent, properties: { v: fragment } }
  outputs:
    url: { value: { get_attribute: [ simple_node, public_address ] } }
`;

describe('mergeFragment', () => {
  const merged = mergeFragment(PARENT, FRAGMENT);
  const doc = parse(merged);

  it('adds the fragment imports once', () => {
    expect(doc.imports).toEqual([{ types: 'https://example.org/custom_types.yaml' }, { more: 'https://example.org/more.yaml' }]);
  });

  it('adds inputs, node templates and outputs, the fragment winning on a clash', () => {
    const tt = doc.topology_template;
    expect(Object.keys(tt.inputs)).toEqual(['size', 'flag']);
    expect(Object.keys(tt.node_templates)).toEqual(['simple_node', 'app', 'docker']);
    expect(tt.node_templates.app.properties.v).toBe('fragment');
    expect(tt.outputs.url.value).toEqual({ get_attribute: ['simple_node', 'public_address'] });
  });

  it('keeps the parent document otherwise, comments and scalars as written', () => {
    expect(merged).toContain('# the VM everything runs on');
    expect(merged).toContain('default: no'); // a YAML 1.1 boolean stays for the engine to read
    expect(doc.metadata).toBeUndefined();
  });

  it('reports a fragment that is not YAML', () => {
    expect(() => mergeFragment(PARENT, 'a: [')).toThrow(/fragment/);
  });
});
