/** Requests by route template and status, for GET /metrics. */
import type { RequestHandler, Request } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

export function httpMetrics(registry: Registry): RequestHandler {
  const requests = new Counter({
    name: 'tosca_im_http_requests_total', help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'], registers: [registry],
  });
  const seconds = new Histogram({
    name: 'tosca_im_http_request_duration_seconds', help: 'HTTP request duration by method and route template',
    labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120], registers: [registry],
  });
  return (req, res, next) => {
    const end = seconds.startTimer();
    res.on('finish', () => {
      const route = routeOf(req);
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  };
}

/** The openapi.yaml template the validator matched (bounded label values), else the express route. */
function routeOf(req: Request): string {
  const matched = (req as Request & { openapi?: { openApiRoute?: string } }).openapi?.openApiRoute;
  if (matched) return matched;
  const path = (req as Request & { route?: { path?: unknown } }).route?.path;
  return typeof path === 'string' ? path.replace(/:([A-Za-z_]+)/g, '{$1}') : 'unmatched';
}
