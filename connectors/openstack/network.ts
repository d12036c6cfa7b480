/** Neutron: which network a VM joins, which pool floating IPs come from, and the infrastructure's security group. */
import { CloudError } from '../../lib/errors';
import type { ComputePlan, PortRule } from '../../tosca/plan';
import { choosePool, type PoolCandidate } from '../shared/floating-ip-policy';
import type { OpenStackCloud } from './cloud';
import { OpenStackApiError } from './errors';
import { listAll } from './paging';

export interface NeutronNetwork { id: string; name: string; 'router:external': boolean; shared: boolean; project_id?: string; tenant_id?: string }

export function listNetworks(cloud: OpenStackCloud): Promise<NeutronNetwork[]> {
  return cloud.memo('networks', 300_000, () => listAll<NeutronNetwork>(cloud.api, 'network', '/networks', 'networks'));
}

/**
 * The private network(s) of a VM: the template's, else the credential's `network` option, else the
 * only tenant (non-external) network, preferring the project's own over shared ones; else a clear error.
 */
export async function privateNetworks(cloud: OpenStackCloud, compute: ComputePlan, credentialNetwork?: string): Promise<NeutronNetwork[]> {
  const nets = await listNetworks(cloud);
  const label = `OpenStack cloud "${cloud.settings.credentialId}"`;
  const tenantNets = nets.filter((n) => !n['router:external']);
  const wanted = compute.networks.length ? compute.networks : credentialNetwork ? [credentialNetwork] : [];
  if (wanted.length) {
    return wanted.map((w) => {
      const hit = tenantNets.find((n) => n.id === w) ?? tenantNets.find((n) => n.name === w);
      if (!hit) throw new CloudError(`Network "${w}" asked for node "${compute.name}" is not a tenant network of ${label} (networks: ${names(tenantNets)})`, 400, 'NetworkNotFound');
      return hit;
    });
  }
  if (tenantNets.length === 1) return tenantNets;
  const own = tenantNets.filter((n) => !n.shared);
  if (own.length === 1) return own;
  throw new CloudError(
    tenantNets.length
      ? `${label} has several tenant networks (${names(tenantNets)}): name one in the template or with the credential option "network"`
      : `${label} has no tenant network to attach node "${compute.name}" to`,
    400,
    'NoNetwork',
  );
}

/** The pool for a node's floating IP: template, else credential option, else the only external network. */
export async function floatingPool(cloud: OpenStackCloud, compute: ComputePlan, credentialPool?: string): Promise<PoolCandidate> {
  const ext = (await listNetworks(cloud)).filter((n) => n['router:external']).map((n) => ({ id: n.id, name: n.name }));
  return choosePool(ext, { template: compute.publicNetwork, credential: credentialPool }, `OpenStack cloud "${cloud.settings.credentialId}"`);
}

const names = (nets: { name: string }[]) => nets.map((n) => n.name).join(', ') || 'none';

export interface RuleSpec {
  direction: 'ingress';
  ethertype: 'IPv4';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

/**
 * Rules of the infrastructure's group: SSH from anywhere (configuration goes through the master),
 * everything between members of the group, and each endpoint port that is public or names a source.
 * Ports reachable only inside the cluster are covered by the group rule.
 */
export function desiredRules(groupId: string, computes: ComputePlan[]): RuleSpec[] {
  const rule = (protocol: string | null, from: number | null, to: number | null, prefix: string | null, group: string | null): RuleSpec => ({
    direction: 'ingress', ethertype: 'IPv4', protocol, port_range_min: from, port_range_max: to, remote_ip_prefix: prefix, remote_group_id: group,
  });
  const out = [rule('tcp', 22, 22, '0.0.0.0/0', null), rule(null, null, null, null, groupId)];
  const ports: PortRule[] = computes.flatMap((c) => c.ports);
  for (const p of ports) {
    const source = p.source || '0.0.0.0/0';
    if (!p.public && source === '0.0.0.0/0') continue;
    out.push(p.protocol === 'icmp' ? rule('icmp', null, null, source, null) : rule(p.protocol, p.from, p.to, source, null));
  }
  const seen = new Set<string>();
  return out.filter((r) => {
    const k = ruleKey(r);
    return !seen.has(k) && (seen.add(k), true);
  });
}

export function ruleKey(r: Omit<RuleSpec, 'direction' | 'ethertype'> & { direction: string; ethertype: string }): string {
  const prefix = r.remote_ip_prefix === '0.0.0.0/0' && r.remote_group_id === null ? '0.0.0.0/0' : r.remote_ip_prefix;
  return JSON.stringify([r.direction, r.ethertype, r.protocol, r.port_range_min, r.port_range_max, prefix, r.remote_group_id]);
}

/** The project's security groups of that name (Neutron's name filter is exact). */
export function listSecurityGroups<G extends { id: string; name: string }>(cloud: OpenStackCloud, name: string): Promise<G[]> {
  return listAll<G>(cloud.api, 'network', '/security-groups', 'security_groups', { query: { name } });
}

interface NeutronGroup { id: string; name: string; security_group_rules: (RuleSpec & { id: string; direction: string; ethertype: string })[] }

/** The infrastructure's security group, created when missing, with any missing rules added in one bulk call. */
export async function ensureSecurityGroup(cloud: OpenStackCloud, name: string, description: string, computes: ComputePlan[]): Promise<string> {
  return cloud.locks.run(`sg:${name}`, async () => {
    for (let attempt = 1; ; attempt++) {
      const found = await listSecurityGroups<NeutronGroup>(cloud, name);
      let group = found.find((g) => g.name === name);
      if (!group) {
        group = (await cloud.api.call<{ security_group: NeutronGroup }>('network', 'POST', '/security-groups', { body: { security_group: { name, description } } })).body.security_group;
      }
      const have = new Set(group.security_group_rules.map(ruleKey));
      const missing = desiredRules(group.id, computes).filter((r) => !have.has(ruleKey(r)));
      if (!missing.length) return group.id;
      try {
        await cloud.api.call('network', 'POST', '/security-group-rules', {
          body: { security_group_rules: missing.map((r) => ({ ...r, security_group_id: group!.id })) },
        });
        return group.id;
      } catch (e) {
        // Another process added one of them meanwhile (the bulk call is all-or-nothing): look again.
        if (!(e instanceof OpenStackApiError && e.faultType === 'SecurityGroupRuleExists') || attempt >= 3) throw e;
      }
    }
  });
}
