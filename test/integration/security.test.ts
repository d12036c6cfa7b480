/**
 * Attacks of a template author / API user on the shared server, through the REST API of the real
 * `tosca-im serve` (from source): local files read through imports and artifacts, request forgery
 * towards loopback, a cloud endpoint's body echoed in a 502, import-map escapes, /metrics, `__proto__`.
 */
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { tempDir } from '../../server/engine/test-fixtures';
import { call, imAuth, type Reply } from '../api/http';
import { spawnServer, type ServerProcess } from './api-harness';

const HEAD = 'tosca_definitions_version: tosca_simple_yaml_1_0\n';
const TYPES = `${HEAD}node_types:\n  my.Server:\n    derived_from: tosca.nodes.Compute\n`;
const importing = (spec: string) => `${HEAD}imports:\n  - t: "${spec}"\ntopology_template:\n  node_templates:\n    s: { type: tosca.nodes.Compute }\n`;
const withArtifact = (impl: string) => `${HEAD}topology_template:
  node_templates:
    s:
      type: tosca.nodes.Compute
      interfaces:
        Standard:
          configure: { implementation: "${impl}" }
`;
const AUTH = imAuth('alice', 'pw', 'id = d; type = Dummy');
const SECRET = 'INTERNAL-ONLY-9f3a';

let srv: ServerProcess;
let open: ServerProcess | undefined;
let dataDir: string;
let mapDir: string;
let internal: Server;
let internalUrl = '';
let hits = 0;

beforeAll(async () => {
  const dir = tempDir('tosca-im-sec-');
  dataDir = path.join(dir, 'data');
  mapDir = path.join(dir, 'map');
  fs.mkdirSync(path.join(mapDir, 'types'), { recursive: true });
  fs.writeFileSync(path.join(mapDir, 'types', 'types.yaml'), TYPES);
  fs.writeFileSync(path.join(mapDir, 'outside.yaml'), `${HEAD}description: ${SECRET}\n`);
  fs.symlinkSync(path.join(mapDir, 'outside.yaml'), path.join(mapDir, 'types', 'link.yaml'));
  fs.writeFileSync(path.join(dir, 'map.json'), JSON.stringify({ 'https://types.example.org/': 'map/types/' }));
  // an "internal" service on loopback: what request forgery would reach
  internal = createServer((req, res) => {
    hits++;
    if (req.url?.startsWith('/types')) res.end(TYPES);
    else res.writeHead(500, { 'content-type': 'text/html' }).end(`<html><body>${SECRET} internal admin page</body></html>`);
  });
  await new Promise<void>((ok) => internal.listen(0, '127.0.0.1', ok));
  internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
  srv = await spawnServer(dataDir, ['--import-map', path.join(dir, 'map.json')], {}, { fromSource: true });
}, 60_000);

afterAll(async () => {
  await srv?.stop();
  await open?.stop();
  internal.closeAllConnections();
  await new Promise<void>((ok) => internal.close(() => ok()));
});

const post = (body: string, base = srv.url): Promise<Reply> =>
  call(base, 'POST', '/infrastructures', { auth: AUTH, type: 'text/yaml', body, accept: 'application/json' });

describe('no local reads in server mode', () => {
  test.each([
    ['/etc/passwd'], ['../../../etc/passwd'], ['file:///etc/passwd'], ['<data>/secret.key'], ['<data>'], ['/nonexistent'],
  ])('import %s: 400 "local paths are not allowed", the same answer whatever exists', async (spec) => {
    const r = await post(importing(spec.replace('<data>', path.resolve(dataDir))));
    expect(r.status).toBe(400);
    expect(r.json().message).toMatch(/local paths are not allowed/);
    expect(r.text).not.toMatch(/root:|ENOENT|EISDIR|EACCES/);
  });

  test.each([['/etc/passwd'], ['<data>/secret.key'], ['../../etc/shadow'], ['file:///etc/hostname']])(
    'artifact implementation %s: 400', async (impl) => {
      const r = await post(withArtifact(impl.replace('<data>', path.resolve(dataDir))));
      expect(r.status).toBe(400);
      expect(r.json().message).toMatch(/local paths are not allowed/);
    });

  test('an import-map URL cannot leave the map folder (.., encoded .., symlink); the mapped file itself works', async () => {
    const ok = await post(importing('https://types.example.org/types.yaml').replace('tosca.nodes.Compute }', 'my.Server }'));
    expect(ok.status).toBe(200);
    for (const u of ['https://types.example.org/link.yaml', 'https://types.example.org/../outside.yaml',
      'https://types.example.org/%2e%2e/%2e%2e/%2e%2e/etc/passwd']) {
      const r = await post(importing(u));
      expect(r.status).toBe(400);
      expect(r.text).not.toContain(SECRET);
      expect(r.text).not.toMatch(/root:/);
    }
  });
});

describe('request forgery', () => {
  test.each([['<internal>/types.yaml'], ['http://localhost:1/x.yaml'], ['http://169.254.169.254/latest/meta-data/'],
    ['http://[::1]:1/x'], ['http://[::ffff:127.0.0.1]:1/x'], ['http://10.0.0.1/x.yaml'], ['gopher://127.0.0.1:1/x']])(
    'import %s is refused before any connection', async (u) => {
      const before = hits;
      const r = await post(importing(u.replace('<internal>', internalUrl)));
      expect(r.status).toBe(400);
      expect(r.json().message).toMatch(/could not fetch URL .*(private, loopback|only http and https)/);
      expect(hits).toBe(before);
    });

  test('a cloud endpoint that answers with its own page: the 502 does not echo its body', async () => {
    const line = `id = ost; type = OpenStack; host = ${internalUrl}/v3; username = demo; password = pw; tenant = demo; domain = Default; auth_version = 3.x_password`;
    const r = await call(srv.url, 'POST', '/infrastructures', {
      auth: imAuth('alice', 'pw', line), type: 'text/yaml', accept: 'application/json',
      body: `${HEAD}topology_template:\n  node_templates:\n    n:\n      type: tosca.nodes.Compute\n      capabilities:\n        os:\n          properties: { image: "ost://127.0.0.1/img" }\n`,
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.text).not.toContain(SECRET);
  });

  test('--allow-private-fetch (the tests\' 127.0.0.1 servers) lets the same import through', async () => {
    open = await spawnServer(path.join(dataDir, '..', 'data-open'), ['--allow-private-fetch'], {}, { fromSource: true });
    const r = await post(importing(`${internalUrl}/types.yaml`).replace('tosca.nodes.Compute }', 'my.Server }'), open.url);
    expect(r.status).toBe(200);
  }, 30_000);
});
