/**
 * Time as a port: the manager never reads Date.now() or setTimeout directly, so tests and the
 * bench drive hours of behaviour in milliseconds and restarts resume from absolute deadlines.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The elastic loop must never keep a CLI or a test process alive on its own.
    t.unref?.();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A clock that only moves when told; timers fire in deadline order during advance(). */
export class FakeClock implements Clock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now(): number { return this.t; }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return id;
  }
  clearTimer(handle: unknown): void { this.timers = this.timers.filter((x) => x.id !== handle); }
  /** Move time forward, firing due timers one by one (each sees its own deadline as now). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
  set(ms: number): void { this.t = ms; }
}
