/**
 * What the request side and the job handlers share: the store, sealed secrets, connectors for a
 * VM's cloud, contmsg logging and the VmView of a record.
 */
import * as crypto from 'crypto';
import type { CloudConnector, CloudCredential } from '../../connectors/types';
import { connectorFor } from '../../connectors/registry';
import { vmName } from '../../connectors/shared/naming';
import { credentialSecrets, maskingConnector } from '../../lib/redact';
import type { ComputePlan, Plan } from '../../tosca/plan';
import type { InfrastructureRecord, Store, VmRecord } from '../store/types';
import { CloudError } from '../errors';
import type { Configurator } from './configurator';
import type { Logger } from './logger';
import type { JobRunner } from './runner';
import type { VmView } from './service';
import { SecretBox } from './secrets';
import { sizedFeatures, systemFeatures } from './radl';
import { vmVisibleState } from './state';
import { imTimestamp } from './util';
import type { Planner } from './templates';
import type { PlanOptions } from '../../tosca';

export const DEFAULT_ADMIN_USER = 'cloudadm';

export interface EngineTuning {
  /** VM launches / terminations at once within one job. */
  vmConcurrency: number;
  pollMinMs: number;
  pollMaxMs: number;
  /** A VM still pending after this long is marked failed. */
  deployTimeoutMs: number;
  /** VMs described at once while polling (one round costs about one API round trip up to this many VMs). */
  pollConcurrency: number;
  /** Launch attempts per VM when the cloud reports it failed while booting (IM's MAX_VM_FAILS). */
  maxVmFails: number;
  /**
   * How often the background refresher re-reads VM states of settled infrastructures from the
   * clouds; 0 turns it off. Off by default under jest (NODE_ENV=test), where tests set it.
   */
  refreshIntervalMs: number;
}

export function defaultTuning(): EngineTuning {
  return {
    vmConcurrency: 8, pollMinMs: 50, pollMaxMs: 2000, deployTimeoutMs: 15 * 60_000,
    pollConcurrency: 64, maxVmFails: 3, refreshIntervalMs: process.env.NODE_ENV === 'test' ? 0 : 60_000,
  };
}

const MAX_CACHED_CONNECTORS = 256;

export class EngineContext {
  runner!: JobRunner;
  private readonly connectors = new Map<string, CloudConnector>();

  constructor(
    readonly store: Store,
    readonly secrets: SecretBox,
    readonly configurator: Configurator,
    readonly logger: Logger,
    readonly planner: Planner,
    readonly planOptions: PlanOptions,
    readonly tuning: EngineTuning,
  ) {}

  credentialsOf(inf: InfrastructureRecord): CloudCredential[] {
    return this.secrets.openJson<CloudCredential[]>(inf.credentials);
  }

  privateKeyOf(inf: InfrastructureRecord): string {
    return this.secrets.open(inf.sshPrivateKey);
  }

  /**
   * The connector for a VM's cloud. Instances are reused per credential content, so a connector
   * that authenticates (a Keystone token, say) does it once, not on every describe.
   */
  connector(creds: CloudCredential[], cloudId: string): CloudConnector {
    const cred = creds.find((c) => c.id === cloudId);
    if (!cred) throw new CloudError(`No credentials for cloud "${cloudId}" (send its line in the Authorization header)`, 400);
    const key = crypto.createHash('sha256').update(JSON.stringify([cred.id, cred.type, Object.entries(cred.fields).sort()])).digest('base64');
    let conn = this.connectors.get(key);
    if (conn) {
      this.connectors.delete(key); // most recently used last
    } else {
      // A cloud may quote the credential in its errors: they reach contmsg, the log and the API.
      conn = maskingConnector(connectorFor(cred), credentialSecrets([cred]));
      if (this.connectors.size >= MAX_CACHED_CONNECTORS) this.connectors.delete(this.connectors.keys().next().value as string);
    }
    this.connectors.set(key, conn);
    return conn;
  }

  /** A log line for the infrastructure's contmsg, or a VM's when vmId is given. */
  log(infId: string, line: string, vmId?: string): Promise<void> {
    return this.store.appendContmsg(infId, `${imTimestamp()}: ${line}\n`, vmId);
  }

  adminUser(compute: ComputePlan | undefined): string {
    return compute?.os.credentials?.user || DEFAULT_ADMIN_USER;
  }

  /** @param creds the infrastructure's credentials, when the caller opened them already (lists of VMs) */
  vmView(inf: InfrastructureRecord, vm: VmRecord, privateKey?: string, creds?: CloudCredential[]): VmView {
    const compute = computeOf(inf.plan, vm.nodeName);
    const provider = providerOf((creds ?? this.credentialsOf(inf)).find((c) => c.id === vm.cloudId));
    return {
      id: vm.id,
      infrastructureId: inf.id,
      nodeName: vm.nodeName,
      state: vmVisibleState(vm),
      cloudId: vm.cloudId,
      cloudType: vm.cloudType,
      instanceId: vm.handle?.instanceId,
      ...(vm.handle && NAMED_BY_CONNECTOR.has(vm.cloudType.toLowerCase()) ? { instanceName: vmName(inf.id, vm.nodeName, vm.id) } : {}),
      ...(provider ? { provider } : {}),
      privateIps: vm.privateIps,
      publicIps: vm.publicIps,
      credentials: { username: this.adminUser(compute), privateKey: privateKey ?? this.privateKeyOf(inf) },
      system: sizedFeatures(compute ? systemFeatures(compute) : {}, vm.handle?.size),
      contmsg: vm.contmsg,
    };
  }
}

/** Clouds whose connector names each VM with connectors/shared/naming's vmName (server name, EC2 Name tag). */
const NAMED_BY_CONNECTOR = new Set(['openstack', 'ec2']);

/** IM's provider.host/port: the server of the credential's `host` (a URL, or host[:port]); none without one. */
export function providerOf(cred: CloudCredential | undefined): { host: string; port?: number } | undefined {
  const raw = cred?.fields.host?.trim();
  if (!raw) return undefined;
  try {
    const url = new URL(raw.includes('://') ? raw : `http://${raw}`);
    if (!url.hostname) return undefined;
    return url.port ? { host: url.hostname, port: Number(url.port) } : { host: url.hostname };
  } catch {
    return undefined;
  }
}

export function computeOf(plan: Plan, nodeName: string): ComputePlan | undefined {
  return plan.computes.find((c) => c.name === nodeName);
}

/** VMs that count: not being removed. */
export function liveVms(vms: VmRecord[]): VmRecord[] {
  return vms.filter((v) => !v.removing);
}

/** The plan with each compute's count set to its live VM count. */
export function planWithLiveCounts(plan: Plan, vms: VmRecord[]): Plan {
  const counts = new Map<string, number>();
  for (const v of liveVms(vms)) counts.set(v.nodeName, (counts.get(v.nodeName) ?? 0) + 1);
  return { ...plan, computes: plan.computes.map((c) => ({ ...c, count: counts.get(c.name) ?? 0, removalList: [] })) };
}
