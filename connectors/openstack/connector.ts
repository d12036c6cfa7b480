/**
 * CloudConnector for OpenStack. Everything this infrastructure owns in the cloud carries its mark
 * (names from shared/naming.ts, server metadata, floating IP descriptions), so `cleanup` rebuilds the
 * picture from the cloud itself after a crash. Launch returns once Nova accepted the server; the
 * floating IP of a node that asked for one is attached by `describe` as soon as the server is ACTIVE
 * (its port exists only then), which keeps launch cheap and makes the attachment resumable.
 */
import { CloudError } from '../../lib/errors';
import { defaultUserData } from '../shared/cloud-init';
import { wantsPublicIp } from '../shared/floating-ip-policy';
import {
  TAG_CLIENT_TOKEN, TAG_INFRASTRUCTURE, TAG_NODE, TAG_PUBLIC_IP, TAG_VM,
  infrastructurePrefix, infrastructureResourceName, vmName,
} from '../shared/naming';
import { pollUntil } from '../shared/poll';
import { allSettledOrThrow, mapBounded, settleBounded } from '../../lib/async';
import { sleep } from '../../lib/sleep';
import type { ComputePlan, HostSizing } from '../../tosca/plan';
import { chooseSize } from '../shared/sizing';
import type {
  CloudConnector, CloudCredential, CloudImage, CloudQuotas, DestroyOptions, InfrastructureScope, LaunchRequest, VmHandle, VmObservation, VmSizeInfo, VmState,
} from '../types';
import { accountImages, accountQuotas, flavorRoom } from './account';
import { cloudFor, type OpenStackCloud, type ServerRef } from './cloud';
import { chooseFlavor, listFlavors, listServersByPrefix, resolveImage, type Flavor, type NovaServer } from './compute';
import { parseOpenStackCredential, type OpenStackSettings } from './credential';
import { OpenStackApiError, OpenStackUnreachableError, isQuotaMessage, withoutFinalStop } from './errors';
import { attachFloatingIp, detachFloatingIps, releaseOurFloatingIps } from './floating-ips';
import { ensureSecurityGroup, floatingPool, listSecurityGroups, privateNetworks } from './network';

/** Tunables (tests shorten them). */
export const openStackTuning = {
  /** Waiting for a deleted server to answer 404. */
  deletePoll: { intervalMs: 250, maxIntervalMs: 3000, timeoutMs: 600_000 },
  /** Parallel deletions in cleanup. */
  cleanupConcurrency: 10,
  /** Attempts at POST /servers after a lost answer (each preceded by a lookup). */
  createAttempts: 3,
  /** Waiting for a resize to reach VERIFY_RESIZE, and for its confirmation to take (a migration: minutes). */
  resizePoll: { intervalMs: 500, maxIntervalMs: 5000, timeoutMs: 30 * 60_000 },
};

const STATES: Record<string, VmState> = {
  ACTIVE: 'running', BUILD: 'pending', REBUILD: 'pending', REBOOT: 'pending', HARD_REBOOT: 'pending', RESIZE: 'pending', VERIFY_RESIZE: 'running',
  MIGRATING: 'running', PASSWORD: 'running', RESCUE: 'running', SHUTOFF: 'stopped', STOPPED: 'stopped', PAUSED: 'stopped', SUSPENDED: 'stopped',
  SHELVED: 'stopped', SHELVED_OFFLOADED: 'stopped', ERROR: 'failed', DELETED: 'off', SOFT_DELETED: 'off', UNKNOWN: 'unknown',
};

export class OpenStackConnector implements CloudConnector {
  readonly type = 'OpenStack';
  private readonly settings: OpenStackSettings;
  readonly cloud: OpenStackCloud;

  constructor(cred: CloudCredential) {
    this.settings = parseOpenStackCredential(cred);
    this.cloud = cloudFor(this.settings);
  }

  async prepare(scope: InfrastructureScope): Promise<void> {
    const name = infrastructureResourceName(scope.infrastructureId);
    // Resolve every choice first, so a wrong image/flavor/network/pool fails before anything is created.
    await allSettledOrThrow(scope.computes.map((c) => this.choices(c)));
    await allSettledOrThrow([
      this.ensureKeypair(name, scope.publicKey),
      ensureSecurityGroup(this.cloud, name, `tosca-im infrastructure ${scope.infrastructureId}`, scope.computes),
    ]);
  }

  async launch(req: LaunchRequest): Promise<VmHandle> {
    const existing = (await this.serverIndex(req.infrastructureId)).get(req.clientToken);
    if (existing) return this.handle(req, existing, await this.poolOf(req));
    const { flavor, image, networks, pool } = await this.choices(req.compute);
    const name = vmName(req.infrastructureId, req.nodeName, req.vmId);
    const userData = Buffer.from(req.userData ?? defaultUserData(req.adminUser, req.publicKey)).toString('base64');
    if (userData.length > 65535) throw new CloudError(`User data of node "${req.nodeName}" is ${userData.length} bytes in base64; Nova accepts 65535`, 400, 'UserDataTooLarge');
    const metadata: Record<string, string> = {
      [TAG_INFRASTRUCTURE]: req.infrastructureId, [TAG_NODE]: req.nodeName.slice(0, 255), [TAG_VM]: req.vmId, [TAG_CLIENT_TOKEN]: req.clientToken.slice(0, 255),
      ...(pool ? { [TAG_PUBLIC_IP]: pool.id } : {}),
    };
    const body = {
      server: {
        name, imageRef: image.id, flavorRef: flavor.id, key_name: infrastructureResourceName(req.infrastructureId),
        networks: networks.map((n) => ({ uuid: n.id })), security_groups: [{ name: infrastructureResourceName(req.infrastructureId) }],
        user_data: userData, metadata,
      },
    };
    const ref = await this.createServer(req, name, body);
    (await this.serverIndex(req.infrastructureId)).set(req.clientToken, ref);
    return this.handle(req, ref, pool?.id);
  }

  async describe(vm: VmHandle): Promise<VmObservation> {
    const r = await this.cloud.api.call<{ server: NovaServer }>('compute', 'GET', `/servers/${vm.instanceId}`, { accept: [404] });
    if (r.status === 404) return { state: 'off', privateIps: [], publicIps: [] };
    const server = r.body.server;
    const obs = observe(server);
    const pool = (vm.extra?.publicPool as string | undefined) ?? server.metadata?.[TAG_PUBLIC_IP];
    const infId = (vm.extra?.infrastructureId as string | undefined) ?? server.metadata?.[TAG_INFRASTRUCTURE];
    if (obs.state !== 'running' || !pool || !infId || obs.publicIps.length) return obs;
    try {
      const fip = await attachFloatingIp(this.cloud, server.id, infId, pool);
      return { ...obs, publicIps: [fip.address], extra: { floatingIpId: fip.id, floatingIpAllocated: fip.ours } };
    } catch (e) {
      // No address to be had (quota, empty pool): the node cannot serve as an entry point.
      if (e instanceof OpenStackApiError && e.httpStatus >= 400 && e.httpStatus < 500) {
        return { ...obs, state: 'failed', fault: `Could not attach a floating IP: ${e.message}`, retryable: false };
      }
      throw e;
    }
  }

  async terminate(vm: VmHandle, opts: DestroyOptions): Promise<void> {
    const release = opts.releaseFloatingIps || this.settings.deleteFloatingIps;
    const infId = vm.extra?.infrastructureId as string | undefined;
    if (vm.extra?.publicPool && infId) await detachFloatingIps(this.cloud, vm.instanceId, infId, release);
    await this.deleteServer(vm.instanceId);
    if (infId && vm.extra?.clientToken) (await this.serverIndex(infId)).delete(vm.extra.clientToken as string);
  }

  start(vm: VmHandle): Promise<void> {
    return this.action(vm, { 'os-start': null });
  }
  stop(vm: VmHandle): Promise<void> {
    return this.action(vm, { 'os-stop': null });
  }
  reboot(vm: VmHandle): Promise<void> {
    return this.action(vm, { reboot: { type: 'SOFT' } });
  }

  async cleanup(infrastructureId: string, opts: DestroyOptions): Promise<void> {
    const release = opts.releaseFloatingIps || this.settings.deleteFloatingIps;
    const prefix = infrastructurePrefix(infrastructureId);
    const ours = (s: NovaServer) => s.metadata?.[TAG_INFRASTRUCTURE] === infrastructureId;
    const deleted = new Set<string>();
    const sweep = async (servers: NovaServer[]) => {
      const fresh = servers.filter((s) => !deleted.has(s.id));
      for (const s of fresh) deleted.add(s.id);
      const results = await settleBounded(fresh, openStackTuning.cleanupConcurrency, async (s) => {
        if (s.metadata?.[TAG_PUBLIC_IP]) await detachFloatingIps(this.cloud, s.id, infrastructureId, release);
        await this.cloud.api.call('compute', 'DELETE', `/servers/${s.id}`, { accept: [404] });
      });
      const failed = results.find((x) => x.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason;
    };
    const servers = (await listServersByPrefix(this.cloud, prefix)).filter(ours);
    await sweep(servers);
    // One listing per round instead of one GET per server. A create still in flight when its process
    // died (kill -9) can be accepted after the first listing: servers that appear are deleted too.
    if (servers.length) {
      await pollUntil(async () => {
        const left = (await listServersByPrefix(this.cloud, prefix)).filter(ours);
        if (!left.length) return true;
        await sweep(left);
        return undefined;
      }, { ...openStackTuning.deletePoll, what: `the servers of infrastructure ${infrastructureId} to be deleted` });
    }
    if (release) await releaseOurFloatingIps(this.cloud, infrastructureId);
    await this.deleteSecurityGroups(infrastructureResourceName(infrastructureId));
    await this.cloud.api.call('compute', 'DELETE', `/os-keypairs/${encodeURIComponent(infrastructureResourceName(infrastructureId))}`, { accept: [404] });
    this.cloud.serverIndex.delete(infrastructureId);
  }

  listImages(filters?: Record<string, string>): Promise<CloudImage[]> {
    return accountImages(this.cloud, filters);
  }

  quotas(): Promise<CloudQuotas> {
    return accountQuotas(this.cloud);
  }

  /** The flavor a launch of this compute would get, against the project's Nova quota. */
  async roomFor(compute: ComputePlan): Promise<number | undefined> {
    return flavorRoom(this.cloud, await chooseFlavor(this.cloud, compute.host));
  }

  /**
   * Nova's resize: POST resize {flavorRef}, wait for VERIFY_RESIZE, confirmResize, wait until the
   * server is ACTIVE again (SHUTOFF when it was stopped: Nova keeps the power state). A server found
   * mid-resize (a resumed job) is carried on from where it is.
   */
  async resizeVm(vm: VmHandle, wish: HostSizing): Promise<VmSizeInfo> {
    let server = await this.server(vm.instanceId);
    const target = await this.resizeTarget(server, wish);
    if (server.status === 'RESIZE') server = await this.waitServer(vm.instanceId, (s) => s.status !== 'RESIZE', 'its resize to finish');
    if (server.status !== 'VERIFY_RESIZE' && server.flavor?.id !== target.id) {
      await this.action(vm, { resize: { flavorRef: target.id } });
      server = await this.waitServer(vm.instanceId, (s) => s.status !== 'RESIZE', `its resize to flavor ${target.name}`);
      if (server.status !== 'VERIFY_RESIZE') {
        const why = server.status === 'ERROR' ? server.fault?.message ?? 'no fault message' : `it is ${server.status} with flavor ${server.flavor?.id ?? '?'}`;
        throw new CloudError(`OpenStack cloud "${this.settings.credentialId}" did not resize server ${vm.instanceId} to flavor ${target.name}: ${why}`, 502, 'ResizeFailed');
      }
    }
    if (server.status === 'VERIFY_RESIZE') {
      await this.action(vm, { confirmResize: null });
      await this.waitServer(vm.instanceId, (s) => s.status !== 'VERIFY_RESIZE', 'its resize to be confirmed');
    }
    return { cpus: target.cpus, memoryMB: target.memoryMB, instanceType: target.name };
  }

  // ---- helpers

  /**
   * The flavor to resize to: the exact instance_type, else the smallest that fits among those whose
   * root disk is no smaller than the current one (Nova refuses to shrink a disk).
   */
  private async resizeTarget(server: NovaServer, wish: HostSizing): Promise<Flavor> {
    if (wish.instanceType) return chooseFlavor(this.cloud, wish);
    const flavors = await listFlavors(this.cloud);
    const current = flavors.find((f) => f.id === server.flavor?.id);
    const roomy = current ? flavors.filter((f) => f.diskGB === 0 || f.diskGB >= current.diskGB) : flavors;
    return chooseSize(roomy, { ...wish, diskSizeGB: undefined }, `OpenStack cloud "${this.settings.credentialId}"`);
  }

  private async server(id: string): Promise<NovaServer> {
    return (await this.cloud.api.call<{ server: NovaServer }>('compute', 'GET', `/servers/${id}`)).body.server;
  }

  private waitServer(id: string, done: (s: NovaServer) => boolean, what: string): Promise<NovaServer> {
    return pollUntil(async () => {
      const s = await this.server(id);
      return done(s) ? s : undefined;
    }, { ...openStackTuning.resizePoll, what: `server ${id}: ${what}` });
  }

  /** Flavor, image, networks and (for public nodes) pool of a compute; cached per account. */
  private async choices(c: LaunchRequest['compute']) {
    // Every lookup finishes before the first error is reported: no call is left running behind us.
    const [flavor, image, networks, pool] = await allSettledOrThrow([
      chooseFlavor(this.cloud, c.host),
      resolveImage(this.cloud, c.os, c.name),
      privateNetworks(this.cloud, c, this.settings.network),
      wantsPublicIp(c) ? floatingPool(this.cloud, c, this.settings.pool) : Promise.resolve(undefined),
    ] as const);
    return { flavor, image, networks, pool };
  }

  private async poolOf(req: LaunchRequest): Promise<string | undefined> {
    return wantsPublicIp(req.compute) ? (await floatingPool(this.cloud, req.compute, this.settings.pool)).id : undefined;
  }

  private handle(req: LaunchRequest, ref: ServerRef, publicPool?: string): VmHandle {
    return {
      cloudId: this.settings.credentialId,
      instanceId: ref.id,
      extra: { name: ref.name, infrastructureId: req.infrastructureId, clientToken: req.clientToken, ...(publicPool ? { publicPool } : {}) },
    };
  }

  /** Servers of the infrastructure by client token: one listing per process, then kept current. */
  private serverIndex(infrastructureId: string): Promise<Map<string, ServerRef>> {
    let p = this.cloud.serverIndex.get(infrastructureId);
    if (!p) {
      p = listServersByPrefix(this.cloud, infrastructurePrefix(infrastructureId)).then((list) => {
        const m = new Map<string, ServerRef>();
        for (const s of list) {
          const token = s.metadata?.[TAG_CLIENT_TOKEN];
          if (token && s.metadata?.[TAG_INFRASTRUCTURE] === infrastructureId) m.set(token, { id: s.id, name: s.name });
        }
        return m;
      });
      this.cloud.serverIndex.set(infrastructureId, p);
      p.catch(() => this.cloud.serverIndex.delete(infrastructureId));
    }
    return p;
  }

  /**
   * POST /servers is not idempotent, so it is never blindly repeated: after a lost or 5xx answer we
   * look for a server carrying our client token and only create again when there is none.
   */
  private async createServer(req: LaunchRequest, name: string, body: unknown): Promise<ServerRef> {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.cloud.api.call<{ server: { id: string } }>('compute', 'POST', '/servers', { body });
        return { id: r.body.server.id, name };
      } catch (e) {
        const unknownOutcome = e instanceof OpenStackUnreachableError || (e instanceof OpenStackApiError && e.httpStatus >= 500);
        if (!unknownOutcome || attempt >= openStackTuning.createAttempts) throw e;
        await sleep(200 * attempt);
        const found = (await listServersByPrefix(this.cloud, infrastructurePrefix(req.infrastructureId))).find(
          (s) => s.metadata?.[TAG_CLIENT_TOKEN] === req.clientToken,
        );
        if (found) return { id: found.id, name: found.name };
      }
    }
  }

  private async deleteServer(id: string): Promise<void> {
    const r = await this.cloud.api.call('compute', 'DELETE', `/servers/${id}`, { accept: [404] });
    if (r.status === 404) return;
    await pollUntil(
      async () => ((await this.cloud.api.call('compute', 'GET', `/servers/${id}`, { accept: [404] })).status === 404 ? true : undefined),
      { ...openStackTuning.deletePoll, what: `server ${id} to be deleted` },
    );
  }

  private async deleteSecurityGroups(name: string): Promise<void> {
    const groups = await listSecurityGroups(this.cloud, name);
    await mapBounded(groups.filter((g) => g.name === name), 4, async (g) => {
      // Ports of deleted servers can linger for a moment: "in use" is retried briefly.
      await pollUntil(async () => {
        try {
          await this.cloud.api.call('network', 'DELETE', `/security-groups/${g.id}`, { accept: [404] });
          return true;
        } catch (e) {
          if (e instanceof OpenStackApiError && e.httpStatus === 409) return undefined;
          throw e;
        }
      }, { intervalMs: 250, maxIntervalMs: 2000, timeoutMs: 60_000, what: `security group ${name} to be free` });
    });
  }

  /**
   * The infrastructure's key pair: looked up first (every re-prepare finds it), created when missing;
   * a 409 on creation means a concurrent run of the same infrastructure made it meanwhile.
   */
  private async ensureKeypair(name: string, publicKey: string): Promise<void> {
    const path = `/os-keypairs/${encodeURIComponent(name)}`;
    let k = await this.cloud.api.call<{ keypair: { public_key: string } }>('compute', 'GET', path, { accept: [404] });
    if (k.status === 404) {
      const r = await this.cloud.api.call('compute', 'POST', '/os-keypairs', { body: { keypair: { name, public_key: publicKey.trim() } }, accept: [409] });
      if (r.status !== 409) return;
      k = await this.cloud.api.call<{ keypair: { public_key: string } }>('compute', 'GET', path);
    }
    // Made by an earlier (crashed or concurrent) run of the same infrastructure: it must be the same key.
    if (k.body.keypair.public_key.trim().split(/\s+/)[1] !== publicKey.trim().split(/\s+/)[1]) {
      throw new CloudError(`Keypair "${name}" already exists in OpenStack cloud "${this.settings.credentialId}" with another public key`, 409, 'KeypairConflict');
    }
  }

  private async action(vm: VmHandle, body: unknown): Promise<void> {
    await this.cloud.api.call('compute', 'POST', `/servers/${vm.instanceId}/action`, { body });
  }
}

/** Nova server → IM state and addresses. */
export function observe(s: NovaServer): VmObservation {
  const deleting = s['OS-EXT-STS:task_state'] === 'deleting';
  const state: VmState = deleting ? 'deleting' : STATES[s.status] ?? 'unknown';
  const privateIps: string[] = [];
  const publicIps: string[] = [];
  for (const list of Object.values(s.addresses ?? {})) {
    for (const a of list) (a['OS-EXT-IPS:type'] === 'floating' ? publicIps : privateIps).push(a.addr);
  }
  if (state !== 'failed') return { state, privateIps, publicIps };
  const message = s.fault?.message ? withoutFinalStop(s.fault.message) : 'the server went into ERROR without a fault message';
  // Nova's conductor re-checks quota after the API accepted the server (concurrent creates race
  // past the API's check): the server goes to ERROR with a quota fault. Another server would meet
  // the same quota, so the VM fails at once, saying so, instead of being deleted and relaunched.
  if (isQuotaMessage(message)) return { state, privateIps, publicIps, fault: `OpenStack quota exceeded: ${message}`, retryable: false };
  return { state, privateIps, publicIps, fault: message };
}
