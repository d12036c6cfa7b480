import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { excerpt, fetchText, isPublicAddress } from './fetch';
import { LruBytes } from './lru-bytes';

describe('isPublicAddress', () => {
  test.each([
    '127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1',
    '240.0.0.1', '255.255.255.255', '::1', '::', 'fc00::1', 'fd12::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1',
    '::ffff:7f00:1', '64:ff9b::a00:1', '2001:db8::1', '2002:a00:1::1', 'not-an-ip',
  ])('%s is refused', (ip) => expect(isPublicAddress(ip)).toBe(false));
  test.each(['8.8.8.8', '140.82.112.3', '2a00:1450:4001::1'])('%s is public', (ip) => expect(isPublicAddress(ip)).toBe(true));
});

describe('guardedFetch (HTTP on 127.0.0.1)', () => {
  let server: Server;
  let base = '';
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      const u = req.url ?? '';
      if (u === '/ok') res.end('hello');
      else if (u === '/big') res.end('x'.repeat(2000));
      else if (u === '/chunked-big') { res.write('y'.repeat(1500)); res.end('y'.repeat(1500)); }
      else if (u.startsWith('/loop')) res.writeHead(302, { location: `/loop${Number(u.slice(5) || 0) + 1}` }).end();
      else if (u === '/to-file') res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      else if (u === '/to-ok') res.writeHead(301, { location: '/ok' }).end();
      else if (u === '/secret-401') res.writeHead(401).end('SECRET-BODY');
      else if (u === '/slow') setTimeout(() => res.end('late'), 2000).unref();
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }));
  const open = { allowPrivate: true };

  test('loopback is refused by default, before any connection', async () => {
    const before = hits;
    await expect(fetchText(`${base}/ok`)).rejects.toThrow(/could not fetch URL .*private, loopback/);
    await expect(fetchText('http://localhost:1/')).rejects.toThrow(/private, loopback/);
    await expect(fetchText('http://[::ffff:127.0.0.1]:1/')).rejects.toThrow(/private, loopback/);
    expect(hits).toBe(before);
  });

  test('only http and https', async () => {
    await expect(fetchText('file:///etc/passwd', open)).rejects.toThrow(/only http and https/);
    await expect(fetchText('ftp://127.0.0.1/x', open)).rejects.toThrow(/only http and https/);
  });

  test('allowed: body, redirects followed up to the limit', async () => {
    expect(await fetchText(`${base}/ok`, open)).toBe('hello');
    expect(await fetchText(`${base}/to-ok`, open)).toBe('hello');
    await expect(fetchText(`${base}/loop`, open)).rejects.toThrow(/more than 5 redirects/);
  });

  test('each redirect target is checked again (here: its scheme)', async () => {
    await expect(fetchText(`${base}/to-file`, open)).rejects.toThrow(/only http and https/);
  });

  test('size cap by declared length and by bytes received', async () => {
    await expect(fetchText(`${base}/big`, { ...open, maxBytes: 1000 })).rejects.toThrow(/larger than 1000 bytes/);
    await expect(fetchText(`${base}/chunked-big`, { ...open, maxBytes: 2000 })).rejects.toThrow(/larger than 2000 bytes/);
  });

  test('an error status names the status, never the body; refused and timed out read the same', async () => {
    const e = (await fetchText(`${base}/secret-401`, open).catch((x: Error) => x)) as Error;
    expect(e.message).toMatch(/HTTP 401/);
    expect(e.message).not.toMatch(/SECRET-BODY/);
    const closed = await fetchText('http://127.0.0.1:1/', open).catch((x: Error) => x.message);
    const slow = await fetchText(`${base}/slow`, { ...open, totalTimeoutMs: 200 }).catch((x: Error) => x.message);
    expect(closed.replace(/http:\S+/, 'U')).toBe(slow.replace(/http:\S+/, 'U'));
  });
});

test('excerpt escapes control characters and markup and cuts', () => {
  expect(excerpt('a\nb<script>"', 100)).toBe('a\\u000ab\\u003cscript\\u003e\\u0022');
  expect(excerpt('x'.repeat(100), 10)).toBe('xxxxxxxxxx…');
});

test('LruBytes drops the least recently used until under its byte bound', () => {
  const c = new LruBytes<string>(10);
  c.set('a', 'a', 4);
  c.set('b', 'b', 4);
  c.get('a');
  c.set('c', 'c', 4);
  expect([c.get('a'), c.get('b'), c.get('c')]).toEqual(['a', undefined, 'c']);
  c.set('huge', 'h', 11);
  expect(c.get('huge')).toBeUndefined();
  expect(c.bytes).toBe(8);
});
