/** Read an import-map file (the format of tosca-corpus/import-map.json) into PlanOptions. */
import { readFileSync } from 'fs';
import { dirname, resolve } from 'path';
import type { ImportMap } from '../tosca';

export interface LoadedImportMap {
  importMap: ImportMap;
  /** The map's own directory: its paths are relative to it. */
  importMapDir: string;
}

export function loadImportMap(file: string): LoadedImportMap {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: an import map is a JSON object of URL prefix → path`);
  const importMap: ImportMap = {};
  for (const [prefix, path] of Object.entries(raw)) {
    // the corpus map documents itself with a "comment" entry; anything not a URL prefix is prose
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(prefix)) continue;
    if (typeof path !== 'string') throw new Error(`${file}: the path for ${prefix} must be a string`);
    importMap[prefix] = path;
  }
  return { importMap, importMapDir: dirname(resolve(file)) };
}
