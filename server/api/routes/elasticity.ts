/**
 * GET/PUT /infrastructures/{infId}/elasticity (the built-in elasticity manager, issue 7) and
 * GET /metrics (Prometheus text). Owner-checked like every infrastructure route; answers follow
 * Accept as the property routes do (text by default, {"elasticity": …} in JSON).
 */
import { Router, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import type { InfrastructureService } from '../../engine/service';
import { InvalidInputError } from '../../errors';
import { NoElasticityError } from '../../elastic/manager';
import { elasticityText, type ElasticityView } from '../../elastic/view';
import { ApiError } from '../api-error';
import { bodyText } from '../body';
import { publicEndpoint, type EndpointFactory } from '../endpoint';
import { mediaTypes, sendOutput } from '../media';

/** What the routes need of the elasticity manager (server/elastic/runtime.ts). */
export interface ElasticityApi {
  view(infId: string): Promise<ElasticityView>;
  update(infId: string, body: unknown): Promise<ElasticityView>;
}

/** A server without the manager: every infrastructure is "without elasticity". */
export const noElasticity: ElasticityApi = {
  view: async (infId) => { throw new NoElasticityError(infId); },
  update: async (infId) => { throw new NoElasticityError(infId); },
};

const PATH = '/infrastructures/:infId/elasticity';

export function elasticityRoutes(service: InfrastructureService, elastic: ElasticityApi, endpoint: EndpointFactory): Router {
  const r = Router();
  const send = (req: Request, res: Response, v: ElasticityView) =>
    sendOutput(req, res, v, { defaultType: 'text/plain', field: 'elasticity', text: elasticityText(v) });

  r.get(PATH, endpoint('Error Getting Inf. elasticity', async ({ req, res, caller, params }) => {
    await service.vmIds(caller, params.infId); // 404 unless it is the caller's
    send(req, res, await elastic.view(params.infId));
  }));

  r.put(PATH, endpoint('Error Changing Inf. elasticity', async ({ req, res, caller, params }) => {
    const types = mediaTypes(req.get('content-type'));
    if (!res.locals.contentTypeDefaulted && !types.includes('application/json')) {
      throw new ApiError(415, `Unsupported Media Type ${types.join(',')}: send the changes as application/json`);
    }
    await service.vmIds(caller, params.infId);
    send(req, res, await elastic.update(params.infId, parseBody(bodyText(req))));
  }));
  return r;
}

function parseBody(text: string): unknown {
  if (text.trim() === '') throw new InvalidInputError('Empty body: send a JSON object of knobs, e.g. {"max_nodes": 5} or {"paused": true}');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`The body is not JSON: ${(e as Error).message}`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidInputError('The body must be a JSON object of knobs, e.g. {"max_nodes": 5}');
  return body;
}

/** GET /metrics: the registry in Prometheus' text format (no Authorization, as scrapers expect). */
export function metricsRoutes(registry: Registry): Router {
  const r = Router();
  r.get('/metrics', publicEndpoint('Error getting the metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  }));
  return r;
}
