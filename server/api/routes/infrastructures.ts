/** /infrastructures and /infrastructures/{infId}[/property|/action]: IM's infrastructure routes. */
import { Router, type Request } from 'express';
import type { InfrastructureService } from '../../engine/service';
import { InvalidInputError } from '../../errors';
import { ApiError } from '../api-error';
import { bodyText, templateBody } from '../body';
import { infrastructureUri, vmUri } from '../base-url';
import type { EndpointFactory } from '../endpoint';
import { flag, queryString } from '../flags';
import { mediaTypes, sendEmpty, sendOutput } from '../media';

const URI_LIST = { defaultType: 'text/uri-list', field: 'uri-list', listField: 'uri' } as const;
const ACTIONS = ['start', 'stop', 'reboot'] as const;

export function infrastructureRoutes(service: InfrastructureService, endpoint: EndpointFactory): Router {
  const r = Router();

  r.get('/infrastructures', endpoint('Error Getting Inf. List', async ({ req, res, caller, base }) => {
    const filter = queryString(req, 'filter');
    if (filter) checkRegex(filter);
    const ids = await service.list(caller, filter || undefined);
    sendOutput(req, res, ids.map((id) => infrastructureUri(base, id)), URI_LIST);
  }));

  r.post('/infrastructures', endpoint('Error Creating Inf.', async ({ req, res, caller, base }) => {
    const tosca = templateBody(req);
    const dryRun = flag(req, 'dry_run', false);
    const result = await service.create(caller, tosca, { async: flag(req, 'async', false), dryRun });
    if (dryRun) return sendOutput(req, res, parseJsonOrText(result), { defaultType: 'application/json' });
    sendOutput(req, res, infrastructureUri(base, result), { defaultType: 'text/uri-list', field: 'uri', headers: { InfID: result } });
  }));

  r.put('/infrastructures', endpoint('Error Importing Inf.', async ({ req, res, caller, base }) => {
    const types = mediaTypes(req.get('content-type'));
    if (!res.locals.contentTypeDefaulted && !types.includes('application/json')) {
      throw new ApiError(415, `Unsupported Media Type ${types.join(',')}`);
    }
    const data = bodyText(req);
    if (data.trim() === '') throw new InvalidInputError('Empty body: send the data of an exported infrastructure');
    const id = await service.importData(caller, data);
    sendOutput(req, res, infrastructureUri(base, id), { defaultType: 'text/uri-list', field: 'uri' });
  }));

  r.get('/infrastructures/:infId', endpoint('Error Getting Inf. info', async ({ req, res, caller, base, params }) => {
    const vmIds = await service.vmIds(caller, params.infId);
    sendOutput(req, res, vmIds.map((vm) => vmUri(base, params.infId, vm)), URI_LIST);
  }));

  r.post('/infrastructures/:infId', endpoint('Error Adding resources', async ({ req, res, caller, base, params }) => {
    const tosca = templateBody(req);
    const context = flag(req, 'context', true);
    const vmIds = await service.addResources(caller, params.infId, tosca, context);
    // IM returns the id for HAProxy stickiness when a reconfiguration follows.
    const headers = context ? { InfID: params.infId } : undefined;
    sendOutput(req, res, vmIds.map((vm) => vmUri(base, params.infId, vm)), { ...URI_LIST, headers });
  }));

  r.delete('/infrastructures/:infId', endpoint('Error Destroying Inf', async ({ req, res, caller, params }) => {
    await service.destroy(caller, params.infId, {
      force: flag(req, 'force', false),
      async: flag(req, 'async', false),
      releaseFloatingIps: flag(req, 'release_floating_ips', false),
    });
    sendEmpty(res);
  }));

  const prop = 'Error Getting Inf. prop';
  r.get('/infrastructures/:infId/contmsg', endpoint(prop, async ({ req, res, caller, params }) => {
    const text = await service.contmsg(caller, params.infId, flag(req, 'headeronly', false));
    sendOutput(req, res, text, { defaultType: 'text/plain', field: 'contmsg' });
  }));
  r.get('/infrastructures/:infId/radl', endpoint(prop, async ({ req, res, caller, params }) => {
    sendOutput(req, res, await service.radl(caller, params.infId), { defaultType: 'text/plain', field: 'radl' });
  }));
  r.get('/infrastructures/:infId/tosca', endpoint(prop, async ({ req, res, caller, params }) => {
    sendOutput(req, res, await service.tosca(caller, params.infId), { defaultType: 'text/plain', field: 'tosca' });
  }));
  r.get('/infrastructures/:infId/state', endpoint(prop, async ({ req, res, caller, params }) => {
    requireJsonAccept(req);
    sendOutput(req, res, await service.state(caller, params.infId), { defaultType: 'application/json', field: 'state' });
  }));
  r.get('/infrastructures/:infId/outputs', endpoint(prop, async ({ req, res, caller, params }) => {
    requireJsonAccept(req);
    sendOutput(req, res, await service.outputs(caller, params.infId), { defaultType: 'application/json', field: 'outputs' });
  }));
  r.get('/infrastructures/:infId/data', endpoint(prop, async ({ req, res, caller, params }) => {
    requireJsonAccept(req);
    const data = await service.exportData(caller, params.infId, flag(req, 'delete', false));
    sendOutput(req, res, data, { defaultType: 'application/json', field: 'data' });
  }));

  for (const action of ACTIONS) {
    r.put(`/infrastructures/:infId/${action}`, endpoint(`Error in ${action} operation`, async ({ res, caller, params }) => {
      await service.action(caller, params.infId, action);
      sendEmpty(res);
    }));
  }

  r.put('/infrastructures/:infId/reconfigure', endpoint('Error reconfiguring infrastructure', async ({ req, res, caller, params }) => {
    const vmList = parseVmList(queryString(req, 'vm_list'));
    // an empty body just re-runs the configuration; RADL (text or JSON) updates it first
    await service.reconfigure(caller, params.infId, vmList, bodyText(req).trim() === '' ? undefined : templateBody(req));
    sendEmpty(res, { InfID: params.infId });
  }));

  return r;
}

/** state, outputs and data are JSON only in IM: other Accept types get 415 before any work. */
function requireJsonAccept(req: Request): void {
  const accept = mediaTypes(req.get('accept'));
  if (accept.length === 0) return;
  if (!accept.some((t) => t === 'application/json' || t === '*/*' || t === 'application/*')) {
    throw new ApiError(415, `Unsupported Accept Media Types: ${accept.join(',')}`);
  }
}

function parseVmList(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const ids = raw.split(',').map((s) => s.trim());
  if (ids.some((id) => !/^\d+$/.test(id))) throw new ApiError(400, 'Incorrect vm_list format.');
  return ids;
}

function checkRegex(filter: string): void {
  try {
    new RegExp(filter);
  } catch {
    throw new InvalidInputError('the filter is not a valid regular expression');
  }
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
