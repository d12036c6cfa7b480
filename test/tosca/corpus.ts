/**
 * The TOSCA corpus (../shared/tosca-corpus) as a list of templates to test and benchmark: every .yml/.yaml
 * file that INDEX.md lists, plus any new file in the folder that is a template (has a topology_template),
 * so a new file is a new test. Type-definition files and Ansible playbooks are left out.
 */
import { existsSync, readdirSync, readFileSync } from 'fs';
import { basename, dirname, join, relative } from 'path';
import { parse } from 'yaml';
import { loadImportMap } from '../../tosca';
import type { PlanOptions } from '../../tosca';
import { sharedPath } from '../shared-dir';

export interface CorpusTemplate {
  /** Path relative to the corpus folder, as INDEX.md writes it. */
  rel: string;
  file: string;
  /** Listed in INDEX.md (otherwise a new template found in the folder). */
  indexed: boolean;
  /** INDEX.md marks it invalid: it must fail with a located error. */
  invalid: boolean;
  /** What tosca-parser 2.6.0 said, per INDEX.md. */
  oracleAccepts?: boolean;
  /** Absolute paths of the templates it extends (metadata.parents): a fragment when non-empty. */
  parents: string[];
}

/** The repository root (where package.json is), from src (test/tosca) or dist (dist/test/tosca). */
export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export function corpusDir(): string {
  return process.env.TOSCA_CORPUS_DIR ?? sharedPath('tosca-corpus');
}

interface IndexRow { invalid: boolean; oracleAccepts: boolean }

/** The rows of INDEX.md's table: | `template` | version | nodes | uses | accepts | error |. */
function readIndex(dir: string): Map<string, IndexRow> {
  const rows = new Map<string, IndexRow>();
  for (const line of readFileSync(join(dir, 'INDEX.md'), 'utf8').split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|/.exec(line);
    if (!m) continue;
    const uses = m[4].trim().split(/\s+/);
    rows.set(m[1], { invalid: uses.includes('invalid'), oracleAccepts: m[5].trim() === 'yes' });
  }
  return rows;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    // dotfiles: the oracle driver's temporary copies live beside their source while it runs
    else if (/\.ya?ml$/.test(e.name) && !e.name.startsWith('.')) out.push(p);
  }
  return out;
}

/**
 * Parents the dashboard repository has and the corpus did not copy, and the corpus template that defines
 * the same nodes the fragments use: htcondor_cluster.yml is the HTCondor twin of slurm_cluster.yml
 * (lrms_front_end, lrms_server, wn_node, lrms_wn), so its fragments are merged into slurm_cluster.yml.
 */
const STAND_IN_PARENTS: Record<string, string> = { 'htcondor_cluster.yml': 'slurm_cluster.yml' };

/** The file to merge a fragment into for a declared parent: the parent, or its stand-in when missing. */
export function parentFile(parent: string): { file: string; standInFor?: string } {
  const standIn = STAND_IN_PARENTS[basename(parent)];
  return existsSync(parent) || !standIn ? { file: parent } : { file: join(dirname(parent), standIn), standInFor: basename(parent) };
}

/**
 * What a fragment lacks alone: a node only its parent defines ('unknown-node'), except where the
 * fragment redefines every node it uses and lacks only the parent's inputs.
 */
const FRAGMENT_ALONE_ERROR: Record<string, 'unknown-node' | 'unknown-input'> = {
  // redefines lrms_server, wn_node and lrms_wn itself; their sizes come from slurm_cluster.yml's fe_cpus...
  'grycap__tosca/templates/glusterfs.yml': 'unknown-input',
};

export function fragmentAloneError(rel: string): 'unknown-node' | 'unknown-input' {
  return FRAGMENT_ALONE_ERROR[rel] ?? 'unknown-node';
}

function parentsOf(file: string, text: string): string[] {
  let doc: unknown;
  try { doc = parse(text, { uniqueKeys: false }); } catch { return []; } // a broken file is the engine's to report, not ours
  const parents = (doc as { metadata?: { parents?: unknown } } | null)?.metadata?.parents;
  return Array.isArray(parents) ? parents.filter((p): p is string => typeof p === 'string').map((p) => join(dirname(file), p)) : [];
}

export function listCorpus(dir = corpusDir()): CorpusTemplate[] {
  const index = readIndex(dir);
  const out: CorpusTemplate[] = [];
  for (const file of walk(dir).sort()) {
    const rel = relative(dir, file).split('\\').join('/');
    const row = index.get(rel);
    const text = readFileSync(file, 'utf8');
    if (!row && !(/^tosca_definitions_version\s*:/m.test(text) && /^topology_template\s*:/m.test(text))) continue;
    out.push({ rel, file, indexed: !!row, invalid: row?.invalid ?? false, oracleAccepts: row?.oracleAccepts, parents: parentsOf(file, text) });
  }
  return out;
}

/**
 * Templates that need what IM is given beside the text, or IM's leniency. tosca_repo.yml imports a template by a relative
 * name (`template_file: simple-node-disk.yml`) that IM resolves against its `tosca_repo` setting; IM's own
 * test passes https://raw.githubusercontent.com/grycap/tosca/main/templates/, the corpus copy of which is here.
 */
const CORPUS_OVERRIDES: Record<string, (dir: string) => Partial<PlanOptions>> = {
  'grycap__im/test/files/tosca_repo.yml': (dir) => ({ baseDir: join(dir, 'grycap__tosca', 'templates') }),
  // hadoop_server's endpoint has `ports:` twice (line 23 and 27); IM (PyYAML) and tosca-parser keep the
  // last one and deploy it, so IM's users rely on that; our default is a located duplicate-key error
  'indigo-dc__tosca-types/examples/hadoop_cluster.yaml': () => ({ allowDuplicateKeys: true }),
};

let importMapCache: ReturnType<typeof loadImportMap> | undefined;

/** Plan options for a corpus file: the corpus import map, errors named by the corpus-relative path. */
export function corpusPlanOptions(file: string, dir = corpusDir()): PlanOptions {
  importMapCache ??= loadImportMap(join(dir, 'import-map.json'));
  const rel = relative(dir, file).split('\\').join('/');
  return { ...importMapCache, fileName: rel, baseDir: dirname(file), ...CORPUS_OVERRIDES[rel]?.(dir) };
}
