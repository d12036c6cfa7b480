/// <reference types="jest" />
/**
 * describe() for a suite that needs a real part (the SSH lab, PostgreSQL, Chromium, the real OpenStack
 * services). Where the part is missing the suite is skipped loudly, so a developer's machine still runs
 * the rest — unless TOSCA_IM_REQUIRE_ALL=1 (CI), where the suite fails with the reason instead.
 */
export function describeWithRealPart(name: string, part: string, missing: string | null | undefined, fn: () => void): void {
  if (!missing) return describe(name, fn);
  if (process.env.TOSCA_IM_REQUIRE_ALL === '1') {
    describe(name, () => test(part, () => { throw new Error(`TOSCA_IM_REQUIRE_ALL=1 but ${missing}`); }));
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`\n*** SKIPPED "${name}": ${missing} ***\n`);
  describe.skip(name, fn);
}
