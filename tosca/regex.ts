/**
 * Regular expressions that callers write (TOSCA `pattern` constraints, the `filter` of GET
 * /infrastructures) run over text that callers also write. A backtracking engine (JavaScript's
 * RegExp) can take years on a pattern such as `(a+)+$`, and it would block the event loop, so every
 * request of every user. RE2 (Google's automaton engine, the `re2` package) matches in time linear in
 * the input, so no time limit is needed; the price: no lookaround and no backreferences, which are
 * refused with a clear message.
 */
import RE2 from 're2';

/** The pattern uses syntax RE2 does not have (or is not a regular expression at all). */
export class UnsupportedRegexError extends Error {
  constructor(readonly pattern: string, reason: string) {
    super(`invalid or unsupported regular expression (${reason}; lookaround and backreferences are not supported)`);
    this.name = 'UnsupportedRegexError';
  }
}

/** A linear-time matcher for `source`, or UnsupportedRegexError. */
export function linearRegex(source: string, flags = ''): RE2 {
  try {
    return new RE2(source, flags);
  } catch (err) {
    throw new UnsupportedRegexError(source, (err as Error).message);
  }
}

/** `re.test(s)` for every input, in time linear in the inputs' length. */
export function testAll(re: RE2, inputs: readonly string[]): boolean[] {
  return inputs.map((s) => re.test(s));
}
