/**
 * Dashboard sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure when the request came
 * over HTTPS, directly or through a trusted proxy), the session itself in memory. Every session has
 * a CSRF token that every POST form carries; a sign-in rotates the id (no fixation).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

export const COOKIE = 'tosca_im_dashboard';
const IDLE_MS = 8 * 3600_000;
const MAX_SESSIONS = 10_000;

/** Who signed in: the owner id the engine keys infrastructures by, a display name, how. */
export interface SignedIn {
  owner: string;
  name: string;
  issuer?: string;
}

export interface Session {
  id: string;
  csrf: string;
  user?: SignedIn;
  /** OIDC sign-in in flight: PKCE verifier, state, nonce, issuer. */
  pending?: { issuer: string; verifier: string; state: string; nonce: string };
  /** One-shot message shown on the next page. */
  flash?: string;
  seen: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  /** The request's session, or a new anonymous one (cookie set). */
  get(req: Request, res: Response): Session {
    const id = readCookie(req.get('cookie'), COOKIE);
    const now = Date.now();
    const s = id ? this.sessions.get(id) : undefined;
    if (s && now - s.seen < IDLE_MS) {
      s.seen = now;
      return s;
    }
    if (s) this.sessions.delete(s.id);
    return this.create(req, res);
  }

  /** A new id for the same session (on sign-in), the old id dropped. */
  rotate(req: Request, res: Response, s: Session): Session {
    this.sessions.delete(s.id);
    const fresh = this.create(req, res);
    Object.assign(fresh, { user: s.user, flash: s.flash });
    return fresh;
  }

  destroy(req: Request, res: Response, s: Session): void {
    this.sessions.delete(s.id);
    res.append('Set-Cookie', cookieText(req, '', 0));
  }

  private create(req: Request, res: Response): Session {
    if (this.sessions.size >= MAX_SESSIONS) this.sweep();
    const s: Session = { id: token(), csrf: token(), seen: Date.now() };
    this.sessions.set(s.id, s);
    res.append('Set-Cookie', cookieText(req, s.id));
    return s;
  }

  /** Expired sessions go first, then anonymous ones (a flood of visitors must not sign people out), then the oldest. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (now - s.seen >= IDLE_MS) this.sessions.delete(id);
    for (const [id, s] of this.sessions) {
      if (this.sessions.size < MAX_SESSIONS * 0.9) return;
      if (!s.user) this.sessions.delete(id);
    }
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
  }
}

export function checkCsrf(s: Session, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(s.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function token(): string {
  return randomBytes(24).toString('base64url');
}

function cookieText(req: Request, value: string, maxAgeS?: number): string {
  const parts = [`${COOKIE}=${value}`, 'Path=/dashboard', 'HttpOnly', 'SameSite=Lax'];
  if (req.secure) parts.push('Secure');
  if (maxAgeS !== undefined) parts.push(`Max-Age=${maxAgeS}`);
  return parts.join('; ');
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
