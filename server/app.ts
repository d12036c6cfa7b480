/**
 * The HTTP application: IM's REST API over an InfrastructureService. No business logic here —
 * body reading, validation against openapi.yaml, the routes, and one error middleware.
 */
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { InfrastructureService } from './engine/service';
import { ApiError } from './api/api-error';
import { bodyAsString, defaultContentType } from './api/body';
import { endpointFactory } from './api/endpoint';
import { errorHandler } from './api/error-handler';
import { allowedMethods, loadOpenApi, requestValidator, type OpenApiDoc } from './api/openapi';
import { infrastructureRoutes } from './api/routes/infrastructures';
import { systemRoutes } from './api/routes/system';
import { vmRoutes } from './api/routes/vms';
import { authorizationRoutes } from './api/routes/authorization';
import { cloudRoutes } from './api/routes/clouds';
import { snapshotRoutes } from './api/routes/snapshots';
import { ownerKeyFrom, TokenVerifier, type OidcOptions } from './auth';
import { elasticityRoutes, metricsRoutes, noElasticity, type ElasticityApi } from './api/routes/elasticity';
import { httpMetrics } from './api/http-metrics';
import { Registry } from 'prom-client';
import { dashboardRouter, type DashboardOptions } from './dashboard';

export interface AppOptions {
  service: InfrastructureService;
  logger: Logger;
  /** Answered by GET /version. */
  version: string;
  /** Server key: owner ids are HMACs of the InfrastructureManager line with it. */
  secretKey: string | Buffer;
  /** Largest request body, in bytes or as "1mb" (default 1 MB). */
  bodyLimit?: string | number;
  /** Honour X-Forwarded-Proto/-Host/-Prefix for URIs (default true, as IM behind its ProxyFix). */
  trustProxy?: boolean;
  /** The API description (default: openapi.yaml of the package). */
  openapi?: OpenApiDoc;
  /** Also check openapi.yaml against the OpenAPI meta-schema (tests; costs memory). */
  validateApiSpec?: boolean;
  /** GET/PUT /infrastructures/{id}/elasticity (server/elastic/runtime.ts); default: none has elasticity. */
  elasticity?: ElasticityApi;
  /** Served at GET /metrics, with the HTTP request metrics added (default: a registry of its own). */
  metrics?: Registry;
  /** Bearer token that shows per-infrastructure series on GET /metrics (default: never shown). */
  metricsToken?: string;
  /** Trusted OIDC issuers and their rules (default: none; tokens are refused). */
  oidc?: OidcOptions;
  /** Owner ids of password users who are admins (--admin-users). */
  adminOwners?: ReadonlySet<string>;
  /** The web dashboard at /dashboard/ (server/dashboard); absent: no dashboard. */
  dashboard?: Pick<DashboardOptions, 'templatesDir' | 'stateFile' | 'oidc'>;
}

export const DEFAULT_BODY_LIMIT = '1mb';

export function createApp(opts: AppOptions): Express {
  const trustProxy = opts.trustProxy ?? true;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const api = opts.openapi ?? loadOpenApi();
  const tokens = opts.oidc && opts.oidc.issuers.length > 0 ? new TokenVerifier(opts.oidc) : undefined;
  const endpoint = endpointFactory({ secretKey: opts.secretKey, trustProxy, tokens, adminOwners: opts.adminOwners });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', trustProxy);
  // IM's query strings are flat key=value pairs: node's querystring is enough, and cheaper than qs.
  app.set('query parser', 'simple');

  const metrics = opts.metrics ?? new Registry();
  app.use(requestLog(opts.logger));
  app.use(httpMetrics(metrics));
  app.use(defaultContentType);
  // Every body is read as text: the routes decide what it is from Content-Type, as IM does.
  app.use(express.text({ type: () => true, limit: bodyLimit }));
  app.use(bodyAsString);
  // The dashboard's pages are not IM API paths: served before the API's validation.
  if (opts.dashboard) {
    app.use(dashboardRouter({ ...opts.dashboard, service: opts.service, elasticity: opts.elasticity ?? noElasticity, secretKey: opts.secretKey, logger: opts.logger }));
  }
  app.use(requestValidator(api, opts.validateApiSpec));
  app.use(systemRoutes(opts.version, api.text));
  app.use(infrastructureRoutes(opts.service, endpoint));
  app.use(vmRoutes(opts.service, endpoint));
  app.use(authorizationRoutes(opts.service, endpoint, { ownerKey: ownerKeyFrom(opts.secretKey), tokens, issuers: opts.oidc?.issuers ?? [] }));
  app.use(cloudRoutes(opts.service, endpoint));
  app.use(snapshotRoutes(opts.service, endpoint));
  app.use(elasticityRoutes(opts.service, opts.elasticity ?? noElasticity, endpoint));
  app.use(metricsRoutes(metrics, opts.metricsToken));
  app.use(unmatched(allowedMethods(api)));
  app.use(errorHandler(opts.logger, typeof bodyLimit === 'number' ? `${bodyLimit} bytes` : bodyLimit));
  return app;
}

/** 405 with Allow when the path exists with other methods, else 404. */
function unmatched(allowed: (path: string) => string[]): RequestHandler {
  return (req, res, next) => {
    const methods = allowed(req.path);
    if (methods.length === 0) return next(new ApiError(404, `Not found: ${req.method} ${req.path}`));
    res.set('Allow', methods.join(', '));
    next(new ApiError(405, `Method ${req.method} not allowed on ${req.path}`));
  };
}

/** Method, path, status and time at debug level; never headers (they carry credentials). */
function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!logger.isLevelEnabled('debug')) return next();
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger.debug({ method: req.method, path: req.path, status: res.statusCode, ms }, 'request');
    });
    next();
  };
}
