/** Runs test/browser/provider.mjs (a real OpenID provider on 127.0.0.1) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningProvider { issuer: string; clientId: string; clientSecret: string; stop(): Promise<void> }

export async function startProvider(redirectUri: string): Promise<RunningProvider> {
  const clientId = 'tosca-im-dashboard';
  const clientSecret = 'browser-test-client-secret';
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'provider.mjs'), clientId, clientSecret, redirectUri], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the OpenID provider did not start in 10 s: ${stderr}`)), 10_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the OpenID provider exited (${code}): ${stderr}`)); });
    createInterface({ input: child.stdout! }).once('line', (line) => { clearTimeout(timer); resolve((JSON.parse(line) as { issuer: string }).issuer); });
  });
  return {
    issuer, clientId, clientSecret,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
