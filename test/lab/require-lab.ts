/// <reference types="jest" />
/**
 * describe() for suites that need the SSH lab. Where it cannot run (not root, no sshd) the suite is
 * skipped loudly — unless TOSCA_IM_REQUIRE_ALL=1 (CI), where it fails instead.
 */
import { existsSync } from 'node:fs';
import { labMissing } from './lab';

/** @param programs further programs the suite needs (absolute paths), e.g. /usr/bin/ansible-playbook */
export function describeWithLab(name: string, fn: () => void, programs: string[] = []): void {
  const absent = programs.find((p) => !existsSync(p));
  const missing = labMissing() ?? (absent ? `${absent} is missing` : null);
  if (!missing) return describe(name, fn);
  if (process.env.TOSCA_IM_REQUIRE_ALL === '1') {
    describe(name, () => test('SSH lab prerequisites', () => { throw new Error(`TOSCA_IM_REQUIRE_ALL=1 but ${missing}`); }));
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`\n*** SKIPPED "${name}": ${missing} ***\n`);
  describe.skip(name, fn);
}
