/**
 * The simulator's cloud: plain records for Keystone, Nova, Neutron and Glance, the seed data the
 * cloud-probe drivers expect, and lazy status transitions (BUILD → ACTIVE|ERROR, deleting → gone)
 * evaluated on every request instead of timers, so closing the simulator leaves nothing running.
 */
import { createHash, randomUUID } from 'node:crypto';
import { defaultFaults, type SimFaults } from './faults';

export interface Domain { id: string; name: string }
export interface Project { id: string; name: string; domainId: string }
export interface User { id: string; name: string; password: string; domainId: string; projectIds: string[] }
export interface AppCredential { id: string; name: string; secret: string; userId: string; projectId: string }
/** A federation identity provider whose protocol accepts these OIDC access tokens (token → user id). */
export interface IdentityProvider { id: string; protocols: string[]; accessTokens: Map<string, string> }
export interface Token { id: string; userId: string; projectId?: string; methods: string[]; issuedAt: number; expiresAt: number }

export interface Flavor { id: string; name: string; vcpus: number; ram: number; disk: number; extraSpecs: Record<string, string>; isPublic: boolean }
export interface Image { id: string; name: string; status: string; visibility: string; size: number; minDisk: number; minRam: number; createdAt: number; properties: Record<string, string> }
export interface Keypair { name: string; publicKey: string; fingerprint: string; userId: string; projectId: string; createdAt: number }

export type ServerStatus = 'BUILD' | 'ACTIVE' | 'ERROR' | 'SHUTOFF' | 'RESIZE' | 'VERIFY_RESIZE';
export interface Server {
  id: string; name: string; projectId: string; userId: string; status: ServerStatus;
  imageId: string; flavorId: string; keyName: string | null; metadata: Record<string, string>; tags: string[];
  userData?: string; securityGroups: string[]; adminPass: string;
  createdAt: number; updatedAt: number; readyAt: number; launchedAt?: number;
  /** Fault message decided at create time (boot-failure injection); applied when the build ends. */
  willFail?: string; willFailCode?: number; fault?: { code: number; message: string; details: string; created: string };
  /** Set by DELETE: the server disappears (404) at this time. */
  goneAt?: number;
  /**
   * A resize in progress (RESIZE until readyAt, then VERIFY_RESIZE with the new flavor) until it is
   * confirmed or reverted; `powerOn` is the power state it returns to, as Nova keeps a stopped server stopped.
   */
  resize?: { fromFlavorId: string; toFlavorId: string; readyAt: number; powerOn: boolean };
}
export interface Network { id: string; name: string; external: boolean; shared: boolean; projectId: string; subnetIds: string[] }
export interface Subnet { id: string; name: string; networkId: string; cidr: string; gatewayIp: string; projectId: string; prefix: string; firstHost: number; nextHost: number; lastHost: number }
export interface Port {
  id: string; name: string; networkId: string; deviceId: string; deviceOwner: string; projectId: string;
  fixedIps: { subnet_id: string; ip_address: string }[]; mac: string; status: string; securityGroupIds: string[]; description: string;
}
export interface SecurityGroup { id: string; name: string; description: string; projectId: string }
export interface SgRule {
  id: string; securityGroupId: string; direction: string; ethertype: string; protocol: string | null;
  portRangeMin: number | null; portRangeMax: number | null; remoteIpPrefix: string | null; remoteGroupId: string | null;
  description: string; projectId: string;
}
export interface FloatingIp {
  id: string; address: string; networkId: string; portId: string | null; fixedIp: string | null; projectId: string;
  description: string; status: string; createdAt: number;
}
export interface PageLimits { nova: number; neutron: number; glance: number }
export interface Quotas { instances: number; cores: number; ram: number; floatingips: number; securityGroups: number }

export const DEFAULT_QUOTAS: Quotas = { instances: 100, cores: 400, ram: 1024 * 1024, floatingips: 50, securityGroups: 50 };

export class SimState {
  domains: Domain[] = [];
  projects: Project[] = [];
  users: User[] = [];
  appCredentials: AppCredential[] = [];
  identityProviders: IdentityProvider[] = [];
  tokens = new Map<string, Token>();
  flavors: Flavor[] = [];
  images: Image[] = [];
  keypairs: Keypair[] = [];
  servers = new Map<string, Server>();
  networks: Network[] = [];
  subnets: Subnet[] = [];
  ports = new Map<string, Port>();
  securityGroups = new Map<string, SecurityGroup>();
  rules = new Map<string, SgRule>();
  floatingIps = new Map<string, FloatingIp>();
  /** Quotas per project id (missing → DEFAULT_QUOTAS). */
  quotas = new Map<string, Quotas>();
  faults: SimFaults = defaultFaults();
  tokenTtlMs = 3600_000;
  /**
   * Server-side page sizes, 0 = none: Nova's `[api] max_limit` (servers, flavors), Neutron's
   * `pagination_max_limit` (every list), Glance's `limit_param_default` (images). Small values make
   * a client that reads only the first page fail, as it would against a real cloud.
   */
  pageLimits: PageLimits = { nova: 0, neutron: 0, glance: 0 };

  constructor(seed = true) {
    if (seed) this.seed();
  }

  quotaOf(projectId: string): Quotas {
    let q = this.quotas.get(projectId);
    if (!q) this.quotas.set(projectId, (q = { ...DEFAULT_QUOTAS }));
    return q;
  }

  /** The data openstack_flow.py and our tests assume (cloud-probe README). */
  private seed(): void {
    this.domains.push({ id: 'default', name: 'Default' });
    const demo = { id: 'p-demo-0000000000000000000000000001', name: 'demo', domainId: 'default' };
    const alt = { id: 'p-alt-00000000000000000000000000002', name: 'alt', domainId: 'default' };
    this.projects.push(demo, alt);
    this.users.push({ id: 'u-demo', name: 'demo', password: 'secret', domainId: 'default', projectIds: [demo.id] });
    this.users.push({ id: 'u-alt', name: 'alt', password: 'secret', domainId: 'default', projectIds: [alt.id] });
    this.appCredentials.push({ id: 'appcred-demo', name: 'demo-appcred', secret: 'appsecret', userId: 'u-demo', projectId: demo.id });
    this.identityProviders.push({ id: 'egi.eu', protocols: ['openid'], accessTokens: new Map([['oidc-access-token', 'u-demo']]) });

    const fl = (id: string, name: string, vcpus: number, ram: number, disk: number, extraSpecs: Record<string, string> = {}) =>
      this.flavors.push({ id, name, vcpus, ram, disk, extraSpecs, isPublic: true });
    fl('1', 'm1.tiny', 1, 512, 1);
    fl('2', 'm1.small', 1, 2048, 20);
    fl('3', 'm1.medium', 2, 4096, 40);
    fl('4', 'm1.large', 4, 8192, 80);
    fl('5', 'm1.xlarge', 8, 16384, 160);
    fl('6', 'g1.large.t4', 4, 16384, 80, { 'pci_passthrough:alias': 'nvidia-t4:1' });
    fl('7', 'g2.xlarge.a100', 8, 65536, 160, { 'pci_passthrough:alias': 'nvidia-a100:2' });

    this.images.push(image('9b4e7c36-2f6c-4d1a-9a55-5c1f0d2b0a01', 'cirros-0.6.2-x86_64-disk', 21430272, { os_distro: 'cirros' }));
    this.images.push(image('0c1d2e3f-1111-4a2b-8c3d-000000000002', 'ubuntu-22.04', 700 * 1024 * 1024, { os_distro: 'ubuntu', os_version: '22.04' }));

    // The ids the cloud-probe recordings show.
    this.addNetwork({ id: '6f1a7a52-0d6f-4b7b-8a0e-000000000001', name: 'private', external: false, projectId: demo.id, cidr: '10.0.0.0/24' });
    this.addNetwork({ id: '6f1a7a52-0d6f-4b7b-8a0e-000000000002', name: 'public', external: true, projectId: 'admin', cidr: '172.24.4.0/24' });
    this.addNetwork({ name: 'alt-private', external: false, shared: false, projectId: alt.id, cidr: '10.1.0.0/24' });
    for (const p of this.projects) this.defaultSecurityGroup(p.id);
  }

  /** Add a network with one /24 subnet (tests use it for several-networks cases). */
  addNetwork(o: { name: string; external: boolean; shared?: boolean; projectId?: string; cidr: string; id?: string; lastHost?: number }): Network {
    const net: Network = { id: o.id ?? randomUUID(), name: o.name, external: o.external, shared: o.shared ?? false, projectId: o.projectId ?? this.projects[0].id, subnetIds: [] };
    const prefix = o.cidr.split('/')[0].split('.').slice(0, 3).join('.');
    const sub: Subnet = {
      id: randomUUID(), name: `${o.name}-subnet`, networkId: net.id, cidr: o.cidr, gatewayIp: `${prefix}.1`, projectId: net.projectId,
      prefix, firstHost: o.external ? 10 : 3, nextHost: o.external ? 10 : 3, lastHost: o.lastHost ?? 254,
    };
    net.subnetIds.push(sub.id);
    this.networks.push(net);
    this.subnets.push(sub);
    return net;
  }

  defaultSecurityGroup(projectId: string): SecurityGroup {
    const existing = [...this.securityGroups.values()].find((g) => g.projectId === projectId && g.name === 'default');
    if (existing) return existing;
    const g: SecurityGroup = { id: randomUUID(), name: 'default', description: 'Default security group', projectId };
    this.securityGroups.set(g.id, g);
    for (const ethertype of ['IPv4', 'IPv6']) {
      this.addRule({ securityGroupId: g.id, direction: 'egress', ethertype, projectId });
      this.addRule({ securityGroupId: g.id, direction: 'ingress', ethertype, projectId, remoteGroupId: g.id });
    }
    return g;
  }

  addRule(r: Partial<SgRule> & { securityGroupId: string; direction: string; projectId: string }): SgRule {
    const rule: SgRule = {
      id: randomUUID(), ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null, remoteIpPrefix: null,
      remoteGroupId: null, description: '', ...r,
    };
    this.rules.set(rule.id, rule);
    return rule;
  }

  /** Next free address of a subnet (round robin from the last one handed out), or undefined when exhausted. */
  allocateIp(subnet: Subnet, used: Set<string>): string | undefined {
    const span = subnet.lastHost - subnet.firstHost + 1;
    for (let i = 0; i < span; i++) {
      const host = subnet.firstHost + ((subnet.nextHost - subnet.firstHost + i) % span);
      const ip = `${subnet.prefix}.${host}`;
      if (!used.has(ip)) {
        subnet.nextHost = host + 1;
        return ip;
      }
    }
    return undefined;
  }

  usedIps(networkId: string): Set<string> {
    const used = new Set<string>();
    for (const p of this.ports.values()) if (p.networkId === networkId) p.fixedIps.forEach((f) => used.add(f.ip_address));
    for (const f of this.floatingIps.values()) if (f.networkId === networkId) used.add(f.address);
    return used;
  }

  createPort(o: { networkId: string; projectId: string; deviceId?: string; deviceOwner?: string; securityGroupIds?: string[]; name?: string }): Port | undefined {
    const net = this.networks.find((n) => n.id === o.networkId)!;
    const subnet = this.subnets.find((s) => s.id === net.subnetIds[0])!;
    const ip = this.allocateIp(subnet, this.usedIps(net.id));
    if (!ip) return undefined;
    const port: Port = {
      id: randomUUID(), name: o.name ?? '', networkId: net.id, deviceId: o.deviceId ?? '', deviceOwner: o.deviceOwner ?? '', projectId: o.projectId,
      fixedIps: [{ subnet_id: subnet.id, ip_address: ip }], mac: macFor(ip), status: o.deviceId ? 'ACTIVE' : 'DOWN',
      securityGroupIds: o.securityGroupIds ?? [this.defaultSecurityGroup(o.projectId).id], description: '',
    };
    this.ports.set(port.id, port);
    return port;
  }

  /** Deleting a port disassociates its floating IPs (Neutron does the same). */
  deletePort(id: string): void {
    this.ports.delete(id);
    for (const f of this.floatingIps.values()) {
      if (f.portId === id) Object.assign(f, { portId: null, fixedIp: null, status: 'DOWN' });
    }
  }

  serverPorts(serverId: string): Port[] {
    return [...this.ports.values()].filter((p) => p.deviceId === serverId);
  }

  /** Apply due transitions; every request and every inspection calls it first. */
  tick(now = Date.now()): void {
    for (const s of this.servers.values()) {
      if (s.goneAt !== undefined && now >= s.goneAt) {
        for (const p of this.serverPorts(s.id)) this.deletePort(p.id);
        this.servers.delete(s.id);
        continue;
      }
      if (s.status === 'BUILD' && now >= s.readyAt) {
        s.updatedAt = s.readyAt;
        if (s.willFail) {
          s.status = 'ERROR';
          s.fault = { code: s.willFailCode ?? 500, message: s.willFail, details: 'Traceback (most recent call last): ... nova.exception.NoValidHost', created: iso(s.readyAt) };
          for (const p of this.serverPorts(s.id)) this.deletePort(p.id);
        } else {
          s.status = 'ACTIVE';
          s.launchedAt = s.readyAt;
        }
      }
      // Nova switches the instance to the new flavor when the migration finishes (finish_resize).
      if (s.status === 'RESIZE' && s.resize && now >= s.resize.readyAt) {
        s.status = 'VERIFY_RESIZE';
        s.flavorId = s.resize.toFlavorId;
        s.updatedAt = s.resize.readyAt;
      }
    }
  }

  /** Resources of one project in use, for quota checks. */
  usage(projectId: string): { instances: number; cores: number; ram: number } {
    const u = { instances: 0, cores: 0, ram: 0 };
    for (const s of this.servers.values()) {
      if (s.projectId !== projectId) continue;
      // A server being resized holds the larger of its two flavors until the resize is confirmed.
      const ids = s.resize ? [s.resize.fromFlavorId, s.resize.toFlavorId] : [s.flavorId];
      const fs = ids.map((id) => this.flavors.find((x) => x.id === id));
      u.instances++;
      u.cores += Math.max(...fs.map((f) => f?.vcpus ?? 0));
      u.ram += Math.max(...fs.map((f) => f?.ram ?? 0));
    }
    return u;
  }

  issueToken(userId: string, projectId: string | undefined, methods: string[]): Token {
    const now = Date.now();
    const t: Token = { id: 'gAAAA' + randomUUID().replace(/-/g, ''), userId, projectId, methods, issuedAt: now, expiresAt: now + this.tokenTtlMs };
    this.tokens.set(t.id, t);
    return t;
  }
}

function image(id: string, name: string, size: number, properties: Record<string, string>): Image {
  return { id, name, status: 'active', visibility: 'public', size, minDisk: 0, minRam: 0, createdAt: Date.parse('2026-01-01T00:00:00Z'), properties };
}

export function macFor(ip: string): string {
  const h = createHash('md5').update(ip).digest('hex');
  return `fa:16:3e:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

export function fingerprint(publicKey: string): string {
  const body = publicKey.trim().split(/\s+/)[1] ?? publicKey;
  const h = createHash('md5').update(Buffer.from(body, 'base64')).digest('hex');
  return h.match(/../g)!.join(':');
}

/** Keystone/Nova timestamp forms. */
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
export const isoMicro = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');
