/** Glance /image/v2 (images list/show with filters) and a minimal Cinder v3 (version, empty volume list). */
import { Router, type Request } from 'express';
import { baseUrl, fail, paginate, queryValues } from './http';
import { SimState, iso, type Image } from './model';

export function glanceVersions(req: Request) {
  return { versions: [{ id: 'v2.9', status: 'CURRENT', links: [{ rel: 'self', href: `${baseUrl(req)}/image/v2/` }] }] };
}

export function glanceRouter(state: SimState): Router {
  const r = Router();
  const body = (i: Image) => ({
    id: i.id, name: i.name, status: i.status, visibility: i.visibility, disk_format: 'qcow2', container_format: 'bare', size: i.size,
    virtual_size: null, min_disk: i.minDisk, min_ram: i.minRam, protected: false, checksum: null, owner: 'admin', os_hidden: false,
    created_at: iso(i.createdAt), updated_at: iso(i.createdAt), tags: [], self: `/v2/images/${i.id}`, file: `/v2/images/${i.id}/file`, schema: '/v2/schemas/image',
    ...i.properties,
  });
  r.get('/images', (req, res) => {
    let list = state.images;
    for (const key of ['name', 'status', 'visibility', 'id'] as const) {
      const wanted = queryValues(req.query[key]);
      if (wanted.length) list = list.filter((i) => wanted.includes(String(i[key])));
    }
    const { page, next } = paginate(req, list, state.pageLimits.glance);
    // Glance's `next` is a path under its root: /v2/images?limit=...&marker=...
    res.json({ images: page.map(body), first: '/v2/images', schema: '/v2/schemas/images', ...(next ? { next: next.replace(/^\/image/, '') } : {}) });
  });
  r.get('/images/:id', (req, res) => {
    const i = state.images.find((x) => x.id === req.params.id) ?? fail(404, `No image found with ID ${req.params.id}`);
    res.json(body(i));
  });
  return r;
}

export function cinderRouter(): Router {
  const r = Router();
  r.get('/:project', (req, res) => void res.json({ version: { id: 'v3.0', status: 'CURRENT', version: '3.70', min_version: '3.0', links: [{ rel: 'self', href: `${baseUrl(req)}/volume/v3/` }] } }));
  r.get('/:project/volumes', (_req, res) => void res.json({ volumes: [] }));
  r.get('/:project/volumes/detail', (_req, res) => void res.json({ volumes: [] }));
  return r;
}
