/**
 * Export/import of an infrastructure (IM's GET /data and PUT /infrastructures): a JSON document
 * with the template, plan, logs, SSH key pair and VM records. Cloud credentials are never
 * exported; the importer's credentials are used from then on, as IM does.
 */
import type { Plan } from '../../tosca/plan';
import { MAX_COUNT } from '../../tosca/plan/compute';
import type { InfrastructurePhase, InfrastructureRecord, NewVm, VmRecord } from '../store/types';
import { InvalidInputError } from '../errors';
import type { CloudCredential, VmState } from '../../connectors/types';
import { assertVmCap } from './templates';
import { mapInSlices } from '../../lib/async';

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

function exportedDoc(inf: InfrastructureRecord, privateKey: string, vms: ExportedVm[]): ExportedInfrastructure {
  return {
    format: EXPORT_FORMAT, id: inf.id, createdAt: inf.createdAt, template: inf.template, plan: inf.plan,
    phase: inf.phase, contmsg: inf.contmsg, outputs: inf.outputs, nextVmId: inf.nextVmId,
    sshPublicKey: inf.sshPublicKey, sshPrivateKey: privateKey, vms,
  };
}

const exportedVm = (v: VmRecord): ExportedVm => ({
  id: v.id, nodeName: v.nodeName, cloudId: v.cloudId, cloudType: v.cloudType, handle: v.handle, state: v.state,
  configured: v.configured, privateIps: v.privateIps, publicIps: v.publicIps, contmsg: v.contmsg,
});

/**
 * The export document as JSON, the VMs serialised 100 at a time with the event loop free in between
 * (1,000 VMs with their logs: tens to hundreds of ms of JSON in one go otherwise).
 */
export async function exportInfrastructure(inf: InfrastructureRecord, vms: VmRecord[], privateKey: string): Promise<string> {
  const head = JSON.stringify(exportedDoc(inf, privateKey, []));
  const records = await mapInSlices(vms, (v) => JSON.stringify(exportedVm(v)));
  // "vms" is the document's last key: its empty list closes the text
  return `${head.slice(0, -'[]}'.length)}[${records.join(',')}]}`;
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
  // The document is the caller's: every field the reads and jobs use is checked here, or a bad
  // one would turn into a 500 on every later request about the imported infrastructure.
  ((d.plan as Plan).computes as unknown[]).forEach((c, i) => {
    if (!isObject(c) || typeof c.name !== 'string' || !Number.isInteger(c.count)) bad(`plan.computes[${i}] must be a compute with a name and a count`);
  });
  if (d.outputs !== undefined && !isObject(d.outputs)) bad('"outputs" must be an object');
  if (d.nextVmId !== undefined && !(Number.isInteger(d.nextVmId) && (d.nextVmId as number) >= 0)) bad('"nextVmId" must be a non-negative integer');
  const ids = new Set<string>();
  (d.vms as unknown[]).forEach((v, i) => {
    const vm = v as Record<string, unknown>;
    if (typeof vm !== 'object' || vm === null || typeof vm.id !== 'string' || !/^\d+$/.test(vm.id)) bad(`vms[${i}].id must be a numeric string`);
    if (ids.has(vm.id as string)) bad(`vms[${i}].id ${vm.id} appears twice`);
    ids.add(vm.id as string);
    for (const k of ['nodeName', 'cloudId', 'cloudType', 'state']) if (typeof vm[k] !== 'string') bad(`vms[${i}].${k} must be a string`);
    if (!VM_STATES.has(vm.state as VmState)) bad(`vms[${i}].state must be one of ${[...VM_STATES].join(', ')}`);
    for (const k of ['privateIps', 'publicIps']) {
      if (vm[k] !== undefined && !(Array.isArray(vm[k]) && (vm[k] as unknown[]).every((ip) => typeof ip === 'string'))) bad(`vms[${i}].${k} must be a list of strings`);
    }
    if (vm.contmsg !== undefined && typeof vm.contmsg !== 'string') bad(`vms[${i}].contmsg must be a string`);
    if (vm.configured !== undefined && vm.configured !== null && typeof vm.configured !== 'boolean') bad(`vms[${i}].configured must be true, false or null`);
    const h = vm.handle;
    if (h !== undefined && h !== null &&
      !(isObject(h) && typeof h.cloudId === 'string' && typeof h.instanceId === 'string' && (h.extra === undefined || isObject(h.extra)))) {
      bad(`vms[${i}].handle must be null or {cloudId, instanceId, extra?}`);
    }
  });
  return d as unknown as ExportedInfrastructure;
}

/**
 * The plan of an imported infrastructure: derived again from its template (checked as a create's
 * is — the exported plan is caller JSON, and a malformed one would break every later read), with
 * the exported VM counts. Every VM must belong to a node of that plan and to a cloud the importer
 * gave credentials for: the importer's credentials act on them from now on.
 */
export function importedPlan(doc: ExportedInfrastructure, planned: Plan, credentials: CloudCredential[]): Plan {
  const counts = new Map(doc.plan.computes.map((c) => [c.name, c.count]));
  for (const [name, count] of counts) {
    if (count < 0 || count > MAX_COUNT) throw new InvalidInputError(`Invalid infrastructure data: the count of "${name}" is out of 0..${MAX_COUNT}`);
  }
  assertVmCap(Math.max(doc.vms.length, [...counts.values()].reduce((a, b) => a + b, 0)), 'Invalid infrastructure data');
  const plan: Plan = { ...planned, computes: planned.computes.map((c) => (counts.has(c.name) ? { ...c, count: counts.get(c.name)! } : c)) };
  const nodes = new Set(plan.computes.map((c) => c.name));
  const clouds = new Set(credentials.map((c) => c.id));
  doc.vms.forEach((vm, i) => {
    if (!nodes.has(vm.nodeName)) throw new InvalidInputError(`Invalid infrastructure data: vms[${i}].nodeName "${vm.nodeName}" is not a compute node of the template`);
    if (!clouds.has(vm.cloudId)) {
      throw new InvalidInputError(`Invalid infrastructure data: vms[${i}] is on cloud "${vm.cloudId}", which has no line in the Authorization header`);
    }
  });
  return plan;
}

const VM_STATES = new Set<VmState>(['pending', 'running', 'configured', 'unconfigured', 'stopped', 'off', 'failed', 'unknown', 'deleting']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function importedVms(doc: ExportedInfrastructure): NewVm[] {
  return doc.vms.map((v) => ({
    id: v.id, nodeName: v.nodeName, cloudId: v.cloudId, cloudType: v.cloudType, handle: v.handle ?? null, state: v.state,
    configured: v.configured ?? null, privateIps: v.privateIps ?? [], publicIps: v.publicIps ?? [], contmsg: v.contmsg ?? '', removing: false,
  }));
}
