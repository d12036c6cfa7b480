/**
 * Finds the text of an import (relative path, URL, or repository + file), offline first: an import map
 * (URL prefix → local file, `{ref}` = one branch/tag, longest prefix wins), then an on-disk download
 * cache (only when a cache directory is given). Parsed files are kept in memory by location + content
 * hash, so the big INDIGO types file is parsed once per process.
 */
import { createHash } from 'crypto';
import { promises as fs, readFileSync, statSync } from 'fs';
import * as path from 'path';
import { ToscaError } from './errors';
import { parseYaml, SourceFile, YamlPath } from './yaml/source';

export interface ImportMapEntries {
  [prefix: string]: string;
}

interface MapRule {
  prefix: string;
  re: RegExp;
  target: string;
}

export interface ImportResolverOptions {
  importMap?: ImportMapEntries;
  importMapDir?: string;
  cacheDir?: string;
}

const parsedCache = new Map<string, SourceFile>();
const PARSED_CACHE_LIMIT = 256;
/** Local file → last parse, reused while its mtime and size are unchanged (no read, no hash). */
const statCache = new Map<string, { mtimeMs: number; size: number; file: SourceFile }>();

export function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

export class ImportResolver {
  private readonly rules: MapRule[];

  constructor(private readonly opts: ImportResolverOptions = {}) {
    this.rules = Object.entries(opts.importMap ?? {})
      .filter(([k, v]) => isUrl(k) && typeof v === 'string')
      .map(([prefix, target]) => ({
        prefix,
        re: new RegExp('^' + prefix.split('{ref}').map(escapeRe).join('[^/]+')),
        target,
      }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** Absolute location (URL or file path) of `spec` written in `from`. */
  locate(spec: string, from: SourceFile): string {
    if (isUrl(spec)) return spec;
    if (spec.startsWith('file://')) return spec.slice(7);
    const base = from.base;
    if (base && isUrl(base)) return new URL(spec, base.endsWith('/') ? base : base + '/').href;
    return path.resolve(base ?? process.cwd(), spec);
  }

  /** Load and parse the import at `location`; errors point at `site` in the importing file. */
  async load(location: string, site: { file: SourceFile; path: YamlPath }): Promise<SourceFile> {
    const local = isUrl(location) ? this.mapUrl(location) : location;
    const st = local !== undefined ? statOf(local) : undefined;
    const cacheKey = `${location}\0${local ?? ''}`;
    const seen = st ? statCache.get(cacheKey) : undefined;
    if (st && seen && seen.mtimeMs === st.mtimeMs && seen.size === st.size) return seen.file;
    const file = await this.loadText(location, site);
    if (st) {
      if (statCache.size >= PARSED_CACHE_LIMIT) statCache.delete(statCache.keys().next().value as string);
      statCache.set(cacheKey, { ...st, file });
    }
    return file;
  }

  private async loadText(location: string, site: { file: SourceFile; path: YamlPath }): Promise<SourceFile> {
    const text = await this.read(location, site);
    const hash = createHash('sha1').update(text).digest('hex');
    const key = `${location}\0${hash}`;
    const hit = parsedCache.get(key);
    if (hit) return hit;
    const base = isUrl(location) ? location.replace(/[^/]*$/, '') : path.dirname(location);
    // imported definition files are third-party: read them as PyYAML does (last duplicate key wins)
    const file = parseYaml(text, location, base, true);
    if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.delete(parsedCache.keys().next().value as string);
    parsedCache.set(key, file);
    return file;
  }

  private async read(location: string, site: { file: SourceFile; path: YamlPath }): Promise<string> {
    const fail = (why: string): ToscaError =>
      site.file.error('unresolvable-import', `unresolvable import ${location}: ${why}`, site.path);
    if (!isUrl(location)) {
      try {
        return await fs.readFile(location, 'utf8');
      } catch (e) {
        throw fail((e as NodeJS.ErrnoException).code ?? 'cannot read');
      }
    }
    const mapped = this.mapUrl(location);
    if (mapped) {
      try {
        return await fs.readFile(mapped, 'utf8');
      } catch (e) {
        throw fail(`mapped to ${mapped}, ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}`);
      }
    }
    if (!this.opts.cacheDir) throw fail('not in the import map and no download cache directory is configured');
    return this.download(location, this.opts.cacheDir, fail);
  }

  /** Local path for a URL through the import map, or undefined. */
  mapUrl(url: string): string | undefined {
    for (const rule of this.rules) {
      const m = rule.re.exec(url);
      if (!m) continue;
      const rest = url.slice(m[0].length);
      return path.resolve(this.opts.importMapDir ?? process.cwd(), rule.target + rest);
    }
    return undefined;
  }

  private async download(url: string, dir: string, fail: (why: string) => ToscaError): Promise<string> {
    const cached = path.join(dir, createHash('sha1').update(url).digest('hex') + '.yaml');
    try {
      return await fs.readFile(cached, 'utf8');
    } catch {
      // not cached yet
    }
    let text: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (e) {
      throw fail(`download failed: ${(e as Error).message}`);
    }
    await fs.mkdir(dir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, cached);
    return text;
  }
}

function statOf(file: string): { mtimeMs: number; size: number } | undefined {
  try {
    const st = statSync(file);
    return { mtimeMs: st.mtimeMs, size: st.size };
  } catch {
    return undefined;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An import map file read into PlanOptions' shape: its paths are relative to its own directory. */
export interface LoadedImportMap {
  importMap: ImportMapEntries;
  importMapDir: string;
}

/**
 * Read an import map file (the format of tosca-corpus/import-map.json). Keys that are not URL
 * prefixes (the corpus documents itself with a "comment" entry) are prose and skipped.
 */
export function loadImportMap(file: string): LoadedImportMap {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the import map ${file}: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: an import map is a JSON object of URL prefix → path`);
  const importMap: ImportMapEntries = {};
  for (const [prefix, target] of Object.entries(raw)) {
    if (!isUrl(prefix)) continue;
    if (typeof target !== 'string') throw new Error(`${file}: the path for ${prefix} must be a string`);
    importMap[prefix] = target;
  }
  return { importMap, importMapDir: path.dirname(path.resolve(file)) };
}

/** loadImportMap for callers that prefer a promise. */
export async function readImportMap(file: string): Promise<LoadedImportMap> {
  return loadImportMap(file);
}
