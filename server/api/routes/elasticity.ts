/**
 * GET/PUT /infrastructures/{infId}/elasticity (the built-in elasticity manager, issue 7) and
 * GET /metrics (Prometheus text). Owner-checked like every infrastructure route; answers follow
 * Accept as the property routes do (text by default, {"elasticity": …} in JSON).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import type { InfrastructureService } from '../../engine/service';
import { InvalidInputError } from '../../errors';
import { NoElasticityError } from '../../elastic/manager';
import type { SimulationView } from '../../elastic/simulate';
import { elasticityText, type ElasticityView } from '../../elastic/view';
import { ApiError } from '../api-error';
import { bodyText } from '../body';
import { publicEndpoint, type EndpointFactory } from '../endpoint';
import { mediaTypes, sendOutput } from '../media';

/** What the routes need of the elasticity manager (server/elastic/runtime.ts). */
export interface ElasticityApi {
  view(infId: string): Promise<ElasticityView>;
  update(infId: string, body: unknown): Promise<ElasticityView>;
  /** POST …/elasticity/simulate (E-OBS-5); a server without it answers as for no elasticity. */
  simulate?(infId: string, body: unknown): Promise<SimulationView>;
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
    requireJson(req, res);
    await service.vmIds(caller, params.infId);
    send(req, res, await elastic.update(params.infId, parseBody(bodyText(req))));
  }));

  // Replays a job trace against the policy in effect (with overrides) on a simulated cluster: no
  // cloud call and no change to the infrastructure or its manager's state; always JSON.
  r.post(`${PATH}/simulate`, endpoint('Error Simulating Inf. elasticity', async ({ req, res, caller, params }) => {
    requireJson(req, res, 'the trace');
    await service.vmIds(caller, params.infId);
    if (!elastic.simulate) throw new NoElasticityError(params.infId);
    const body = parseBody(bodyText(req), TRACE);
    sendOutput(req, res, await elastic.simulate(params.infId, body), { defaultType: 'application/json', field: 'simulation' });
  }));
  return r;
}

function requireJson(req: Request, res: Response, what = 'the changes'): void {
  const types = mediaTypes(req.get('content-type'));
  if (!res.locals.contentTypeDefaulted && !types.includes('application/json')) {
    throw new ApiError(415, `Unsupported Media Type ${types.join(',')}: send ${what} as application/json`);
  }
}

/** Simulate's body; PUT's are knobs. */
const TRACE = { what: 'a JSON object', example: '{"jobs": [{"submit_s": 0, "runtime_s": 600}]}', examples: '{"jobs": [{"submit_s": 0, "runtime_s": 600}]}' };
const KNOBS = { what: 'a JSON object of knobs', example: '{"max_nodes": 5}', examples: '{"max_nodes": 5} or {"paused": true}' };

function parseBody(text: string, o = KNOBS): unknown {
  if (text.trim() === '') throw new InvalidInputError(`Empty body: send ${o.what}, e.g. ${o.examples}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`The body is not JSON: ${(e as Error).message}`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidInputError(`The body must be ${o.what}, e.g. ${o.example}`);
  return body;
}

/** GET /metrics: the registry in Prometheus' text format (no Authorization, as scrapers expect). */
/**
 * GET /metrics needs no credentials (Prometheus scrapes it), so without `Authorization: Bearer
 * <metricsToken>` it drops every series labelled with an infrastructure id: totals only.
 */
export function metricsRoutes(registry: Registry, metricsToken?: string): Router {
  const r = Router();
  r.get('/metrics', publicEndpoint('Error getting the metrics', async (req, res) => {
    const text = await registry.metrics();
    res.type(registry.contentType).send(bearerMatches(req.headers.authorization, metricsToken) ? text : withoutInfrastructures(text));
  }));
  return r;
}

function bearerMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const a = createHash('sha256').update(m[1]).digest();
  return timingSafeEqual(a, createHash('sha256').update(token).digest());
}

function withoutInfrastructures(text: string): string {
  return text.split('\n').filter((line) => !/^[A-Za-z_:][\w:]*\{[^}]*\binfrastructure="/.test(line)).join('\n');
}
