import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'fs';
import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { fetchText } from '../lib/fetch';
import { parseTemplate, planTemplate } from '.';
import { ImportResolver } from './imports';
import { parseYaml } from './yaml/source';

const HEAD = 'tosca_definitions_version: tosca_simple_yaml_1_0\n';
const TYPES = `${HEAD}node_types:\n  my.Server:\n    derived_from: tosca.nodes.Compute\n`;
const USES = (url: string) => `${HEAD}imports:\n  - t: ${url}\ntopology_template:\n  node_templates:\n    s: { type: my.Server }\n`;

describe('import map', () => {
  const resolver = new ImportResolver({
    importMapDir: '/maps',
    importMap: {
      'https://raw.githubusercontent.com/indigo-dc/tosca-types/{ref}/': 'indigo/',
      'https://raw.githubusercontent.com/indigo-dc/tosca-types/devel/custom_types.yaml': 'indigo/refs/devel/custom_types.yaml',
    },
  });
  test('longest prefix wins; {ref} stands for one branch or tag', () => {
    expect(resolver.mapUrl('https://raw.githubusercontent.com/indigo-dc/tosca-types/devel/custom_types.yaml')).toBe('/maps/indigo/refs/devel/custom_types.yaml');
    expect(resolver.mapUrl('https://raw.githubusercontent.com/indigo-dc/tosca-types/master/custom_types.yaml')).toBe('/maps/indigo/custom_types.yaml');
    expect(resolver.mapUrl('https://raw.githubusercontent.com/indigo-dc/tosca-types/a/b/custom_types.yaml')).toBe('/maps/indigo/b/custom_types.yaml');
    expect(resolver.mapUrl('https://example.org/x.yaml')).toBeUndefined();
  });

  test('relative imports of a file reached by URL resolve against that URL', () => {
    const from = parseYaml(HEAD, 'https://example.org/a/types.yaml', 'https://example.org/a/');
    expect(resolver.locate('../b/more.yaml', from)).toBe('https://example.org/b/more.yaml');
  });
});

describe('import loading', () => {
  test('an unchanged import is parsed once and shared between templates', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tosca-imp-'));
    writeFileSync(path.join(dir, 'types.yaml'), TYPES);
    const r = new ImportResolver();
    const site = { file: parseYaml(HEAD, 'main.yaml', dir), path: ['imports', 0] };
    const a = await r.load(path.join(dir, 'types.yaml'), site);
    const b = await new ImportResolver().load(path.join(dir, 'types.yaml'), site);
    expect(b).toBe(a);
    writeFileSync(path.join(dir, 'types.yaml'), TYPES + '  my.Other:\n    derived_from: tosca.nodes.Root\n');
    const c = await r.load(path.join(dir, 'types.yaml'), site);
    expect(c).not.toBe(a);
  });

  test('a URL import is cached by URL + content hash: same text anywhere is one parse, other text or URL is not', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tosca-imp-'));
    for (const f of ['a.yaml', 'b.yaml']) writeFileSync(path.join(dir, f), TYPES);
    writeFileSync(path.join(dir, 'c.yaml'), TYPES + '  my.Other:\n    derived_from: tosca.nodes.Root\n');
    const url = 'https://types.example.org/v1/types.yaml';
    const via = (file: string, u = url) => new ImportResolver({ importMapDir: dir, importMap: { [u]: file } }).load(u, site);
    const site = { file: parseYaml(HEAD, 'main.yaml', dir), path: ['imports', 0] };
    const first = await via('a.yaml');
    expect(first.name).toBe(url);
    expect(await via('b.yaml')).toBe(first); // another copy, same bytes: no second parse
    expect(await via('c.yaml')).not.toBe(first); // same URL, new content
    const elsewhere = await via('a.yaml', 'https://types.example.org/v2/types.yaml');
    expect(elsewhere).not.toBe(first); // same bytes, other URL: its relative imports resolve elsewhere
    expect(elsewhere.base).toBe('https://types.example.org/v2/');
  });

  test('templates with the same imports share one resolved type registry (type chains resolved once)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tosca-imp-'));
    writeFileSync(path.join(dir, 'types.yaml'), TYPES);
    const a = await parseTemplate(USES('types.yaml'), { baseDir: dir });
    const b = await parseTemplate(USES('types.yaml').replace('s: {', 'other: {'), { baseDir: dir });
    expect(b.registry).toBe(a.registry);
    expect(b.nodes.get('other')!.type).toBe(a.nodes.get('s')!.type);
  });

  describe('download cache (HTTP on 127.0.0.1)', () => {
    let server: Server;
    let hits = 0;
    let base = '';
    beforeAll(async () => {
      server = createServer((req, res) => {
        hits++;
        if (req.url === '/types.yaml') res.end(TYPES);
        else res.writeHead(404).end();
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

    // the test server is on loopback, which the default fetcher refuses
    const loopbackOk = (u: string) => fetchText(u, { allowPrivate: true });

    test('downloads once into cacheDir, then reads the cached copy', async () => {
      const cacheDir = mkdtempSync(path.join(tmpdir(), 'tosca-cache-'));
      const plan = await planTemplate(USES(`${base}/types.yaml`), { cacheDir, fetchText: loopbackOk });
      expect(plan.computes.map((c) => c.type)).toEqual(['my.Server']);
      expect(readdirSync(cacheDir)).toHaveLength(1);
      const before = hits;
      await planTemplate(USES(`${base}/types.yaml`), { cacheDir, fetchText: loopbackOk });
      expect(hits).toBe(before);
    });

    test('a failed download is a located unresolvable-import error', async () => {
      const cacheDir = mkdtempSync(path.join(tmpdir(), 'tosca-cache-'));
      await expect(planTemplate(USES(`${base}/missing.yaml`), { cacheDir, fileName: 'm.yaml', fetchText: loopbackOk })).rejects.toThrow(
        /^m\.yaml:3:5 imports\.0\.t: unresolvable import .*missing\.yaml: download failed: could not fetch URL .*: HTTP 404/,
      );
    });

    test('the default fetcher refuses a loopback address before connecting', async () => {
      const cacheDir = mkdtempSync(path.join(tmpdir(), 'tosca-cache-'));
      const before = hits;
      await expect(planTemplate(USES(`${base}/types.yaml`), { cacheDir })).rejects.toThrow(/private, loopback, link-local or reserved/);
      expect(hits).toBe(before);
    });
  });
});

describe('templates from untrusted authors (localFiles: false)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tosca-conf-'));
  const outside = mkdtempSync(path.join(tmpdir(), 'tosca-outside-'));
  writeFileSync(path.join(outside, 'secret.yaml'), `${HEAD}description: SECRET-OUTSIDE\n`);
  mkdirSync(path.join(dir, 'types'));
  writeFileSync(path.join(dir, 'types', 'types.yaml'), TYPES);
  symlinkSync(path.join(outside, 'secret.yaml'), path.join(dir, 'types', 'link.yaml'));
  const opts = { localFiles: false, importMapDir: dir, importMap: { 'https://types.example.org/': 'types/' } };

  test.each([['/etc/passwd'], ['../../../etc/passwd'], ['file:///etc/passwd'], [path.join(outside, 'secret.yaml')]])(
    'a local path (%s) is refused without reading it', async (spec) => {
      await expect(planTemplate(USES(spec), opts)).rejects.toThrow(/local paths are not allowed/);
    });

  test('a mapped URL cannot leave the map folder by .. (plain or encoded) or a symlink; one message for all', async () => {
    await expect(planTemplate(USES('https://types.example.org/types.yaml'), opts)).resolves.toBeDefined();
    for (const u of ['https://types.example.org/../../../../etc/passwd', 'https://types.example.org/%2e%2e/%2e%2e/etc/passwd',
      'https://types.example.org/link.yaml', 'https://types.example.org/missing.yaml', 'https://types.example.org/']) {
      const err = await planTemplate(USES(u), opts).then(() => undefined, (e: Error) => e);
      expect(err?.message).toMatch(/not found in the import map|not in the import map/);
      expect(err?.message).not.toMatch(/SECRET-OUTSIDE|root:|ENOENT|EISDIR/);
    }
  });
});
