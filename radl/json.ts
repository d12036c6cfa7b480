/**
 * IM's JSON RADL (grycap/RADL radl_json.py) both ways: a list of `{"class": …, "id": …}` objects; numeric
 * constraints as `prop_min`/`prop_max` (or `prop` when fixed) in base units; `contains` groups as lists.
 */
import { RadlError } from './errors';
import {
  Configure, Contextualize, Deploy, Feature, FeatureAspect, Features, Radl, SOFT, SoftFeatures,
  type ContextItem, type FeatureValue,
} from './model';
import { inFile } from './parser';

export type Simple = null | boolean | number | string | Simple[] | { [k: string]: Simple };
type Obj = { [k: string]: Simple };

/** radl_json.radlToSimple: the JSON RADL objects of a document, in IM's order. */
export function radlToSimple(radl: Radl): Obj[] {
  const out: Obj[] = [];
  for (const a of [...radl.ansibleHosts, ...radl.networks, ...radl.systems]) out.push(aspectToSimple(a));
  for (const c of radl.configures) {
    out.push(c.reference ? { class: 'configure', id: c.name, reference: true } : { class: 'configure', id: c.name, recipes: c.recipes });
  }
  for (const d of radl.deploys) {
    const r: Obj = { class: 'deploy', system: d.system, vm_number: d.vmNumber };
    if (d.cloud) r.cloud = d.cloud;
    out.push(r);
  }
  const ctx = radl.contextualize;
  if (ctx.items || ctx.options) {
    const r: Obj = { class: 'contextualize' };
    if (ctx.maxTime) r.max_time = ctx.maxTime;
    if (ctx.items?.size) r.items = [...ctx.items.values()].map(itemToSimple);
    if (ctx.options?.size) r.options = featuresToSimple(new Features(ctx.options.values()));
    out.push(r);
  }
  if (radl.description) out.push(aspectToSimple(radl.description));
  return out;
}

function itemToSimple(i: ContextItem): Obj {
  const r: Obj = { system: i.system, configure: i.configure };
  if (i.step) r.step = i.step;
  if (i.ctxtTool) r.ctxt_tool = i.ctxtTool;
  return r;
}

function aspectToSimple(a: FeatureAspect): Obj {
  if (a.reference) return { class: a.cls, id: a.id, reference: true };
  return { class: a.cls, id: a.id, ...featuresToSimple(a) };
}

export function featuresToSimple(fs: Features): Obj {
  const r: Array<[string, Simple]> = []; // entries, so a feature named __proto__ stays a plain key
  for (const [k, p] of fs.props) {
    if (p.kind === 'soft') r.push(['softs', p.list.map((s) => ({ weight: s.weight, items: featuresToSimple(s) }))]);
    else if (p.kind === 'interval') {
      if (p.min && p.max && p.min.value === p.max.value) r.push([k, valueToSimple(p.min)]);
      else if (p.min) r.push([`${k}_min`, valueToSimple(p.min)]);
      else if (p.max) r.push([`${k}_max`, valueToSimple(p.max)]);
    } else if (p.kind === 'contains') r.push([k, [...p.items.values()].map(valueToSimple)]);
    else r.push([k, valueToSimple(p.f)]);
  }
  return Object.fromEntries(r) as Obj;
}

function valueToSimple(f: Feature): Simple {
  const v = f.value;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return f.unit ? f.numeric() : v;
  if (typeof v === 'string' || Array.isArray(v)) return v;
  if (v instanceof Features) return featuresToSimple(v);
  return { class: v.refClass, id: v.id, reference: true };
}

/** Dump as IM does (radl_json.dump_radl): sorted keys, two-space indent; `compact` for one line. */
export function dumpRadlJson(radl: Radl, compact = false): string {
  return JSON.stringify(sortKeys(radlToSimple(radl)), null, compact ? undefined : 2);
}

function sortKeys(v: Simple): Simple {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

function bad(detail: string, path: Array<string | number>): never {
  throw new RadlError('json', detail, '', 0, 0, path);
}

const FEATURE_CLASSES = new Set(['network', 'system', 'ansible', 'description']);

/** Parse IM's JSON RADL (radl_json.parse_radl) from text or an already decoded value. */
export function parseRadlJson(input: string | unknown, file = 'radl.json'): Radl {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input);
    } catch (e) {
      throw new RadlError('json', `invalid JSON: ${(e as Error).message}`, file, 1, 1);
    }
  }
  try {
    if (!Array.isArray(data)) bad('JSON RADL must be a list of objects with a "class"', []);
    const radl = new Radl();
    data.forEach((a, i) => radl.add(aspect(a, [i])));
    return radl;
  } catch (e) {
    throw inFile(e, file);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, path: Array<string | number>): string {
  if (typeof v !== 'string') bad('expected a string', path);
  return v;
}

function num(v: unknown, path: Array<string | number>): number {
  if (typeof v !== 'number') bad('expected a number', path);
  return v;
}

function aspect(a: unknown, path: Array<string | number>): FeatureAspect | Configure | Deploy | Contextualize {
  if (!isObj(a) || typeof a.class !== 'string') bad('each element needs a "class"', path);
  if (a.class === 'configure') {
    const id = str(a.id, [...path, 'id']);
    if (a.reference) return new Configure(id, null, true);
    if (!('recipes' in a)) bad('a configure needs "recipes"', path);
    return new Configure(id, a.recipes === null ? null : str(a.recipes, [...path, 'recipes']));
  }
  if (a.class === 'contextualize') {
    const items = a.items ?? [];
    if (!Array.isArray(items)) bad('"items" must be a list', [...path, 'items']);
    const ctx: ContextItem[] = items.map((it: unknown, j) => {
      const p = [...path, 'items', j];
      if (!isObj(it)) bad('expected an object', p);
      const item: ContextItem = { system: str(it.system, [...p, 'system']), configure: str(it.configure, [...p, 'configure']), step: it.step === undefined ? 0 : num(it.step, [...p, 'step']), loc: { line: 0, column: 0 } };
      if (it.ctxt_tool !== undefined && it.ctxt_tool !== null) item.ctxtTool = str(it.ctxt_tool, [...p, 'ctxt_tool']);
      return item;
    });
    const opts = a.options ?? {};
    if (!isObj(opts)) bad('"options" must be an object', [...path, 'options']);
    return Contextualize.of(ctx, a.max_time === undefined ? 0 : num(a.max_time, [...path, 'max_time']), features(opts, [...path, 'options']));
  }
  if (a.class === 'deploy') {
    const cloud = a.cloud === undefined || a.cloud === null ? undefined : str(a.cloud, [...path, 'cloud']);
    return new Deploy(str(a.system, [...path, 'system']), num(a.vm_number, [...path, 'vm_number']), cloud);
  }
  if (!FEATURE_CLASSES.has(a.class)) bad(`unknown class ${JSON.stringify(a.class)}`, [...path, 'class']);
  const id = str(a.id, [...path, 'id']);
  const cls = a.class as FeatureAspect['cls'];
  if (a.reference) return new FeatureAspect(cls, id, [], true);
  return new FeatureAspect(cls, id, features(a, path));
}

function features(a: Record<string, unknown>, path: Array<string | number>): Feature[] {
  const out: Feature[] = [];
  for (const [k, v] of Object.entries(a)) {
    if (k === 'class' || k === 'id') continue;
    const p = [...path, k];
    if (k === 'softs') {
      if (!Array.isArray(v)) bad('"softs" must be a list', p);
      v.forEach((s: unknown, j) => {
        if (!isObj(s)) bad('expected an object', [...p, j]);
        const items = s.items ?? {};
        if (!isObj(items)) bad('expected an object', [...p, j, 'items']);
        out.push(new Feature(SOFT, 'contains', new SoftFeatures(Number(s.weight ?? 0), features(items, [...p, j, 'items']))));
      });
    } else if (k.endsWith('_min') && typeof v === 'number') out.push(new Feature(k.slice(0, -4), '>=', v));
    else if (k.endsWith('_max') && typeof v === 'number') out.push(new Feature(k.slice(0, -4), '<=', v));
    else if (Array.isArray(v)) {
      // IM keeps these two as lists; a list of plain strings elsewhere is what dumping `p = ['a', 'b']`
      // gives, which the reference cannot read back: we read it as the list it was.
      const listKey = (k.startsWith('disk') && k.endsWith('image.url')) || (k.startsWith('net_interface') && k.endsWith('additional_dns_names'));
      if (listKey || (v.length > 0 && v.every((x) => typeof x === 'string'))) {
        out.push(new Feature(k, '=', v.map((x, j) => str(x, [...p, j]))));
      } else v.forEach((x, j) => out.push(new Feature(k, 'contains', value(x, [...p, j]))));
    } else out.push(new Feature(k, '=', value(v, p)));
  }
  return out;
}

function value(v: unknown, path: Array<string | number>): FeatureValue {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (isObj(v) && typeof v.class === 'string') return { refClass: v.class, id: str(v.id, [...path, 'id']) };
  if (isObj(v)) return new Features(features(v, path));
  return bad('expected a number, a string or an object', path);
}
