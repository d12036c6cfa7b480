/**
 * A sealed test network of SSH hosts, shaped like a cloud tenant (modelled on
 * /work/shared/tools/netns-lab.sh, our own code):
 *
 *   <lab>-srv   the "server" namespace: the code under test runs here (see ServerProcess);
 *               198.18.0.1 on the public bridge only; `unreachable` routes for the private ranges.
 *   <lab>-sw    holds the two bridges (brpub, brpriv); every veth ends here.
 *   <lab>-<h>   one namespace per VM: its own sshd (own host key, own config, authorised key
 *               given by the caller as a cloud's keypair would be), own hostname (UTS namespace),
 *               own /etc/hosts (ip netns exec binds /etc/netns/<ns>/hosts), own /root, /tmp and
 *               /home, no view of the server's data or other VMs (mounts inside the sshd's mount
 *               namespace; /usr and /etc are the machine's, so its programs, ansible-playbook
 *               included, run inside the VM). eth0 on the private bridge;
 *               eth1 on the public bridge only for a host with a public IP.
 *
 *   <lab>-rt    WAN mode only (createLab({ wan })): holds the floating IPs on the public bridge and
 *               relays SSH to the VMs' private addresses with a delay; VMs then have no eth1.
 *
 * No namespace has a default route, so no packet can leave the machine. destroy() kills every
 * process inside the namespaces it made (sshd and any session left) and deletes them even after a
 * failure half-way; a process 'exit' hook and reapStaleLabs() cover a test process that died.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipBatch, run, runSync } from './run';
import { startNamespaceProcess, type ServerProcess } from './server-process';

export const LAB_ROOT = '/run/tosca-lab';
export const SERVER_PUBLIC_IP = '198.18.0.1';
/** The router's address on the private network (WAN mode). */
export const ROUTER_PRIVATE_IP = '10.77.255.254';
export const PUBLIC_PREFIX = 16;
export const PRIVATE_PREFIX = 16;
/** Simulated ranges: unreachable from the server namespace (a direct attempt fails at once). */
const SEALED_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];

export interface LabOptions {
  /** Short prefix (letters/digits, ≤ 3 chars); a random suffix makes it unique (namespace names ≤ 15 chars). */
  name: string;
  /**
   * WAN mode: public IPs are floating IPs held by a router namespace (<lab>-rt), as on OpenStack,
   * and SSH to them is relayed to the VM's private address `delayMs` later each way (the kernel
   * here has no netem). Without it, a public IP sits on the VM's own eth1 with no delay.
   */
  wan?: { delayMs: number };
}
export interface HostSpec {
  /** Short host name (letters/digits, ≤ 8 chars), also the VM's hostname. */
  name: string;
  privateIp: string;
  publicIp?: string;
  /** OpenSSH public key line(s) authorised for root (as a cloud's keypair / cloud-init injects). */
  authorizedKeys: string;
  /** Extra /etc/hosts lines (the VM's own name is always there). */
  hostsLines?: string[];
  /** false: network up, sshd not started yet (see Lab.startSshd). */
  startSshd?: boolean;
  /**
   * Login user (default root). Another name (a cloud image's cloudadm, ubuntu...) is added to this
   * VM's own /etc/passwd as an administrator (uid 0) whose home is the VM's home.
   */
  user?: string;
}
export interface LabHost {
  name: string;
  ns: string;
  privateIp: string;
  publicIp?: string;
  user: string;
  /** The VM's home directory as seen from outside (bind-mounted over /root inside the VM). */
  homeDir: string;
  /** The VM's /tmp as seen from outside. */
  tmpDir: string;
  sshdPid: number;
  /** sshd's host public key line ("ssh-ed25519 AAAA..."). */
  hostKey: string;
  /** Index used in this host's interface names in the switch namespace. */
  idx: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NAME_RE = /^[a-z][a-z0-9]{0,7}$/;

export class Lab {
  readonly serverNs: string;
  readonly switchNs: string;
  readonly dir: string;
  private readonly hosts = new Map<string, LabHost>();
  private readonly namespaces: string[] = [];
  private hostCounter = 0;
  private readonly usedIps = new Set<string>();
  private destroyed = false;
  private readonly exitHook = () => this.destroySync();

  private router?: ServerProcess;

  constructor(readonly name: string, private readonly wan?: { delayMs: number }) {
    this.serverNs = `${name}-srv`;
    this.switchNs = `${name}-sw`;
    this.dir = join(LAB_ROOT, name);
  }

  /** Builds the server and switch namespaces; called by createLab. */
  async init(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'owner.pid'), String(process.pid));
    process.once('exit', this.exitHook);
    for (const ns of [this.switchNs, this.serverNs]) {
      await run('ip', ['netns', 'add', ns]);
      this.namespaces.push(ns);
    }
    await ipBatch([`link add pub0 netns ${this.serverNs} type veth peer name srvpub netns ${this.switchNs}`]);
    await run('ip', ['-n', this.switchNs, '-batch', '-'], [
      'link set lo up',
      'link add brpub type bridge', 'link add brpriv type bridge',
      'link set brpub up', 'link set brpriv up',
      'link set srvpub master brpub', 'link set srvpub up',
    ].join('\n') + '\n');
    await run('ip', ['-n', this.serverNs, '-batch', '-'], [
      'link set lo up', `addr add ${SERVER_PUBLIC_IP}/${PUBLIC_PREFIX} dev pub0`, 'link set pub0 up',
      ...SEALED_RANGES.map((r) => `route add unreachable ${r}`),
    ].join('\n') + '\n');
    if (this.wan) await this.initRouter(this.wan.delayMs);
  }

  private get routerNs(): string {
    return `${this.name}-rt`;
  }

  private async initRouter(delayMs: number): Promise<void> {
    await run('ip', ['netns', 'add', this.routerNs]);
    this.namespaces.push(this.routerNs);
    await ipBatch([
      `link add rtpub netns ${this.routerNs} type veth peer name rtpub netns ${this.switchNs}`,
      `link add rtpriv netns ${this.routerNs} type veth peer name rtpriv netns ${this.switchNs}`,
    ]);
    await run('ip', ['-n', this.switchNs, '-batch', '-'], ['link set rtpub master brpub', 'link set rtpub up', 'link set rtpriv master brpriv', 'link set rtpriv up'].join('\n') + '\n');
    await run('ip', ['-n', this.routerNs, '-batch', '-'], [
      'link set lo up', 'link set rtpub up', 'link set rtpriv up',
      `addr add ${ROUTER_PRIVATE_IP}/${PRIVATE_PREFIX} dev rtpriv`,
    ].join('\n') + '\n');
    this.router = await startNamespaceProcess(this.routerNs, require.resolve(__filename.endsWith('.ts') ? './wan-relay.ts' : './wan-relay.js'));
    await this.router.call('listen', delayMs);
  }

  host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`lab ${this.name}: no host ${name}`);
    return h;
  }
  allHosts(): LabHost[] {
    return [...this.hosts.values()];
  }

  async addHost(spec: HostSpec): Promise<LabHost> {
    if (this.destroyed) throw new Error(`lab ${this.name} is destroyed`);
    if (!NAME_RE.test(spec.name)) throw new Error(`lab host name "${spec.name}": letters/digits, ≤ 8 chars`);
    if (this.hosts.has(spec.name)) throw new Error(`lab ${this.name}: host ${spec.name} exists`);
    const ns = `${this.name}-${spec.name}`;
    const idx = this.hostCounter++;
    const d = join(this.dir, spec.name);
    const homeDir = join(d, 'home');
    const tmpDir = join(d, 'tmp');
    mkdirSync(homeDir, { recursive: true, mode: 0o700 });
    mkdirSync(tmpDir, { recursive: true, mode: 0o1777 });
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);

    const etc = join('/etc/netns', ns);
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, 'hosts'), ['127.0.0.1 localhost', `${spec.privateIp} ${spec.name}`, ...(spec.hostsLines ?? [])].join('\n') + '\n');
    writeFileSync(join(etc, 'hostname'), spec.name + '\n');

    const onVm = spec.publicIp && !this.wan ? spec.publicIp : undefined; // WAN mode: the router holds it
    const links = [`link add eth0 netns ${ns} type veth peer name h${idx}v netns ${this.switchNs}`];
    if (onVm) links.push(`link add eth1 netns ${ns} type veth peer name h${idx}p netns ${this.switchNs}`);
    await ipBatch(links);
    const sw = [`link set h${idx}v master brpriv`, `link set h${idx}v up`];
    const vm = ['link set lo up', `addr add ${spec.privateIp}/${PRIVATE_PREFIX} dev eth0`, 'link set eth0 up'];
    if (onVm) {
      sw.push(`link set h${idx}p master brpub`, `link set h${idx}p up`);
      vm.push(`addr add ${onVm}/${PUBLIC_PREFIX} dev eth1`, 'link set eth1 up');
    }
    if (spec.publicIp && this.wan) await this.routeFloatingIp(spec.publicIp, spec.privateIp);
    await run('ip', ['-n', this.switchNs, '-batch', '-'], sw.join('\n') + '\n');
    await run('ip', ['-n', ns, '-batch', '-'], vm.join('\n') + '\n');
    // a new VM on an address used before: neighbours must not keep the old MAC (a cloud's port does this)
    if (this.usedIps.has(spec.privateIp)) {
      await Promise.all(this.allHosts().map((h) => run('ip', ['-n', h.ns, 'neigh', 'flush', 'to', spec.privateIp]).catch(() => undefined)));
    }
    this.usedIps.add(spec.privateIp);

    writeFileSync(join(d, 'authorized_keys'), spec.authorizedKeys.trim() + '\n', { mode: 0o600 });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', spec.name, '-f', join(d, 'host_key')]);
    const hostKey = readFileSync(join(d, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(join(d, 'sshd_config'), [
      'Port 22', 'ListenAddress 0.0.0.0',
      `HostKey ${d}/host_key`, `AuthorizedKeysFile ${d}/authorized_keys`, `PidFile ${d}/sshd.pid`,
      'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'UsePAM no', 'StrictModes no', 'UseDNS no', 'AllowTcpForwarding yes', 'LogLevel INFO',
      // the master carries a channel per worker being configured, and many sessions at once
      'MaxSessions 200', 'MaxStartups 200:30:400',
      'Subsystem sftp internal-sftp',
    ].join('\n') + '\n');
    const user = spec.user ?? 'root';
    if (user !== 'root') {
      if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new Error(`lab host ${spec.name}: bad user name "${user}"`);
      // ip netns exec binds these over /etc/passwd and /etc/shadow for this VM's sshd only
      writeFileSync(join(etc, 'passwd'), readFileSync('/etc/passwd', 'utf8').replace(/\n?$/, '\n') + `${user}:x:0:0:${user}:/root:/bin/bash\n`);
      writeFileSync(join(etc, 'shadow'), readFileSync('/etc/shadow', 'utf8').replace(/\n?$/, '\n') + `${user}:*:19000:0:99999:7:::\n`, { mode: 0o640 });
    }
    const host: LabHost = { name: spec.name, ns, privateIp: spec.privateIp, publicIp: spec.publicIp, user, homeDir, tmpDir, sshdPid: 0, hostKey, idx };
    this.hosts.set(spec.name, host);
    if (spec.startSshd !== false) await this.startSshd(spec.name);
    return host;
  }

  /** Starts the VM's sshd (addHost does unless told not to: a VM still booting refuses connections). */
  async startSshd(name: string): Promise<void> {
    const host = this.host(name);
    if (host.sshdPid) return;
    const d = join(this.dir, name);
    mkdirSync('/run/sshd', { recursive: true });
    const log = join(d, 'sshd.log');
    writeFileSync(log, '');
    // -r (no re-exec per connection): here every VM shares the test machine's cores, unlike real VMs;
    // re-exec would charge the VMs' CPU to the code under test in timings.
    // ip netns exec gives sshd its own mount namespace (and binds /etc/netns/<ns>/*); the mounts
    // below stay inside it, so the VM's sessions see a file system of their own: private /root,
    // /tmp and /home, and of the lab's state only this VM's folder (its sshd reads its
    // authorized_keys there), never the server's data dir or another VM (mountVmView).
    // No fork anywhere in the chain: the spawned PID is sshd's.
    const child = spawn('ip', ['netns', 'exec', host.ns, 'unshare', '--uts', 'sh', '-c',
      `hostname ${name} && ${mountVmView(host, d)} && exec /usr/sbin/sshd -D -r -f ${d}/sshd_config -E ${log}`], { stdio: 'ignore', detached: true });
    child.unref();
    host.sshdPid = child.pid!;
    writeFileSync(join(d, 'sshd.spawned.pid'), String(host.sshdPid));
    await this.waitListening(host, log, child);
  }

  private async waitListening(host: LabHost, log: string, child: ReturnType<typeof spawn>): Promise<void> {
    let exited: number | null = null;
    child.once('exit', (code) => { exited = code ?? -1; });
    for (let i = 0; i < 200; i++) {
      if (readFileSync(log, 'utf8').includes('Server listening')) return;
      if (exited !== null) throw new Error(`lab: sshd of ${host.name} exited (${exited}): ${readFileSync(log, 'utf8')}`);
      await sleep(25);
    }
    throw new Error(`lab: sshd of ${host.name} not listening after 5 s`);
  }

  private async routeFloatingIp(publicIp: string, privateIp: string): Promise<void> {
    await run('ip', ['-n', this.routerNs, 'addr', 'add', `${publicIp}/${PUBLIC_PREFIX}`, 'dev', 'rtpub']);
    await this.router!.call('route', publicIp, privateIp);
  }

  /** Associates a public (floating) IP with a running VM, as a cloud does after boot. */
  async attachPublicIp(name: string, publicIp: string): Promise<void> {
    const h = this.host(name);
    if (h.publicIp) throw new Error(`lab host ${name} already has public IP ${h.publicIp}`);
    if (this.wan) await this.routeFloatingIp(publicIp, h.privateIp);
    else {
      await ipBatch([`link add eth1 netns ${h.ns} type veth peer name h${h.idx}p netns ${this.switchNs}`]);
      await run('ip', ['-n', this.switchNs, '-batch', '-'], `link set h${h.idx}p master brpub\nlink set h${h.idx}p up\n`);
      await run('ip', ['-n', h.ns, '-batch', '-'], `addr add ${publicIp}/${PUBLIC_PREFIX} dev eth1\nlink set eth1 up\n`);
    }
    h.publicIp = publicIp;
  }

  /** Disassociates the VM's public IP (the address may then go to another VM). */
  async detachPublicIp(name: string): Promise<void> {
    const h = this.host(name);
    if (!h.publicIp) return;
    if (this.wan) await run('ip', ['-n', this.routerNs, 'addr', 'del', `${h.publicIp}/${PUBLIC_PREFIX}`, 'dev', 'rtpub']).catch(() => undefined);
    else await run('ip', ['-n', h.ns, 'link', 'del', 'eth1']).catch(() => undefined);
    await Promise.all([this.serverNs, ...this.allHosts().map((x) => x.ns)].map((ns) => run('ip', ['-n', ns, 'neigh', 'flush', 'to', h.publicIp!]).catch(() => undefined)));
    h.publicIp = undefined;
  }

  /** Removes one VM (a cloud deleting it): its processes, namespace and files. */
  async removeHost(name: string): Promise<void> {
    const h = this.host(name);
    this.hosts.delete(name);
    if (h.publicIp && this.wan) await run('ip', ['-n', this.routerNs, 'addr', 'del', `${h.publicIp}/${PUBLIC_PREFIX}`, 'dev', 'rtpub']).catch(() => undefined);
    this.teardownNs(h.ns);
    this.namespaces.splice(this.namespaces.indexOf(h.ns), 1);
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  /** Runs a command inside a namespace of this lab (default: the server namespace). */
  exec(args: string[], ns = this.serverNs): Promise<string> {
    return run('ip', ['netns', 'exec', ns, ...args]);
  }

  /**
   * CPU seconds used so far by the processes in a namespace (live ones plus the children they
   * reaped): what the VMs spent, which on a real cloud runs on other machines.
   */
  async cpuSeconds(ns: string): Promise<number> {
    const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => '')).split(/\s+/).filter(Boolean);
    let ticks = 0;
    for (const pid of pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
      } catch { /* exited meanwhile */ }
    }
    return ticks / 100;
  }

  async destroy(): Promise<void> {
    this.destroySync();
  }

  /** Synchronous so that it also runs from a process 'exit' handler. Never throws. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.router = undefined; // its process dies with the router namespace below
    process.removeListener('exit', this.exitHook);
    for (const ns of [...this.namespaces].reverse()) this.teardownNs(ns);
    this.namespaces.length = 0;
    this.hosts.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private teardownNs(ns: string): void {
    killNamespaceProcesses(ns);
    try { runSync('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
    rmSync(join('/etc/netns', ns), { recursive: true, force: true });
  }
}

/**
 * Shell commands giving a VM's mount namespace its own view: /root and /tmp bound from its folder,
 * an empty /home, and LAB_ROOT (where the server's data dir and every other VM's folder live in
 * tests) replaced by an empty tmpfs into which only the VM's own folder `d` is bound back. The
 * folder is reached through the working directory (`cd` before hiding it, `mount -c --bind .`
 * after: -c keeps mount(8) from resolving "." to the now hidden path by name).
 */
function mountVmView(host: LabHost, d: string): string {
  return [
    `mount --bind ${host.homeDir} /root`, `mount --bind ${host.tmpDir} /tmp`,
    'mount -t tmpfs -o mode=0755,size=1m vm-home /home',
    `cd ${d}`, `mount -t tmpfs -o mode=0755,size=1m lab-hidden ${LAB_ROOT}`, `mkdir -p ${d}`, `mount -c --bind . ${d}`, 'cd /',
  ].join(' && ');
}

/** Every process in a namespace this lab created is one the lab (or a test through it) started. */
function killNamespaceProcesses(ns: string): void {
  const pids = (): number[] => {
    try { return runSync('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
  };
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    const list = pids();
    if (list.length === 0) return;
    for (const pid of list) { try { process.kill(pid, sig); } catch { /* gone */ } }
    // give SIGTERM a moment; sshd exits at once
    const until = Date.now() + 500;
    while (Date.now() < until && pids().length > 0) runSync('sleep', ['0.02']);
  }
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Tears down labs whose owning test process died without cleaning up (found by their state dirs). */
export function reapStaleLabs(): void {
  if (!existsSync(LAB_ROOT)) return;
  const nsList = (() => { try { return runSync('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter(Boolean); } catch { return []; } })();
  for (const name of readdirSync(LAB_ROOT)) {
    const ownerFile = join(LAB_ROOT, name, 'owner.pid');
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : 0;
    if (owner && pidAlive(owner)) continue;
    for (const ns of nsList.filter((n) => n.startsWith(`${name}-`))) {
      killNamespaceProcesses(ns);
      try { runSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
      rmSync(join('/etc/netns', ns), { recursive: true, force: true });
    }
    rmSync(join(LAB_ROOT, name), { recursive: true, force: true });
  }
}

export async function createLab(opts: LabOptions): Promise<Lab> {
  if (!/^[a-z][a-z0-9]{0,2}$/.test(opts.name)) throw new Error(`lab name "${opts.name}": letters/digits, ≤ 3 chars`);
  reapStaleLabs();
  let name: string;
  do name = `${opts.name}${randomBytes(2).toString('hex').slice(0, 3)}`;
  while (existsSync(join(LAB_ROOT, name)) || existsSync(`/run/netns/${name}-srv`));
  const lab = new Lab(name, opts.wan);
  try {
    await lab.init();
  } catch (err) {
    lab.destroySync();
    throw err;
  }
  return lab;
}

/** Why the lab cannot run here, or null when it can (root, ip, unshare, sshd, ssh-keygen). */
export function labMissing(): string | null {
  if (process.getuid?.() !== 0) return 'the SSH lab needs root (network namespaces)';
  for (const bin of ['/usr/sbin/sshd', '/usr/bin/ssh-keygen']) if (!existsSync(bin)) return `${bin} is missing (apt install openssh-server)`;
  try { runSync('ip', ['netns', 'list']); } catch { return '`ip netns` is unavailable (apt install iproute2)'; }
  try { runSync('unshare', ['--uts', 'true']); } catch { return 'unshare --uts is not permitted here'; }
  return null;
}
