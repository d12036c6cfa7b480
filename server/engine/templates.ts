/**
 * The engine's view of TOSCA text: planning (tosca/planTemplate), IM's merge of an add-resources template into the stored one, and the
 * template "as it stands" with the live VM counts written back.
 */
import { isMap, parseDocument, type Document, type YAMLMap } from 'yaml';
import { planTemplate, ToscaError } from '../../tosca';
import type { Plan, PlanOptions } from '../../tosca';
import { InvalidInputError } from '../errors';
import { dumpRadlText, mergeRadl, RadlError } from '../../radl';
import { isRadlText, parseRadlOrReject, radlToPlan } from './radl-plan';

export type Planner = (text: string, opts?: PlanOptions) => Promise<Plan>;

export const defaultPlanner: Planner = planTemplate;

/** Plans a template, turning every template error into a 400 with its located message. */
export async function planOrReject(planner: Planner, text: string, opts: PlanOptions): Promise<Plan> {
  if (text.trim() === '') throw new InvalidInputError('Empty TOSCA template');
  if (isRadlText(text)) return radlToPlan(parseRadlOrReject(text));
  try {
    return await planner(text, opts);
  } catch (e) {
    if (e instanceof InvalidInputError) throw e;
    if (e instanceof ToscaError) throw new InvalidInputError(`Error parsing the TOSCA template: ${e.message}`);
    throw e;
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
