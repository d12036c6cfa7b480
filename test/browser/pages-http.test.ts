/**
 * The dashboard over plain HTTP (no browser): password sign-in where no issuer is configured, the
 * session cookie's flags, CSRF refusals, the same owner as the REST API for the same IM user, the
 * server's own check of launch values, grycap fragments merged into their parent's form, and
 * credentials stored sealed.
 */
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { createApp } from '../../server/app';
import { createEngine, type Engine } from '../../server/engine';
import { TEST_SECRET_KEY, tempDir } from '../engine-fixtures';
import { openStore, type Store } from '../../server/store';
import { call, imAuth, listen, type Running } from '../api/http';

const TEMPLATES = path.join(__dirname, '..', '..', 'templates');
let dir: string;
let store: Store;
let engine: Engine;
let srv: Running;

beforeAll(async () => {
  dir = tempDir('tosca-im-dash-');
  store = await openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
  const logger = pino({ level: 'silent' });
  engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, logger });
  srv = await listen(createApp({
    service: engine.service, logger, version: 'test', secretKey: TEST_SECRET_KEY,
    dashboard: { templatesDir: TEMPLATES, stateFile: path.join(dir, 'dashboard.json') },
  }));
});

afterAll(async () => {
  await srv.close();
  await engine.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A cookie jar of one: the dashboard's session cookie, and the CSRF token of the last page. */
class Visitor {
  cookie = '';
  csrf = '';
  async get(p: string, headers: Record<string, string> = {}) {
    const r = await fetch(srv.url + p, { headers: { cookie: this.cookie, ...headers }, redirect: 'manual' });
    return this.keep(r);
  }
  async post(p: string, form: Record<string, string | string[]>, csrf = this.csrf) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries({ _csrf: csrf, ...form })) for (const x of [v].flat()) body.append(k, x);
    const r = await fetch(srv.url + p, { method: 'POST', body: body.toString(), headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    return this.keep(r);
  }
  private async keep(r: Response) {
    const set = r.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    const text = await r.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.csrf = m[1];
    return { status: r.status, location: r.headers.get('location'), setCookie: set, text };
  }
}

async function signedIn(user: string, password: string): Promise<Visitor> {
  const v = new Visitor();
  await v.get('/dashboard/login');
  const r = await v.post('/dashboard/login', { username: user, password });
  expect(r).toMatchObject({ status: 303, location: '/dashboard/' });
  return v;
}

describe('dashboard pages over HTTP', () => {
  it('sends anonymous visitors to a password sign-in; the cookie is HttpOnly, SameSite=Lax, Secure behind HTTPS', async () => {
    const v = new Visitor();
    const first = await v.get('/dashboard/infrastructures');
    expect(first.location).toBe('/dashboard/login');
    expect((await v.get('/dashboard/login')).text).toContain('name="password"');
    expect(first.setCookie).toMatch(/^tosca_im_dashboard=[\w-]+; Path=\/dashboard; HttpOnly; SameSite=Lax$/);
    const behindProxy = await new Visitor().get('/dashboard/login', { 'x-forwarded-proto': 'https' });
    expect(behindProxy.setCookie).toMatch(/; Secure/);
  });

  it('refuses a form without the session\'s CSRF token, and rotates the session at sign-in', async () => {
    const v = new Visitor();
    await v.get('/dashboard/login');
    const before = v.cookie;
    expect((await v.post('/dashboard/login', { username: 'a', password: 'b' }, 'forged')).status).toBe(403);
    expect((await v.post('/dashboard/login', { username: 'a', password: 'b' })).status).toBe(303);
    expect(v.cookie).not.toBe(before);
    expect((await v.post('/dashboard/logout', {}, 'forged')).status).toBe(403);
    expect((await v.post('/dashboard/logout', {})).location).toBe('/dashboard/login');
    expect((await v.get('/dashboard/')).location).toBe('/dashboard/login');
  });

  it('shows what the same IM user made through the REST API, and nobody else\'s', async () => {
    const made = await call(srv.url, 'POST', '/infrastructures', {
      auth: imAuth('carol', 'carol-pw', 'id = dummy; type = Dummy'), type: 'text/yaml',
      body: 'tosca_definitions_version: tosca_simple_yaml_1_0\ntopology_template:\n  node_templates:\n    vm:\n      type: tosca.nodes.Compute\n',
    });
    const id = made.text.trim().split('/').pop()!;
    expect((await (await signedIn('carol', 'carol-pw')).get('/dashboard/infrastructures')).text).toContain(id);
    const other = await signedIn('carol', 'another password');
    expect((await other.get('/dashboard/infrastructures')).text).not.toContain(id);
    expect((await other.get(`/dashboard/infrastructures/${id}`)).status).toBe(404);

    // Shared with a person who has signed in: now they see it.
    const grace = await signedIn('grace', 'pw');
    const owner = await signedIn('carol', 'carol-pw');
    await owner.get(`/dashboard/infrastructures/${id}`);
    expect((await owner.post(`/dashboard/infrastructures/${id}/share`, { name: 'nobody' })).text).toContain('Nobody named');
    expect((await owner.post(`/dashboard/infrastructures/${id}/share`, { name: 'grace' })).status).toBe(303);
    expect((await grace.get('/dashboard/infrastructures')).text).toContain(id);
  });

  it('runs the infrastructure actions from its page: power, reconfigure, add and remove nodes, delete after confirmation', async () => {
    const auth = imAuth('heidi', 'heidi-pw', 'id = dummy; type = Dummy');
    const made = await call(srv.url, 'POST', '/infrastructures', {
      auth, type: 'text/yaml',
      body: 'tosca_definitions_version: tosca_simple_yaml_1_0\ntopology_template:\n  node_templates:\n    vm:\n      type: tosca.nodes.Compute\n      capabilities:\n        scalable:\n          properties:\n            count: 1\n',
    });
    const id = made.text.trim().split('/').pop()!;
    const base = `/dashboard/infrastructures/${id}`;
    const v = await signedIn('heidi', 'heidi-pw');
    expect((await v.get(base)).text).toContain('<option>vm</option>');
    for (const action of ['stop', 'start', 'reboot', 'reconfigure']) {
      expect((await v.post(`${base}/${action}`, {})).location).toBe(base);
    }
    expect((await v.post(`${base}/add`, { node: 'vm', count: '0' })).status).toBe(400);
    expect((await v.post(`${base}/add`, { node: 'nope', count: '1' })).text).toContain('No node type &#34;nope&#34;');
    expect((await v.post(`${base}/add`, { node: 'vm', count: '2' })).status).toBe(303);
    const vmCount = async () => (await call(srv.url, 'GET', `/infrastructures/${id}`, { auth })).text.trim().split('\n').length;
    for (let i = 0; i < 100 && (await vmCount()) < 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await vmCount()).toBe(3);
    expect((await v.post(`${base}/remove`, { vm: '2' })).status).toBe(303);
    expect(await vmCount()).toBe(2);
    expect((await v.get(`${base}/delete`)).text).toContain('Delete it');
    expect((await v.post(`${base}/delete`, {})).location).toBe('/dashboard/infrastructures');
    for (let i = 0; i < 100 && (await call(srv.url, 'GET', `/infrastructures/${id}`, { auth })).status !== 404; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await call(srv.url, 'GET', `/infrastructures/${id}`, { auth })).status).toBe(404);
  });

  it('offers fragments on their parent\'s card and merges them into its form (inputs and tabs)', async () => {
    const v = await signedIn('dave', 'pw');
    const cards = (await v.get('/dashboard/')).text;
    expect(cards.match(/class="card"/g)).toHaveLength(2);
    expect(cards).toContain('/dashboard/catalogue/elastic-cluster.yaml?with=cluster-scratch-disk.yaml');
    const merged = (await v.get('/dashboard/catalogue/elastic-cluster.yaml?with=cluster-scratch-disk.yaml')).text;
    expect(merged).toContain('data-tab-name="Scratch disk"');
    expect(merged).toMatch(/<select id="in-scratch_size" name="scratch_size"[^>]*>/);
    expect((await v.get('/dashboard/catalogue/elastic-cluster.yaml?with=single-vm.yaml')).status).toBe(404);
  });

  it('checks launch values again on the server and names every problem', async () => {
    const v = await signedIn('erin', 'pw');
    await v.get('/dashboard/catalogue/single-vm.yaml');
    const r = await v.post('/dashboard/catalogue/single-vm.yaml', { num_cpus: '64', mem_size: '3 GB', image: '' });
    expect(r.status).toBe(400);
    expect(r.text).toContain('num cpus: must be at most 32');
    expect(r.text).toContain('mem size: choose one of 1 GB, 2 GB, 4 GB, 8 GB, 16 GB');
    expect(r.text).toContain('image: a value is required');
    expect(r.text).toContain('Cloud credential: choose one of yours');
  });

  it('keeps credentials sealed: never shown back, not in the state file in clear', async () => {
    const v = await signedIn('frank', 'pw');
    await v.get('/dashboard/credentials/new?type=OpenStack');
    const form = { type: 'OpenStack', name: 'mine', host: 'http://127.0.0.1:1/identity', username: 'u', tenant: 't' };
    expect((await v.post('/dashboard/credentials', form)).status).toBe(400); // no password
    expect((await v.post('/dashboard/credentials', { ...form, password: 'pa55-w0rd-xyz' })).status).toBe(303);
    const list = await v.get('/dashboard/credentials');
    expect(list.text).toContain('mine');
    const edit = await v.get(list.text.match(/href="(\/dashboard\/credentials\/[^"]+\/edit)"/)![1]);
    expect(edit.text).not.toContain('pa55-w0rd-xyz');
    expect(readFileSync(path.join(dir, 'dashboard.json'), 'utf8')).not.toContain('pa55-w0rd-xyz');
  });
});
