/**
 * tosca/: a pure TOSCA Simple Profile engine. Public entry points (signatures fixed; the
 * implementation is being written — see issue 3).
 */
import type { Plan } from './plan';
export * from './plan';

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
}

/** Parse, resolve and plan a TOSCA template given as text. Throws ToscaError (located) when invalid. */
export declare function planTemplate(text: string, opts?: PlanOptions): Promise<Plan>;
