/**
 * Finds the text of an import (relative path, URL, or repository + file), offline first: an import map
 * (URL prefix → local file, `{ref}` = one branch/tag, longest prefix wins), then an on-disk download
 * cache (only when a cache directory is given). Parsed files are kept in memory by location + content
 * hash, so the big INDIGO types file is parsed once per process.
 *
 * Templates from untrusted authors (the server) set `localFiles: false`: only URLs, and a mapped URL
 * never leaves its map folder (after `..` and symlinks). Downloads go through the injected fetcher
 * (default: lib/fetch with its guards: no private addresses, size and time caps).
 */
import { createHash } from 'crypto';
import { promises as fs, readFileSync, realpathSync, statSync } from 'fs';
import * as path from 'path';
import { fetchText } from '../lib/fetch';
import { LruBytes } from '../lib/lru-bytes';
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
  /** Read imports from local paths (`plan FILE` on the command line). Default true; the server sets false. */
  localFiles?: boolean;
  /** Downloads an import by URL (default: lib/fetch's guarded fetch with its default policy). */
  fetchText?: (url: string) => Promise<string>;
  /** Bound of the on-disk download cache in bytes, oldest files dropped first (default 256 MB). */
  cacheMaxBytes?: number;
}

/** Parsed files by location + content hash, bounded by the bytes of their text (a big import is not kept forever). */
const parsedCache = new LruBytes<SourceFile>(64 * 1024 * 1024);
const PARSED_CACHE_LIMIT = 256;
const DEFAULT_DISK_CACHE_BYTES = 256 * 1024 * 1024;
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

  /** Local paths may be read (false for templates from the API). */
  get localFiles(): boolean {
    return this.opts.localFiles ?? true;
  }

  /** Absolute location (URL or file path) of `spec` written in `from`. */
  locate(spec: string, from: SourceFile): string {
    if (spec.startsWith('file://')) return spec.slice(7);
    // normalised, so `..` segments are resolved before the import map sees the URL
    if (isUrl(spec)) return normaliseUrl(spec);
    const base = from.base;
    if (base && isUrl(base)) return new URL(spec, base.endsWith('/') ? base : base + '/').href;
    return path.resolve(base ?? process.cwd(), spec);
  }

  /** Load and parse the import at `location`; errors point at `site` in the importing file. */
  async load(location: string, site: { file: SourceFile; path: YamlPath }): Promise<SourceFile> {
    if (!isUrl(location) && !this.localFiles) {
      throw site.file.error('unresolvable-import', `unresolvable import ${location}: local paths are not allowed`, site.path);
    }
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
    parsedCache.set(key, file, text.length * 2);
    return file;
  }

  private async read(location: string, site: { file: SourceFile; path: YamlPath }): Promise<string> {
    const fail = (why: string): ToscaError =>
      site.file.error('unresolvable-import', `unresolvable import ${location}: ${why}`, site.path);
    if (!isUrl(location)) {
      if (!this.localFiles) throw fail('local paths are not allowed');
      try {
        return await fs.readFile(location, 'utf8');
      } catch (e) {
        throw fail((e as NodeJS.ErrnoException).code ?? 'cannot read');
      }
    }
    const mapped = this.confinedFile(location);
    if (mapped.mapped) {
      // one answer for missing, unreadable, a folder or outside the map: no oracle of what exists
      const file = mapped.file;
      if (file === undefined) throw fail('not found in the import map');
      try {
        return await fs.readFile(file, 'utf8');
      } catch {
        throw fail('not found in the import map');
      }
    }
    if (!this.opts.cacheDir) throw fail('not in the import map and no download cache directory is configured');
    return this.download(location, this.opts.cacheDir, fail);
  }

  /**
   * For a URL the import map covers: the real path of its file when that lies inside the map entry's
   * folder (else undefined: missing, or escaping by `..` or a symlink). Undefined `mapped` when not covered.
   */
  confinedFile(url: string): { mapped: boolean; file?: string } {
    const m = this.mapped(normaliseUrl(url));
    return m ? { mapped: true, file: confined(m.file, m.root) } : { mapped: false };
  }

  /** Local path for a URL through the import map, or undefined. */
  mapUrl(url: string): string | undefined {
    return this.mapped(url)?.file;
  }

  /** The mapped file and the folder (or file) of the map entry it must stay inside. */
  private mapped(url: string): { file: string; root: string } | undefined {
    for (const rule of this.rules) {
      const m = rule.re.exec(url);
      if (!m) continue;
      const rest = url.slice(m[0].length);
      const dir = this.opts.importMapDir ?? process.cwd();
      return { file: path.resolve(dir, rule.target + rest), root: path.resolve(dir, rule.target) };
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
      text = await (this.opts.fetchText ?? ((u: string) => fetchText(u)))(url);
    } catch (e) {
      throw fail(`download failed: ${(e as Error).message}`);
    }
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${cached}.${process.pid}.tmp`;
    await fs.writeFile(tmp, text, { mode: 0o600 });
    await fs.rename(tmp, cached);
    await pruneCache(dir, this.opts.cacheMaxBytes ?? DEFAULT_DISK_CACHE_BYTES);
    return text;
  }
}

/** `file` after symlinks, if it lies inside `root` (after symlinks too); undefined otherwise or missing. */
function confined(file: string, root: string): string | undefined {
  try {
    const real = realpathSync(file);
    const realRoot = realpathSync(root);
    return real === realRoot || real.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep) ? real : undefined;
  } catch {
    return undefined;
  }
}

/** The URL with `.`/`..` segments resolved (what a client would request), or as written when not parseable. */
function normaliseUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/** Drops the least recently written downloads until the cache folder holds at most `maxBytes`. */
async function pruneCache(dir: string, maxBytes: number): Promise<void> {
  const files = await Promise.all((await fs.readdir(dir)).filter((n) => n.endsWith('.yaml')).map(async (name) => {
    const st = await fs.stat(path.join(dir, name)).catch(() => undefined);
    return { name, size: st?.size ?? 0, mtime: st?.mtimeMs ?? 0 };
  }));
  let total = files.reduce((n, f) => n + f.size, 0);
  for (const f of files.sort((a, b) => a.mtime - b.mtime)) {
    if (total <= maxBytes) break;
    await fs.rm(path.join(dir, f.name), { force: true });
    total -= f.size;
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
