/**
 * Whatever text comes in, the engine answers with a plan or a ToscaError — never another exception,
 * never a hang. Inputs: random text, random YAML documents built from TOSCA words, and mutations of a
 * valid template (a subtree replaced by a random value).
 */
import fc from 'fast-check';
import { readFileSync } from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { planTemplate, PlanOptions, readImportMap, ToscaError } from '../../tosca';
import { sharedPath } from '../shared-dir';

const CORPUS = sharedPath('tosca-corpus');
const BASE = readFileSync(path.join(CORPUS, 'grycap__tosca/templates/simple-node-disk.yml'), 'utf8');

async function onlyToscaErrors(text: string, inputs?: Record<string, unknown>, opts: PlanOptions = {}): Promise<boolean> {
  try {
    await planTemplate(text, { fileName: 'random.yaml', inputs, baseDir: '/nonexistent', ...opts });
    return true;
  } catch (e) {
    if (e instanceof ToscaError && e.file.length > 0 && Number.isInteger(e.line) && !/cannot process template/.test(e.message)) return true;
    throw e;
  }
}

const WORDS = [
  'tosca_definitions_version', 'tosca_simple_yaml_1_0', 'topology_template', 'node_templates', 'inputs', 'outputs', 'type',
  'properties', 'capabilities', 'requirements', 'interfaces', 'Standard', 'create', 'implementation', 'host', 'node',
  'relationship', 'tosca.nodes.Compute', 'tosca.nodes.SoftwareComponent', 'get_input', 'get_property', 'get_attribute',
  'concat', 'token', 'join', 'SELF', 'HOST', 'default', 'value', 'policies', 'groups', 'members', 'targets', 'imports',
  'scalable', 'count', 'node_types', 'derived_from', 'constraints', 'in_range', 'entry_schema', 'a', 'b',
  'constructor', '__proto__', 'toString', 'removal_list', 'endpoint', 'network_name', 'PUBLIC', 'ports', 'lrms', 'wn',
];
const word = fc.constantFrom(...WORDS);
const leaf = fc.oneof(word, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 8 }));
const tree = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(word, tie('value'), { maxKeys: 5 }),
})).value;

describe('robustness (fast-check)', () => {
  test('random text', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 200 }), (t) => onlyToscaErrors(t)), { numRuns: 300 });
  });

  test('random TOSCA-shaped documents', async () => {
    const doc = fc.record({
      tosca_definitions_version: fc.oneof(fc.constant('tosca_simple_yaml_1_0'), leaf),
      topology_template: fc.oneof(tree, fc.record({ node_templates: tree, inputs: tree, outputs: tree, policies: tree })),
      node_types: fc.oneof(fc.constant(undefined), tree),
    }, { requiredKeys: ['tosca_definitions_version'] });
    await fc.assert(fc.asyncProperty(doc, (d) => onlyToscaErrors(stringify(d))), { numRuns: 300 });
  });

  test('mutations of a real template', async () => {
    const base = (await import('yaml')).parse(BASE) as Record<string, unknown>;
    const paths: (string | number)[][] = [];
    const collect = (v: unknown, p: (string | number)[]) => {
      paths.push(p);
      if (Array.isArray(v)) v.forEach((x, i) => collect(x, [...p, i]));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, [...p, k]);
    };
    collect(base, []);
    const map = await readImportMap(path.join(CORPUS, 'import-map.json'));
    await planTemplate(BASE, map); // the unmutated template plans
    const mutation = fc.tuple(fc.constantFrom(...paths.filter((p) => p.length > 0)), tree, fc.dictionary(fc.constantFrom('num_cpus', 'mem_size', 'fe_cpus', 'storage_size'), leaf));
    await fc.assert(fc.asyncProperty(mutation, async ([p, value, inputs]) => {
      const copy = structuredClone(base);
      let cur: Record<string | number, unknown> = copy;
      for (const k of p.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
      cur[p[p.length - 1]] = value;
      return onlyToscaErrors(stringify(copy), inputs, map);
    }), { numRuns: 300 });
  });
});
