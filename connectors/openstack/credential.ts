/**
 * The IM OpenStack credential line, read into typed settings. Field names follow IM
 * (doc/source/client.rst): host, username, password, tenant, domain, auth_version, service_region,
 * base_url / network_url / image_url / volume_url; plus ours: pool, network, delete_floating_ips.
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../../lib/errors';
import { field, parseBoolOption } from '../shared/options';
import type { CloudCredential } from '../types';

export type AuthMethod = 'password' | 'application_credential' | 'oidc_access_token';

export interface OpenStackSettings {
  credentialId: string;
  /** Keystone URL as written (may carry a path, with or without /v3). */
  host: string;
  method: AuthMethod;
  /** password: user name; appcred: credential id; OIDC: identity provider. */
  username: string;
  /** password / appcred secret / OIDC access token. */
  secret: string;
  /** password: project name; OIDC: protocol (IM puts it in `tenant`). */
  tenant?: string;
  tenantId?: string;
  /** password: user and project domain; OIDC: the project (name or id) to scope to, as IM does. */
  domain: string;
  region?: string;
  interface: string;
  /** Catalog overrides (IM's base_url etc.). */
  overrides: Partial<Record<'compute' | 'network' | 'image' | 'volumev3', string>>;
  /** Floating IP pool (external network name or id). */
  pool?: string;
  /** Private network (name or id) when the template names none. */
  network?: string;
  deleteFloatingIps: boolean;
  /** Identifies the account for shared caches (token, lookups); holds a hash, never the secret. */
  cacheKey: string;
}

const METHODS: Record<string, AuthMethod> = {
  '3.x_password': 'password',
  '3.x_appcred': 'application_credential',
  '3.x_oidc_access_token': 'oidc_access_token',
};

export function parseOpenStackCredential(cred: CloudCredential): OpenStackSettings {
  const f = cred.fields;
  const where = `OpenStack credential "${cred.id}"`;
  const host = field(f, 'host', 'auth_url');
  if (!host) throw new InvalidInputError(`${where}: "host" (the Keystone URL) is missing`);
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new InvalidInputError(`${where}: host "${host}" is not a URL (e.g. https://keystone.example.org:5000)`);
  }
  if (!['http:', 'https:'].includes(url.protocol)) throw new InvalidInputError(`${where}: host "${host}" must be http or https`);
  const version = field(f, 'auth_version') ?? '3.x_password';
  const method = METHODS[version];
  if (!method) {
    throw new InvalidInputError(`${where}: auth_version "${version}" is not supported (use 3.x_password, 3.x_appcred or 3.x_oidc_access_token; Keystone v2 is gone)`);
  }
  const username = field(f, 'username', 'application_credential_id') ?? '';
  const secret = field(f, 'password', 'token', 'application_credential_secret') ?? '';
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new InvalidInputError(`${where}: ${what} is required with auth_version ${version}`);
  };
  need(!!username, method === 'oidc_access_token' ? '"username" (the identity provider)' : method === 'application_credential' ? '"username" (the application credential id)' : '"username"');
  need(!!secret, method === 'oidc_access_token' ? '"password" (the OIDC access token)' : '"password"');
  const tenant = field(f, 'tenant', 'project');
  const tenantId = field(f, 'tenant_id', 'project_id');
  if (method === 'password') need(!!(tenant || tenantId), '"tenant" (the project)');
  const domain = field(f, 'domain') ?? 'Default';
  const region = field(f, 'service_region', 'region');
  const settings: Omit<OpenStackSettings, 'cacheKey'> = {
    credentialId: cred.id,
    host: host.replace(/\/+$/, ''),
    method,
    username,
    secret,
    tenant: tenant ?? (method === 'oidc_access_token' ? 'openid' : undefined),
    tenantId,
    domain,
    region,
    interface: field(f, 'interface') ?? 'public',
    overrides: {
      compute: field(f, 'base_url'),
      network: field(f, 'network_url'),
      image: field(f, 'image_url'),
      volumev3: field(f, 'volume_url'),
    },
    pool: field(f, 'pool', 'floating_ip_pool', 'public_network'),
    network: field(f, 'network', 'private_network'),
    deleteFloatingIps: parseBoolOption(f.delete_floating_ips, `${where} delete_floating_ips`),
  };
  const secretHash = createHash('sha256').update(secret).digest('hex').slice(0, 16);
  const cacheKey = JSON.stringify([settings.host, method, username, settings.tenant, tenantId, domain, region, settings.interface, settings.overrides, secretHash]);
  return { ...settings, cacheKey };
}
