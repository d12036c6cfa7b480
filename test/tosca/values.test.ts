/**
 * Property values against their definitions, through the whole engine: version, timestamp, the three
 * scalar-unit kinds, list and map with entry_schema, data types (required fields, defaults filled in,
 * nested data types). A wrong value is a located error whose path goes down to the offending entry.
 */
import { planTemplate, ToscaError } from '../../tosca';

const TYPES = `tosca_definitions_version: tosca_simple_yaml_1_0
data_types:
  my.Limits:
    derived_from: tosca.datatypes.Root
    properties:
      size: { type: scalar-unit.size }
      policy: { type: string, default: soft }
      note: { type: string, required: false }
  my.Quota:
    derived_from: tosca.datatypes.Root
    properties:
      name: { type: string }
      limits: { type: my.Limits }
node_types:
  my.Node:
    derived_from: tosca.nodes.SoftwareComponent
    properties:
      release: { type: version, required: false }
      built: { type: timestamp, required: false }
      timeout: { type: scalar-unit.time, required: false }
      clock: { type: scalar-unit.frequency, required: false }
      ports: { type: list, required: false, entry_schema: { type: integer, constraints: [ { less_than: 65536 } ] } }
      disks: { type: map, required: false, entry_schema: { type: scalar-unit.size } }
      quotas: { type: list, required: false, entry_schema: { type: my.Quota } }
topology_template:
  node_templates:
    n:
      type: my.Node
      properties:
`;

/** The template with `props` (YAML lines, 8-space indented) as the properties of node n. */
const template = (props: string) => TYPES + props.trim().split('\n').map((l) => `        ${l}`).join('\n') + '\n';
const LINE0 = TYPES.split('\n').length; // 1-based line of the first property

async function properties(props: string) {
  const plan = await planTemplate(template(props), { fileName: 'v.yaml' });
  return plan.nodes.find((x) => x.name === 'n')!.properties;
}

async function failure(props: string): Promise<ToscaError> {
  const e = await planTemplate(template(props), { fileName: 'v.yaml' }).catch((x: unknown) => x);
  if (!(e instanceof ToscaError)) throw new Error(`expected a ToscaError, got ${String(e)}`);
  return e;
}

describe('property values', () => {
  test('valid values of every kind are accepted, data-type defaults filled in', async () => {
    const p = await properties(`
release: 1.2.3-rc1
built: 2024-05-01T10:00:00Z
timeout: 30 s
clock: 2.4 GHz
ports: [ 22, 80, 443 ]
disks: { data: 100 GB, scratch: 1 TiB }
quotas:
  - name: team
    limits: { size: 10 GB }
`);
    expect(p).toMatchObject({
      release: '1.2.3-rc1', built: '2024-05-01T10:00:00Z', timeout: '30 s', clock: '2.4 GHz',
      ports: [22, 80, 443], disks: { data: '100 GB', scratch: '1 TiB' },
    });
    expect(p.quotas).toEqual([{ name: 'team', limits: { size: '10 GB', policy: 'soft' } }]);
  });

  test.each<[string, string, string, number, RegExp]>([
    ['a version', 'release: one.two', 'release', 0, /"one\.two" is not a valid version/],
    ['a timestamp', 'built: yesterday', 'built', 0, /"yesterday" is not a valid timestamp/],
    ['a scalar-unit.time', 'timeout: 30 parsecs', 'timeout', 0, /is not a valid scalar-unit\.time/],
    ['a scalar-unit.frequency', 'clock: 3 GB', 'clock', 0, /is not a valid scalar-unit\.frequency/],
    ['a list', 'ports: 22', 'ports', 0, /22 is not a valid list/],
    ['a list entry', 'ports: [ 22, http ]', 'ports.1', 0, /"http" is not a valid integer/],
    ['a list entry constraint', 'ports: [ 22, 70000 ]', 'ports.1', 0, /less_than/],
    ['a map entry', 'disks: { data: lots }', 'disks.data', 0, /"lots" is not a valid scalar-unit\.size/],
    ['a data type field', 'quotas:\n  - name: team\n    limits: { size: big }', 'quotas.0.limits.size', 2, /"big" is not a valid scalar-unit\.size/],
    ['a missing required data type field', 'quotas:\n  - limits: { size: 1 GB }', 'quotas.0', 1, /missing required field name of data type my\.Quota/],
    ['a data type given a scalar', 'quotas: [ team ]', 'quotas.0', 0, /"team" is not a valid my\.Quota/],
  ])('%s that is wrong is a located error', async (_what, props, at, line, detail) => {
    const e = await failure(props);
    const yamlPath = `topology_template.node_templates.n.properties.${at}`;
    expect({ file: e.file, path: e.yamlPath }).toEqual({ file: 'v.yaml', path: yamlPath });
    expect(e.line).toBe(LINE0 + line);
    expect(e.message).toMatch(new RegExp(`^v\\.yaml:${e.line}:${e.column} ${yamlPath.replace(/\./g, '\\.')}: `));
    expect(e.message).toMatch(detail);
  });
});
