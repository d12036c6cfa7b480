/** The normative definitions document: valid YAML, self-consistent, and carrying IM's extensions. */
import { parseDocument } from 'yaml';
import { NORMATIVE_DEFINITIONS } from '../../tosca/normative';

type Defs = Record<string, Record<string, Record<string, unknown>>>;
const PRIMITIVES = new Set([
  'string', 'integer', 'float', 'boolean', 'timestamp', 'null', 'version', 'range', 'list', 'map',
  'scalar-unit.size', 'scalar-unit.time', 'scalar-unit.frequency', 'scalar-unit.bitrate',
]);
const SECTIONS = ['data_types', 'artifact_types', 'capability_types', 'interface_types',
  'relationship_types', 'node_types', 'group_types', 'policy_types'];

function load(): Defs {
  const doc = parseDocument(NORMATIVE_DEFINITIONS, { uniqueKeys: true });
  expect(doc.errors).toEqual([]);
  return doc.toJS() as Defs;
}

/** Every `type:` / `capability:` / `relationship:` / `node:` value nested anywhere in a definition. */
function referencedTypes(value: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => referencedTypes(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (['type', 'capability', 'relationship', 'node', 'derived_from'].includes(k) && typeof v === 'string') out.add(v);
      else if (k === 'valid_source_types' || k === 'valid_target_types') (v as string[]).forEach((t) => out.add(t));
      else referencedTypes(v, out);
    }
  }
  return out;
}

describe('NORMATIVE_DEFINITIONS', () => {
  const defs = load();
  const all = new Set(SECTIONS.flatMap((s) => Object.keys(defs[s] ?? {})));

  it('is a TOSCA definitions document with every section', () => {
    expect((defs as unknown as Record<string, unknown>).tosca_definitions_version).toBe('tosca_simple_yaml_1_0');
    for (const s of SECTIONS) expect(Object.keys(defs[s] ?? {}).length).toBeGreaterThan(0);
  });

  it('names only types it defines (or primitives)', () => {
    const missing = [...referencedTypes(SECTIONS.map((s) => defs[s]), new Set())]
      .filter((t) => !all.has(t) && !PRIMITIVES.has(t));
    expect(missing).toEqual([]);
  });

  it('has every derived_from chain end at its section root', () => {
    const roots: Record<string, string> = {
      data_types: 'tosca.datatypes.Root', artifact_types: 'tosca.artifacts.Root',
      capability_types: 'tosca.capabilities.Root', interface_types: 'tosca.interfaces.Root',
      relationship_types: 'tosca.relationships.Root', node_types: 'tosca.nodes.Root',
      group_types: 'tosca.groups.Root', policy_types: 'tosca.policies.Root',
    };
    for (const s of SECTIONS) {
      for (const name of Object.keys(defs[s])) {
        let t: string | undefined = name;
        const seen = new Set<string>();
        while (t && defs[s][t] && !seen.has(t)) { seen.add(t); t = defs[s][t].derived_from as string | undefined; }
        // data types may derive from a primitive (PortDef from integer, json from string)
        if (t !== undefined) expect(PRIMITIVES.has(t)).toBe(true);
        else expect(seen.has(roots[s])).toBe(true);
      }
    }
  });

  it('defines the types the issue lists', () => {
    for (const t of [
      'tosca.datatypes.Credential', 'tosca.datatypes.TimeInterval', 'tosca.datatypes.network.PortSpec',
      'tosca.datatypes.json', 'tosca.datatypes.xml', 'tosca.capabilities.Endpoint.Public',
      'tosca.capabilities.network.Bindable', 'tosca.relationships.network.LinksTo',
      'tosca.nodes.Container.Application', 'tosca.nodes.network.FloatingIP', 'tosca.policies.Performance',
      'tosca.interfaces.node.lifecycle.Standard', 'tosca.groups.Root',
    ]) expect(all.has(t)).toBe(true);
  });

  it('accepts IM count and removal_list on Scalable, both optional', () => {
    const props = defs.capability_types['tosca.capabilities.Scalable'].properties as Record<string, Record<string, unknown>>;
    expect(props.count).toMatchObject({ type: 'integer', required: false });
    expect(props.removal_list).toMatchObject({ type: 'list', required: false });
    expect(props.min_instances.default).toBe(1);
  });
});
