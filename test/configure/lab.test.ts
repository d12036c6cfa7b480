/** The sealed lab itself: no default route anywhere, private range unreachable, complete teardown. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSshKeyPair } from '../../server/configure/keys';
import { createLab, LAB_ROOT } from '../lab/lab';
import { describeWithLab } from '../lab/require-lab';
import { run } from '../lab/run';
import { bootAccess } from '../../sims/host-mode';
import { defaultUserData } from '../../connectors/shared/cloud-init';

jest.setTimeout(30_000);

const namespaces = async (prefix: string) => (await run('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(prefix));
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describeWithLab('the SSH lab', () => {
  const key = generateSshKeyPair('lab-test');

  test('is sealed: no default route, private range unreachable from the server, sshd per VM', async () => {
    const lab = await createLab({ name: 'lab' });
    try {
      const m = await lab.addHost({ name: 'm0', privateIp: '10.77.0.10', publicIp: '198.18.0.10', authorizedKeys: key.publicKey });
      const w = await lab.addHost({ name: 'w1', privateIp: '10.77.1.1', authorizedKeys: key.publicKey });
      expect(lab.serverNs.length).toBeLessThanOrEqual(15);
      expect(w.ns.length).toBeLessThanOrEqual(15);
      for (const ns of [lab.serverNs, lab.switchNs, m.ns, w.ns]) {
        expect(await run('ip', ['-n', ns, 'route', 'show', 'default'])).toBe('');
      }
      expect(await lab.exec(['ip', 'route', 'get', '10.77.1.1']).catch((e: Error) => e.message)).toMatch(/unreachable|No route/i);
      expect(await lab.exec(['ip', 'route', 'get', '8.8.8.8']).catch((e: Error) => e.message)).toMatch(/unreachable/i);
      // the worker has no public side; the master reaches it on the private bridge
      expect(await run('ip', ['-n', w.ns, '-o', 'addr', 'show', 'eth1']).catch(() => 'none')).toBe('none');
      const banner = await lab.exec(['timeout', '3', 'bash', '-c', 'exec 3<>/dev/tcp/10.77.1.1/22; head -c 7 <&3'], m.ns);
      expect(banner).toBe('SSH-2.0');
      expect(m.hostKey).not.toBe(w.hostKey);
      expect(alive(m.sshdPid) && alive(w.sshdPid)).toBe(true);
      const pids = [m.sshdPid, w.sshdPid];
      const prefix = lab.name + '-';
      await lab.destroy();
      expect(await namespaces(prefix)).toEqual([]);
      expect(pids.filter(alive)).toEqual([]);
      expect(existsSync(`/etc/netns/${w.ns}`)).toBe(false);
      expect(existsSync(`${LAB_ROOT}/${lab.name}`)).toBe(false);
    } finally {
      await lab.destroy();
    }
  });

  test('tears down what was built even after a failure half-way', async () => {
    const lab = await createLab({ name: 'bad' });
    await lab.addHost({ name: 'm0', privateIp: '10.77.0.10', publicIp: '198.18.0.10', authorizedKeys: key.publicKey });
    await expect(lab.addHost({ name: 'w1', privateIp: '10.77.999.1', authorizedKeys: key.publicKey })).rejects.toThrow(/ip/);
    await lab.destroy();
    expect(await namespaces(lab.name + '-')).toEqual([]);
  });

  test('WAN mode: floating IPs on the router, SSH relayed to the private address with the delay', async () => {
    const lab = await createLab({ name: 'wan', wan: { delayMs: 40 } });
    try {
      const m = await lab.addHost({ name: 'm0', privateIp: '10.77.0.10', publicIp: '198.18.0.10', authorizedKeys: key.publicKey });
      expect(await run('ip', ['-n', m.ns, '-o', 'addr', 'show', 'eth1']).catch(() => 'none')).toBe('none');
      const t0 = Date.now();
      expect(await lab.exec(['timeout', '3', 'bash', '-c', 'exec 3<>/dev/tcp/198.18.0.10/22; head -c 7 <&3'])).toBe('SSH-2.0');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
      expect(await lab.exec(['ip', 'route', 'get', '10.77.0.10']).catch((e: Error) => e.message)).toMatch(/unreachable|No route/i);
    } finally {
      await lab.destroy();
    }
    expect(await namespaces(lab.name + '-')).toEqual([]);
  });

  test('a cloud-init admin user logs in; a floating IP can be attached after boot and moved', async () => {
    const access = bootAccess({ keypairKey: undefined, userData: Buffer.from(defaultUserData('cloudadm', key.publicKey)).toString('base64') });
    expect(access).toEqual({ users: ['cloudadm'], keys: [key.publicKey] });
    const login = { user: access.users[0], keys: access.keys };
    const lab = await createLab({ name: 'fip' });
    try {
      const a = await lab.addHost({ name: 'a', privateIp: '10.77.0.10', authorizedKeys: login.keys.join('\n'), user: login.user });
      const b = await lab.addHost({ name: 'b', privateIp: '10.77.0.11', authorizedKeys: key.publicKey });
      const banner = (t = 3) => lab.exec(['timeout', String(t), 'bash', '-c', 'exec 3<>/dev/tcp/198.18.0.50/22; head -c 7 <&3']).catch((e: Error) => e.message);
      expect(await banner(1)).not.toBe('SSH-2.0');
      await lab.attachPublicIp('a', '198.18.0.50');
      expect(await banner()).toBe('SSH-2.0');
      const keyFile = join(lab.dir, 'id');
      writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
      const session = await lab.exec(['ssh', '-i', keyFile, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
        '-o', 'LogLevel=ERROR', 'cloudadm@198.18.0.50', 'echo $USER; echo $HOME; cat /proc/sys/kernel/hostname']);
      expect(session).toBe('cloudadm\n/root\na\n');
      // the user exists only inside VM a: its sshd sees it, the host does not
      expect(await run('getent', ['passwd', 'cloudadm']).catch(() => 'absent')).toBe('absent');
      expect(await lab.exec(['getent', 'passwd', 'cloudadm'], a.ns)).toMatch(/^cloudadm:x:0:0:/);
      await lab.detachPublicIp('a');
      await lab.attachPublicIp('b', '198.18.0.50');
      expect(await banner()).toBe('SSH-2.0');
      expect(b.publicIp).toBe('198.18.0.50');
      expect(a.publicIp).toBeUndefined();
    } finally {
      await lab.destroy();
    }
  });
});
