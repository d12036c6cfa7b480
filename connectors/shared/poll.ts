/** Waiting on clouds: polling with capped backoff, and bounded parallelism. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface PollOptions {
  /** First wait between attempts; doubles up to maxIntervalMs. */
  intervalMs: number;
  maxIntervalMs: number;
  timeoutMs: number;
  /** What we are waiting for, for the timeout message. */
  what: string;
  /** Wait this long before the first probe (when an immediate answer is known to be "not yet"). */
  initialDelayMs?: number;
}

export class PollTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`Timed out after ${Math.round(ms / 1000)} s waiting for ${what}`);
    this.name = 'PollTimeoutError';
  }
}

/** Call `probe` until it returns a value other than undefined. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, o: PollOptions): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  let interval = o.intervalMs;
  if (o.initialDelayMs) await sleep(o.initialDelayMs);
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() + interval > deadline) throw new PollTimeoutError(o.what, o.timeoutMs);
    await sleep(interval);
    interval = Math.min(o.maxIntervalMs, interval * 2);
  }
}

/** Map with at most `limit` calls in flight; results in input order; the first rejection rejects. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Like mapBounded but never rejects: each item settles on its own. */
export function settleBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  return mapBounded(items, limit, (item, i) => fn(item, i).then(
    (value): PromiseSettledResult<R> => ({ status: 'fulfilled', value }),
    (reason): PromiseSettledResult<R> => ({ status: 'rejected', reason }),
  ));
}

/** Serialises async sections per key inside this process (e.g. picking a free floating IP). */
export class KeyedMutex {
  private tails = new Map<string, Promise<unknown>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * Promise.all that waits for every promise before rejecting with the first failure, so no call is
 * left running behind an error (it would outlive the operation, and a test's simulator).
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises as readonly Promise<unknown>[]);
  const failed = settled.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
