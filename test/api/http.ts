/** Small HTTP helpers for the API tests: a server on 127.0.0.1:0 and fetch with IM's header. */
import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

export interface Running { url: string; server: Server; close(): Promise<void> }

export async function listen(app: Express): Promise<Running> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** An IM authorization file as IM clients send it: lines joined with the two characters \n. */
export function imAuth(user: string, password: string, ...cloudLines: string[]): string {
  return [`id = im; type = InfrastructureManager; username = ${user}; password = ${password}`, ...cloudLines].join('\\n');
}

export interface Reply { status: number; type: string; text: string; headers: Headers; json<T = any>(): T }

export async function call(
  base: string, method: string, path: string,
  opts: { auth?: string; accept?: string; type?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth !== undefined) headers.Authorization = opts.auth;
  if (opts.accept) headers.Accept = opts.accept;
  if (opts.type) headers['Content-Type'] = opts.type;
  // A Buffer body keeps fetch from inventing a Content-Type: the tests say which one is sent.
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  return {
    status: res.status,
    type: (res.headers.get('content-type') ?? '').split(';')[0],
    text,
    headers: res.headers,
    json: () => JSON.parse(text),
  };
}

/** Polls GET {infrastructure}/state (a path or an absolute URI) until it is one of `want`. */
export async function waitForState(baseUrl: string, auth: string, infrastructure: string, want: string[], ms = 20_000): Promise<string> {
  const path = new URL(infrastructure, baseUrl).pathname;
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await call(baseUrl, 'GET', `${path}/state`, { auth, accept: 'application/json' });
    const state = r.json().state.state as string;
    if (want.includes(state)) return state;
    if (Date.now() > deadline) throw new Error(`infrastructure stuck in ${state}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
