/**
 * The cloud simulators' host mode: every VM a simulator boots becomes a real SSH host of the sealed
 * lab (test/lab: a network namespace with its own sshd), so the code under test configures "VMs"
 * for real, through the master, on a network shaped like a tenant's.
 *
 * Cloud-agnostic: a simulator gives a view of its booted VMs (`BootedVm`: private IP, the public
 * address associated now, the keypair's key, the user data); a reconciler compares that view with
 * the hosts made so far and applies the difference every `pollMs` (and on `settle()`), so ordering
 * (an address associated while the host is still booting, a VM deleted half-way) needs no special
 * case and the simulators need no hooks in their handlers. Adapters: openstack/host-mode.ts,
 * ec2/host-mode.ts.
 *
 *   VM booted                → a lab host on the private bridge with its private IP; the keys of
 *                              its keypair and cloud-init user data; cloud-init users exist on it
 *   public address associated → the host joins the public bridge with it (disassociated → leaves)
 *   VM deleted / failed       → its host is destroyed
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createLab, labMissing, PUBLIC_PREFIX, type Lab, type LabHost } from '../test/lab/lab';
import { run } from '../test/lab/run';

export interface HostModeOptions {
  /** The lab to build hosts in; default: one made (and destroyed) by the host mode. */
  lab?: Lab;
  /** Reconciliation period (default 50 ms). */
  pollMs?: number;
}

/** A VM as the simulator sees it, when it should be a host now. */
export interface BootedVm {
  /** The simulator's id (Nova server id, EC2 instance id). */
  id: string;
  name: string;
  privateIp: string;
  /** The floating / elastic IP associated with it now. */
  publicIp?: string;
  /** The keypair's public key, for the image's default user (root here). */
  keypairKey?: string;
  /** User data as the API received it (base64). */
  userData?: string;
}

/** One VM as a host. */
export interface SimHost {
  vmId: string;
  vmName: string;
  host: LabHost;
  /** Users cloud-init created (besides root, the image's default user here). */
  users: string[];
  /** The public address currently on the host's public interface. */
  publicIp?: string;
}

export class HostModeError extends Error {
  constructor(message: string) {
    super(`simulator host mode: ${message}`);
    this.name = 'HostModeError';
  }
}

/** Public addresses must be reachable from the lab's server namespace (198.18.0.1/16): the simulators hand out these. */
export const labPublicRange = (i: number) => ({ prefix: `198.18.${4 + i}`, cidr: `198.18.${4 + i}.0/24` });

export class HostMode {
  private readonly hosts = new Map<string, SimHost>();
  /** Hosts being built, by VM id: later passes wait for them instead of building twice. */
  private readonly building = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private closed = false;
  private hostCounter = 0;
  private linkCounter = 0;
  /** Host-building failures (tests assert there are none). */
  readonly errors: string[] = [];

  private constructor(private readonly booted: () => BootedVm[], readonly lab: Lab, private readonly ownsLab: boolean, pollMs: number) {
    this.timer = setInterval(() => {
      this.reconcile().catch((e: Error) => { this.errors.push(`reconciling: ${e.message}`); });
    }, pollMs);
    this.timer.unref();
  }

  /** Root only (namespaces); HostModeError naming what is missing otherwise. */
  static async start(booted: () => BootedVm[], opts: HostModeOptions = {}): Promise<HostMode> {
    const missing = labMissing();
    if (missing) throw new HostModeError(missing);
    const lab = opts.lab ?? (await createLab({ name: 'sim' }));
    return new HostMode(booted, lab, !opts.lab, opts.pollMs ?? 50);
  }

  hostOf(vmId: string): SimHost | undefined {
    return this.hosts.get(vmId);
  }

  all(): SimHost[] {
    return [...this.hosts.values()];
  }

  /** Resolves once the hosts match the simulator's VMs; rejects after timeoutMs. */
  async settle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.reconcile();
      await Promise.all(this.building.values());
      if (this.inSync()) return;
      if (Date.now() > deadline) throw new HostModeError(`hosts not in sync with the VMs after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops reconciling and destroys every host it made (and the lab when it made it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.pass?.catch(() => undefined);
    await Promise.allSettled(this.building.values());
    if (this.ownsLab) {
      await this.lab.destroy();
    } else {
      for (const h of this.hosts.values()) await this.lab.removeHost(h.host.name).catch(() => undefined);
    }
    this.hosts.clear();
  }

  private wanted(): Map<string, BootedVm> {
    return new Map(this.booted().map((vm) => [vm.id, vm]));
  }

  private inSync(): boolean {
    const wanted = this.wanted();
    if (wanted.size !== this.hosts.size) return false;
    for (const [id, w] of wanted) {
      const h = this.hosts.get(id);
      if (!h || h.host.privateIp !== w.privateIp || h.publicIp !== w.publicIp) return false;
    }
    return true;
  }

  /** One pass at a time; a tick arriving during a pass joins it (the next one sees later changes). */
  private reconcile(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.pass ??= this.applyDifference().finally(() => { this.pass = undefined; });
    return this.pass;
  }

  private async applyDifference(): Promise<void> {
    const wanted = this.wanted();
    for (const [id, h] of [...this.hosts]) {
      const w = wanted.get(id);
      if (!w || w.privateIp !== h.host.privateIp) {
        this.hosts.delete(id);
        await this.lab.removeHost(h.host.name).catch((e: Error) => this.errors.push(`removing ${h.vmName}: ${e.message}`));
      }
    }
    for (const [id, vm] of wanted) {
      if (this.hosts.has(id) || this.building.has(id)) continue;
      const p = this.build(vm)
        .catch((e: Error) => { this.errors.push(`building ${vm.name}: ${e.message}`); })
        .finally(() => this.building.delete(id));
      this.building.set(id, p);
    }
    for (const [id, h] of this.hosts) {
      const w = wanted.get(id);
      if (w && w.publicIp !== h.publicIp) {
        await this.setPublicIp(h, w.publicIp).catch((e: Error) => this.errors.push(`public IP of ${h.vmName}: ${e.message}`));
      }
    }
  }

  /** Boots a VM: its host, the users and keys its cloud-init would create, then sshd. */
  private async build(vm: BootedVm): Promise<void> {
    const access = bootAccess(vm);
    const name = `v${++this.hostCounter}`;
    const host = await this.lab.addHost({ name, privateIp: vm.privateIp, authorizedKeys: access.keys.join('\n'), startSshd: false });
    if (access.users.length) {
      // ip netns exec binds /etc/netns/<ns>/passwd over /etc/passwd for the host's sshd. The users
      // share root's uid and home (the lab's per-VM home): an admin with passwordless sudo.
      const passwd = readFileSync('/etc/passwd', 'utf8').trimEnd().split('\n');
      const extra = access.users.filter((u) => !passwd.some((l) => l.startsWith(`${u}:`))).map((u) => `${u}:x:0:0:${u}:/root:/bin/sh`);
      writeFileSync(join('/etc/netns', host.ns, 'passwd'), [...passwd, ...extra].join('\n') + '\n');
    }
    await this.lab.startSshd(name);
    if (this.closed || !this.wanted().has(vm.id)) {
      await this.lab.removeHost(name).catch(() => undefined); // deleted while booting
      return;
    }
    this.hosts.set(vm.id, { vmId: vm.id, vmName: vm.name, host, users: access.users });
  }

  /** The public address as a second interface on the public bridge (what the cloud's NAT gives a real VM). */
  private async setPublicIp(h: SimHost, address: string | undefined): Promise<void> {
    if (h.publicIp) {
      await run('ip', ['-n', h.host.ns, 'link', 'del', 'eth1']).catch(() => undefined);
      h.publicIp = undefined;
      h.host.publicIp = undefined;
    }
    if (!address) return;
    const peer = `pub${++this.linkCounter}`;
    await run('ip', ['link', 'add', 'eth1', 'netns', h.host.ns, 'type', 'veth', 'peer', 'name', peer, 'netns', this.lab.switchNs]);
    await run('ip', ['-n', this.lab.switchNs, '-batch', '-'], `link set ${peer} master brpub\nlink set ${peer} up\n`);
    await run('ip', ['-n', h.host.ns, '-batch', '-'], `addr add ${address}/${PUBLIC_PREFIX} dev eth1\nlink set eth1 up\n`);
    // the address may have been on another VM a moment ago: the server side must not keep its MAC
    await run('ip', ['-n', this.lab.serverNs, 'neigh', 'flush', 'to', address]).catch(() => undefined);
    h.publicIp = address;
    h.host.publicIp = address;
  }
}

/** Keys and users a VM gets at boot: its keypair's key (default user) and its cloud-init user data. */
export function bootAccess(vm: Pick<BootedVm, 'keypairKey' | 'userData'>): { keys: string[]; users: string[] } {
  const keys: string[] = vm.keypairKey ? [vm.keypairKey] : [];
  const users: string[] = [];
  const text = vm.userData ? Buffer.from(vm.userData, 'base64').toString('utf8') : '';
  if (text.startsWith('#cloud-config')) {
    let doc: unknown;
    try { doc = parseYaml(text); } catch { doc = undefined; } // cloud-init ignores user data it cannot parse
    const cfg = (doc && typeof doc === 'object' ? doc : {}) as { ssh_authorized_keys?: unknown; users?: unknown };
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    keys.push(...strings(cfg.ssh_authorized_keys));
    for (const u of Array.isArray(cfg.users) ? cfg.users : []) {
      if (!u || typeof u !== 'object') continue; // 'default': the image's user (root here)
      const { name, ssh_authorized_keys: k } = u as { name?: unknown; ssh_authorized_keys?: unknown };
      if (typeof name === 'string' && /^[a-z_][a-z0-9_-]{0,31}$/.test(name) && name !== 'root') users.push(name);
      keys.push(...strings(k));
    }
  }
  return { keys: [...new Set(keys.map((k) => k.trim()).filter(Boolean))], users: [...new Set(users)] };
}
