/**
 * The template catalogue (`serve --templates DIR`): every *.yaml/*.yml TOSCA template of the folder,
 * read at start. A card shows metadata.display_name/template_name, description and icon; the form
 * comes from topology_template.inputs, grouped by metadata.tabs (a tab is a regular expression over
 * input names or a list of names, as IM-Dashboard reads them). A template whose metadata.parents
 * names other templates is a fragment (grycap/tosca): it is offered on each parent's card, and
 * choosing it merges its inputs, nodes, outputs and tabs into the parent, as IM-Dashboard does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, parseDocument, stringify } from 'yaml';
import { fieldFromInput, type Field } from './inputs';

export interface Tab { name: string; fields: Field[] }

export interface TemplateEntry {
  /** File name: the id in URLs. */
  id: string;
  name: string;
  description: string;
  /** File name of an icon inside the folder, when the template names a local one. */
  icon?: string;
  /** Ids of the templates this one is a fragment of. */
  parents: string[];
  doc: Record<string, any>;
}

export class CatalogueError extends Error {}

export class Catalogue {
  readonly entries: TemplateEntry[];

  constructor(readonly dir?: string, onSkip: (file: string, why: string) => void = () => {}) {
    this.entries = [];
    if (!dir) return;
    for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      try {
        const doc = parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, any>;
        if (!doc || typeof doc !== 'object' || !String(doc.tosca_definitions_version ?? '').startsWith('tosca_')) continue;
        const md = (doc.metadata ?? {}) as Record<string, any>;
        const icon = typeof md.icon === 'string' && !/^[a-z]+:/i.test(md.icon) ? md.icon : undefined;
        this.entries.push({
          id: file,
          name: String(md.display_name ?? md.template_name ?? file),
          description: String(doc.description ?? ''),
          icon,
          parents: Array.isArray(md.parents) ? md.parents.map(String) : [],
          doc,
        });
      } catch (err) {
        onSkip(file, (err as Error).message);
      }
    }
  }

  /** Templates shown as cards (fragments appear on their parents' cards). */
  cards(): TemplateEntry[] {
    return this.entries.filter((e) => e.parents.length === 0);
  }

  fragmentsOf(id: string): TemplateEntry[] {
    return this.entries.filter((e) => e.parents.includes(id));
  }

  get(id: string): TemplateEntry {
    const e = this.entries.find((x) => x.id === id);
    if (!e) throw new CatalogueError(`no template "${id}" in the catalogue`);
    return e;
  }

  /** The template to launch: the parent with the chosen fragments merged in. */
  compose(id: string, fragmentIds: string[]): Record<string, any> {
    const base = structuredClone(this.get(id).doc);
    for (const fid of fragmentIds) {
      const frag = this.get(fid);
      if (!frag.parents.includes(id)) throw new CatalogueError(`"${fid}" is not a fragment of "${id}"`);
      mergeFragment(base, frag.doc);
    }
    return base;
  }

  iconPath(id: string): string | undefined {
    const e = this.entries.find((x) => x.id === id);
    if (!e?.icon || !this.dir) return undefined;
    const file = path.resolve(this.dir, e.icon);
    // Only files inside the catalogue folder are served.
    return file.startsWith(path.resolve(this.dir) + path.sep) && fs.existsSync(file) ? file : undefined;
  }
}

/** IM-Dashboard's merge: the fragment's topology sections and tabs extend or replace the parent's. */
function mergeFragment(base: Record<string, any>, frag: Record<string, any>): void {
  base.topology_template ??= {};
  for (const section of ['inputs', 'node_templates', 'outputs', 'policies']) {
    const add = frag.topology_template?.[section];
    if (!add) continue;
    if (Array.isArray(add)) base.topology_template[section] = [...(base.topology_template[section] ?? []), ...add];
    else base.topology_template[section] = { ...(base.topology_template[section] ?? {}), ...add };
  }
  const tabs = frag.metadata?.tabs;
  if (tabs && typeof tabs === 'object') {
    base.metadata ??= {};
    base.metadata.tabs = { ...(base.metadata.tabs ?? {}), ...tabs };
  }
}

/** The form's tabs: inputs grouped by metadata.tabs, the rest under "Other" (or "Inputs" alone). */
export function formTabs(doc: Record<string, any>): Tab[] {
  const inputs = (doc.topology_template?.inputs ?? {}) as Record<string, Record<string, unknown>>;
  const names = Object.keys(inputs);
  const placed = new Set<string>();
  const tabs: Tab[] = [];
  const tabSpec = (doc.metadata?.tabs ?? {}) as Record<string, unknown>;
  for (const [tabName, spec] of Object.entries(tabSpec)) {
    const fields: Field[] = [];
    const take = (name: string, extra: Record<string, unknown> = {}) => {
      if (!inputs[name] || placed.has(name)) return;
      placed.add(name);
      fields.push(fieldFromInput(name, inputs[name], extra));
    };
    if (typeof spec === 'string') {
      let re: RegExp;
      try { re = new RegExp(`^(?:${spec})$`); } catch { continue; }
      names.filter((n) => re.test(n)).forEach((n) => take(n));
    } else if (Array.isArray(spec)) {
      for (const item of spec) {
        if (typeof item === 'string') take(item);
        else if (item && typeof item === 'object') for (const [n, o] of Object.entries(item)) take(n, (o ?? {}) as Record<string, unknown>);
      }
    }
    if (fields.length) tabs.push({ name: tabName, fields });
  }
  const rest = names.filter((n) => !placed.has(n)).map((n) => fieldFromInput(n, inputs[n]));
  if (rest.length) tabs.push({ name: tabs.length ? 'Other' : 'Inputs', fields: rest });
  return tabs;
}

/** The TOSCA text to create: every input's default set to the person's value. */
export function withInputValues(doc: Record<string, any>, values: Record<string, unknown>): string {
  const d = parseDocument(stringify(doc));
  for (const [name, value] of Object.entries(values)) d.setIn(['topology_template', 'inputs', name, 'default'], value);
  return d.toString();
}
