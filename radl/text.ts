/**
 * Radl → RADL text in grycap/RADL's layout (the __str__ methods of radl.py, what IM answers), with two
 * guarantees the reference lacks: every string is quoted so it reads back as the same value, and every name
 * is written as a RADL identifier, so no value or name can end a block and forge another one.
 */
import { Configure, Contextualize, Deploy, Feature, FeatureAspect, Features, Radl, SOFT, SoftFeatures } from './model';

const IDENT = /^[a-zA-Z_.][\p{L}\p{N}_.-]*$/u;
const RESERVED = new Set(['network', 'ansible', 'system', 'soft', 'and', 'contains', 'deploy', 'configure',
  'contextualize', 'step', 'with', 'option', 'description']);

/** A name as a RADL identifier: other characters become `_`, and a keyword gets a leading `_`. */
export function radlName(name: string): string {
  if (IDENT.test(name) && !RESERVED.has(name)) return name;
  let s = name.replace(/[^\p{L}\p{N}_.-]/gu, '_');
  if (!/^[a-zA-Z_.]/.test(s) || RESERVED.has(s)) s = `_${s}`;
  return s;
}

/**
 * A RADL string literal. The reference reads `\'` as `'` and keeps every other backslash pair; a backslash
 * just before a quote, a newline or the end cannot be written, so a space follows it (the value changes by
 * that space instead of breaking the document).
 */
export function radlString(v: string): string {
  return `'${v.replace(/\\(?=['\n]|$)/g, '\\ ').replace(/'/g, "\\'")}'`;
}

function featureText(f: Feature): string {
  const v = f.value;
  if (f.prop === SOFT && v instanceof SoftFeatures) return `soft ${v.weight} ( ${featuresText(v)} )`;
  const prop = radlName(f.prop);
  if (Array.isArray(v)) return `${prop} ${f.op} [${v.map(radlString).join(',')}]`;
  if (v instanceof Features) return `${prop} contains (${featuresText(v)})`;
  if (typeof v === 'string') return `${prop} ${f.op} ${radlString(v)}`;
  if (typeof v === 'boolean') return `${prop} ${f.op} ${v ? 1 : 0}`;
  if (typeof v === 'number') return `${prop} ${f.op} ${v}${f.unit ? radlName(f.unit) : ''}`;
  return `${prop} ${f.op} ${radlString(v.id)}`;
}

export function featuresText(fs: Features): string {
  return fs.features().map(featureText).join(' and\n');
}

function aspectText(a: FeatureAspect): string {
  const id = radlName(a.id);
  switch (a.cls) {
    case 'network': return `network ${id} ${a.reference ? '' : `( ${featuresText(a)} )`}`;
    case 'system': return `system ${id} ${a.reference ? '' : `(\n${featuresText(a)}\n)\n`}`;
    case 'ansible': return `ansible ${id} (${featuresText(a)})`;
    default: return a.reference ? `description ${id}` : `description ${id} (${featuresText(a)})`;
  }
}

function configureText(c: Configure): string {
  const name = radlName(c.name);
  if (c.reference) return `configure ${name}`;
  if (c.recipes === null) return `configure ${name} ()`;
  // a recipe line starting with @end would close the block early: indent it (YAML-neutral at column 0 is not
  // possible, and such a line is not valid YAML anyway)
  const recipes = c.recipes.replace(/^@end/gm, ' @end');
  // the reference keeps the rest of the @begin line and the last newline in the recipe: write them back as read
  return `configure ${name} (\n@begin${recipes}${recipes.endsWith('\n') ? '' : '\n'}@end\n)`;
}

function contextualizeText(c: Contextualize): string {
  if (c.items === null && c.options === null) return '';
  if (!c.items?.size && !c.options?.size) return 'contextualize ()';
  const options = c.options?.size ? [...c.options.values()].map((o) => `option ${featureText(o)}`).join('\n') + '\n' : '';
  const items = [...(c.items?.values() ?? [])].map((i) =>
    `system ${radlName(i.system)} configure ${radlName(i.configure)} ${i.step ? `step ${i.step}` : ''} ${i.ctxtTool ? `with ${radlName(i.ctxtTool)}` : ''}`).join('\n');
  return `contextualize ${c.maxTime || ''} (\n${options}${items}\n)`;
}

function deployText(d: Deploy): string {
  return `deploy ${radlName(d.system)} ${d.vmNumber}${d.cloud ? ` ${radlName(d.cloud)}` : ''}`;
}

/** The document as RADL text (radl.RADL.__str__ order: description, ansible, networks, systems, …). */
export function dumpRadlText(radl: Radl): string {
  const parts = [
    ...radl.ansibleHosts.map(aspectText), ...radl.networks.map(aspectText), ...radl.systems.map(aspectText),
    ...radl.configures.map(configureText), contextualizeText(radl.contextualize), ...radl.deploys.map(deployText),
  ];
  return (radl.description ? aspectText(radl.description) + '\n' : '') + parts.join('\n');
}
