/** Running the system tools the lab is built from (ip, ssh-keygen, kill), with errors that name the command. */
import { execFile, execFileSync } from 'node:child_process';

export class LabCommandError extends Error {
  constructor(readonly command: string, readonly stderr: string, readonly code: number | string | null) {
    super(`lab: \`${command}\` failed (${code}): ${stderr.trim()}`);
    this.name = 'LabCommandError';
  }
}

export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
        reject(new LabCommandError([cmd, ...args].join(' '), String(stderr || err.message), code));
      } else resolve(String(stdout));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Synchronous variant for teardown from a process 'exit' handler, where nothing async runs. */
export function runSync(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ip -batch -` in one process: building a host costs one fork instead of a dozen. */
export function ipBatch(lines: string[]): Promise<string> {
  return run('ip', ['-batch', '-'], lines.join('\n') + '\n');
}
