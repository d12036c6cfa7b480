/** /infrastructures/{infId}/vms/{vmId}[...]: IM's virtual machine routes. */
import { Router, type Request, type Response } from 'express';
import type { InfrastructureService, VmView } from '../../engine/service';
import { vmRadlJson, vmRadlText } from '../../engine/radl';
import { InvalidInputError } from '../../errors';
import { ApiError } from '../api-error';
import { templateBody } from '../body';
import type { EndpointFactory } from '../endpoint';
import { flag } from '../flags';
import { sendEmpty, sendOutput } from '../media';

const ACTIONS = ['start', 'stop', 'reboot'] as const;
const VM = '/infrastructures/:infId/vms/:vmId';
/** A service without AlterVM (it is optional) tells the caller what works instead. */
export const ALTER_NOT_SUPPORTED = 'altering a VM is not supported by this server; PUT .../vms/{vmId}/start|stop|reboot changes its power state';

export function vmRoutes(service: InfrastructureService, endpoint: EndpointFactory): Router {
  const r = Router();

  r.get(VM, endpoint('Error Getting VM. info', async ({ req, res, caller, params }) => {
    sendVm(req, res, await service.vmInfo(caller, params.infId, params.vmId));
  }));

  // IM's AlterVM. Unknown infrastructure or VM answer 404 before the body is looked at, as in IM.
  r.put(VM, endpoint('Error modifying resources', async ({ req, res, caller, params }) => {
    await service.vmInfo(caller, params.infId, params.vmId);
    const tosca = templateBody(req);
    if (!service.alterVm) throw new InvalidInputError(ALTER_NOT_SUPPORTED);
    sendVm(req, res, await service.alterVm(caller, params.infId, params.vmId, tosca));
  }));

  // IM takes a comma-separated list of VM ids here.
  r.delete(VM, endpoint('Error Removing resources', async ({ req, res, caller, params }) => {
    const ids = params.vmId.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (ids.length === 0) throw new InvalidInputError('no VM id given');
    await service.removeVms(caller, params.infId, ids, flag(req, 'context', true));
    sendEmpty(res);
  }));

  const prop = 'Error Getting VM. property';
  r.get(`${VM}/contmsg`, endpoint(prop, async ({ req, res, caller, params }) => {
    const text = await service.vmContmsg(caller, params.infId, params.vmId);
    sendOutput(req, res, text, { defaultType: 'text/plain', field: 'contmsg' });
  }));
  r.get(`${VM}/:property`, endpoint(prop, async ({ req, res, caller, params }) => {
    const vm = await service.vmInfo(caller, params.infId, params.vmId);
    const value = vmProperty(vm, params.property);
    if (value === undefined) throw new ApiError(404, `Incorrect property ${params.property} for VM ID ${params.vmId}`);
    sendOutput(req, res, value, { defaultType: 'text/plain', field: params.property });
  }));

  for (const action of ACTIONS) {
    r.put(`${VM}/${action}`, endpoint(`Error in ${action} op in VM`, async ({ res, caller, params }) => {
      await service.vmAction(caller, params.infId, params.vmId, action);
      sendEmpty(res);
    }));
  }
  return r;
}

/** VM info as IM's GetVMInfo and AlterVM answer it: RADL text, or {"radl": [...]} in JSON. */
function sendVm(req: Request, res: Response, vm: VmView): void {
  sendOutput(req, res, vmRadlJson(vm), { defaultType: 'text/plain', field: 'radl', text: vmRadlText(vm) });
}

/** A feature of the VM's RADL system block (state, net_interface.0.ip, instance_id, ...). */
function vmProperty(vm: VmView, name: string): unknown {
  const system = vmRadlJson(vm).find((c) => (c as { class?: string }).class === 'system') as Record<string, unknown> | undefined;
  // Own features only: `constructor`, `__proto__`, `toString` are not RADL features.
  if (!system || name === 'class' || !Object.hasOwn(system, name)) return undefined;
  return system[name];
}
