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
/**
 * Known violations of today's code, each a temporary, named exception: one import (from → to) that a
 * rule lets through, with why and what removes it. Anything else the rule forbids still fails.
 */
const KNOWN = [
  ...['connectors/types.ts', 'connectors/shared/sizing.ts', 'connectors/shared/floating-ip-policy.ts',
    'connectors/openstack/network.ts', 'connectors/openstack/connector.ts', 'connectors/openstack/compute.ts',
    'connectors/ec2/instance-types.ts', 'connectors/ec2/infrastructure.ts', 'connectors/ec2/connector.ts',
    'connectors/dummy/index.ts'].map((from) => ({
    rule: 'connectors-below-server', from, to: 'tosca/plan.ts',
    why: 'connectors still take the plan\'s ComputePlan/HostSizing/OsSpec types; goes when the engine maps the plan to a ' +
      'VmSpec in connectors/types.ts (issue 13, connector contract).',
  })),
  ...['test/lab/lab.ts', 'test/lab/run.ts'].map((to) => ({
    rule: 'sims-not-test', from: 'sims/host-mode.ts', to,
    why: 'the simulators\' host mode builds its SSH hosts in the test lab (network namespaces); goes when lab.ts and ' +
      'run.ts move to sims/lab (after issue 10, which edits test/lab, lands).',
  })),
];

const exact = (file) => `^${file.replace(/[.]/g, '[.]')}$`;
const either = (...patterns) => patterns.filter(Boolean).join('|') || undefined;

/** The rule without its known exceptions' source files, plus one rule per such file that lets only its known imports through. */
function withKnown(rule) {
  const known = KNOWN.filter((k) => k.rule === rule.name);
  if (known.length === 0) return [rule];
  const froms = [...new Set(known.map((k) => k.from))];
  return [
    { ...rule, from: { ...rule.from, pathNot: either(rule.from.pathNot, ...froms.map(exact)) } },
    ...froms.map((from) => ({
      ...rule,
      comment: `${rule.comment} Known exceptions: ${known.filter((k) => k.from === from).map((k) => `${k.to} (${k.why})`).join('; ')}`,
      from: { path: exact(from) },
      to: { ...rule.to, pathNot: either(rule.to.pathNot, ...known.filter((k) => k.from === from).map((k) => exact(k.to))) },
    })),
  ];
}

const RUNTIME = '^(lib|tosca|radl|connectors|server|cli|sims)/|^index\\.ts$';
const TEST_CODE = '(^(test|bench)/)|[.]test[.]ts$';

/** A rule for runtime code of `from` (test code is free): it must not import `to`. */
const room = (name, from, to, comment, toPathNot) =>
  ({ name, severity: 'error', comment, from: { path: from, pathNot: TEST_CODE }, to: toPathNot ? { path: to, pathNot: toPathNot } : { path: to } });

const RULES = [
  { name: 'no-circular', severity: 'error', comment: 'Import cycles make the order of loading (and of change) unclear.', from: {}, to: { circular: true } },
  { name: 'not-to-unresolvable', severity: 'error', comment: 'An import that resolves to nothing.', from: {}, to: { couldNotResolve: true } },
  room('lib-is-a-leaf', '^lib/', '^(tosca|radl|connectors|server|cli|sims|test|bench)/|^index[.]ts$',
    'lib/ imports nothing of ours (only node and npm packages).'),
  room('template-libraries-only-lib', '^(tosca|radl)/', '^(connectors|server|cli|sims|test|bench)/|^index[.]ts$',
    'tosca/ and radl/ are pure libraries: they may import lib/ and themselves, nothing else of ours.'),
  room('radl-and-tosca-apart', '^(tosca|radl)/', '^(tosca|radl)/',
    'tosca/ and radl/ do not import each other (server/ maps both to a plan).', '^$1/'),
  room('connectors-below-server', '^connectors/', '^(tosca|radl|server|cli|sims|test|bench)/|^index[.]ts$',
    'connectors/ take plain data: they import lib/ and connectors/ only, never server/ or tosca/.'),
  room('connector-folders-apart', '^connectors/(openstack|ec2|dummy)/', '^connectors/(openstack|ec2|dummy)/',
    'One cloud folder does not import another; what both need lives in connectors/shared.', '^connectors/$1/'),
  room('server-below-cli', '^server/', '^(cli|sims|test|bench)/|^index[.]ts$',
    'server/ rooms may import lib/, tosca/, radl/, connectors/ and each other, not cli/.'),
  { ...room('runtime-without-test-code', RUNTIME, '^(test|bench|sims)/',
    'Runtime code must not import test/ (it would ship); only cli/sim.ts may import sims/.'),
  from: { path: RUNTIME, pathNot: `${TEST_CODE}|^sims/|^cli/sim[.]ts$` } },
  room('sims-not-test', '^(sims/|cli/sim[.]ts$)', '^(test|bench|server)/',
    'The simulators ship with `tosca-im sim`: they import lib/ (and node), never test/ or the server.'),
];


module.exports = {
  forbidden: RULES.flatMap(withKnown),
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|docs)/|^[^/]+[.](c?js|mjs)$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
