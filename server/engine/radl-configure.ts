/**
 * RADL `configure` recipes as configuration steps: each item of `contextualize` (or, without a
 * contextualize block, IM's default: the configure named like each deployed system, in deploy order)
 * becomes a software node hosted on its system with one Ansible `configure` operation, whose playbook is
 * the recipe given in the document. So a recipe runs through the master exactly like a TOSCA Ansible
 * operation (same step type, same master path, same rules), and the step planner orders them:
 * within a VM in contextualize order, and every item waits for the items of lower step numbers.
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Radl } from '../../radl';
import type { SoftwarePlan } from '../../tosca/plan';
import { InvalidInputError } from '../errors';

/** Keys only a play has (a recipe made of plays, as IM's examples write them, vs a bare task list). */
const PLAY_KEYS = ['tasks', 'roles', 'pre_tasks', 'post_tasks', 'handlers', 'hosts', 'import_playbook', 'gather_facts'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The playbook of a recipe, as IM's ConfManager.mergeYAML makes it: each play of the recipe gets IM's
 * header (`become: yes`, and its hosts: here every host of the run — the run is limited to the VMs of
 * the systems that use the configure). A recipe that is a list of tasks is wrapped into one play.
 * Undefined when the recipe has nothing to run.
 */
export function recipePlaybook(name: string, recipe: string): string | undefined {
  let doc: unknown;
  try {
    // YAML 1.1 as Ansible (PyYAML) reads it: `become: no` is false
    doc = parseYaml(recipe, { version: '1.1' });
  } catch (e) {
    throw new InvalidInputError(`Error parsing RADL: configure ${name}: invalid Ansible YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return undefined;
  const list = Array.isArray(doc) ? doc : [doc];
  if (list.length === 0) return undefined;
  if (!list.every(isObject)) throw new InvalidInputError(`Error parsing RADL: configure ${name}: a recipe is a list of plays or of tasks`);
  const isPlays = list.every((p) => PLAY_KEYS.some((k) => k in p));
  const plays = isPlays ? list : [{ tasks: list }];
  return stringifyYaml(plays.map((p) => ({ hosts: 'all', become: true, ...p })));
}

/** The configure items that run, in IM's order: contextualize's, or each deployed system's own configure. */
function contextItems(radl: Radl, deployed: string[]): { system: string; configure: string; step: number }[] {
  const items = radl.contextualize.items;
  if (items === null) {
    return deployed.filter((s) => radl.getConfigure(s)).map((s) => ({ system: s, configure: s, step: 1 }));
  }
  // IM runs only the Ansible items (a `with cloud_init` one is given to the cloud at launch)
  const chosen = [...items.values()].filter((i) => !i.ctxtTool || i.ctxtTool.toLowerCase() === 'ansible');
  // stable: the written order within a step
  return chosen.map((i, n) => ({ i, n })).sort((a, b) => a.i.step - b.i.step || a.n - b.n).map(({ i }) => i);
}

/** Software nodes (one per contextualize item whose configure has a recipe) for the Plan. */
export function radlConfigureSoftware(radl: Radl, deployed: string[]): { software: SoftwarePlan[]; warnings: string[] } {
  const software: SoftwarePlan[] = [];
  const warnings: string[] = [];
  const playbooks = new Map<string, string | undefined>();
  const byStep: { step: number; name: string }[] = [];
  for (const item of contextItems(radl, deployed)) {
    const conf = radl.getConfigure(item.configure);
    if (!conf || conf.recipes === null) {
      warnings.push(`contextualize names configure ${item.configure} for system ${item.system}, which has no recipe: skipped`);
      continue;
    }
    if (!radl.getSystem(item.system)) {
      warnings.push(`contextualize names system ${item.system}, which is not defined: configure ${item.configure} skipped`);
      continue;
    }
    if (!playbooks.has(conf.name)) playbooks.set(conf.name, recipePlaybook(conf.name, conf.recipes));
    const content = playbooks.get(conf.name);
    if (content === undefined) continue;
    // the same configure on several systems is one node per system; the name says both when needed
    const name = software.some((s) => s.name === conf.name) ? `${conf.name}@${item.system}` : conf.name;
    software.push({
      name, type: 'radl.configure', host: item.system, properties: {},
      operations: [{ interface: 'Standard', name: 'configure', implementation: { kind: 'ansible', path: `${conf.name}.yml`, content }, inputs: {} }],
      // every item of a lower step, on every VM, finishes first (IM's contextualization steps)
      dependsOn: byStep.filter((b) => b.step < item.step).map((b) => b.name),
    });
    byStep.push({ step: item.step, name });
  }
  return { software, warnings };
}
