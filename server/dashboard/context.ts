/**
 * What every dashboard page handler gets: the session, the signed-in person, their engine Caller
 * (built from their stored credentials, as the REST API builds it from an Authorization header),
 * the form body, and the shared parts. Errors become a page naming the problem, never a crash.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { normalIssuer } from '../auth/oidc/options';
import { ownerId } from '../auth/owner';
import type { Caller, InfrastructureService } from '../engine/service';
import { ImError, InfrastructureForbiddenError, InfrastructureNotFoundError, VmNotFoundError } from '../errors';
import type { ElasticityApi } from '../api/routes/elasticity';
import { CatalogueError, type Catalogue } from './catalogue';
import { html, page, type PageContext } from './html';
import type { OidcSignIn } from './oidc';
import type { ElasticSeries } from './infra-view';
import type { Session, SessionStore, SignedIn } from './session';
import { CredentialInputError, type DashboardStore } from './store';
import { FieldError } from './inputs';

export interface Shared {
  service: InfrastructureService;
  elasticity: ElasticityApi;
  store: DashboardStore;
  sessions: SessionStore;
  catalogue: Catalogue;
  series: ElasticSeries;
  oidc?: OidcSignIn;
  ownerKey: Buffer;
  logger: Logger;
}

export interface Ctx {
  req: Request;
  res: Response;
  session: Session;
  user: SignedIn;
  /** The session's CSRF token, for forms. */
  csrf: string;
  /** The POST form (empty for GET). */
  form: URLSearchParams;
  shared: Shared;
  /** The person's Caller; `first` puts that credential first (the one a launch uses). */
  caller(first?: string): Caller;
  render(title: string, body: ReturnType<typeof html>, nav?: PageContext['nav']): void;
  redirect(to: string, flash?: string): void;
}

/** A problem the person can fix, shown on the page with this status. */
export class PageError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/**
 * An OIDC person's owner id: issuer + subject (a token changes at every sign-in), the same id the
 * REST API gives that person's tokens, so the dashboard and API clients see the same infrastructures.
 */
export function oidcOwner(ownerKey: Buffer, issuer: string, subject: string): string {
  return ownerId(ownerKey, { kind: 'oidc', issuer: normalIssuer(issuer), sub: subject });
}

export function formOf(req: Request): URLSearchParams {
  return new URLSearchParams(req.method === 'POST' && typeof req.body === 'string' ? req.body : '');
}

export function sessionOf(res: Response): Session {
  return res.locals.dashboardSession as Session;
}

export function pageContext(s: Session, title: string, nav?: PageContext['nav']): PageContext {
  const flash = s.flash;
  s.flash = undefined;
  return { title, user: s.user, csrf: s.csrf, flash, nav };
}

/** A page that needs a signed-in person; anonymous visitors go to the sign-in page. */
export function handler(shared: Shared, fn: (ctx: Ctx) => Promise<void>): RequestHandler {
  return (req, res) => {
    const session = sessionOf(res);
    const user = session.user;
    if (!user) {
      if (req.method === 'GET' && !req.path.endsWith('/live')) return res.redirect(303, '/dashboard/login');
      return sendError(res, session, new PageError(401, 'Your session has ended: sign in again.'), shared.logger);
    }
    const ctx: Ctx = {
      req, res, session, user, csrf: session.csrf, form: formOf(req), shared,
      caller: (first) => callerFor(shared, user, first),
      render: (title, body, nav) => { res.type('html').send(page(pageContext(session, title, nav), body)); },
      redirect: (to, flash) => { if (flash) session.flash = flash; res.redirect(303, to); },
    };
    fn(ctx).catch((err) => sendError(res, session, err, shared.logger));
  };
}

function callerFor(shared: Shared, user: SignedIn, first?: string): Caller {
  const person = shared.store.person(user.owner, user.name);
  const ids = person.credentials.map((c) => c.id).sort((a, b) => (a === first ? -1 : b === first ? 1 : 0));
  const credentials = ids.map((id) => shared.store.cloudCredential(user.owner, id)!).filter(Boolean);
  return { owner: user.owner, username: user.name, credentials };
}

export function sendError(res: Response, session: Session, err: unknown, logger: Logger): void {
  let status = 500;
  let message = 'Something went wrong on the server; it has been logged.';
  if (err instanceof PageError) ({ status, message } = err);
  else if (err instanceof InfrastructureNotFoundError || err instanceof InfrastructureForbiddenError || err instanceof VmNotFoundError || err instanceof CatalogueError) { status = 404; message = (err as Error).message; }
  else if (err instanceof ImError || err instanceof CredentialInputError || err instanceof FieldError) { status = 400; message = (err as Error).message; }
  else logger.error({ err }, 'dashboard page failed');
  if (res.headersSent) return;
  if (res.req.path.endsWith('/live')) {
    res.status(status).json({ error: message });
    return;
  }
  res.status(status).type('html').send(page(pageContext(session, status === 404 ? 'Not found' : 'Cannot do that'),
    html`<p class="error" role="alert">${message}</p><p><a href="/dashboard/">Back to the dashboard</a></p>`));
}
