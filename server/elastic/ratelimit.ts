/**
 * E-RATE-1: the create budget of a cloud account, shared by every infrastructure (of any user)
 * whose workers go to that account, keyed by a hash of the credential's identifying fields (never
 * the secret), on the manager's clock. In memory (CreateBudget: a manager on its own) or in the
 * store (StoreBudget: the server's, shared by the replicas on one database).
 *
 * A token bucket whose tokens come back one window after they were spent: at most `perWindow`
 * creates in any window. A bucket refilled continuously would let a burst of N be followed by
 * N·t/60 more within the same minute, which is what a "5 creates/min" account limit refuses.
 */
import type { Store } from '../store/types';

export const RATE_WINDOW_MS = 60_000;

/** What the manager takes create tokens from: this in-memory bucket, or the store's (StoreBudget). */
export interface AccountBudget {
  take(key: string, perWindow: number, want: number, now: number): number | Promise<number>;
  refund(key: string, n: number, at: number): void | Promise<void>;
}

export class CreateBudget implements AccountBudget {
  /** Per key, when each spent token was spent (at most perWindow of them matter). */
  private readonly spent = new Map<string, number[]>();

  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  /** Creates still allowed now on this account at this rate. */
  available(key: string, perWindow: number, now: number): number {
    return Math.max(0, perWindow - this.live(key, now).length);
  }

  /**
   * Take up to `want` tokens at once (synchronous, so infrastructures ticking together on one
   * account cannot both spend the same token). Returns how many were granted.
   */
  take(key: string, perWindow: number, want: number, now: number): number {
    const granted = Math.min(Math.max(0, Math.floor(want)), this.available(key, perWindow, now));
    if (granted > 0) this.spent.set(key, [...this.live(key, now), ...Array<number>(granted).fill(now)]);
    return granted;
  }

  /** Give back tokens taken at `at` and not used after all (the decision added fewer). */
  refund(key: string, n: number, at: number): void {
    const list = this.spent.get(key);
    if (!list || n <= 0) return;
    for (let i = list.length - 1; i >= 0 && n > 0; i--) {
      if (list[i] === at) { list.splice(i, 1); n -= 1; }
    }
  }

  private live(key: string, now: number): number[] {
    const list = (this.spent.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.spent.set(key, list);
    else this.spent.delete(key);
    return list;
  }
}

/**
 * The budget in the store, shared by every replica on one database (each manages some of the
 * infrastructures of an account): the store takes the tokens atomically.
 */
export class StoreBudget implements AccountBudget {
  constructor(private readonly store: Pick<Store, 'takeBudget' | 'refundBudget'>, private readonly windowMs = RATE_WINDOW_MS) {}

  take(key: string, perWindow: number, want: number, now: number): Promise<number> {
    return this.store.takeBudget(key, perWindow, want, now, this.windowMs);
  }

  refund(key: string, n: number, at: number): Promise<void> {
    return this.store.refundBudget(key, n, at);
  }
}
