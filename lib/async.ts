/** Async helpers: bounded parallel maps and per-key serialisation, one of each for the whole code base. */

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

/** Like mapBounded but never rejects: each item settles on its own, results in input order. */
export function settleBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  return mapBounded(items, limit, async (item, i): Promise<PromiseSettledResult<R>> => {
    try {
      return { status: 'fulfilled', value: await fn(item, i) };
    } catch (reason) {
      return { status: 'rejected', reason };
    }
  });
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

/** Serialises async sections per key inside this process (a read-compute-write of one infrastructure, picking a free floating IP). */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** Lets the event loop answer other requests (timers, sockets) before going on. */
export const yieldToLoop = (): Promise<void> => new Promise((ok) => setImmediate(ok));

/**
 * Array.map for CPU-bound work on big lists (1,000 VMs' views, RADL blocks, export records): `slice`
 * items at a time, yielding to the event loop between slices, so one big read never holds the loop
 * for more than one slice's worth (a `GET /version` beside it still answers).
 */
export async function mapInSlices<T, R>(items: readonly T[], fn: (item: T, index: number) => R, slice = 100): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += slice) {
    if (i > 0) await yieldToLoop();
    for (let j = i; j < Math.min(items.length, i + slice); j++) out.push(fn(items[j], j));
  }
  return out;
}
