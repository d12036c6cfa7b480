/** Runs the boto3 conformance driver (shared/tools/cloud-probe) against a simulator URL. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from '../shared-dir';

export const PROBE = sharedPath('tools', 'cloud-probe', 'ec2_flow.py');
const PYTHON = '/usr/bin/python3';

/** Whether python3-boto3 is importable; the judge is required when TOSCA_IM_REQUIRE_ALL=1. */
export function boto3Available(): Promise<boolean> {
  if (!existsSync(PYTHON) || !existsSync(PROBE)) return Promise.resolve(false);
  return new Promise((resolve) => execFile(PYTHON, ['-c', 'import boto3'], (err) => resolve(!err)));
}

export function runProbe(endpoint: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return runPython([PROBE, '--endpoint-url', endpoint, ...extra]);
}

/** Our own boto3 checks of the calls the connector uses beyond the shared probe (boto3_extra.py). */
export function runExtra(endpoint: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runPython([join(__dirname, 'boto3_extra.py'), endpoint]);
}

function runPython(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, args, { timeout: 90_000 }, (err, stdout, stderr) => {
      // execFile's error carries the exit status in `code` (a number) when the script ran and failed.
      const status = (err as { code?: unknown } | null)?.code;
      const code = !err ? 0 : typeof status === 'number' ? status : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
