/** Every route the server mounts is in openapi.yaml, and every operation there is mounted. */
import pino from 'pino';
import { createApp } from '../../server/app';
import { loadOpenApi } from '../../server/api/openapi';
import { FakeService } from './fake-service';
import { call, listen } from './http';

interface Layer { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } }

function mountedRoutes(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = layer.route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${path}`);
    }
    return layer.handle?.stack ? mountedRoutes(layer.handle.stack) : [];
  });
}

describe('openapi.yaml', () => {
  const api = loadOpenApi();
  const app = createApp({ service: new FakeService(), logger: pino({ level: 'silent' }), version: '0', secretKey: 'k', openapi: api });
  const mounted = mountedRoutes((app as unknown as { _router: { stack: Layer[] } })._router.stack);
  const documented = Object.entries(api.doc.paths).flatMap(([path, item]) =>
    Object.keys(item).filter((k) => ['get', 'put', 'post', 'delete', 'patch'].includes(k)).map((m) => `${m.toUpperCase()} ${path}`));

  it('is a valid OpenAPI 3 document (the validator checks it against the meta-schema)', async () => {
    const checked = createApp({ service: new FakeService(), logger: pino({ level: 'silent' }), version: '0', secretKey: 'k', openapi: api, validateApiSpec: true });
    const srv = await listen(checked);
    try {
      const r = await call(srv.url, 'GET', '/version');
      expect([r.status, r.text]).toEqual([200, '0']);
    } finally {
      await srv.close();
    }
  });

  it('finds the routes (the walk itself works)', () => {
    expect(mounted).toContain('GET /infrastructures/{infId}/state');
    expect(mounted.length).toBeGreaterThan(25);
  });

  it('documents every mounted route', () => {
    expect(mounted.filter((r) => !documented.includes(r))).toEqual([]);
  });

  it('has no documented operation that is not mounted', () => {
    expect(documented.filter((r) => !mounted.includes(r))).toEqual([]);
  });

  it('covers the IM routes of the reference', () => {
    for (const r of [
      'GET /version', 'GET /infrastructures', 'POST /infrastructures', 'PUT /infrastructures',
      'GET /infrastructures/{infId}', 'POST /infrastructures/{infId}', 'DELETE /infrastructures/{infId}',
      ...['contmsg', 'radl', 'state', 'outputs', 'tosca', 'data'].map((p) => `GET /infrastructures/{infId}/${p}`),
      ...['start', 'stop', 'reconfigure'].map((a) => `PUT /infrastructures/{infId}/${a}`),
      'GET /infrastructures/{infId}/vms/{vmId}', 'PUT /infrastructures/{infId}/vms/{vmId}', 'DELETE /infrastructures/{infId}/vms/{vmId}',
      'GET /infrastructures/{infId}/vms/{vmId}/{property}', 'GET /infrastructures/{infId}/vms/{vmId}/contmsg',
      ...['start', 'stop', 'reboot'].map((a) => `PUT /infrastructures/{infId}/vms/{vmId}/${a}`),
      'GET /infrastructures/{infId}/authorization', 'POST /infrastructures/{infId}/authorization',
      'PUT /infrastructures/{infId}/vms/{vmId}/disks/{diskNum}/snapshot', 'GET /clouds/{cloudId}/images', 'GET /clouds/{cloudId}/quotas',
    ]) expect(mounted).toContain(r);
  });
});
