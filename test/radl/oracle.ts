/**
 * The reference RADL parser (grycap/RADL, ../shared/tools/radl-oracle) as a judge: one Python process for
 * a whole batch of documents (one per document would cost more than the parsing). Each answer is the
 * document as IM's JSON RADL, or the reference's error text.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '../shared-dir';

export const PYTHON = process.env.RADL_ORACLE_PYTHON ?? '/usr/bin/python3';
export type OracleAnswer = { ok: true; radl: unknown[] } | { ok: false; error: string };

export function oracleTool(): string {
  return process.env.RADL_ORACLE ?? sharedPath('tools', 'radl-oracle', 'radl-oracle.py');
}

export function corpusDir(): string {
  return sharedPath('radl-corpus');
}

/** Every RADL document of the corpus (absolute paths, sorted). */
export function corpusFiles(): string[] {
  const dir = corpusDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) =>
    readdirSync(join(dir, d.name)).filter((f) => /\.(radl|json)$/.test(f)).map((f) => join(dir, d.name, f))).sort();
}

/** Why the oracle cannot run here, or undefined when it can. */
export function oracleMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!existsSync(oracleTool())) return `${oracleTool()} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import ply, packaging'], { encoding: 'utf8' });
  if (probe.status !== 0) return `python3-ply/python3-packaging missing (${probe.stderr.trim().split('\n').pop()})`;
  return undefined;
}

/** Judge files (paths) in one Python process. */
export function judgeFiles(files: string[]): Map<string, OracleAnswer> {
  const out = new Map<string, OracleAnswer>();
  if (files.length === 0) return out;
  const res = spawnSync(PYTHON, [oracleTool(), ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.status !== 0 && res.status !== 1) throw new Error(`radl oracle exited ${res.status}: ${res.stderr.slice(-2000)}`);
  for (const line of res.stdout.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { file: string } & OracleAnswer;
    out.set(r.file, r.ok ? { ok: true, radl: r.radl } : { ok: false, error: r.error });
  }
  return out;
}

/** Judge texts (written to a temporary directory) in one Python process; answers in the same order. */
export function judgeTexts(texts: string[]): OracleAnswer[] {
  const dir = mkdtempSync(join(tmpdir(), 'radl-oracle-'));
  try {
    const files = texts.map((t, i) => { const f = join(dir, `doc${i}.radl`); writeFileSync(f, t); return f; });
    const answers = judgeFiles(files);
    return files.map((f) => answers.get(f) ?? { ok: false, error: 'no answer from the oracle' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** test() for checks that need the reference: skipped loudly where it cannot run, failed under TOSCA_IM_REQUIRE_ALL=1. */
export function oracleTest(name: string, fn: () => void): void {
  const missing = oracleMissing();
  if (!missing) return void test(name, fn);
  if (process.env.TOSCA_IM_REQUIRE_ALL === '1') return void test(name, () => { throw new Error(`TOSCA_IM_REQUIRE_ALL=1 but ${missing}`); });
  // eslint-disable-next-line no-console
  console.warn(`*** SKIPPED "${name}": ${missing} ***`);
  test.skip(name, fn);
}
