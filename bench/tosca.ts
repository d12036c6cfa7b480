/**
 * `npm run bench:tosca`: parse + plan every corpus template 100 times (fragments merged into their first
 * parent, as IM receives them), print the median per template and the total, then time OpenStack's
 * tosca-parser on the same texts (batch driver, 2 processes) and print how many times faster we are.
 * Last line: `tosca: templates=N median_ms=N max_ms=N oracle_ratio=N`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { performance } from 'perf_hooks';
import { planTemplate, type PlanOptions } from '../tosca';
import { corpusDir, corpusPlanOptions, listCorpus, parentFile } from '../test/tosca/corpus';
import { mergeFragment } from '../test/tosca/merge-fragment';
import { oracleMissing, runOracle } from '../test/tosca/oracle';

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const ORACLE_RUNS = Number(process.env.BENCH_ORACLE_RUNS ?? 3);
/** Only the templates whose corpus path matches (e.g. BENCH_FILTER=mesos). */
const FILTER = new RegExp(process.env.BENCH_FILTER ?? '');

interface Job { name: string; text: string; opts: PlanOptions; oracleFile?: string; ms?: number; oracleMs?: number }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const dir = corpusDir();
  // merged fragments are written out for tosca-parser, which reads files; their imports are URLs
  // (mapped by the import map), so where the copy lives does not matter
  const tmp = mkdtempSync(join(tmpdir(), 'bench-tosca-'));
  const jobs: Job[] = [];
  for (const t of listCorpus(dir)) {
    if (t.invalid || !FILTER.test(t.rel)) continue;
    const own = readFileSync(t.file, 'utf8');
    const parent = t.parents.length ? parentFile(t.parents[0]).file : undefined;
    const text = parent ? mergeFragment(readFileSync(parent, 'utf8'), own) : own;
    let oracleFile = t.file;
    if (t.parents.length) { oracleFile = join(tmp, t.rel.replace(/\//g, '__')); writeFileSync(oracleFile, text); }
    jobs.push({ name: parent ? `${t.rel} (+${basename(parent)})` : t.rel, text, opts: corpusPlanOptions(t.file, dir), oracleFile });
  }

  for (const job of jobs) await planTemplate(job.text, job.opts); // warm-up: imports parsed and cached, JIT warmed
  // rounds over all templates rather than 100 runs in a row: on a shared machine a burst of load then
  // spreads over every template's samples instead of inflating one template's median
  const times = jobs.map((): number[] => []);
  const start = performance.now();
  for (let i = 0; i < RUNS; i++) {
    for (const [k, job] of jobs.entries()) {
      const t0 = performance.now();
      await planTemplate(job.text, job.opts);
      times[k].push(performance.now() - t0);
    }
  }
  jobs.forEach((job, k) => { job.ms = median(times[k]); });
  const totalMs = performance.now() - start;

  const missing = oracleMissing();
  let oracleTotal = 0;
  if (missing) console.warn(`tosca-parser not available (${missing}): no oracle timing`);
  else {
    const results = await runOracle(jobs.map((j) => j.oracleFile!), { parallel: 2, repeat: ORACLE_RUNS });
    for (const job of jobs) job.oracleMs = results.get(job.oracleFile!)?.ms;
    oracleTotal = jobs.reduce((s, j) => s + (j.oracleMs ?? 0), 0);
  }
  rmSync(tmp, { recursive: true, force: true });

  const width = Math.max(...jobs.map((j) => j.name.length));
  console.log(`${'template'.padEnd(width)}  median_ms  oracle_ms`);
  for (const j of jobs) console.log(`${j.name.padEnd(width)}  ${j.ms!.toFixed(3).padStart(9)}  ${j.oracleMs === undefined ? '        -' : j.oracleMs.toFixed(1).padStart(9)}`);
  const medians = jobs.map((j) => j.ms!);
  const ours = medians.reduce((a, b) => a + b, 0);
  console.log(`total: ${jobs.length} templates x ${RUNS} runs in ${(totalMs / 1000).toFixed(2)} s; sum of medians ${ours.toFixed(2)} ms` +
    (oracleTotal ? `; tosca-parser sum of medians ${oracleTotal.toFixed(0)} ms (median of ${ORACLE_RUNS})` : ''));
  const largest = jobs.reduce((a, b) => (b.text.length > a.text.length ? b : a));
  console.log(`largest: ${largest.name} (${largest.text.length} chars) median ${largest.ms!.toFixed(3)} ms (target < 5 ms)`);
  const ratio = oracleTotal ? oracleTotal / ours : 0;
  console.log(`tosca: templates=${jobs.length} median_ms=${median(medians).toFixed(3)} max_ms=${Math.max(...medians).toFixed(3)} oracle_ratio=${ratio.toFixed(1)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exitCode = 1;
});
