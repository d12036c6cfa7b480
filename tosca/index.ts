/**
 * tosca/: a pure TOSCA Simple Profile engine. YAML → typed ServiceTemplate (parseTemplate) → Plan
 * (plan / planTemplate). Every rejection is a ToscaError naming file, line, column and YAML path.
 */
import { ToscaError } from './errors';
import type { Plan } from './plan';
import { buildPlan } from './plan/build';
import type { ServiceTemplate } from './template/model';
import { parseTemplate as parseServiceTemplate } from './template/parse';
import { TemplateResolver } from './template/resolve';
export * from './plan';
export { ToscaError, formatPath } from './errors';
export type { ToscaErrorCode } from './errors';
export { diffPlans } from './diff';
export type { PlanDiff } from './diff';
export { evaluateValue } from './evaluate';
export { loadImportMap, readImportMap, ImportResolver, type LoadedImportMap } from './imports';
export type { ServiceTemplate, NodeTemplate } from './template/model';

export interface ImportMap {
  /** URL prefix → local path ({ref} matches one branch/tag name); longest prefix wins. */
  [prefix: string]: string;
}

export interface PlanOptions {
  /** Input values given by the caller (strings from the CLI are converted to the input's type). */
  inputs?: Record<string, unknown>;
  /** File name used in error locations for the main template. */
  fileName?: string;
  /** Base directory for relative imports of the main template. */
  baseDir?: string;
  /** Offline URL → file mapping (the format of tosca-corpus/import-map.json). */
  importMap?: ImportMap;
  /** Directory of the import-map file (its paths are relative to it). */
  importMapDir?: string;
  /** Directory for downloaded imports; when unset, imports by URL that the map misses are errors. */
  cacheDir?: string;
  /**
   * Refuse an input whose default is outside its own constraints. Default: accepted with a warning in
   * Plan.warnings, as IM and tosca-parser accept it (IM's clients put the user's values into defaults).
   */
  strictInputs?: boolean;
  /** Accept duplicate keys in the template (last wins), as IM/PyYAML silently do. Default: located error. */
  allowDuplicateKeys?: boolean;
  /** Imports may be local paths (the command line). Default true; templates from the API set false. */
  localFiles?: boolean;
  /** Downloads an import by URL (default: lib/fetch's guarded fetch, private addresses refused). */
  fetchText?: (url: string) => Promise<string>;
}

/** Parse a template and resolve its imports and types (no inputs needed yet). Throws ToscaError. */
export async function parseTemplate(text: string, opts: PlanOptions = {}): Promise<ServiceTemplate> {
  return guard(opts, () => parseServiceTemplate(text, opts));
}

/** Plan an already parsed template with the given inputs. Throws ToscaError. */
export function plan(template: ServiceTemplate, inputs: Record<string, unknown> = {}, strictInputs = false): Plan {
  try {
    const resolver = new TemplateResolver(template, inputs, strictInputs);
    const built = buildPlan(template, resolver);
    if (resolver.warnings.length) built.warnings = [...resolver.warnings];
    return built;
  } catch (e) {
    throw asToscaError(e, template.file.name);
  }
}

/** Parse, resolve and plan a TOSCA template given as text. Throws ToscaError (located) when invalid. */
export async function planTemplate(text: string, opts: PlanOptions = {}): Promise<Plan> {
  const st = await parseTemplate(text, opts);
  return plan(st, opts.inputs ?? {}, opts.strictInputs ?? false);
}

async function guard<T>(opts: PlanOptions, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw asToscaError(e, opts.fileName ?? 'template.yaml');
  }
}

/** Only ToscaError leaves the engine; anything else is a bug, reported with the same shape. */
function asToscaError(e: unknown, file: string): ToscaError {
  if (e instanceof ToscaError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new ToscaError('invalid', `cannot process template: ${msg}`, file, 0, 0, []);
}
