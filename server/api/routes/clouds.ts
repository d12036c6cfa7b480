/**
 * GET /clouds/{cloudId}/images and /quotas: IM's GetCloudImageList and GetCloudQuotas. `cloudId` is
 * the id of a credential line of this request's Authorization header; nothing is stored. JSON by
 * default (`{"images": [{"uri", "name"}]}`, `{"quotas": {"cores": {"used", "limit"}, ...}}`).
 * `filters=key=value,key=value` passes cloud-specific filters to the image listing, as IM does.
 */
import { Router } from 'express';
import type { InfrastructureService } from '../../engine/service';
import { InvalidInputError } from '../../errors';
import { ApiError } from '../api-error';
import type { EndpointFactory } from '../endpoint';
import { queryString } from '../flags';
import { sendOutput } from '../media';

const OP = 'Error getting cloud info';

export function cloudRoutes(service: InfrastructureService, endpoint: EndpointFactory): Router {
  const r = Router();
  r.get('/clouds/:cloudId/images', endpoint(OP, async ({ req, res, caller, params }) => {
    const filters = parseFilters(queryString(req, 'filters'));
    if (!service.cloudImages) throw new InvalidInputError('this server cannot list cloud images');
    sendOutput(req, res, await service.cloudImages(caller, params.cloudId, filters), { defaultType: 'application/json', field: 'images' });
  }));
  r.get('/clouds/:cloudId/quotas', endpoint(OP, async ({ req, res, caller, params }) => {
    if (!service.cloudQuotas) throw new InvalidInputError('this server cannot read cloud quotas');
    sendOutput(req, res, await service.cloudQuotas(caller, params.cloudId), { defaultType: 'application/json', field: 'quotas' });
  }));
  return r;
}

/** IM's _filters_str_to_dict: `k=v,k2=v2`; anything else is IM's 400. */
export function parseFilters(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined || raw === '') return undefined;
  const out: Record<string, string> = {};
  for (const item of raw.split(',')) {
    const kv = item.split('=');
    if (kv.length !== 2 || kv[0] === '') throw new ApiError(400, 'Invalid format in filters parameter.');
    out[kv[0]] = kv[1];
  }
  return out;
}
