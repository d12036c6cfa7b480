/**
 * `tosca-im plan TEMPLATE.yaml [--input k=v ...] [--import-map FILE] [--cache-dir DIR] [--json]`:
 * parse, resolve and plan a template; print the plan, or the located errors and exit 1.
 */
import { readFile } from 'fs/promises';
import { dirname, resolve } from 'path';
import { parseArgs } from 'node:util';
import { planTemplate, type PlanOptions } from '../tosca';
import { ToscaError } from '../tosca/errors';
import { loadImportMap } from '../tosca';
import { formatPlan } from './plan-format';

const USAGE = 'usage: tosca-im plan TEMPLATE.yaml [--input key=value ...] [--import-map FILE] [--cache-dir DIR] [--json]\n';

interface Io { stdout: (s: string) => void; stderr: (s: string) => void }
const processIo: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

/** Exit codes: 0 planned, 1 invalid template (or unreadable file), 2 bad command line. */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        input: { type: 'string', short: 'i', multiple: true, default: [] },
        'import-map': { type: 'string' },
        'cache-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.stderr(`tosca-im plan: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { io.stdout(USAGE); return 0; }
  if (positionals.length !== 1) { io.stderr(USAGE); return 2; }
  const file = positionals[0];

  const inputs: Record<string, string> = {};
  for (const kv of values.input ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) { io.stderr(`tosca-im plan: --input wants key=value, got "${kv}"\n`); return 2; }
    inputs[kv.slice(0, eq)] = kv.slice(eq + 1);
  }

  const opts: PlanOptions = { inputs, fileName: file, baseDir: dirname(resolve(file)) };
  if (values['cache-dir']) opts.cacheDir = values['cache-dir'];
  let text: string;
  try {
    if (values['import-map']) Object.assign(opts, loadImportMap(values['import-map']));
    text = await readFile(file, 'utf8');
  } catch (err) {
    return fail(io, values.json!, { message: `tosca-im plan: ${(err as Error).message}` });
  }

  try {
    const plan = await planTemplate(text, opts);
    io.stdout(values.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan, file));
    for (const w of plan.warnings ?? []) io.stderr(`warning: ${w}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ToscaError)) throw err; // our bug, not the user's: let main print the stack
    return fail(io, values.json!, {
      message: err.message, code: err.code, file: err.file, line: err.line, column: err.column, path: err.yamlPath,
    });
  }
}

function fail(io: Io, json: boolean, error: { message: string } & Record<string, unknown>): number {
  io.stderr(`${error.message}\n`);
  if (json) io.stdout(`${JSON.stringify({ error }, null, 2)}\n`);
  return 1;
}
