/// <reference types="jest" />
/**
 * describe() for suites that need the SSH lab. Where it cannot run (not root, no sshd) the suite is
 * skipped loudly — unless TOSCA_IM_REQUIRE_ALL=1 (CI), where it fails instead.
 */
import { existsSync } from 'node:fs';
import { labMissing } from './lab';
import { describeWithRealPart } from '../real-part';

/** @param programs further programs the suite needs (absolute paths), e.g. /usr/bin/ansible-playbook */
export function describeWithLab(name: string, fn: () => void, programs: string[] = []): void {
  const absent = programs.find((p) => !existsSync(p));
  const missing = labMissing() ?? (absent ? `${absent} is missing` : null);
  describeWithRealPart(name, 'SSH lab prerequisites', missing, fn);
}
