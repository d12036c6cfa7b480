/**
 * openapi.yaml: found beside the package (source or dist layout), served at /openapi.yaml, and
 * the contract express-openapi-validator checks every request against.
 */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from './package-files';
import type { RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { parse } from 'yaml';

export interface OpenApiDoc {
  text: string;
  doc: Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };
}

export function loadOpenApi(file = path.join(packageRoot(), 'openapi.yaml')): OpenApiDoc {
  const text = fs.readFileSync(file, 'utf8');
  return { text, doc: parse(text) };
}

/**
 * express-openapi-validator (5.6) compiles every route's path-to-regexp again on every request
 * (openapi.metadata.js lookupRoute): a third of the API's CPU time on GET /state. The routes are
 * fixed, so the compiled regexps are memoised, in the validator's own copy of path-to-regexp only.
 */
function memoisePathToRegexp(): void {
  const file = require.resolve('path-to-regexp', { paths: [path.dirname(require.resolve('express-openapi-validator'))] });
  const mod = require(file) as { pathToRegexp?: ((p: string, o?: object) => unknown) & { memoised?: boolean } };
  const original = mod.pathToRegexp;
  if (typeof original !== 'function' || original.memoised) return;
  const cache = new Map<string, unknown>();
  const memoised = Object.assign((p: string, o?: object) => {
    if (typeof p !== 'string') return original(p, o);
    const key = `${p}\0${JSON.stringify(o ?? {})}`;
    let hit = cache.get(key);
    if (hit === undefined) cache.set(key, (hit = original(p, o)));
    return hit;
  }, { memoised: true });
  mod.pathToRegexp = memoised;
}

/** validateApiSpec checks openapi.yaml itself (costs ~20 MB of RSS for the meta-schema): tests do it. */
export function requestValidator(api: OpenApiDoc, validateApiSpec = false): RequestHandler[] {
  memoisePathToRegexp();
  return OpenApiValidator.middleware({
    // The validator rewrites what it is given; keep the served copy pristine.
    apiSpec: structuredClone(api.doc) as never,
    validateRequests: { allowUnknownQueryParameters: true },
    validateResponses: false,
    // Authorization is checked (and answered IM's way) by the routes themselves.
    validateSecurity: false,
    ignoreUndocumented: true,
    validateApiSpec,
  }) as unknown as RequestHandler[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** For a path no route answered: the methods openapi.yaml allows on it (empty if none). */
export function allowedMethods(api: OpenApiDoc): (path: string) => string[] {
  const templates = Object.entries(api.doc.paths).map(([template, item]) => ({
    re: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
    methods: METHODS.filter((m) => m in item).map((m) => m.toUpperCase()),
  }));
  return (path) => [...new Set(templates.filter((t) => t.re.test(path)).flatMap((t) => t.methods))];
}
