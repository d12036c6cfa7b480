/**
 * An ElasticManager on a real engine, acting as the infrastructure's owner, with a fake clock and a
 * master whose queue is a JSON object the test changes (`cat /var/lib/queue.json` is the probe).
 */
import type { Engine } from '../../server/engine';
import { FakeClock } from '../../server/elastic/clock';
import { ElasticManager } from '../../server/elastic/manager';
import type { ElasticPolicy } from '../../server/elastic/policy';
import { ownerCaller, serviceActions } from '../../server/elastic/ports';
import type { RemoteExec } from '../../server/elastic/probes/types';
import { KvStateStore } from '../../server/elastic/state';
import type { Store } from '../../server/store';
import { T0 } from './helpers';

export const QUEUE_PROBE = 'cat /var/lib/queue.json';

export function managerOnEngine(engine: Engine, store: Store, infId: string, policy: ElasticPolicy, queue: { waiting: number; busy: Record<string, number> }) {
  const exec: RemoteExec = async (cmd) =>
    cmd === QUEUE_PROBE ? { code: 0, stdout: JSON.stringify(queue), stderr: '' }
      : cmd === 'true' ? { code: 0, stdout: '', stderr: '' } : { code: 127, stdout: '', stderr: 'not found' };
  const clock = new FakeClock(T0);
  // The manager acts as the owner, with the credentials stored with the infrastructure.
  const manager = new ElasticManager({ clock, actions: serviceActions(engine.service, ownerCaller(store)), exec: () => exec, store: new KvStateStore(store) });
  manager.register(infId, policy);
  const step = async (ms: number) => { clock.advance(ms); return manager.tick(infId); };
  return { manager, clock, step };
}
