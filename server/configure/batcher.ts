/**
 * Groups work that becomes ready at about the same time under one key and runs each group once:
 * a group is flushed `windowMs` after its last arrival (or `maxWaitMs` after its first). Used to
 * run one ansible-playbook for every VM doing the same operation.
 */
interface Pending<T, R> {
  items: T[];
  waiters: { resolve: (r: R) => void; reject: (e: Error) => void }[];
  timer?: NodeJS.Timeout;
  firstAt: number;
}

export class Batcher<T, R> {
  private readonly groups = new Map<string, Pending<T, R>>();

  /** run: one result per item, in the items' order. */
  constructor(
    private readonly run: (key: string, items: T[]) => Promise<R[]>,
    private readonly windowMs = 50,
    private readonly maxWaitMs = 500,
  ) {}

  submit(key: string, item: T): Promise<R> {
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { items: [], waiters: [], firstAt: Date.now() }));
    g.items.push(item);
    const p = new Promise<R>((resolve, reject) => g!.waiters.push({ resolve, reject }));
    clearTimeout(g.timer);
    const wait = Math.max(0, Math.min(this.windowMs, g.firstAt + this.maxWaitMs - Date.now()));
    g.timer = setTimeout(() => this.flush(key), wait);
    return p;
  }

  private flush(key: string): void {
    const g = this.groups.get(key);
    if (!g) return;
    this.groups.delete(key);
    this.run(key, g.items).then(
      (results) => g.waiters.forEach((w, i) => w.resolve(results[i])),
      (err: Error) => g.waiters.forEach((w) => w.reject(err)),
    );
  }
}
