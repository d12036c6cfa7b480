/**
 * Drive OpenStack's tosca-parser (Debian python3-tosca-parser) on many templates through our batch
 * driver (oracle_batch.py, which reuses ../shared/tools/tosca-oracle.py's helpers), a few Python
 * processes in parallel: one Python per template would cost more than the parsing.
 */
import { spawn, spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join, resolve } from 'path';
import { corpusDir, repoRoot } from './corpus';
import { sharedPath } from '../shared-dir';

export const PYTHON = process.env.TOSCA_ORACLE_PYTHON ?? '/usr/bin/python3';

export interface OracleNode { name: string; type: string; properties: Record<string, unknown> }
export type OracleResult =
  | { ok: true; inputs: string[]; nodes: OracleNode[]; outputs: string[]; policies: { name: string; type: string }[];
      /** Property values with what tosca-parser can compute computed (see oracle_batch.py). */
      resolved: Record<string, Record<string, unknown>> }
  | { ok: false; error: string };
export interface OracleRecord { template: string; result: OracleResult; ms: number }

export function oracleTool(): string {
  return process.env.TOSCA_ORACLE ?? sharedPath('tools', 'tosca-oracle.py');
}

function batchDriver(): string {
  return join(repoRoot(), 'test', 'tosca', 'oracle_batch.py');
}

/** Why the oracle cannot run here, or undefined when it can. */
export function oracleMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!existsSync(oracleTool())) return `${oracleTool()} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import toscaparser'], { encoding: 'utf8' });
  if (probe.status !== 0) return `python3-tosca-parser is not installed (${probe.stderr.trim().split('\n').pop()})`;
  return undefined;
}

function runBatch(files: string[], repeat: number): Promise<OracleRecord[]> {
  return new Promise((resolveRun, reject) => {
    const args = [batchDriver(), '--oracle', oracleTool(), '--map', join(corpusDir(), 'import-map.json'), '--repeat', String(repeat), ...files];
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`oracle batch exited ${code}: ${err.slice(-2000)}`));
      resolveRun(out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as OracleRecord));
    });
  });
}

/** Results by absolute template path; `parallel` Python processes share the files round-robin. */
export async function runOracle(files: string[], opts: { parallel?: number; repeat?: number } = {}): Promise<Map<string, OracleRecord>> {
  const n = Math.max(1, Math.min(opts.parallel ?? 2, files.length));
  const shares = Array.from({ length: n }, (_, i) => files.filter((_, j) => j % n === i));
  const results = await Promise.all(shares.map((share) => runBatch(share.map((f) => resolve(f)), opts.repeat ?? 1)));
  return new Map(results.flat().map((r) => [r.template, r]));
}
