/**
 * Export/import of an infrastructure (IM's GET /data and PUT /infrastructures): a JSON document
 * with the template, plan, logs, SSH key pair and VM records. Cloud credentials are never
 * exported; the importer's credentials are used from then on, as IM does.
 */
import type { Plan } from '../../tosca/plan';
import type { InfrastructurePhase, InfrastructureRecord, NewVm, VmRecord } from '../store/types';
import { InvalidInputError } from '../errors';

export const EXPORT_FORMAT = 'tosca-im/infrastructure-v1';

export interface ExportedVm {
  id: string;
  nodeName: string;
  cloudId: string;
  cloudType: string;
  handle: VmRecord['handle'];
  state: VmRecord['state'];
  configured: boolean | null;
  privateIps: string[];
  publicIps: string[];
  contmsg: string;
}

export interface ExportedInfrastructure {
  format: typeof EXPORT_FORMAT;
  id: string;
  createdAt: string;
  template: string;
  plan: Plan;
  phase: InfrastructurePhase;
  contmsg: string;
  outputs: Record<string, unknown>;
  nextVmId: number;
  sshPublicKey: string;
  sshPrivateKey: string;
  vms: ExportedVm[];
}

export function exportInfrastructure(inf: InfrastructureRecord, vms: VmRecord[], privateKey: string): string {
  const doc: ExportedInfrastructure = {
    format: EXPORT_FORMAT, id: inf.id, createdAt: inf.createdAt, template: inf.template, plan: inf.plan,
    phase: inf.phase, contmsg: inf.contmsg, outputs: inf.outputs, nextVmId: inf.nextVmId,
    sshPublicKey: inf.sshPublicKey, sshPrivateKey: privateKey,
    vms: vms.map((v) => ({
      id: v.id, nodeName: v.nodeName, cloudId: v.cloudId, cloudType: v.cloudType, handle: v.handle, state: v.state,
      configured: v.configured, privateIps: v.privateIps, publicIps: v.publicIps, contmsg: v.contmsg,
    })),
  };
  return JSON.stringify(doc);
}

/** Parses and checks an exported document; throws InvalidInputError naming what is wrong. */
export function parseExport(data: string): ExportedInfrastructure {
  let doc: unknown;
  try {
    doc = JSON.parse(data);
  } catch (e) {
    throw new InvalidInputError(`Invalid infrastructure data: not JSON (${(e as Error).message})`);
  }
  const bad = (what: string): never => { throw new InvalidInputError(`Invalid infrastructure data: ${what}`); };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) bad('expected a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.format !== EXPORT_FORMAT) bad(`"format" must be "${EXPORT_FORMAT}"`);
  for (const k of ['template', 'sshPublicKey', 'sshPrivateKey', 'contmsg']) if (typeof d[k] !== 'string') bad(`"${k}" must be a string`);
  if (typeof d.plan !== 'object' || d.plan === null || !Array.isArray((d.plan as Plan).computes)) bad('"plan" must be a plan object');
  if (!Array.isArray(d.vms)) bad('"vms" must be a list');
  (d.vms as unknown[]).forEach((v, i) => {
    const vm = v as Record<string, unknown>;
    if (typeof vm !== 'object' || vm === null || typeof vm.id !== 'string' || !/^\d+$/.test(vm.id)) bad(`vms[${i}].id must be a numeric string`);
    for (const k of ['nodeName', 'cloudId', 'cloudType', 'state']) if (typeof vm[k] !== 'string') bad(`vms[${i}].${k} must be a string`);
  });
  return d as unknown as ExportedInfrastructure;
}

export function importedVms(doc: ExportedInfrastructure): NewVm[] {
  return doc.vms.map((v) => ({
    id: v.id, nodeName: v.nodeName, cloudId: v.cloudId, cloudType: v.cloudType, handle: v.handle ?? null, state: v.state,
    configured: v.configured ?? null, privateIps: v.privateIps ?? [], publicIps: v.publicIps ?? [], contmsg: v.contmsg ?? '', removing: false,
  }));
}
