/**
 * Every template of ../shared/tosca-corpus plans — one test per file, generated from the folder, so a new
 * file is a new test. Fragments of the IM Dashboard (metadata.parents) fail alone with a located
 * "unknown node" error and plan once merged into each parent, as the dashboard sends them to IM.
 */
import { existsSync, readFileSync } from 'fs';
import { basename, dirname, join, relative } from 'path';
import { parse } from 'yaml';
import { planTemplate, type Plan } from '../../tosca';
import { ToscaError } from '../../tosca/errors';
import { corpusDir, corpusPlanOptions, fragmentAloneError, listCorpus, parentFile } from './corpus';
import { mergeFragment } from './merge-fragment';

const dir = corpusDir();
const templates = listCorpus(dir);

interface Doc { imports?: unknown[]; topology_template?: { node_templates?: Record<string, unknown> | null } }

/** The node templates a plan must list: the template's own, and those of templates it imports by file (IM). */
function nodeNames(text: string, baseDir: string): string[] {
  const doc = parse(text, { uniqueKeys: false }) as Doc | null;
  const names = Object.keys(doc?.topology_template?.node_templates ?? {});
  for (const imp of doc?.imports ?? []) {
    for (const target of typeof imp === 'string' ? [imp] : Object.values(imp as Record<string, unknown>)) {
      const path = typeof target === 'string' && !/^[a-z]+:\/\//i.test(target) ? join(baseDir, target) : undefined;
      if (path && existsSync(path)) names.push(...nodeNames(readFileSync(path, 'utf8'), dirname(path)));
    }
  }
  return [...new Set(names)].sort();
}

/** What every plan must hold whatever the template: all nodes listed, the derived views consistent. */
function expectCoherentPlan(plan: Plan, text: string, baseDir: string): void {
  const names = nodeNames(text, baseDir);
  expect(plan.nodes.map((n) => n.name).sort()).toEqual(names);
  const known = new Set(names);
  for (const c of plan.computes) {
    expect(known.has(c.name)).toBe(true);
    expect(Number.isInteger(c.count) && c.count >= 0).toBe(true);
    for (const s of c.software) expect(known.has(s)).toBe(true);
  }
  for (const s of plan.software) if (s.host !== undefined) expect(plan.computes.map((c) => c.name)).toContain(s.host);
  // dependency order: every node exactly once, after whatever it depends on
  expect([...plan.order].sort()).toEqual(names);
  const at = new Map(plan.order.map((n, i) => [n, i]));
  const late = plan.software.flatMap((s) => [...s.dependsOn, ...(s.host ? [s.host] : [])]
    .filter((d) => !(at.get(d)! < at.get(s.name)!)).map((d) => `${s.name} is ordered before ${d}, which it needs`));
  expect(late).toEqual([]);
}

async function expectLocatedError(text: string, file: string, code?: string): Promise<ToscaError> {
  const err = await planTemplate(text, corpusPlanOptions(file, dir)).then(
    () => { throw new Error(`${relative(dir, file)} planned, but it must be rejected`); },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ToscaError);
  const te = err as ToscaError;
  if (code) expect({ code: te.code, message: te.message }).toMatchObject({ code });
  expect(te.file).toBe(relative(dir, file));
  expect(te.line).toBeGreaterThan(0);
  expect(te.column).toBeGreaterThan(0);
  expect(te.path.length).toBeGreaterThan(0);
  expect(te.message).toContain(`${te.file}:${te.line}:${te.column}`);
  return te;
}

describe(`TOSCA corpus (${templates.length} templates in ${dir})`, () => {
  it('finds the corpus and its fragments', () => {
    expect(templates.filter((t) => t.indexed).length).toBeGreaterThanOrEqual(209);
    expect(templates.filter((t) => t.parents.length).length).toBeGreaterThan(0);
  });

  for (const t of templates) {
    const text = readFileSync(t.file, 'utf8');
    if (t.parents.length) {
      const code = fragmentAloneError(t.rel);
      it(`${t.rel} alone: located "${code.replace('-', ' ')}" error for what only its parent defines`, async () => {
        const err = await expectLocatedError(text, t.file, code);
        // the missing name is one a parent defines (a node, or an input)
        const parentNames = t.parents.map((p) => parentFile(p).file).flatMap((p) => {
          const doc = parse(readFileSync(p, 'utf8'), { uniqueKeys: false }) as { topology_template?: Record<string, Record<string, unknown> | null> };
          return Object.keys({ ...doc.topology_template?.node_templates, ...doc.topology_template?.inputs });
        });
        expect(parentNames.filter((n) => new RegExp(`\\b${n}\\b`).test(err.detail))).not.toEqual([]);
      });
      for (const declared of t.parents) {
        const parent = parentFile(declared);
        const into = parent.standInFor ? `${basename(parent.file)} (stand-in for ${parent.standInFor}, not in the corpus)` : basename(parent.file);
        it(`${t.rel} merged into ${into}: plans`, async () => {
          const merged = mergeFragment(readFileSync(parent.file, 'utf8'), text);
          const opts = corpusPlanOptions(t.file, dir);
          expectCoherentPlan(await planTemplate(merged, opts), merged, opts.baseDir!);
        });
      }
    } else if (t.invalid) {
      it(`${t.rel}: rejected with a located error (INDEX.md marks it invalid)`, async () => {
        await expectLocatedError(text, t.file);
      });
    } else {
      it(`${t.rel}: parses and plans`, async () => {
        const opts = corpusPlanOptions(t.file, dir);
        expectCoherentPlan(await planTemplate(text, opts), text, opts.baseDir!);
      });
    }
  }
});

describe('corpus templates that need IM behaviour beside the text', () => {
  it('tosca_repo.yml: the imported template is merged and its inputs overridden (IM test_tosca_repo)', async () => {
    const file = join(dir, 'grycap__im/test/files/tosca_repo.yml');
    const plan = await planTemplate(readFileSync(file, 'utf8'), corpusPlanOptions(file, dir));
    expect(plan.computes.find((c) => c.name === 'simple_node')?.host).toMatchObject({ numCpus: 16, numGpus: 1 });
  });

  it('hadoop_cluster.yaml: its duplicate `ports` key is an error unless duplicate keys are allowed (as IM)', async () => {
    const file = join(dir, 'indigo-dc__tosca-types/examples/hadoop_cluster.yaml');
    const text = readFileSync(file, 'utf8');
    const strict = await planTemplate(text, { ...corpusPlanOptions(file, dir), allowDuplicateKeys: false }).catch((e: unknown) => e);
    expect(strict).toBeInstanceOf(ToscaError);
    expect(strict).toMatchObject({ code: 'duplicate-key', line: 27 }); // the second `ports:`
    await expect(planTemplate(text, corpusPlanOptions(file, dir))).resolves.toHaveProperty('nodes');
  });
});
