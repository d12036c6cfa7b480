/**
 * Server-side page limits (Nova's max_limit, Neutron's pagination_max_limit, Glance's page size):
 * the simulator pages like the real services, and every listing of the connector reads all pages.
 */
import { randomUUID } from 'node:crypto';
import { OpenStackConnector } from '../../connectors/openstack';
import { listAll, MAX_PAGES } from '../../connectors/openstack/paging';
import type { OpenStackSim } from '../../sims/openstack';
import { compute, credential, deploy, resourcesOf, startSim } from './helpers';

let sim: OpenStackSim;
let conn: OpenStackConnector;
beforeEach(async () => {
  // One item per page where it hurts most: the pool (public) is second by id, m1.large fourth.
  sim = await startSim({ pageLimits: { nova: 2, neutron: 1, glance: 1 } });
  conn = new OpenStackConnector(credential(sim));
});
afterEach(async () => sim.close());

const get = async (path: string) => {
  const token = (await conn.cloud.session.token()).id;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (await (await fetch(`${sim.url}${path}`, { headers: { 'X-Auth-Token': token } })).json()) as any;
};

describe('the simulator pages as the services do', () => {
  it('Nova: flavors_links rel=next with marker and limit; the last page has none', async () => {
    const first = await get('/compute/v2.1/flavors/detail');
    expect(first.flavors.map((f: { name: string }) => f.name)).toEqual(['m1.tiny', 'm1.small']);
    const next = new URL(first.flavors_links[0].href);
    expect([first.flavors_links[0].rel, next.pathname, next.searchParams.get('marker'), next.searchParams.get('limit')]).toEqual(['next', '/compute/v2.1/flavors/detail', '2', '2']);
    const last = await get('/compute/v2.1/flavors/detail?limit=2&marker=6');
    expect([last.flavors.map((f: { name: string }) => f.name), last.flavors_links]).toEqual([['g2.xlarge.a100'], undefined]);
  });

  it('Neutron: networks_links, filters kept on the next page; Glance: next', async () => {
    const nets = await get('/network/v2.0/networks');
    expect(nets.networks.map((n: { name: string }) => n.name)).toEqual(['private']);
    expect(new URL(nets.networks_links[0].href).searchParams.get('marker')).toBe(nets.networks[0].id);
    const imgs = await get('/image/v2/images?status=active');
    expect(imgs.images).toHaveLength(1);
    expect(imgs.next).toMatch(/^\/v2\/images\?status=active&limit=1&marker=/);
  });
});

describe('the connector reads every page', () => {
  it('deploys master + 4 workers: the right flavor (page 2), the pool (page 2), the image by distribution (page 2)', async () => {
    const inf = randomUUID();
    const vms = await deploy(conn, inf, [
      compute('front', { publicIp: true, host: { numCpus: 4, memSizeMB: 8192 }, os: { distribution: 'ubuntu', version: '22.04' } }),
      compute('wn', { count: 4 }),
    ]);
    expect(vms.map((v) => v.obs.state)).toEqual(Array(5).fill('running'));
    const servers = resourcesOf(sim, inf).servers;
    expect(servers.map((s) => s.flavor).sort()).toEqual(['m1.large', 'm1.tiny', 'm1.tiny', 'm1.tiny', 'm1.tiny']);
    expect(servers.find((s) => s.flavor === 'm1.large')!.image).toBe('0c1d2e3f-1111-4a2b-8c3d-000000000002');
    expect(vms[0].obs.publicIps).toHaveLength(1);
  }, 30_000);

  it('cleanup deletes every server of an infrastructure larger than a page, and everything else of it', async () => {
    const inf = randomUUID();
    await deploy(conn, inf, [compute('wn', { count: 5 })]);
    expect(resourcesOf(sim, inf).servers).toHaveLength(5);
    await conn.cleanup(inf, { releaseFloatingIps: true });
    const left = resourcesOf(sim, inf);
    expect([left.servers, left.ports, left.groups, left.keypairs]).toEqual([[], [], [], []]);
  }, 30_000);

  it('a cloud that never stops answering "next" is an error after MAX_PAGES, not an endless loop', async () => {
    let n = 0;
    const api = { call: async () => ({ status: 200, body: { things: [{ id: String(n) }], things_links: [{ rel: 'next', href: `http://x/things?marker=${n++}` }] } }) };
    await expect(listAll(api as never, 'compute', '/things', 'things')).rejects.toMatchObject({ code: 'TooManyPages' });
    expect(n).toBe(MAX_PAGES);
    const loop = { call: async () => ({ status: 200, body: { things: [{ id: 'a' }], things_links: [{ rel: 'next', href: 'http://x/things?marker=a' }] } }) };
    await expect(listAll(loop as never, 'compute', '/things', 'things')).rejects.toMatchObject({ code: 'BadAnswer' });
  });
});
