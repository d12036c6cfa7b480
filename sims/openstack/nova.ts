/** Nova /compute/v2.1: flavors, images proxy, keypairs, servers (+ actions, os-interface, metadata, tags), limits. */
import { randomBytes, randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { baseUrl, fail, paginate, queryValues, tokenOf } from './http';
import { SimState, fingerprint, iso, type Flavor, type Server } from './model';

const MAX_MICROVERSION = '2.79';

/** Requested microversion as a comparable number (2.61 → 61); none → 1 (v2.1 base). */
function microversion(req: Request): number {
  const h = req.get('openstack-api-version') ?? '';
  const v = /compute\s+(\d+)\.(\d+)/i.exec(h)?.[2] ?? /2\.(\d+)/.exec(req.get('x-openstack-nova-api-version') ?? '')?.[1];
  if (/latest/.test(h)) return 79;
  return v ? Number(v) : 1;
}

export function novaVersionDoc(req: Request) {
  return {
    id: 'v2.1', status: 'CURRENT', version: MAX_MICROVERSION, min_version: '2.1', updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${baseUrl(req)}/compute/v2.1/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

export function novaRouter(state: SimState): Router {
  const r = Router();
  const link = (req: Request, kind: string, id: string) => [
    { rel: 'self', href: `${baseUrl(req)}/compute/v2.1/${kind}/${id}` },
    { rel: 'bookmark', href: `${baseUrl(req)}/compute/${kind}/${id}` },
  ];
  r.use((req, res, next) => {
    const mv = microversion(req);
    if (mv > 79) fail(406, `Version 2.${mv} is not supported by the API. Minimum is 2.1 and maximum is ${MAX_MICROVERSION}.`);
    res.set('OpenStack-API-Version', `compute 2.${mv}`).set('X-OpenStack-Nova-API-Version', `2.${mv}`).set('Vary', 'OpenStack-API-Version');
    next();
  });
  r.get('/', (req, res) => void res.json({ version: novaVersionDoc(req) }));

  // ---- flavors
  const flavorBody = (req: Request, f: Flavor) => ({
    id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, swap: 0, rxtx_factor: 1.0,
    'OS-FLV-EXT-DATA:ephemeral': 0, 'OS-FLV-DISABLED:disabled': false, 'os-flavor-access:is_public': f.isPublic,
    description: null, links: link(req, 'flavors', f.id), ...(microversion(req) >= 61 ? { extra_specs: f.extraSpecs } : {}),
  });
  /** A Nova collection, paged by `[api] max_limit` (flavors by flavorid, servers newest first). */
  const collection = <T extends { id: string }>(req: Request, key: string, items: T[], body: (x: T) => unknown) => {
    const { page, next } = paginate(req, items, state.pageLimits.nova);
    return { [key]: page.map(body), ...(next ? { [`${key}_links`]: [{ rel: 'next', href: `${baseUrl(req)}${next}` }] } : {}) };
  };
  const sortedFlavors = () => [...state.flavors].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  r.get('/flavors', (req, res) => void res.json(collection(req, 'flavors', sortedFlavors(), (f) => ({ id: f.id, name: f.name, links: link(req, 'flavors', f.id) }))));
  r.get('/flavors/detail', (req, res) => void res.json(collection(req, 'flavors', sortedFlavors(), (f) => flavorBody(req, f))));
  const flavorOr404 = (id: string) => state.flavors.find((f) => f.id === id) ?? fail(404, `Flavor ${id} could not be found.`);
  r.get('/flavors/:id', (req, res) => void res.json({ flavor: flavorBody(req, flavorOr404(req.params.id)) }));
  r.get('/flavors/:id/os-extra_specs', (req, res) => void res.json({ extra_specs: flavorOr404(req.params.id).extraSpecs }));

  // ---- images (proxy to the image service)
  const imageBody = (req: Request, i: (typeof state.images)[number]) => ({
    id: i.id, name: i.name, status: i.status.toUpperCase(), progress: 100, minDisk: i.minDisk, minRam: i.minRam,
    metadata: i.properties, created: iso(i.createdAt), updated: iso(i.createdAt), 'OS-EXT-IMG-SIZE:size': i.size, links: link(req, 'images', i.id),
  });
  r.get('/images', (req, res) => void res.json({ images: state.images.map((i) => ({ id: i.id, name: i.name, links: link(req, 'images', i.id) })) }));
  r.get('/images/detail', (req, res) => void res.json({ images: state.images.map((i) => imageBody(req, i)) }));
  r.get('/images/:id', (req, res) => {
    const i = state.images.find((x) => x.id === req.params.id) ?? fail(404, 'Image not found.');
    res.json({ image: imageBody(req, i) });
  });

  // ---- keypairs
  const keypairBody = (k: (typeof state.keypairs)[number], full = false) => ({
    name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint, type: 'ssh',
    ...(full ? { user_id: k.userId, id: 1, created_at: iso(k.createdAt), deleted: false, deleted_at: null, updated_at: null } : {}),
  });
  const myKeys = (req: Request) => state.keypairs.filter((k) => k.userId === tokenOf(req).userId);
  r.get('/os-keypairs', (req, res) => void res.json({ keypairs: myKeys(req).map((k) => ({ keypair: keypairBody(k) })) }));
  r.post('/os-keypairs', (req, res) => {
    const kp = req.body?.keypair ?? fail(400, "Invalid input for field/attribute keypair. Value: None. 'keypair' is a required property");
    if (typeof kp.name !== 'string' || !/^[A-Za-z0-9 _.@-]{1,255}$/.test(kp.name)) fail(400, 'Keypair data is invalid: Keypair name contains unsafe characters');
    if (myKeys(req).some((k) => k.name === kp.name)) fail(409, `Key pair '${kp.name}' already exists.`);
    let privateKey: string | undefined;
    let publicKey: string = kp.public_key;
    if (!publicKey) {
      privateKey = `-----BEGIN OPENSSH PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
      publicKey = `ssh-rsa ${randomBytes(64).toString('base64')} Generated-by-Nova`;
    } else if (!/^(ssh-|ecdsa-)\S+\s+[A-Za-z0-9+/=]+/.test(publicKey.trim())) {
      fail(400, 'Keypair data is invalid: failed to generate fingerprint');
    }
    const k = { name: kp.name, publicKey, fingerprint: fingerprint(publicKey), userId: tokenOf(req).userId, projectId: tokenOf(req).projectId!, createdAt: Date.now() };
    state.keypairs.push(k);
    res.status(microversion(req) >= 2 && microversion(req) < 10 ? 201 : 200).json({ keypair: { ...keypairBody(k), user_id: k.userId, ...(privateKey ? { private_key: privateKey } : {}) } });
  });
  const keyOr404 = (req: Request) =>
    myKeys(req).find((k) => k.name === req.params.name) ?? fail(404, `Keypair ${req.params.name} not found for user ${tokenOf(req).userId}`);
  r.get('/os-keypairs/:name', (req, res) => void res.json({ keypair: keypairBody(keyOr404(req), true) }));
  r.delete('/os-keypairs/:name', (req, res) => {
    const k = keyOr404(req);
    state.keypairs.splice(state.keypairs.indexOf(k), 1);
    res.status(202).end();
  });

  // ---- servers
  const serverOr404 = (req: Request): Server => {
    const s = state.servers.get(req.params.id);
    if (!s || s.projectId !== tokenOf(req).projectId) fail(404, `Instance ${req.params.id} could not be found.`);
    return s!;
  };
  const serverBody = (req: Request, s: Server) => {
    const f = state.flavors.find((x) => x.id === s.flavorId)!;
    const mv = microversion(req);
    const addresses: Record<string, unknown[]> = {};
    for (const p of state.serverPorts(s.id)) {
      const net = state.networks.find((n) => n.id === p.networkId)!;
      const list = (addresses[net.name] ??= []);
      for (const ip of p.fixedIps) list.push({ version: 4, addr: ip.ip_address, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': p.mac });
      for (const fip of state.floatingIps.values()) {
        if (fip.portId === p.id) list.push({ version: 4, addr: fip.address, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': p.mac });
      }
    }
    const poweredOn = s.status === 'ACTIVE' || (s.resize?.powerOn ?? false);
    const vmState = { BUILD: 'building', ACTIVE: 'active', ERROR: 'error', SHUTOFF: 'stopped', RESIZE: poweredOn ? 'active' : 'stopped', VERIFY_RESIZE: 'resized' }[s.status];
    return {
      id: s.id, name: s.name, status: s.status, tenant_id: s.projectId, user_id: s.userId, metadata: s.metadata, hostId: s.status === 'ERROR' ? '' : 'sim-host-1',
      image: { id: s.imageId, links: link(req, 'images', s.imageId) },
      flavor: mv >= 47
        ? { vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: 0, swap: 0, original_name: f.name, extra_specs: f.extraSpecs }
        : { id: f.id, links: link(req, 'flavors', f.id) },
      created: iso(s.createdAt), updated: iso(s.updatedAt), addresses, accessIPv4: '', accessIPv6: '', links: link(req, 'servers', s.id),
      'OS-DCF:diskConfig': 'MANUAL', progress: s.status === 'BUILD' ? 0 : 100, 'OS-EXT-AZ:availability_zone': 'nova', config_drive: '',
      key_name: s.keyName, 'OS-SRV-USG:launched_at': s.launchedAt ? iso(s.launchedAt) : null, 'OS-SRV-USG:terminated_at': null,
      security_groups: s.status === 'ACTIVE' ? s.securityGroups.map((name) => ({ name })) : undefined,
      'OS-EXT-STS:task_state': s.goneAt !== undefined ? 'deleting' : s.status === 'BUILD' ? 'spawning' : s.status === 'RESIZE' ? 'resize_migrating' : null,
      'OS-EXT-STS:vm_state': vmState, 'OS-EXT-STS:power_state': poweredOn ? 1 : 0, 'os-extended-volumes:volumes_attached': [],
      locked: false, description: null, tags: s.tags, trusted_image_certificates: null, host_status: 'UP',
      ...(s.fault ? { fault: s.fault } : {}),
    };
  };
  const listServers = (req: Request) => {
    const t = tokenOf(req);
    let list = [...state.servers.values()].filter((s) => s.projectId === t.projectId).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
    const name = queryValues(req.query.name)[0];
    if (name) {
      let re: RegExp;
      try { re = new RegExp(name); } catch { return fail(400, `Invalid regular expression for name: ${name}`); }
      list = list.filter((s) => re.test(s.name));
    }
    const status = queryValues(req.query.status)[0];
    if (status) list = list.filter((s) => s.status === status.toUpperCase());
    const tags = queryValues(req.query.tags)[0]?.split(',');
    if (tags) list = list.filter((s) => tags.every((x) => s.tags.includes(x)));
    const tagsAny = queryValues(req.query['tags-any'])[0]?.split(',');
    if (tagsAny) list = list.filter((s) => tagsAny.some((x) => s.tags.includes(x)));
    return list;
  };
  r.get('/servers', (req, res) => void res.json(collection(req, 'servers', listServers(req), (s) => ({ id: s.id, name: s.name, links: link(req, 'servers', s.id) }))));
  r.get('/servers/detail', (req, res) => void res.json(collection(req, 'servers', listServers(req), (s) => serverBody(req, s))));
  r.get('/servers/:id', (req, res) => void res.json({ server: serverBody(req, serverOr404(req)) }));
  r.post('/servers', (req, res) => {
    const created = createServers(state, req);
    const s = created[0];
    res.status(202).set('Location', `${baseUrl(req)}/compute/v2.1/servers/${s.id}`).json({
      server: { id: s.id, links: link(req, 'servers', s.id), adminPass: s.adminPass, 'OS-DCF:diskConfig': 'MANUAL', security_groups: s.securityGroups.map((name) => ({ name })) },
    });
  });
  r.delete('/servers/:id', (req, res) => {
    const s = serverOr404(req);
    s.goneAt ??= Date.now() + state.faults.deleteDelayMs;
    s.updatedAt = Date.now();
    state.tick();
    res.status(204).end();
  });
  r.post('/servers/:id/action', (req, res) => {
    const s = serverOr404(req);
    const action = Object.keys(req.body ?? {})[0];
    const need = (ok: string[], what: string) => {
      if (s.status === 'RESIZE') fail(409, `Cannot '${what}' instance ${s.id} while it is in task_state resize_migrating`);
      if (!ok.includes(s.status)) fail(409, `Cannot '${what}' instance ${s.id} while it is in vm_state ${s.status === 'VERIFY_RESIZE' ? 'resized' : s.status.toLowerCase()}`);
    };
    let status = 202;
    if (action === 'os-stop') { need(['ACTIVE'], 'stop'); s.status = 'SHUTOFF'; }
    else if (action === 'os-start') { need(['SHUTOFF'], 'start'); s.status = 'ACTIVE'; }
    else if (action === 'reboot') { need(['ACTIVE', 'SHUTOFF'], 'reboot'); s.status = 'ACTIVE'; }
    else if (action === 'resize') { need(['ACTIVE', 'SHUTOFF'], 'resize'); startResize(state, s, req.body.resize); }
    else if (action === 'confirmResize') {
      need(['VERIFY_RESIZE'], 'confirmResize');
      s.status = s.resize!.powerOn ? 'ACTIVE' : 'SHUTOFF';
      s.resize = undefined;
      status = 204;
    } else if (action === 'revertResize') {
      need(['VERIFY_RESIZE'], 'revertResize');
      s.flavorId = s.resize!.fromFlavorId;
      s.status = s.resize!.powerOn ? 'ACTIVE' : 'SHUTOFF';
      s.resize = undefined;
    } else fail(400, `There is no such action: ${action}`);
    s.updatedAt = Date.now();
    res.status(status).end();
  });

  // ---- os-interface
  const attachment = (p: ReturnType<SimState['serverPorts']>[number]) => ({
    port_id: p.id, net_id: p.networkId, mac_addr: p.mac, port_state: p.status, fixed_ips: p.fixedIps, tag: null,
  });
  r.get('/servers/:id/os-interface', (req, res) => void res.json({ interfaceAttachments: state.serverPorts(serverOr404(req).id).map(attachment) }));
  r.get('/servers/:id/os-interface/:port', (req, res) => {
    const p = state.serverPorts(serverOr404(req).id).find((x) => x.id === req.params.port) ?? fail(404, `Port ${req.params.port} is not attached`);
    res.json({ interfaceAttachment: attachment(p) });
  });
  r.post('/servers/:id/os-interface', (req, res) => {
    const s = serverOr404(req);
    const a = req.body?.interfaceAttachment ?? fail(400, "'interfaceAttachment' is a required property");
    let port;
    if (a.port_id) {
      port = state.ports.get(a.port_id) ?? fail(404, `Port ${a.port_id} could not be found.`);
      if (port.deviceId) fail(409, `Port ${port.id} is still in use.`);
      Object.assign(port, { deviceId: s.id, deviceOwner: 'compute:nova', status: 'ACTIVE' });
    } else {
      const net = state.networks.find((n) => n.id === a.net_id) ?? fail(404, `Network ${a.net_id} could not be found.`);
      port = state.createPort({ networkId: net.id, projectId: s.projectId, deviceId: s.id, deviceOwner: 'compute:nova' }) ?? fail(409, 'No more IP addresses available.');
    }
    res.json({ interfaceAttachment: attachment(port) });
  });
  r.delete('/servers/:id/os-interface/:port', (req, res) => {
    const s = serverOr404(req);
    const p = state.serverPorts(s.id).find((x) => x.id === req.params.port) ?? fail(404, `Port ${req.params.port} is not attached`);
    state.deletePort(p.id);
    res.status(202).end();
  });

  // ---- metadata and tags
  const metaCheck = (m: unknown): Record<string, string> => {
    if (!m || typeof m !== 'object' || Object.values(m).some((v) => typeof v !== 'string' || v.length > 255)) fail(400, 'Invalid metadata: values must be strings of at most 255 characters');
    return m as Record<string, string>;
  };
  r.get('/servers/:id/metadata', (req, res) => void res.json({ metadata: serverOr404(req).metadata }));
  r.put('/servers/:id/metadata', (req, res) => {
    const s = serverOr404(req);
    s.metadata = { ...metaCheck(req.body?.metadata) };
    res.json({ metadata: s.metadata });
  });
  r.post('/servers/:id/metadata', (req, res) => {
    const s = serverOr404(req);
    Object.assign(s.metadata, metaCheck(req.body?.metadata));
    res.json({ metadata: s.metadata });
  });
  r.get('/servers/:id/metadata/:key', (req, res) => {
    const s = serverOr404(req);
    if (!(req.params.key in s.metadata)) fail(404, 'Metadata item was not found');
    res.json({ meta: { [req.params.key]: s.metadata[req.params.key] } });
  });
  r.delete('/servers/:id/metadata/:key', (req, res) => {
    const s = serverOr404(req);
    if (!(req.params.key in s.metadata)) fail(404, 'Metadata item was not found');
    delete s.metadata[req.params.key];
    res.status(204).end();
  });
  r.get('/servers/:id/tags', (req, res) => void res.json({ tags: serverOr404(req).tags }));
  r.put('/servers/:id/tags', (req, res) => {
    const s = serverOr404(req);
    s.tags = [...new Set<string>(req.body?.tags ?? fail(400, "'tags' is a required property"))];
    res.json({ tags: s.tags });
  });
  r.get('/servers/:id/tags/:tag', (req, res) => {
    if (!serverOr404(req).tags.includes(req.params.tag)) fail(404, `Tag ${req.params.tag} could not be found.`);
    res.status(204).end();
  });
  r.put('/servers/:id/tags/:tag', (req, res) => {
    const s = serverOr404(req);
    const had = s.tags.includes(req.params.tag);
    if (!had) s.tags.push(req.params.tag);
    res.status(had ? 204 : 201).end();
  });
  r.delete('/servers/:id/tags/:tag', (req, res) => {
    const s = serverOr404(req);
    if (!s.tags.includes(req.params.tag)) fail(404, `Tag ${req.params.tag} could not be found.`);
    s.tags = s.tags.filter((t) => t !== req.params.tag);
    res.status(204).end();
  });

  // IM's get_quotas reads this (libcloud ex_get_quota_set); only the token's own project, as Nova's policy.
  r.get('/os-quota-sets/:project/detail', (req, res) => {
    const pid = tokenOf(req).projectId!;
    if (req.params.project !== pid) fail(403, `Policy doesn't allow os_compute_api:os-quota-sets:detail to be performed.`);
    const q = state.quotaOf(pid);
    const u = state.usage(pid);
    const d = (in_use: number, limit: number) => ({ in_use, limit, reserved: 0 });
    res.json({
      quota_set: {
        id: pid, cores: d(u.cores, q.cores), ram: d(u.ram, q.ram), instances: d(u.instances, q.instances),
        key_pairs: d(state.keypairs.length, 100), metadata_items: d(0, 128), server_groups: d(0, 10), server_group_members: d(0, 10),
      },
    });
  });

  r.get('/limits', (req, res) => {
    const pid = tokenOf(req).projectId!;
    const q = state.quotaOf(pid);
    const u = state.usage(pid);
    res.json({
      limits: {
        rate: [],
        absolute: {
          maxTotalInstances: q.instances, maxTotalCores: q.cores, maxTotalRAMSize: q.ram, maxTotalKeypairs: 100, maxServerMeta: 128,
          totalInstancesUsed: u.instances, totalCoresUsed: u.cores, totalRAMUsed: u.ram, maxServerGroups: 10, maxServerGroupMembers: 10, totalServerGroupsUsed: 0,
        },
      },
    });
  });
  return r;
}

/**
 * Nova's resize (servers.py _resize, compute/api.py resize): a new flavor, quota for the growth, a
 * root disk that does not shrink; the server goes RESIZE, and VERIFY_RESIZE with the new flavor once
 * it runs on its new host (after the build delay), waiting for confirmResize or revertResize.
 */
function startResize(state: SimState, s: Server, body: unknown): void {
  const ref = (body as { flavorRef?: unknown } | null)?.flavorRef;
  if (ref === undefined || ref === null || ref === '') fail(400, "Invalid input for field/attribute resize. Value: {}. 'flavorRef' is a required property");
  const to = state.flavors.find((f) => f.id === String(ref).split('/').pop()) ?? fail(400, 'Unable to locate requested flavor.');
  const from = state.flavors.find((f) => f.id === s.flavorId)!;
  if (to.id === from.id) fail(400, 'When resizing, instances must change flavor!');
  if (to.disk !== 0 && to.disk < from.disk) fail(400, 'Resize error: Unable to resize disk down.');
  const quota = state.quotaOf(s.projectId);
  const used = state.usage(s.projectId);
  for (const [res, want, have, max] of [
    ['cores', to.vcpus - from.vcpus, used.cores, quota.cores],
    ['ram', to.ram - from.ram, used.ram, quota.ram],
  ] as const) {
    if (want > 0 && have + want > max) fail(403, `Quota exceeded for ${res}: Requested ${want}, but already used ${have} of ${max} ${res}`);
  }
  s.resize = { fromFlavorId: from.id, toFlavorId: to.id, readyAt: Date.now() + state.faults.activeDelayMs, powerOn: s.status === 'ACTIVE' };
  s.status = 'RESIZE';
}

function createServers(state: SimState, req: Request): Server[] {
  const t = tokenOf(req);
  const projectId = t.projectId!;
  const b = req.body?.server ?? fail(400, "Invalid input for field/attribute server. Value: None. 'server' is a required property");
  if (typeof b.name !== 'string' || !b.name.trim()) fail(400, "Invalid input for field/attribute name. Value: None. 'name' is a required property");
  if (b.name.length > 255) fail(400, 'Invalid input for field/attribute name: too long');
  const image = state.images.find((i) => i.id === String(b.imageRef ?? '').split('/').pop());
  if (!image || image.status !== 'active') fail(400, `Can not find requested image`);
  const flavorId = String(b.flavorRef ?? '').split('/').pop();
  const flavor = state.flavors.find((f) => f.id === flavorId) ?? fail(400, `Flavor ${flavorId} could not be found.`);
  if (b.key_name != null && !state.keypairs.some((k) => k.name === b.key_name && k.userId === t.userId)) fail(400, 'Invalid key_name provided.');
  if (b.metadata !== undefined && (typeof b.metadata !== 'object' || Object.values(b.metadata).some((v) => typeof v !== 'string' || (v as string).length > 255))) {
    fail(400, 'Invalid input for field/attribute metadata: values must be strings of at most 255 characters');
  }
  if (b.user_data !== undefined && b.user_data !== null) {
    const ud = String(b.user_data).replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(ud) || ud.length % 4 !== 0) fail(400, 'User data needs to be valid base 64.');
    if (ud.length > 65535) fail(400, 'User data too large. User data must be no larger than 65535 bytes once base64 encoded.');
  }
  const groups: string[] = (b.security_groups ?? [{ name: 'default' }]).map((g: { name: string }) => g.name);
  const groupIds = groups.map((name) => {
    const g = [...state.securityGroups.values()].find((x) => x.projectId === projectId && (x.name === name || x.id === name));
    return g?.id ?? fail(400, `Unable to find security_group with name or id '${name}'`);
  });
  const visible = state.networks.filter((n) => !n.external && (n.projectId === projectId || n.shared));
  let netIds: string[];
  let portIds: string[] = [];
  if (b.networks === 'none') netIds = [];
  else if (b.networks === undefined || b.networks === 'auto') {
    if (visible.length > 1) fail(409, 'Multiple possible networks found, use a Network ID to be more specific.');
    if (!visible.length) fail(400, 'No networks available to attach the server to.');
    netIds = [visible[0].id];
  } else {
    netIds = [];
    for (const n of b.networks as { uuid?: string; port?: string }[]) {
      if (n.port) {
        const p = state.ports.get(n.port) ?? fail(400, `Port id ${n.port} could not be found.`);
        if (p.deviceId) fail(409, `Port ${n.port} is still in use.`);
        portIds.push(p.id);
      } else {
        const net = state.networks.find((x) => x.id === n.uuid && (x.projectId === projectId || x.shared || x.external));
        if (!net) fail(400, `Network ${n.uuid} could not be found.`);
        netIds.push(net!.id);
      }
    }
  }
  const count = Math.max(1, Number(b.max_count ?? b.min_count ?? 1));
  const quota = state.quotaOf(projectId);
  const used = state.usage(projectId);
  let overQuota: string | undefined;
  for (const [res, want, have, max] of [
    ['instances', count, used.instances, quota.instances],
    ['cores', count * flavor.vcpus, used.cores, quota.cores],
    ['ram', count * flavor.ram, used.ram, quota.ram],
  ] as const) {
    if (have + want <= max) continue;
    overQuota ??= `Quota exceeded for ${res}: Requested ${want}, but already used ${have} of ${max} ${res}`;
    if (!state.faults.conductorQuota) fail(403, overQuota);
  }
  const now = Date.now();
  const out: Server[] = [];
  for (let i = 1; i <= count; i++) {
    const name = count > 1 ? `${b.name}-${i}` : b.name;
    const s: Server = {
      id: randomUUID(), name, projectId, userId: t.userId, status: 'BUILD', imageId: image!.id, flavorId: flavor.id, keyName: b.key_name ?? null,
      metadata: { ...(b.metadata ?? {}) }, tags: Array.isArray(b.tags) ? [...b.tags] : [], userData: b.user_data ?? undefined, securityGroups: groups,
      adminPass: randomBytes(9).toString('base64url'), createdAt: now, updatedAt: now, readyAt: now + state.faults.activeDelayMs,
    };
    const failure = state.faults.bootFailures.find((f) => f.times > 0 && f.pattern.test(name));
    if (overQuota) {
      // The conductor's re-check (TooManyInstances, a 403 fault) beats any other failure.
      s.willFail = overQuota;
      s.willFailCode = 403;
    } else if (failure) {
      failure.times--;
      s.willFail = failure.message ?? 'No valid host was found. There are not enough hosts available.';
    }
    state.servers.set(s.id, s);
    for (const netId of netIds) {
      const p = state.createPort({ networkId: netId, projectId, deviceId: s.id, deviceOwner: 'compute:nova', securityGroupIds: groupIds });
      if (!p) s.willFail = `Build of instance ${s.id} aborted: Failed to allocate the network(s), not rescheduling.`;
    }
    for (const pid of portIds) Object.assign(state.ports.get(pid)!, { deviceId: s.id, deviceOwner: 'compute:nova', status: 'ACTIVE' });
    portIds = [];
    out.push(s);
  }
  state.tick();
  return out;
}
