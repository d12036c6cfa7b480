/**
 * The web dashboard at /dashboard/, served by the API's own express app: server-rendered pages and
 * one small vanilla script (live state, chart, in-page checks), every asset shipped in the package
 * (server/dashboard/assets), nothing from a CDN. Pages call the engine (the same InfrastructureService
 * the REST API calls) with the signed-in person's Caller.
 */
import { createHmac } from 'node:crypto';
import * as path from 'node:path';
import express, { Router } from 'express';
import type { Logger } from 'pino';
import type { InfrastructureService } from '../engine/service';
import type { ElasticityApi } from '../api/routes/elasticity';
import { ownerKeyFrom } from '../auth';
import { packageRoot } from '../api/package-files';
import { Catalogue } from './catalogue';
import { formOf, PageError, sendError, type Shared } from './context';
import { OidcSignIn } from './oidc';
import { checkCsrf, SessionStore } from './session';
import { DashboardStore } from './store';
import { signInRoutes } from './sign-in';
import { credentialRoutes } from './credentials-pages';
import { catalogueRoutes } from './catalogue-pages';
import { infrastructurePages } from './infra-pages';
import { infrastructureActions } from './infra-actions';
import { ElasticSeries } from './infra-view';

export interface DashboardOptions {
  service: InfrastructureService;
  elasticity: ElasticityApi;
  secretKey: string | Buffer;
  logger: Logger;
  /** Folder of TOSCA templates for the catalogue (`--templates`). */
  templatesDir?: string;
  /** Where the dashboard keeps people's credentials (sealed); none: in memory. */
  stateFile?: string;
  /** OIDC sign-in (`--oidc-issuers` + the dashboard's client id); none: IM user name and password. */
  oidc?: { issuers: string[]; clientId: string; clientSecret?: string };
}

export function dashboardRouter(opts: DashboardOptions): Router {
  const shared: Shared = {
    service: opts.service,
    elasticity: opts.elasticity,
    store: new DashboardStore(dashboardKey(opts.secretKey), opts.stateFile),
    sessions: new SessionStore(),
    catalogue: new Catalogue(opts.templatesDir, (file, why) => opts.logger.warn({ file, why }, 'catalogue: template skipped')),
    series: new ElasticSeries(opts.elasticity),
    oidc: opts.oidc?.issuers.length ? new OidcSignIn(opts.oidc) : undefined,
    ownerKey: ownerKeyFrom(opts.secretKey),
    logger: opts.logger,
  };
  // A sign-in form's answer redirects to the issuer: the one place a form may lead off this origin.
  const formAction = ["'self'", ...(opts.oidc?.issuers ?? []).map((i) => new URL(i).origin)].join(' ');
  const r = Router();
  r.use('/dashboard/assets', express.static(assetsDir(), { index: false, maxAge: '1h', fallthrough: false }));
  r.use('/dashboard', (req, res, next) => {
    // Pages are per person: never cached, never framed, no inline script.
    res.set({
      'Cache-Control': 'no-store',
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': `default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action ${formAction}; frame-ancestors 'none'`,
      'Referrer-Policy': 'same-origin',
    });
    const session = shared.sessions.get(req, res);
    res.locals.dashboardSession = session;
    if (req.method === 'POST' && !checkCsrf(session, formOf(req).get('_csrf'))) {
      return sendError(res, session, new PageError(403, 'The form had expired (or came from another site): reload the page and try again.'), opts.logger);
    }
    next();
  });
  // Express matches "/dashboard" and "/dashboard/" alike: only the bare one is sent to the other.
  r.get('/dashboard', (req, res, next) => (req.originalUrl.split('?')[0] === '/dashboard' ? res.redirect(301, '/dashboard/') : next()));
  r.use(signInRoutes(shared));
  r.use(credentialRoutes(shared));
  r.use(catalogueRoutes(shared));
  r.use(infrastructurePages(shared));
  r.use(infrastructureActions(shared));
  r.use('/dashboard', (req, res) => sendError(res, res.locals.dashboardSession, new PageError(404, `No page ${req.originalUrl}`), opts.logger));
  return r;
}

/** The shipped assets (package.json "files" lists the folder; dist code finds it from the package root). */
function assetsDir(): string {
  return path.join(packageRoot(), 'server', 'dashboard', 'assets');
}

/** The dashboard seals with a key of its own, derived from the server key (never the engine's own key). */
function dashboardKey(serverKey: string | Buffer): Buffer {
  return createHmac('sha256', serverKey).update('tosca-im dashboard secrets v1').digest();
}
