/**
 * bench:security — what each denial-of-service input of docs/security.md costs the others.
 *
 * Starts `tosca-im serve` (dist/) as its own process, then for each input sends it while another
 * client polls GET /version every 5 ms, and records the input's answer time and the worst /version
 * time during it (and in a quiet window of the same length, the machine's own noise).
 * Prints a table, then `security: worst_version_ms=N quiet_ms=N inputs=N` (target: worst < 200).
 *
 *   npm run build && npm run bench:security
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listeningUrl } from './listening';

const AUTH = 'id = im; type = InfrastructureManager; username = bench; password = bench-pw\\nid = d; type = Dummy';
const HEAD = 'tosca_definitions_version: tosca_simple_yaml_1_0\n';
const COMPUTE = 'topology_template:\n  node_templates:\n    s: { type: tosca.nodes.Compute }\n';

async function startServer(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const main = path.resolve(__dirname, '../cli/main.js');
  const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await listeningUrl(child);
  return { url, child };
}

async function worstVersionMs(url: string, during: Promise<unknown>): Promise<number> {
  let worst = 0;
  let done = false;
  void during.finally(() => { done = true; });
  while (!done) {
    const t = performance.now();
    await (await fetch(`${url}/version`)).text();
    worst = Math.max(worst, performance.now() - t);
    await new Promise((ok) => setTimeout(ok, 5));
  }
  return worst;
}

const post = (url: string, body: string) =>
  fetch(`${url}/infrastructures`, { method: 'POST', headers: { Authorization: AUTH, 'Content-Type': 'text/yaml' }, body: Buffer.from(body) });

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-security-'));
  const { url, child } = await startServer(path.join(dir, 'data'));
  try {
    await post(url, `${HEAD}metadata: { a: &a x, b: *a }\n${COMPUTE}`); // start-up costs (normative types, JIT)
    await post(url, `${HEAD}# ${'a'.repeat(20_000)}!\n${COMPUTE}`); // the bait for the filters
    const inputs: Array<[string, () => Promise<unknown>]> = [
      ['800 KB string x 10,000 aliases', () => post(url, `${HEAD}metadata:\n  big: &a "${'x'.repeat(800_000)}"\n  c:\n${'    - *a\n'.repeat(10_000)}${COMPUTE}`)],
      ['800 KB string x 1,000 aliases', () => post(url, `${HEAD}metadata:\n  big: &a "${'x'.repeat(800_000)}"\n  c:\n${'    - *a\n'.repeat(1000)}${COMPUTE}`)],
      ['300 catastrophic patterns', () => post(url, `${HEAD}topology_template:\n  inputs:\n${Array.from({ length: 300 }, (_, i) =>
        `    i${i}:\n      type: string\n      default: ${'a'.repeat(40)}!\n      constraints:\n        - pattern: "(a+)+(x{${i}})?$"\n`).join('')}  node_templates:\n    s: { type: tosca.nodes.Compute }\n`)],
      ['20 catastrophic ?filter=', () => Promise.all(Array.from({ length: 20 }, () =>
        fetch(`${url}/infrastructures?filter=${encodeURIComponent('(a+)+$')}`, { headers: { Authorization: AUTH } }).then((r) => r.text())))],
      ['import of 169.254.169.254', () => post(url, `${HEAD}imports:\n  - http://169.254.169.254/latest/meta-data/\n${COMPUTE}`)],
      ['2 MB body (over the 1 MB limit)', () => post(url, `${HEAD}# ${'x'.repeat(2_000_000)}\n${COMPUTE}`)],
    ];
    const rows: string[] = [];
    let worstAll = 0;
    let quietAll = 0;
    for (const [name, send] of inputs) {
      const t = performance.now();
      const attack = send().then(async (r) => (r instanceof Response ? `${r.status}` : 'ok'));
      const worst = await worstVersionMs(url, attack);
      const took = performance.now() - t;
      const status = await attack;
      const quiet = await worstVersionMs(url, new Promise((ok) => setTimeout(ok, Math.max(100, took))));
      worstAll = Math.max(worstAll, worst);
      quietAll = Math.max(quietAll, quiet);
      rows.push(`| ${name.padEnd(34)} | ${status.padStart(6)} | ${took.toFixed(0).padStart(8)} | ${worst.toFixed(1).padStart(12)} | ${quiet.toFixed(1).padStart(9)} |`);
    }
    process.stdout.write(`| input                              | answer | took ms | /version worst | quiet ms |\n|---|---|---|---|---|\n${rows.join('\n')}\n`);
    process.stdout.write(`security: worst_version_ms=${worstAll.toFixed(1)} quiet_ms=${quietAll.toFixed(1)} inputs=${inputs.length}\n`);
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
