/**
 * Lifecycle artifacts (scripts, playbooks): given inline, read from a local path (template dir or
 * the offline import map), or downloaded by URL — once per infrastructure, into its cache dir.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve as resolvePath } from 'node:path';
import type { OperationPlan } from '../../tosca/plan';
import { ImportResolver } from '../../tosca/imports';
import { guardedFetch, type FetchPolicy } from '../../lib/fetch';
import { ArtifactError } from './errors';

export interface ArtifactSources {
  /** Directory of the template; relative implementation paths are read from here. */
  baseDir?: string;
  /** Same format as tosca's ImportMap: URL prefix → local path ({ref} = one path segment); longest wins. */
  importMap?: Record<string, string>;
  /** Directory the import map's paths are relative to. */
  importMapDir?: string;
  /** Artifact text by path or URL as written in the template (REST uploads, tests). */
  inline?: Record<string, string>;
  /** Download artifacts by URL that nothing above provides. Default true. */
  allowDownload?: boolean;
  /** Read artifacts from local paths (baseDir, absolute paths). Default true; the server sets false. */
  localFiles?: boolean;
  /** Guards of artifact downloads (lib/fetch; default: private addresses refused, 5 MB). */
  fetchPolicy?: FetchPolicy;
}

export interface Artifact {
  /** File name to use on the VM / for ansible-playbook. */
  name: string;
  /** Local copy (in the infrastructure's cache). */
  localPath: string;
  content: Buffer;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

export class ArtifactStore {
  private readonly downloads = new Map<string, Promise<Buffer>>();
  private madeDir?: Promise<void>;

  constructor(private readonly cacheDir: string, private readonly sources: ArtifactSources = {}) {}

  /**
   * The operation's implementation. Downloads happen once per infrastructure; local and inline
   * artifacts are read every time, so a fixed script is picked up by the next reconfigure.
   */
  async get(impl: NonNullable<OperationPlan['implementation']>): Promise<Artifact> {
    const name = basename(impl.path.split('?')[0]) || 'artifact';
    const content = await this.read(impl);
    const dir = join(this.cacheDir, 'artifacts');
    this.madeDir ??= mkdir(dir, { recursive: true }).then(() => undefined);
    await this.madeDir;
    // named by content: parallel steps never see a half-written file, a changed artifact gets a new file
    const localPath = join(dir, `${createHash('sha1').update(content).digest('hex').slice(0, 16)}-${name}`);
    if (!existsSync(localPath)) {
      const tmp = `${localPath}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      await writeFile(tmp, content, { mode: 0o600 });
      await rename(tmp, localPath);
    }
    return { name, localPath, content };
  }

  private download(url: string): Promise<Buffer> {
    let p = this.downloads.get(url);
    if (!p) {
      p = guardedFetch(url, { totalTimeoutMs: 60_000, ...this.sources.fetchPolicy }).then(
        (res) => {
          if (res.status >= 400) throw new ArtifactError(`artifact ${url}: HTTP ${res.status}`);
          return res.body;
        },
        (e: Error) => { throw new ArtifactError(`artifact ${url}: ${e.message}`); },
      );
      this.downloads.set(url, p);
      p.catch(() => this.downloads.delete(url)); // a failed download is retried next time
    }
    return p;
  }

  private async read(impl: NonNullable<OperationPlan['implementation']>): Promise<Buffer> {
    if (impl.content !== undefined) return Buffer.from(impl.content);
    const { inline = {}, importMap = {}, importMapDir = '.', baseDir, allowDownload = true } = this.sources;
    for (const k of [impl.path, impl.url]) if (k !== undefined && inline[k] !== undefined) return Buffer.from(inline[k]);
    const url = impl.url ?? (isUrl(impl.path) ? impl.path : undefined);
    if (url) {
      // the same map and confinement as TOSCA imports: a mapped URL never leaves its map folder
      const mapped = new ImportResolver({ importMap, importMapDir }).confinedFile(url);
      if (mapped.mapped) {
        if (mapped.file === undefined) throw new ArtifactError(`artifact ${url}: not found in the import map`);
        return readLocal(mapped.file, impl.path);
      }
      if (!allowDownload) throw new ArtifactError(`artifact ${url}: not in the import map and downloads are disabled`);
      return this.download(url);
    }
    const mapped = importMap[impl.path];
    if (mapped) return readLocal(resolvePath(importMapDir, mapped), impl.path);
    if (this.sources.localFiles === false) throw new ArtifactError(`artifact ${impl.path}: local paths are not allowed`);
    if (isAbsolute(impl.path)) return readLocal(impl.path, impl.path);
    if (!baseDir) throw new ArtifactError(`artifact ${impl.path}: relative path and no template directory to read it from`);
    return readLocal(resolvePath(baseDir, impl.path), impl.path);
  }
}

async function readLocal(path: string, asWritten: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ArtifactError(`artifact ${asWritten}: cannot read ${path}: ${(e as Error).message}`);
  }
}
