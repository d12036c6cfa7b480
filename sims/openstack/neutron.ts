/** Neutron /network/v2.0: networks, subnets, ports, security groups and rules, floating IPs, quotas. */
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { baseUrl, fail, paginate, queryValues, tokenOf } from './http';
import { SimState, iso, type FloatingIp, type Network, type Port, type SecurityGroup, type SgRule } from './model';

const NON_FILTERS = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse']);
const T0 = iso(Date.parse('2026-01-01T00:00:00Z'));

/** Neutron's server-side filtering: every query key is a field; repeated values mean "any of". */
function filtered<T extends Record<string, unknown>>(req: Request, items: T[]): Record<string, unknown>[] {
  let out = items;
  for (const [key, raw] of Object.entries(req.query)) {
    if (NON_FILTERS.has(key)) continue;
    const wanted = queryValues(raw);
    out = out.filter((item) => {
      if (!(key in item)) return true;
      const v = item[key];
      return wanted.some((w) =>
        typeof v === 'boolean' ? w.toLowerCase() === String(v) : v === null ? w === '' || w.toLowerCase() === 'none' : Array.isArray(v) ? v.map(String).includes(w) : String(v) === w,
      );
    });
  }
  const fields = queryValues(req.query.fields);
  if (!fields.length) return out;
  return out.map((item) => Object.fromEntries(Object.entries(item).filter(([k]) => fields.includes(k))));
}

export function neutronRouter(state: SimState): Router {
  const r = Router();
  /** A Neutron collection, paged by `pagination_max_limit` (sorted by id, as Neutron pages), with `<key>_links`. */
  const listed = (req: Request, key: string, items: Record<string, unknown>[]) => {
    if (!state.pageLimits.neutron && !req.query.limit) return { [key]: items };
    const byId = (items as { id: string }[]).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const { page, next } = paginate(req, byId, state.pageLimits.neutron);
    return { [key]: page, ...(next ? { [`${key}_links`]: [{ rel: 'next', href: `${baseUrl(req)}${next}` }] } : {}) };
  };
  const pid = (req: Request) => tokenOf(req).projectId!;

  // ---- networks and subnets
  const visibleNets = (req: Request) => state.networks.filter((n) => n.projectId === pid(req) || n.shared || n.external);
  const netBody = (n: Network) => ({
    id: n.id, name: n.name, status: 'ACTIVE', 'router:external': n.external, subnets: n.subnetIds, shared: n.shared, admin_state_up: true,
    project_id: n.projectId, tenant_id: n.projectId, mtu: 1450, description: '', tags: [], availability_zones: ['nova'], port_security_enabled: true,
    is_default: false, ipv4_address_scope: null, ipv6_address_scope: null, 'provider:network_type': n.external ? 'flat' : 'vxlan',
    created_at: T0, updated_at: T0, revision_number: 1,
  });
  r.get('/networks', (req, res) => void res.json(listed(req, 'networks', filtered(req, visibleNets(req).map(netBody)))));
  r.get('/networks/:id', (req, res) => {
    const n = visibleNets(req).find((x) => x.id === req.params.id) ?? fail(404, `Network ${req.params.id} could not be found.`, 'NetworkNotFound');
    res.json({ network: netBody(n) });
  });
  const subnetBody = (s: (typeof state.subnets)[number]) => ({
    id: s.id, name: s.name, network_id: s.networkId, cidr: s.cidr, gateway_ip: s.gatewayIp, ip_version: 4, enable_dhcp: true,
    allocation_pools: [{ start: `${s.prefix}.${s.firstHost}`, end: `${s.prefix}.${s.lastHost}` }], dns_nameservers: [], host_routes: [],
    project_id: s.projectId, tenant_id: s.projectId, ipv6_ra_mode: null, ipv6_address_mode: null, subnetpool_id: null, description: '', tags: [],
    created_at: T0, updated_at: T0, revision_number: 0,
  });
  const visibleSubnets = (req: Request) => {
    const nets = new Set(visibleNets(req).map((n) => n.id));
    return state.subnets.filter((s) => nets.has(s.networkId));
  };
  r.get('/subnets', (req, res) => void res.json(listed(req, 'subnets', filtered(req, visibleSubnets(req).map(subnetBody)))));
  r.get('/subnets/:id', (req, res) => {
    const s = visibleSubnets(req).find((x) => x.id === req.params.id) ?? fail(404, `Subnet ${req.params.id} could not be found.`, 'SubnetNotFound');
    res.json({ subnet: subnetBody(s) });
  });

  // ---- ports
  const portBody = (p: Port) => ({
    id: p.id, name: p.name, network_id: p.networkId, device_id: p.deviceId, device_owner: p.deviceOwner, fixed_ips: p.fixedIps, mac_address: p.mac,
    status: p.status, security_groups: p.securityGroupIds, project_id: p.projectId, tenant_id: p.projectId, admin_state_up: true, description: p.description,
    'binding:vnic_type': 'normal', allowed_address_pairs: [], extra_dhcp_opts: [], port_security_enabled: true, tags: [], created_at: T0, updated_at: T0, revision_number: 1,
  });
  const myPorts = (req: Request) => [...state.ports.values()].filter((p) => p.projectId === pid(req));
  const portOr404 = (req: Request, id = req.params.id) => myPorts(req).find((p) => p.id === id) ?? fail(404, `Port ${id} could not be found.`, 'PortNotFound');
  r.get('/ports', (req, res) => void res.json(listed(req, 'ports', filtered(req, myPorts(req).map(portBody)))));
  r.get('/ports/:id', (req, res) => void res.json({ port: portBody(portOr404(req)) }));
  r.post('/ports', (req, res) => {
    const b = req.body?.port ?? fail(400, "Resource body required", 'BadRequest');
    const net = visibleNets(req).find((n) => n.id === b.network_id) ?? fail(404, `Network ${b.network_id} could not be found.`, 'NetworkNotFound');
    const p = state.createPort({ networkId: net.id, projectId: pid(req), name: b.name ?? '', deviceId: b.device_id, deviceOwner: b.device_owner, securityGroupIds: b.security_groups })
      ?? fail(409, `No more IP addresses available on network ${net.id}.`, 'IpAddressGenerationFailure');
    if (b.description) p.description = b.description;
    res.status(201).json({ port: portBody(p) });
  });
  r.put('/ports/:id', (req, res) => {
    const p = portOr404(req);
    const b = req.body?.port ?? {};
    if (b.name !== undefined) p.name = b.name;
    if (b.description !== undefined) p.description = b.description;
    if (b.security_groups !== undefined) p.securityGroupIds = b.security_groups;
    res.json({ port: portBody(p) });
  });
  r.delete('/ports/:id', (req, res) => {
    state.deletePort(portOr404(req).id);
    res.status(204).end();
  });

  // ---- security groups and rules
  const ruleBody = (x: SgRule) => ({
    id: x.id, security_group_id: x.securityGroupId, direction: x.direction, ethertype: x.ethertype, protocol: x.protocol,
    port_range_min: x.portRangeMin, port_range_max: x.portRangeMax, remote_ip_prefix: x.remoteIpPrefix, remote_group_id: x.remoteGroupId,
    remote_address_group_id: null, description: x.description, project_id: x.projectId, tenant_id: x.projectId, created_at: T0, updated_at: T0, revision_number: 0,
  });
  const sgBody = (g: SecurityGroup) => ({
    id: g.id, name: g.name, description: g.description, project_id: g.projectId, tenant_id: g.projectId, stateful: true, tags: [],
    security_group_rules: [...state.rules.values()].filter((x) => x.securityGroupId === g.id).map(ruleBody), created_at: T0, updated_at: T0, revision_number: 1,
  });
  const myGroups = (req: Request) => {
    state.defaultSecurityGroup(pid(req));
    return [...state.securityGroups.values()].filter((g) => g.projectId === pid(req));
  };
  const sgOr404 = (req: Request, id: string) =>
    myGroups(req).find((g) => g.id === id) ?? fail(404, `Security group ${id} does not exist`, 'SecurityGroupNotFound');
  r.get('/security-groups', (req, res) => void res.json(listed(req, 'security_groups', filtered(req, myGroups(req).map(sgBody)))));
  r.get('/security-groups/:id', (req, res) => void res.json({ security_group: sgBody(sgOr404(req, req.params.id)) }));
  r.post('/security-groups', (req, res) => {
    const b = req.body?.security_group ?? fail(400, 'Resource body required', 'BadRequest');
    if (typeof b.name !== 'string') fail(400, "Invalid input for name. Reason: 'None' is not a valid string.", 'HTTPBadRequest');
    if (b.name === 'default') fail(409, 'Default security group already exists.', 'SecurityGroupDefaultAlreadyExists');
    if (myGroups(req).length >= state.quotaOf(pid(req)).securityGroups) fail(409, "Quota exceeded for resources: ['security_group'].", 'OverQuota');
    const g: SecurityGroup = { id: randomUUID(), name: b.name, description: b.description ?? '', projectId: pid(req) };
    state.securityGroups.set(g.id, g);
    for (const ethertype of ['IPv4', 'IPv6']) state.addRule({ securityGroupId: g.id, direction: 'egress', ethertype, projectId: g.projectId });
    res.status(201).json({ security_group: sgBody(g) });
  });
  r.put('/security-groups/:id', (req, res) => {
    const g = sgOr404(req, req.params.id);
    const b = req.body?.security_group ?? {};
    if (b.name !== undefined) g.name = b.name;
    if (b.description !== undefined) g.description = b.description;
    res.json({ security_group: sgBody(g) });
  });
  r.delete('/security-groups/:id', (req, res) => {
    const g = sgOr404(req, req.params.id);
    if (g.name === 'default') fail(409, 'Insufficient rights for removing default security group.', 'SecurityGroupCannotRemoveDefault');
    if ([...state.ports.values()].some((p) => p.securityGroupIds.includes(g.id))) fail(409, `Security Group ${g.id} in use.`, 'SecurityGroupInUse');
    state.securityGroups.delete(g.id);
    for (const x of [...state.rules.values()]) if (x.securityGroupId === g.id || x.remoteGroupId === g.id) state.rules.delete(x.id);
    res.status(204).end();
  });

  const myRules = (req: Request) => [...state.rules.values()].filter((x) => x.projectId === pid(req));
  r.get('/security-group-rules', (req, res) => void res.json(listed(req, 'security_group_rules', filtered(req, myRules(req).map(ruleBody)))));
  r.get('/security-group-rules/:id', (req, res) => {
    const x = myRules(req).find((y) => y.id === req.params.id) ?? fail(404, `Security group rule ${req.params.id} does not exist`, 'SecurityGroupRuleNotFound');
    res.json({ security_group_rule: ruleBody(x) });
  });
  r.post('/security-group-rules', (req, res) => {
    const bulk = Array.isArray(req.body?.security_group_rules);
    const bodies: any[] = bulk ? req.body.security_group_rules : [req.body?.security_group_rule ?? fail(400, 'Resource body required', 'BadRequest')];
    const pending: Omit<SgRule, 'id'>[] = bodies.map((b) => validateRule(req, b));
    const all = [...myRules(req)];
    const created: SgRule[] = [];
    pending.forEach((p) => {
      const dup = all.find((x) => sameRule(x, p));
      if (dup) fail(409, `Security group rule already exists. Rule id is ${dup.id}.`, 'SecurityGroupRuleExists');
      all.push({ ...p, id: 'pending' });
    });
    for (const p of pending) created.push(state.addRule(p));
    res.status(201).json(bulk ? { security_group_rules: created.map(ruleBody) } : { security_group_rule: ruleBody(created[0]) });
  });
  r.delete('/security-group-rules/:id', (req, res) => {
    const x = myRules(req).find((y) => y.id === req.params.id) ?? fail(404, `Security group rule ${req.params.id} does not exist`, 'SecurityGroupRuleNotFound');
    state.rules.delete(x.id);
    res.status(204).end();
  });
  const validateRule = (req: Request, b: any): Omit<SgRule, 'id'> => {
    const g = sgOr404(req, b?.security_group_id);
    if (!['ingress', 'egress'].includes(b.direction)) fail(400, `Invalid input for direction. Reason: ${b.direction} is not in valid_values.`, 'HTTPBadRequest');
    const ethertype = b.ethertype ?? 'IPv4';
    if (!['IPv4', 'IPv6'].includes(ethertype)) fail(400, `Invalid input for ethertype: ${ethertype}`, 'HTTPBadRequest');
    const protocol = b.protocol == null ? null : String(b.protocol).toLowerCase();
    if (protocol !== null && !['tcp', 'udp', 'icmp', 'ipv6-icmp'].includes(protocol) && !/^\d+$/.test(protocol)) fail(400, `Security group rule protocol ${protocol} not supported.`, 'SecurityGroupRuleInvalidProtocol');
    const min = b.port_range_min ?? null;
    const max = b.port_range_max ?? null;
    if ((min !== null || max !== null) && !['tcp', 'udp', 'icmp'].includes(protocol ?? '')) fail(400, 'Must also specify protocol if port range is given.', 'SecurityGroupProtocolRequiredWithPorts');
    if (protocol !== 'icmp' && min !== null && max !== null && Number(min) > Number(max)) fail(400, 'For TCP/UDP protocols, port_range_min must be <= port_range_max', 'SecurityGroupInvalidPortRange');
    if (b.remote_ip_prefix && b.remote_group_id) fail(400, 'Only remote_ip_prefix or remote_group_id may be provided.', 'SecurityGroupRemoteGroupAndRemoteIpPrefix');
    if (b.remote_group_id) sgOr404(req, b.remote_group_id);
    return {
      securityGroupId: g.id, direction: b.direction, ethertype, protocol, portRangeMin: min === null ? null : Number(min), portRangeMax: max === null ? null : Number(max),
      remoteIpPrefix: b.remote_ip_prefix ?? null, remoteGroupId: b.remote_group_id ?? null, description: b.description ?? '', projectId: g.projectId,
    };
  };

  // ---- floating IPs
  const fipBody = (f: FloatingIp) => ({
    id: f.id, floating_ip_address: f.address, floating_network_id: f.networkId, port_id: f.portId, fixed_ip_address: f.fixedIp,
    router_id: f.portId ? 'router-sim-1' : null, status: f.status, project_id: f.projectId, tenant_id: f.projectId, description: f.description,
    tags: [], port_details: null, dns_domain: '', dns_name: '', qos_policy_id: null, port_forwardings: [], created_at: iso(f.createdAt), updated_at: iso(f.createdAt), revision_number: 1,
  });
  const myFips = (req: Request) => [...state.floatingIps.values()].filter((f) => f.projectId === pid(req)).sort((a, b) => a.createdAt - b.createdAt);
  const fipOr404 = (req: Request) => myFips(req).find((f) => f.id === req.params.id) ?? fail(404, `Floating IP ${req.params.id} could not be found`, 'FloatingIPNotFound');
  /** Associate (or, with null, disassociate) a floating IP with a port, as Neutron checks it. */
  const associate = (req: Request, f: FloatingIp, portId: string | null, fixedIp?: string) => {
    if (portId === null) return Object.assign(f, { portId: null, fixedIp: null, status: 'DOWN' });
    const p = portOr404(req, portId);
    const ext = state.networks.find((n) => n.id === p.networkId);
    if (ext?.external) fail(400, `Bad floatingip request: Port ${p.id} is on the external network.`, 'BadRequest');
    const other = [...state.floatingIps.values()].find((x) => x.portId === p.id && x.id !== f.id && x.networkId === f.networkId);
    if (other) fail(409, `Cannot associate floating IP ${f.address} (${f.id}) with port ${p.id} using fixed IP ${p.fixedIps[0].ip_address}, as that fixed IP already has a floating IP on external network ${f.networkId}.`, 'FloatingIPPortAlreadyAssociated');
    const ip = fixedIp ?? p.fixedIps[0]?.ip_address;
    if (!p.fixedIps.some((x) => x.ip_address === ip)) fail(400, `Bad floatingip request: Port ${p.id} does not have fixed ip ${ip}.`, 'BadRequest');
    return Object.assign(f, { portId: p.id, fixedIp: ip, status: 'ACTIVE' });
  };
  r.get('/floatingips', (req, res) => void res.json(listed(req, 'floatingips', filtered(req, myFips(req).map(fipBody)))));
  r.get('/floatingips/:id', (req, res) => void res.json({ floatingip: fipBody(fipOr404(req)) }));
  r.post('/floatingips', (req, res) => {
    const b = req.body?.floatingip ?? fail(400, 'Resource body required', 'BadRequest');
    if (!b.floating_network_id) fail(400, "Invalid input for floating_network_id. Reason: 'None' is not a valid UUID.", 'HTTPBadRequest');
    const net = state.networks.find((n) => n.id === b.floating_network_id) ?? fail(404, `Network ${b.floating_network_id} could not be found.`, 'NetworkNotFound');
    if (!net.external) fail(400, `Bad floatingip request: Network ${net.id} is not a valid external network.`, 'BadRequest');
    if (myFips(req).length >= state.quotaOf(pid(req)).floatingips) fail(409, "Quota exceeded for resources: ['floatingip'].", 'OverQuota');
    const used = state.usedIps(net.id);
    let address: string | undefined = b.floating_ip_address;
    if (address && used.has(address)) fail(409, `Unable to complete operation for network ${net.id}. The IP address ${address} is in use.`, 'IpAddressInUse');
    address ??= state.allocateIp(state.subnets.find((s) => s.id === net.subnetIds[0])!, used);
    if (!address) fail(400, `Unable to find any IP address on external network ${net.id}.`, 'ExternalIpAddressExhausted');
    const f: FloatingIp = { id: randomUUID(), address: address!, networkId: net.id, portId: null, fixedIp: null, projectId: pid(req), description: b.description ?? '', status: 'DOWN', createdAt: Date.now() };
    if (b.port_id) associate(req, f, b.port_id, b.fixed_ip_address);
    state.floatingIps.set(f.id, f);
    res.status(201).json({ floatingip: fipBody(f) });
  });
  r.put('/floatingips/:id', (req, res) => {
    const f = fipOr404(req);
    const b = req.body?.floatingip ?? fail(400, 'Resource body required', 'BadRequest');
    if ('port_id' in b) associate(req, f, b.port_id ?? null, b.fixed_ip_address);
    if (b.description !== undefined) f.description = b.description;
    res.json({ floatingip: fipBody(f) });
  });
  r.delete('/floatingips/:id', (req, res) => {
    state.floatingIps.delete(fipOr404(req).id);
    res.status(204).end();
  });

  // The quota-details extension: used/limit/reserved per resource.
  r.get(['/quotas/:project/details', '/quotas/:project/details.json'], (req, res) => {
    if (req.params.project !== pid(req)) fail(403, 'Not authorized.', 'HTTPForbidden');
    const q = state.quotaOf(req.params.project);
    const d = (used: number, limit: number) => ({ used, limit, reserved: 0 });
    res.json({ quota: { floatingip: d(myFips(req).length, q.floatingips), security_group: d(myGroups(req).length, q.securityGroups) } });
  });
  r.get('/quotas/:project', (req, res) => {
    const q = state.quotaOf(req.params.project);
    res.json({ quota: { floatingip: q.floatingips, security_group: q.securityGroups, security_group_rule: 1000, network: 100, port: 500, subnet: 100, router: 10 } });
  });
  return r;
}

function sameRule(a: Omit<SgRule, 'id'>, b: Omit<SgRule, 'id'>): boolean {
  return a.securityGroupId === b.securityGroupId && a.direction === b.direction && a.ethertype === b.ethertype && a.protocol === b.protocol &&
    a.portRangeMin === b.portRangeMin && a.portRangeMax === b.portRangeMax && (a.remoteIpPrefix ?? null) === (b.remoteIpPrefix ?? null) &&
    a.remoteGroupId === b.remoteGroupId;
}
