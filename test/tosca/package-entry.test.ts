/**
 * The engine as a library of the published package: `require('tosca-im/tosca')` (package.json
 * "exports", resolved by node itself from the built dist/) gives parseTemplate, plan and the typed
 * error, with no server or cloud code loaded (only the leaf helpers of lib/).
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');

test("import { parseTemplate, plan } from 'tosca-im/tosca' works on the build", () => {
  expect(existsSync(join(ROOT, 'dist', 'tosca', 'index.js')) || 'dist/ is missing: run "npx tsc -p tsconfig.build.json" first (npm test does)').toBe(true);
  const script = `
    const { parseTemplate, plan, ToscaError } = require('tosca-im/tosca');
    const text = 'tosca_definitions_version: tosca_simple_yaml_1_0\\ntopology_template:\\n  node_templates:\\n    s:\\n      type: tosca.nodes.Compute\\n      capabilities: { scalable: { properties: { count: 2 } } }\\n';
    (async () => {
      const p = plan(await parseTemplate(text, { fileName: 'a.yaml' }));
      const bad = await parseTemplate('x: [', { fileName: 'b.yaml' }).catch((e) => e);
      const loaded = Object.keys(require.cache).map((f) => f.slice(${JSON.stringify(ROOT)}.length));
      console.log(JSON.stringify({
        computes: p.computes.map((c) => [c.name, c.count]),
        typed: bad instanceof ToscaError, at: [bad.file, bad.line],
        foreign: loaded.filter((f) => !f.startsWith('/dist/tosca/') && !f.startsWith('/dist/lib/') && !f.startsWith('/node_modules/')),
      }));
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ computes: [['s', 2]], typed: true, at: ['b.yaml', 1], foreign: [] });
});
