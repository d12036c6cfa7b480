/**
 * Signing in and out. With issuers configured: OIDC authorization code + PKCE (oidc.ts); without:
 * an IM user name and password, keyed into the same owner id the REST API gives that
 * InfrastructureManager line (so the person sees what they made with the API too).
 */
import { Router, type Request } from 'express';
import { ownerId } from '../auth';
import { formOf, pageContext, PageError, sendError, sessionOf, oidcOwner, type Shared } from './context';
import { form, html, page } from './html';
import { baseUrl } from '../api/base-url';

const CALLBACK = '/dashboard/auth/callback';

export function signInRoutes(shared: Shared): Router {
  const r = Router();
  const { sessions, oidc } = shared;
  const callbackUrl = (req: Request) => `${baseUrl(req, Boolean(req.app.get('trust proxy')))}${CALLBACK}`;

  r.get('/dashboard/login', (req, res) => {
    const s = sessionOf(res);
    if (s.user) return res.redirect(303, '/dashboard/');
    const ctx = pageContext(s, 'Sign in');
    const body = oidc
      ? html`<p>Sign in with your identity provider.</p><ul class="actions">${oidc.issuers.map((iss, i) =>
          form(ctx, '/dashboard/login/oidc', html`<input type="hidden" name="issuer" value="${iss}"><button type="submit"${i === 0 ? html` autofocus` : ''}>Sign in with ${new URL(iss).host}</button>`, 'class="inline"'))}</ul>`
      : form(ctx, '/dashboard/login', html`
          <p>Sign in with your Infrastructure Manager user name and password.</p>
          <label for="username">User name</label><input id="username" name="username" autocomplete="username" required autofocus>
          <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
          <button type="submit">Sign in</button>`, 'class="narrow"');
    res.type('html').send(page(ctx, body));
  });

  r.post('/dashboard/login', (req, res) => {
    const s = sessionOf(res);
    if (oidc) return sendError(res, s, new PageError(400, 'This server signs in with OpenID Connect.'), shared.logger);
    const f = formOf(req);
    const username = (f.get('username') ?? '').trim();
    const password = f.get('password') ?? '';
    if (!username || !password) return sendError(res, s, new PageError(400, 'Give a user name and a password.'), shared.logger);
    const identity = { kind: 'password' as const, username, password };
    // Only the keyed owner id is kept: the password is not held after this request.
    s.user = { owner: ownerId(shared.ownerKey, identity), name: username };
    const fresh = sessions.rotate(req, res, s);
    shared.store.person(fresh.user!.owner, username);
    res.redirect(303, '/dashboard/');
  });

  r.post('/dashboard/login/oidc', (req, res) => {
    const s = sessionOf(res);
    const issuer = formOf(req).get('issuer') ?? '';
    if (!oidc) return sendError(res, s, new PageError(400, 'No OpenID issuer is configured.'), shared.logger);
    oidc.start(issuer, callbackUrl(req)).then((start) => {
      s.pending = { issuer, verifier: start.verifier, state: start.state, nonce: start.nonce };
      res.redirect(303, start.url);
    }).catch((err) => sendError(res, s, new PageError(502, (err as Error).message), shared.logger));
  });

  r.get(CALLBACK, (req, res) => {
    const s = sessionOf(res);
    const pending = s.pending;
    s.pending = undefined;
    if (!oidc || !pending) return sendError(res, s, new PageError(400, 'No sign-in in progress: start again.'), shared.logger);
    const url = new URL(req.originalUrl, callbackUrl(req));
    oidc.finish(pending.issuer, url, pending).then((p) => {
      s.user = { owner: oidcOwner(shared.ownerKey, p.issuer, p.subject), name: p.name, issuer: pending.issuer };
      const fresh = sessions.rotate(req, res, s);
      shared.store.person(fresh.user!.owner, p.name);
      res.redirect(303, '/dashboard/');
    }).catch((err) => sendError(res, s, new PageError(401, (err as Error).message), shared.logger));
  });

  r.post('/dashboard/logout', (req, res) => {
    const s = sessionOf(res);
    // Ends this dashboard's session only; the provider's own session stays (as IM-Dashboard does).
    sessions.destroy(req, res, s);
    res.redirect(303, '/dashboard/login');
  });
  return r;
}
