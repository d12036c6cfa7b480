/**
 * kill -9 during an asynchronous create, start the server again on the same database: the
 * infrastructure reaches its final state with exactly the planned VMs (none lost, none doubled).
 */
import * as fs from 'node:fs';
import { clusterTemplate, tempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { spawnServer, waitFor } from './api-harness';

const AUTH = imAuth('carol', 'carol-pw', 'id = dummy; type = Dummy; delay_ms = 1500');

describe('crash during an async create', () => {
  it('resumes after SIGKILL and ends with the exact VM count', async () => {
    const dataDir = tempDir('tosca-im-crash-');
    const first = await spawnServer(dataDir);
    let id: string;
    try {
      const created = await call(first.url, 'POST', '/infrastructures?async=yes', { auth: AUTH, type: 'text/yaml', body: clusterTemplate(4) });
      expect(created.status).toBe(200);
      id = created.headers.get('InfID')!;
      // Kill while the deployment is under way (the Dummy VMs stay pending for 1.5 s).
      const state = (await call(first.url, 'GET', `/infrastructures/${id}/state`, { auth: AUTH })).json().state;
      expect(state.state).toBe('pending');
    } finally {
      await first.kill();
    }
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = await spawnServer(dataDir);
    try {
      const done = await waitFor('the resumed create', async () => {
        const s = (await call(second.url, 'GET', `/infrastructures/${id}/state`, { auth: AUTH })).json().state;
        return s.state === 'configured' ? s : undefined;
      }, 20_000);
      expect(Object.keys(done.vm_states).sort()).toEqual(['0', '1', '2', '3', '4']);
      const list = (await call(second.url, 'GET', '/infrastructures', { auth: AUTH })).text.split('\n');
      expect(list).toEqual([`${second.url}/infrastructures/${id}`]);
      const instances = new Set<string>();
      for (const vm of ['0', '1', '2', '3', '4']) {
        instances.add((await call(second.url, 'GET', `/infrastructures/${id}/vms/${vm}/instance_id`, { auth: AUTH })).text);
      }
      expect(instances.size).toBe(5);
      // one front and four workers: each VM's own RADL names its node (the infrastructure's RADL has one block per system, as IM)
      const nodes: string[] = [];
      for (const vm of ['0', '1', '2', '3', '4']) {
        nodes.push(...((await call(second.url, 'GET', `/infrastructures/${id}/vms/${vm}`, { auth: AUTH })).text.match(/^system \w+/gm) ?? []));
      }
      expect(nodes.sort()).toEqual(['system front', 'system wn', 'system wn', 'system wn', 'system wn']);
    } finally {
      expect(await second.stop()).toBe(0);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
