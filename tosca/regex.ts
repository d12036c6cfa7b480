/**
 * Regular expressions that callers write (TOSCA `pattern` constraints, the `filter` of GET
 * /infrastructures) run over text that callers also write: a pattern with catastrophic
 * backtracking such as `(a+)+$` would block the event loop, and with it every request of every
 * user, for years. JavaScript cannot interrupt a RegExp, but V8 can interrupt a vm script, so the
 * matching runs there under a time limit (~45 µs of overhead per call).
 */
import * as vm from 'node:vm';

/** The pattern did not finish within its time budget. */
export class RegexTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the regular expression did not finish matching within ${timeoutMs} ms (catastrophic backtracking?)`);
    this.name = 'RegexTimeoutError';
  }
}

const context = vm.createContext(Object.create(null));
const testAll = new vm.Script('__inputs.map((s) => __re.test(s))');
/**
 * Patterns that already ran out of time fail at once from then on: one template can hold thousands
 * of checks of the same pattern (node filters against every node), and each would cost the limit.
 */
const slow = new Set<string>();
const MAX_SLOW = 1000;

/** `re.test(s)` for every input, all of them within `timeoutMs`, or RegexTimeoutError. */
export function testWithin(re: RegExp, inputs: readonly string[], timeoutMs = 100): boolean[] {
  const key = `${re.flags}/${re.source}`;
  if (slow.has(key)) throw new RegexTimeoutError(timeoutMs);
  context.__re = re;
  context.__inputs = inputs;
  try {
    return testAll.runInContext(context, { timeout: timeoutMs }) as boolean[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      if (slow.size >= MAX_SLOW) slow.delete(slow.values().next().value as string);
      slow.add(key);
      throw new RegexTimeoutError(timeoutMs);
    }
    throw err;
  } finally {
    context.__re = undefined;
    context.__inputs = undefined;
  }
}
