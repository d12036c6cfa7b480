/**
 * Fault injection, per test: added faults match one action (or all) and fire a number of times.
 * - latency: wait `ms` before answering (also `latencyMs` for every call);
 * - error: answer `status` (500 by default) with an EC2 error `code` without performing the call;
 * - throttle: 503 RequestLimitExceeded, as EC2 throttles, without performing the call;
 * - reset: close the connection before performing the call;
 * - drop: perform the call, then close the connection without answering (a lost answer);
 * - boot-failure: the instances this RunInstances launches die while booting (Server.InternalError).
 */
export type FaultKind = 'latency' | 'error' | 'throttle' | 'reset' | 'drop' | 'boot-failure';

export interface FaultSpec {
  kind: FaultKind;
  /** EC2 Action it applies to; every action when absent. */
  action?: string;
  /** How many matching requests it affects (default 1; Infinity for all). */
  times?: number;
  ms?: number;
  status?: number;
  code?: string;
  message?: string;
}

export class Faults {
  /** Added to every EC2 call (the benchmark's injected latency). */
  latencyMs = 0;
  private active: (FaultSpec & { left: number })[] = [];

  add(spec: FaultSpec): this {
    this.active.push({ ...spec, left: spec.times ?? 1 });
    return this;
  }

  clear(): void {
    this.active = [];
    this.latencyMs = 0;
  }

  /** Consumes and returns the faults of each kind that apply to this request. */
  take(action: string): Partial<Record<FaultKind, FaultSpec>> {
    const fired: Partial<Record<FaultKind, FaultSpec>> = {};
    for (const f of this.active) {
      if (f.left <= 0 || (f.action && f.action !== action) || fired[f.kind]) continue;
      f.left--;
      fired[f.kind] = f;
    }
    this.active = this.active.filter((f) => f.left > 0);
    return fired;
  }

  pending(): FaultSpec[] {
    return this.active.map(({ left, ...f }) => ({ ...f, times: left }));
  }
}
