/**
 * Holding requests, for tests that need a cloud call in flight at a chosen moment (a server process
 * killed while it waits for Nova or EC2): a rule catches the requests it matches and keeps them
 * waiting, before the simulator does the work or after it (the cloud acted, the client does not
 * know yet), until the test releases it. A caught request whose client went away meanwhile is
 * dropped, as a cloud drops the answer nobody waits for; held before the work, it is never done.
 * In-process only: rules are functions, so there is no /_sim twin.
 */
import type { ServerResponse } from 'node:http';

export interface HoldRule<R> {
  /** Which requests it catches (default: every one). */
  when?: (req: R) => boolean;
  /** How many requests it catches (default 1; Infinity: every match until released). */
  count?: number;
  /** Do the work first, then hold the answer. */
  afterHandling?: boolean;
}

export interface Hold {
  /** Requests caught so far. */
  readonly caught: number;
  /** Caught requests still waiting (their client is still there). */
  readonly waiting: number;
  /** Lets the waiting requests go on (those whose client is still there) and catches no more. */
  release(): void;
}

export interface Caught {
  afterHandling: boolean;
  /** Resolves true when released, false when the client went away first. */
  wait(res: ServerResponse): Promise<boolean>;
}

interface Rule<R> extends HoldRule<R> {
  left: number;
  caught: number;
  released: boolean;
  waiting: Set<() => void>;
}

export class Holds<R> {
  private rules: Rule<R>[] = [];

  add(spec: HoldRule<R>): Hold {
    const rule: Rule<R> = { ...spec, left: spec.count ?? 1, caught: 0, released: false, waiting: new Set() };
    this.rules.push(rule);
    return {
      get caught() { return rule.caught; },
      get waiting() { return rule.waiting.size; },
      release: () => {
        rule.released = true;
        this.rules = this.rules.filter((r) => r !== rule);
        for (const go of [...rule.waiting]) go();
      },
    };
  }

  /** The first rule (in the order added) with room left that matches catches the request. */
  catch(req: R): Caught | undefined {
    const rule = this.rules.find((r) => r.left > 0 && (!r.when || r.when(req)));
    if (!rule) return undefined;
    rule.left--;
    rule.caught++;
    return {
      afterHandling: !!rule.afterHandling,
      wait: (res) => new Promise<boolean>((resolve) => {
        if (rule.released) return resolve(!res.destroyed);
        const gone = () => { rule.waiting.delete(go); resolve(false); };
        const go = () => { rule.waiting.delete(go); res.off('close', gone); resolve(!res.destroyed); };
        rule.waiting.add(go);
        res.once('close', gone);
      }),
    };
  }
}
