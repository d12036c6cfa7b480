/**
 * bench:radl — parse every document of ../shared/radl-corpus with radl/ (median of RUNS runs per file), and
 * the same documents with the reference parser (grycap/RADL, in one Python process, parse only, median of
 * its runs), then one summary line: `radl: files=N median_ms=N oracle_ratio=N` (reference time / ours).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseRadl, parseRadlJson } from '../radl';
import { corpusFiles, oracleMissing, oracleTool, PYTHON } from '../test/radl/oracle';

const RUNS = 200;
const ORACLE_RUNS = 20;

if (process.argv.includes('--help')) {
  console.log('usage: npm run bench:radl\nParses the RADL corpus with radl/ and with grycap/RADL; prints a table and a summary line.');
  process.exit(0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Per-file median parse time of the reference, in ms (its startup and JSON dumping not counted). */
function oracleTimes(files: string[]): Map<string, number> {
  const script = `
import sys, time, json, os
sys.path.insert(0, os.path.dirname(sys.argv[1]))
from radl import radl_parse, radl_json
for f in sys.argv[3:]:
    text = open(f).read()
    ts = []
    for _ in range(int(sys.argv[2])):
        t = time.perf_counter()
        radl_json.parse_radl(text) if text.lstrip().startswith('[') else radl_parse.parse_radl(text)
        ts.append((time.perf_counter() - t) * 1000)
    ts.sort()
    print(json.dumps({"file": f, "ms": ts[len(ts) // 2]}))
`;
  const res = spawnSync(PYTHON, ['-c', script, oracleTool(), String(ORACLE_RUNS), ...files], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (res.status !== 0) throw new Error(`reference timing failed: ${res.stderr.slice(-1000)}`);
  return new Map(res.stdout.split('\n').filter(Boolean).map((l) => { const r = JSON.parse(l) as { file: string; ms: number }; return [r.file, r.ms]; }));
}

function main(): void {
  const files = corpusFiles();
  if (files.length === 0) throw new Error('the RADL corpus (../shared/radl-corpus) is missing');
  const rows = files.map((file) => {
    const text = readFileSync(file, 'utf8');
    const parse = text.trimStart().startsWith('[') ? () => parseRadlJson(text, file) : () => parseRadl(text, file);
    for (let i = 0; i < 20; i++) parse();
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) { const t = performance.now(); parse(); times.push(performance.now() - t); }
    return { name: `${basename(dirname(file))}/${basename(file)}`, file, ms: median(times), chars: text.length };
  });
  const missing = oracleMissing();
  const oracle = missing ? new Map<string, number>() : oracleTimes(files);
  if (missing) console.warn(`grycap/RADL not available (${missing}): no reference timing`);
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'document'.padEnd(width)}  chars  median_ms  oracle_ms`);
  for (const r of rows) {
    const o = oracle.get(r.file);
    console.log(`${r.name.padEnd(width)}  ${String(r.chars).padStart(5)}  ${r.ms.toFixed(4).padStart(9)}  ${o === undefined ? '        -' : o.toFixed(3).padStart(9)}`);
  }
  const ours = median(rows.map((r) => r.ms));
  const theirs = oracle.size ? median(rows.map((r) => oracle.get(r.file) ?? 0)) : 0;
  console.log(`radl: files=${rows.length} median_ms=${ours.toFixed(4)} oracle_ratio=${theirs ? (theirs / ours).toFixed(1) : 0}`);
}

main();
