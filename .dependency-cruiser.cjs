/**
 * The picture of the house: which room may import which. `npm test` runs this (pretest: depcruise),
 * so a backward import fails the build. Rooms, bottom to top:
 *
 *   lib/                     leaf: errors without HTTP codes, async helpers, sleep, redact; imports nothing of ours
 *   tosca/, radl/            pure template libraries; only lib/
 *   connectors/              clouds; lib/ and connectors/shared (+ their own folder), never server/ or tosca/
 *   server/<room>/           api, auth, engine, configure, elastic, store, …; may import lib/, tosca/, radl/, connectors/
 *   cli/, index.ts           on top: may import everything runtime
 *   sims/                    cloud simulators: imported by cli/sim.ts, bench/ and test/ only
 *   test/, bench/, *.test.ts may import anything
 *
 * A temporary exception names one known import and says why; it is not a blanket disable, so a new
 * violation still fails.
 */
const RUNTIME = '^(lib|tosca|radl|connectors|server|cli|sims)/|^index\\.ts$';
const TEST_CODE = '(^(test|bench)/)|[.]test[.]ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make the order of loading (and of change) unclear.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-is-a-leaf',
      severity: 'error',
      comment: 'lib/ imports nothing of ours (only node and npm packages).',
      from: { path: '^lib/', pathNot: TEST_CODE },
      to: { path: '^(tosca|radl|connectors|server|cli|sims|test|bench)/|^index\\.ts$' },
    },
    {
      name: 'template-libraries-only-lib',
      severity: 'error',
      comment: 'tosca/ and radl/ are pure libraries: they may import lib/ and themselves, nothing else of ours.',
      from: { path: '^(tosca|radl)/', pathNot: TEST_CODE },
      to: { path: '^(connectors|server|cli|sims|test|bench)/|^index\\.ts$' },
    },
    {
      name: 'radl-and-tosca-apart',
      severity: 'error',
      comment: 'tosca/ and radl/ do not import each other (server/ maps both to a plan).',
      from: { path: '^(tosca|radl)/', pathNot: TEST_CODE },
      to: { path: '^(tosca|radl)/', pathNot: '^$1/' },
    },
    {
      name: 'connectors-below-server',
      severity: 'error',
      comment: 'connectors/ take plain data: they import lib/ and connectors/ only, never server/ or tosca/.',
      from: { path: '^connectors/', pathNot: TEST_CODE },
      to: { path: '^(tosca|radl|server|cli|sims|test|bench)/|^index\\.ts$' },
    },
    {
      name: 'connector-folders-apart',
      severity: 'error',
      comment: 'One cloud folder does not import another; what both need lives in connectors/shared.',
      from: { path: '^connectors/(openstack|ec2|dummy)/', pathNot: TEST_CODE },
      to: { path: '^connectors/(openstack|ec2|dummy)/', pathNot: '^connectors/$1/' },
    },
    {
      name: 'server-below-cli',
      severity: 'error',
      comment: 'server/ rooms may import lib/, tosca/, radl/, connectors/ and each other, not cli/.',
      from: { path: '^server/', pathNot: TEST_CODE },
      to: { path: '^(cli|sims|test|bench)/|^index\\.ts$' },
    },
    {
      name: 'runtime-without-test-code',
      severity: 'error',
      comment: 'Runtime code must not import test/ (it would ship). Only cli/sim.ts may import sims/.',
      from: { path: RUNTIME, pathNot: `${TEST_CODE}|^sims/|^cli/sim[.]ts$` },
      to: { path: '^(test|bench|sims)/' },
    },
    {
      name: 'sims-not-test',
      severity: 'error',
      comment: 'The simulators ship with `tosca-im sim`: they import lib/ (and node), never test/ or the server.',
      from: { path: '^(sims/|cli/sim[.]ts$)', pathNot: TEST_CODE },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
