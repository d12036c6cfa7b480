/**
 * The dependency rules (.dependency-cruiser.cjs, run by `npm test`'s pretest) catch what they
 * forbid: a small tree with a backward import, a cycle, runtime code importing test code and a
 * connector importing tosca/ fails with each rule named, while a listed known exception passes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

const TREE: Record<string, string> = {
  'tsconfig.json': '{ "compilerOptions": { "module": "commonjs", "moduleResolution": "node" } }',
  'lib/leaf.ts': "import { b } from '../server/room';\nexport const a = b;\n",
  'server/room.ts': 'export const b = 1;\n',
  'connectors/one.ts': "import { d } from './two';\nexport const c = d;\n",
  'connectors/two.ts': "import { c } from './one';\nexport const d = () => c;\n",
  'cli/tool.ts': "import { f } from '../test/helper';\nexport const e = f;\n",
  'test/helper.ts': 'export const f = 1;\n',
  'server/lost.ts': "import { x } from './missing';\nexport const y = x;\n",
  'tosca/plan.ts': 'export interface ComputePlan { name: string }\n',
  'connectors/new-cloud.ts': "import type { ComputePlan } from '../tosca/plan';\nexport const g = (p: ComputePlan) => p.name;\n",
  // A known exception (KNOWN in the config): allowed until the connector contract lands.
  'connectors/types.ts': "import type { ComputePlan } from '../tosca/plan';\nexport type H = ComputePlan;\n",
};

test('a backward import, a cycle, test code in runtime and an unresolvable import fail the check, each named; known exceptions pass', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depcruise-'));
  try {
    for (const [file, text] of Object.entries(TREE)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    const r = spawnSync(process.execPath, [DEPCRUISE, '.', '--config', path.join(ROOT, '.dependency-cruiser.cjs')], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    const out = r.stdout + r.stderr;
    expect(r.status).not.toBe(0);
    expect(out).toMatch(/lib-is-a-leaf: lib\/leaf\.ts → server\/room\.ts/);
    expect(out).toMatch(/no-circular: connectors\/(one|two)\.ts →/);
    expect(out).toMatch(/runtime-without-test-code: cli\/tool\.ts → test\/helper\.ts/);
    expect(out).toMatch(/connectors-below-server: connectors\/new-cloud\.ts → tosca\/plan\.ts/);
    expect(out).not.toMatch(/connectors\/types\.ts → tosca\/plan\.ts/);
    expect(out).toMatch(/not-to-unresolvable: server\/lost\.ts → \.\/missing/);
    expect(out).toMatch(/x 5 dependency violations/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
