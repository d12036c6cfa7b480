/**
 * Merge an IM-Dashboard template fragment into its parent, as the dashboard does before sending a
 * deployment to IM: the fragment's imports are added to the parent's (once each), and its inputs,
 * node_templates and outputs are added to the parent's topology_template (a fragment entry with the
 * same name replaces the parent's). The parent's text, comments and layout are otherwise kept.
 */
import { Document, isMap, isNode, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';

const plain = (n: unknown): unknown => (isNode(n) ? n.toJSON() : n);
const copy = (n: unknown): unknown => (isNode(n) ? n.clone() : n);

const MERGED_SECTIONS = ['inputs', 'node_templates', 'outputs'] as const;

function load(text: string, what: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`${what}: ${doc.errors[0].message}`);
  return doc;
}

export function mergeFragment(parentText: string, fragmentText: string): string {
  const parent = load(parentText, 'parent template');
  const fragment = load(fragmentText, 'fragment');

  const imports = fragment.get('imports');
  if (isSeq(imports)) {
    let target = parent.get('imports');
    if (!isSeq(target)) { target = new YAMLSeq(); parent.set('imports', target); }
    const seq = target as YAMLSeq;
    const seen = new Set(seq.items.map((i) => JSON.stringify(plain(i))));
    for (const item of imports.items) {
      const key = JSON.stringify(plain(item));
      if (!seen.has(key)) { seq.add(copy(item)); seen.add(key); }
    }
  }

  for (const section of MERGED_SECTIONS) {
    const entries = fragment.getIn(['topology_template', section]);
    if (!isMap(entries)) continue;
    if (!isMap(parent.getIn(['topology_template', section]))) parent.setIn(['topology_template', section], new YAMLMap());
    for (const pair of entries.items) {
      parent.setIn(['topology_template', section, isScalar(pair.key) ? pair.key.value : pair.key], copy(pair.value));
    }
  }
  return parent.toString({ lineWidth: 0 });
}
