/** Waiting on clouds: polling with capped backoff (bounded parallelism is lib/async.ts). */
import { sleep } from '../../lib/sleep';

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
