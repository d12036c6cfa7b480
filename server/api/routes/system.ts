/** GET /version and GET /openapi.yaml: no Authorization needed. */
import { Router } from 'express';
import { publicEndpoint } from '../endpoint';
import { sendOutput } from '../media';

export function systemRoutes(version: string, openapiText: string): Router {
  const r = Router();
  r.get('/version', publicEndpoint('Error getting IM version', (req, res) => {
    sendOutput(req, res, version, { defaultType: 'text/plain', field: 'version' });
  }));
  r.get('/openapi.yaml', publicEndpoint('Error getting the API description', (_req, res) => {
    res.type('text/yaml').send(openapiText);
  }));
  return r;
}
