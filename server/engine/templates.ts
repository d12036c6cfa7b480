/**
 * The engine's view of TOSCA text: planning (tosca/planTemplate), IM's merge of an add-resources template into the stored one, and the
 * template "as it stands" with the live VM counts written back.
 */
import { isMap, parseDocument, type Document, type YAMLMap } from 'yaml';
import { planTemplate, ToscaError } from '../../tosca';
import type { Plan, PlanOptions } from '../../tosca';
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../errors';
import { LruBytes } from '../../lib/lru-bytes';
import { MAX_COUNT } from '../../tosca/plan/compute';

/**
 * The one VM cap of an infrastructure (the template's own: tosca MAX_COUNT), enforced on every path
 * that creates VMs: create (in the planner), add resources and elasticity (which adds through it), import.
 */
export function assertVmCap(total: number, what: string): void {
  if (total > MAX_COUNT) throw new InvalidInputError(`${what}: an infrastructure has at most ${MAX_COUNT} VMs (asked for ${total})`);
}
import { dumpRadlText, mergeRadl, mergeReconfigure, RadlError } from '../../radl';
import { isRadlText, parseRadlOrReject, radlToPlan } from './radl-plan';

export type Planner = (text: string, opts?: PlanOptions) => Promise<Plan>;

export const defaultPlanner: Planner = planTemplate;

/** Plans a template, turning every template error into a 400 with its located message. */
export async function planOrReject(planner: Planner, text: string, opts: PlanOptions): Promise<Plan> {
  if (text.trim() === '') throw new InvalidInputError('Empty TOSCA template');
  let plan: Plan;
  if (isRadlText(text)) {
    plan = radlToPlan(parseRadlOrReject(text));
    assertVmCap(plan.computes.reduce((n, c) => n + c.count, 0), 'Error parsing the RADL');
    return plan;
  }
  try {
    plan = await planner(text, opts);
  } catch (e) {
    if (e instanceof InvalidInputError) throw e;
    if (e instanceof ToscaError) throw new InvalidInputError(`Error parsing the TOSCA template: ${e.message}`);
    throw e;
  }
  if (opts.localFiles === false) rejectLocalArtifacts(plan, opts.importMap ?? {});
  return plan;
}

/**
 * A template from the API names its artifacts by URL: a path would be read on the server (its key,
 * its database), so it is refused when the template is posted, not when configuration runs. That
 * includes a bare relative name (`install.sh`): a posted template has no folder of its own, so it
 * would only fail later, after the VMs were paid for. Allowed: a URL, a name relative to an
 * imported file reached by URL (`url`), a name the operator's import map carries (read from the
 * map's folder, as configuration does: server/configure/artifacts.ts).
 */
function rejectLocalArtifacts(plan: Plan, importMap: Record<string, string>): void {
  const owners = [...plan.computes.map((c) => ({ name: c.name, ops: c.operations ?? [] })),
    ...plan.software.map((s) => ({ name: s.name, ops: [...s.operations, ...(s.teardown ?? [])] }))];
  for (const { name, ops } of owners) {
    for (const op of ops) {
      const impl = op.implementation;
      if (!impl || impl.url !== undefined || /^https?:\/\//i.test(impl.path) || Object.hasOwn(importMap, impl.path)) continue;
      throw new InvalidInputError(`Error parsing the TOSCA template: node ${name}, operation ${op.name}: artifact ${impl.path}: local paths are not allowed (use an http(s) URL)`);
    }
  }
}

function docOf(text: string): Document.Parsed {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new InvalidInputError(`Error parsing the TOSCA template: ${doc.errors[0].message}`);
  return doc;
}

/**
 * IM merges an add-resources template into the stored one: node templates, inputs and outputs of
 * the new one replace or extend those of the old.
 */
export function mergeTemplates(oldText: string, newText: string): string {
  if (isRadlText(oldText) !== isRadlText(newText)) {
    throw new InvalidInputError('Add resources in the language the infrastructure was created with (RADL or TOSCA)');
  }
  if (isRadlText(oldText)) {
    try {
      return dumpRadlText(mergeRadl(parseRadlOrReject(oldText), parseRadlOrReject(newText)));
    } catch (e) {
      if (e instanceof RadlError) throw new InvalidInputError(`Error parsing RADL: ${e.message}`);
      throw e;
    }
  }
  const oldDoc = docOf(oldText);
  const newDoc = docOf(newText);
  for (const section of ['inputs', 'node_templates', 'outputs', 'policies', 'groups']) {
    const incoming = newDoc.getIn(['topology_template', section], true);
    if (!isMap(incoming)) continue;
    if (!isMap(oldDoc.getIn(['topology_template', section], true))) {
      oldDoc.setIn(['topology_template', section], incoming);
      continue;
    }
    for (const pair of (incoming as YAMLMap).items) {
      oldDoc.setIn(['topology_template', section, (pair.key as { value?: unknown })?.value ?? pair.key], pair.value);
    }
  }
  const imports = newDoc.get('imports', true);
  if (imports && !oldDoc.has('imports')) oldDoc.set('imports', imports);
  return oldDoc.toString();
}

/** Reconfigure with a RADL body (IM): its configures and contextualize update the stored RADL. */
export function reconfigureTemplate(oldText: string, radlText: string): string {
  if (!isRadlText(oldText)) throw new InvalidInputError('Reconfigure with RADL needs an infrastructure created with RADL');
  try {
    return dumpRadlText(mergeReconfigure(parseRadlOrReject(oldText), parseRadlOrReject(radlText)));
  } catch (e) {
    if (e instanceof RadlError) throw new InvalidInputError(`Error parsing RADL: ${e.message}`);
    throw e;
  }
}

/**
 * GET …/tosca answers: re-serialising through the `yaml` Document API costs ~2 µs per byte on the
 * event loop (a 1 MB template: over a second of nobody else answered), so each (template, counts) is
 * computed once and kept, LRU by bytes; a change of template or counts is a new key.
 */
const withCountsCache = new LruBytes<string>(32 * 1024 * 1024);

export function templateWithCountsCached(text: string, counts: Record<string, number>): string {
  const key = `${createHash('sha1').update(text).digest('hex')}:${JSON.stringify(Object.entries(counts).sort())}`;
  const hit = withCountsCache.get(key);
  if (hit !== undefined) return hit;
  const out = templateWithCounts(text, counts);
  withCountsCache.set(key, out, out.length * 2);
  return out;
}

/** The template with each compute's scalable.count set to its live VM count and removal_list dropped. */
export function templateWithCounts(text: string, counts: Record<string, number>): string {
  if (isRadlText(text)) throw new InvalidInputError('The infrastructure was created with RADL: it has no TOSCA template (GET its radl)');
  const doc = docOf(text);
  for (const [node, count] of Object.entries(counts)) {
    if (!doc.hasIn(['topology_template', 'node_templates', node])) continue;
    doc.setIn(['topology_template', 'node_templates', node, 'capabilities', 'scalable', 'properties', 'count'], count);
    doc.deleteIn(['topology_template', 'node_templates', node, 'capabilities', 'scalable', 'properties', 'removal_list']);
  }
  return doc.toString();
}
