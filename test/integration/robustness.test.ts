/**
 * Bad input against the real `tosca-im serve` process (run from source: real engine, SQLite file,
 * Dummy cloud), over bare sockets so that any byte can be sent. Generated Authorization headers,
 * bodies, paths and query flags must always get a 4xx quickly, in IM's error shape (text, or
 * {"message","code"} when Accept asks for JSON), never echo the secret they carry, and never lose
 * or change the infrastructure they aim at; the process keeps serving and logs no error.
 */
import * as fs from 'node:fs';
import fc from 'fast-check';
import { clusterTemplate, tempDir } from '../engine-fixtures';
import { call, imAuth } from '../api/http';
import { spawnServer, waitFor, type ServerProcess } from './api-harness';
import { rawRequest, type RawReply, type RawRequest } from './raw-http';

const ALICE = imAuth('alice', 'alice-pw', 'id = dummy; type = Dummy');
const MALLORY = imAuth('mallory', 'm-pw', 'id = dummy; type = Dummy');
/** Planted in generated headers: no answer and no log line may repeat it. */
const SECRET = 'FUZZ-S3CRET-7f3a';
const VALID_TOSCA = clusterTemplate(3);
const FLAG_VALUES = new Set(['yes', 'no', 'true', 'false', '1', '0', '']);
/** What node's parser refuses before express (server/api/client-error.ts): text only, Accept unread. */
const PARSER_LEVEL = /^(Bad request: |Request header fields too large|Request chunk extensions too large|Request timeout|Method CONNECT not allowed)/;

jest.setTimeout(120_000);

let srv: ServerProcess;
let aliceInf: string;
let before: Snapshot;
const dataDir = tempDir('tosca-im-robust-');

interface Snapshot { state: unknown; vms: string; tosca: string }

async function snapshot(): Promise<Snapshot> {
  const base = `/infrastructures/${aliceInf}`;
  const state = await call(srv.url, 'GET', `${base}/state`, { auth: ALICE, accept: 'application/json' });
  const vms = await call(srv.url, 'GET', base, { auth: ALICE });
  const tosca = await call(srv.url, 'GET', `${base}/tosca`, { auth: ALICE });
  expect([state.status, vms.status, tosca.status]).toEqual([200, 200, 200]);
  return { state: state.json(), vms: vms.text, tosca: tosca.text };
}

beforeAll(async () => {
  srv = await spawnServer(dataDir, ['--log-level', 'trace'], {}, { fromSource: true });
  const r = await call(srv.url, 'POST', '/infrastructures', { auth: ALICE, type: 'text/yaml', body: clusterTemplate(1) });
  expect(r.status).toBe(200);
  aliceInf = r.headers.get('InfID')!;
  await waitFor('configured', async () => {
    const st = await call(srv.url, 'GET', `/infrastructures/${aliceInf}/state`, { auth: ALICE, accept: 'application/json' });
    return st.json().state.state === 'configured' ? true : undefined;
  });
  before = await snapshot();
  expect(before.vms.split('\n')).toHaveLength(2);
});

afterAll(async () => {
  const code = await srv?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  expect(code).toBe(0);
});

afterEach(async () => {
  // Whatever was sent, the process is alive, serving, and Alice's infrastructure is as it was.
  expect(srv.child.exitCode).toBeNull();
  expect(await snapshot()).toEqual(before);
});

/** A 4xx in IM's shape, in time, that repeats no secret. */
function expectRefused(req: RawRequest, reply: RawReply): void {
  const what = `${req.method} ${req.path.slice(0, 120)} → ${reply.status} ${reply.text.slice(0, 200)}`;
  expect({ what, ok: reply.status >= 400 && reply.status < 500 }).toEqual({ what, ok: true });
  expect(reply.text).not.toContain(SECRET);
  expect(reply.text).not.toContain('alice-pw');
  const acceptsJson = String(req.headers?.Accept ?? '').includes('application/json');
  if (reply.type === 'application/json') {
    expect(acceptsJson).toBe(true);
    const body = JSON.parse(reply.text) as { message: unknown; code: unknown };
    expect(Object.keys(body).sort()).toEqual(['code', 'message']);
    expect(body.code).toBe(reply.status);
    expect(typeof body.message === 'string' && body.message.length > 0).toBe(true);
  } else if (reply.type === 'text/html') {
    // IM's HTML error page, for a client that asks for HTML and not JSON.
    expect(String(req.headers?.Accept)).toContain('text/html');
    expect(reply.text).toContain(`<h1>Code: ${reply.status}.</h1>`);
  } else {
    expect({ what, type: reply.type }).toEqual({ what, type: 'text/plain' });
    expect(reply.text.length).toBeGreaterThan(0);
    // A JSON client gets JSON unless node refused the request before its Accept could be read.
    if (acceptsJson) expect(reply.text).toMatch(PARSER_LEVEL);
  }
}

async function refused(req: RawRequest): Promise<void> {
  expectRefused(req, await rawRequest(srv.url, req));
}

const accept = fc.constantFrom(undefined, 'application/json', 'text/plain', '*/*', 'text/html', 'application/json, text/plain');

// ---- Authorization headers --------------------------------------------------------------------

const word = fc.string({ maxLength: 12 });
const anyChars = fc.string({ unit: 'binary', maxLength: 40 });
const controlChars = fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 8 });
const value = fc.oneof(word, anyChars, controlChars, fc.constant(SECRET), word.map((w) => `'${w}`), word.map((w) => `"${w};${SECRET}"`));
const item = fc.oneof(
  fc.tuple(fc.constantFrom('type', 'id', 'username', 'password', 'token', 'host', 'tenant', 'auth_version', 'x'), value)
    .map(([k, v]) => `${k} = ${v}`),
  fc.tuple(word, value).map(([k, v]) => `${k}=${v}`),
  value, // no "="
  fc.constant('type = InfrastructureManager'),
  fc.tuple(word, value).map(([u, p]) => `type = InfrastructureManager; username = ${u}; password = ${p}${SECRET}`),
);
const line = fc.array(item, { minLength: 1, maxLength: 5 }).map((items) => items.join('; '));
const separator = fc.constantFrom('\\n', '\n', '\r\n', '\\\\n', '\r\n ', ' \\n ');
const structured = fc.tuple(fc.array(line, { minLength: 1, maxLength: 5 }), separator).map(([lines, sep]) => lines.join(sep));
const authorization = fc.oneof(
  structured,
  anyChars,
  controlChars.map((c) => `type = InfrastructureManager; username = a${c}; password = ${SECRET}`),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((u) => Buffer.from(`type = InfrastructureManager; username = ${u}; password = ${SECRET}${u}`, 'utf8')),
  fc.integer({ min: 2_000, max: 40_000 }).map((n) => `type = InfrastructureManager; username = big; password = ${SECRET}${'x'.repeat(n)}`),
  anyChars.map((s) => `Basic ${Buffer.from(`${s}${SECRET}`).toString('base64')}`),
  anyChars.map((s) => `Basic ${s}`),
  anyChars.map((s) => `Bearer ${SECRET}${s}`),
  fc.constant(''),
);
/** Routes on Alice's infrastructure: another identity (or none) must not reach it. */
const aimedAtAlice = fc.constantFrom<[string, string, string?]>(
  ['GET', '/state'], ['GET', '/data?delete=yes'], ['GET', '/vms/0'], ['DELETE', '?force=yes'], ['PUT', '/stop'],
  ['POST', '', VALID_TOSCA], ['DELETE', '/vms/0'], ['PUT', '/reconfigure'],
);

it('refuses generated Authorization headers with a 4xx, echoing none of them', async () => {
  await fc.assert(fc.asyncProperty(authorization, aimedAtAlice, accept, async (auth, [method, suffix, body], acc) => {
    await refused({
      method,
      path: `/infrastructures/${aliceInf}${suffix}`,
      headers: { Authorization: auth, Accept: acc, 'Content-Type': body ? 'text/yaml' : undefined },
      body,
    });
  }), { numRuns: 300 });
});

// ---- bodies -----------------------------------------------------------------------------------

const TOSCA_HEAD = 'tosca_definitions_version: tosca_simple_yaml_1_0\n';
/** Billion laughs: `levels` of `width` aliases each; the version ends up a list, never valid. */
const yamlBomb = fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 })).map(([levels, width]) => {
  const out = [`a0: &a0 [${Array(width).fill('"lol"').join(',')}]`];
  for (let i = 1; i <= levels; i++) out.push(`a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(',')}]`);
  return `${out.join('\n')}\ntosca_definitions_version: *a${levels}\n`;
});
const deepFlow = fc.tuple(fc.integer({ min: 1_000, max: 60_000 }), fc.constantFrom('[', '{a: ')).map(([n, open]) =>
  `tosca_definitions_version: ${open.repeat(n)}1${(open === '[' ? ']' : '}').repeat(n)}\n`);
const deepBlock = fc.integer({ min: 50, max: 1_400 }).map((n) =>
  `tosca_definitions_version:\n${Array.from({ length: n }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n')} 1\n`);
/** Deep but otherwise valid: parses, then used to overflow the stack of GET /tosca (500). */
const deepValid = fc.tuple(fc.integer({ min: 101, max: 3_000 }), fc.constantFrom('[', '{a: ')).map(([n, open]) =>
  `${TOSCA_HEAD}metadata: {x: ${open.repeat(n)}1${(open === '[' ? ']' : '}').repeat(n)}}\n` +
  'topology_template:\n  node_templates:\n    front:\n      type: tosca.nodes.Compute\n');
/** More VMs than a template may ask for (1,000): used to stall the server building a billion rows. */
const countNode = (name: string, count: string) =>
  `    ${name}:\n      type: tosca.nodes.Compute\n      capabilities:\n        scalable:\n          properties:\n            count: ${count}\n`;
const hugeCount = fc.oneof(
  fc.oneof(fc.integer({ min: 1_001, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -1_000_000, max: -1 })).map(String),
  fc.constantFrom('1e9', '1e20', '1.5', '.inf', '-.inf', '.nan'),
).map((count) => `${TOSCA_HEAD}topology_template:\n  node_templates:\n${countNode('front', count)}`);
const tooManyInAll = fc.integer({ min: 2, max: 20 }).map((nodes) => {
  const each = Math.ceil(1_001 / nodes);
  return `${TOSCA_HEAD}topology_template:\n  node_templates:\n${Array.from({ length: nodes }, (_, i) => countNode(`n${i}`, String(each))).join('')}`;
});
const hugeLine = fc.integer({ min: 1_100_000, max: 1_500_000 }).map((n) => `${TOSCA_HEAD}description: ${'x'.repeat(n)}\n`);
const randomBytes = fc.uint8Array({ maxLength: 2_000 }).map((b) => Buffer.from(b));
const notTosca = fc.oneof(
  randomBytes,
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.json().map((j) => `${j}\n`),
  fc.constant(`${TOSCA_HEAD}topology_template:\n  node_templates:\n    front:\n      type: tosca.nodes.Nope\n`),
  yamlBomb, deepFlow, deepBlock, deepValid, hugeLine, hugeCount, tooManyInAll,
);
/** Types create/add never take, even with a valid template. */
const refusedType = fc.oneof(
  fc.constantFrom('application/json', 'image/png', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
    'application/octet-stream', 'text/html', ';;;', 'text/yaml; charset=foobar', 'text/yaml; charset=utf-16le'),
  fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z.+-]{1,10}$/)).map(([a, b]) => `${a}/${b}`)
    .filter((t) => !['text/yaml', 'text/x-yaml', 'application/yaml', 'text/plain', 'text/*'].includes(t)),
);
const badBody = fc.oneof(
  fc.tuple(notTosca, fc.constantFrom('text/yaml', 'application/yaml', 'text/x-yaml', 'text/plain', undefined)),
  fc.tuple(fc.constant(VALID_TOSCA), refusedType),
  // RADL is IM's language for any other type (or none): malformed RADL is a 400, never a crash
  fc.tuple(fc.constantFrom('system front ( cpu.count >= )\ndeploy front 1\n', 'network public ( outbound = \'yes\'\n', 'system front ( cpu.count >= 1 )\ndeploy front many\n'), fc.constantFrom('text/plain', undefined)),
  fc.tuple(fc.constant(VALID_TOSCA), fc.constant('text/yaml')).map(([b, t]) => [b, t, { 'Content-Encoding': 'gzip' }] as const),
  fc.tuple(fc.constant(VALID_TOSCA), fc.constant('text/yaml')).map(([b, t]) => [b, t, { 'Content-Encoding': 'br' }] as const),
);

it('refuses generated create and add bodies with a 4xx', async () => {
  const target = fc.constantFrom('/infrastructures', `/infrastructures/{inf}`);
  await fc.assert(fc.asyncProperty(badBody, target, accept, async (b, path, acc) => {
    const [body, type, extra] = b as readonly [string | Buffer, string | undefined, Record<string, string>?];
    await refused({
      method: 'POST', path: path.replace('{inf}', aliceInf),
      headers: { Authorization: ALICE, Accept: acc, 'Content-Type': type, ...extra }, body,
    });
  }), { numRuns: 100 });
});

it('refuses generated import, reconfigure and alter bodies with a 4xx', async () => {
  const route = fc.constantFrom(['PUT', '/infrastructures'], ['PUT', '/infrastructures/{inf}/reconfigure'], ['PUT', '/infrastructures/{inf}/vms/0']);
  const body = fc.oneof(randomBytes.filter((b) => b.toString().trim() !== ''), fc.json().filter((j) => j.trim() !== ''), yamlBomb, deepFlow);
  await fc.assert(fc.asyncProperty(route, body, fc.constantFrom('application/json', 'text/plain', 'text/yaml', undefined), accept, async ([method, path], b, type, acc) => {
    await refused({ method, path: path.replace('{inf}', aliceInf), headers: { Authorization: ALICE, Accept: acc, 'Content-Type': type }, body: b });
  }), { numRuns: 100 });
});

// ---- paths and query flags --------------------------------------------------------------------

const badFlag = fc.oneof(
  fc.string({ maxLength: 10 }).filter((s) => !FLAG_VALUES.has(s.trim().toLowerCase())).map(encodeURIComponent),
  fc.constantFrom('maybe', '%ZZ', '%00', '2', 'yes%00', 'ye%73s', '..', 'true&{name}=1', '1&{name}=maybe'),
);
/** Every one of these would change Alice's infrastructures if its bad flag were taken as yes or no. */
const flagRoutes = fc.constantFrom<[string, string, string, string?]>(
  ['DELETE', '{inf}', 'async'], ['DELETE', '{inf}', 'force'], ['GET', '{inf}/data', 'delete'], ['DELETE', '{inf}/vms/0', 'context'],
  ['POST', '{inf}', 'context', VALID_TOSCA], ['POST', '', 'dry_run', VALID_TOSCA], ['POST', '', 'async', VALID_TOSCA],
  ['GET', '{inf}/contmsg', 'headeronly'], ['DELETE', '{inf}', 'release_floating_ips'],
);

it('refuses bad query flags with a 400, before doing anything', async () => {
  const listed = (await call(srv.url, 'GET', '/infrastructures', { auth: ALICE })).text;
  await fc.assert(fc.asyncProperty(flagRoutes, badFlag, accept, async ([method, suffix, name, body], v, acc) => {
    const query = `${name}=${v.replace(/\{name\}/g, name)}`;
    const path = `/infrastructures${suffix ? `/${suffix.replace('{inf}', aliceInf)}` : ''}?${query}`;
    await refused({ method, path, headers: { Authorization: ALICE, Accept: acc, 'Content-Type': body ? 'text/yaml' : undefined }, body });
  }), { numRuns: 150 });
  // No create slipped through either.
  expect((await call(srv.url, 'GET', '/infrastructures', { auth: ALICE })).text).toBe(listed);
});

/** A real VM id or route word would be a fair request, not junk. */
function isJunk(id: string): boolean {
  let decoded = id;
  try { decoded = decodeURIComponent(id); } catch { /* a bad escape is junk */ }
  return !/^\s*\d+\s*$/.test(decoded) && !/^(state|contmsg|outputs|tosca|radl|data|vms|start|stop|reboot|reconfigure|elasticity|authorization|infrastructures|version|openapi\.yaml|metrics)$/.test(decoded.trim());
}
const junkId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')),
  fc.constantFrom('%00', 'a%00b', '..', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '.', '%', '%E0%A4%A', '-1', '1e3', '0x0', ' 0', '00000000-0000-4000-8000-000000000000'),
  fc.integer({ min: 100, max: 30_000 }).map((n) => 'a'.repeat(n)),
).filter(isJunk);

it('answers junk infrastructure ids, VM ids, properties and vm_list with a 4xx', async () => {
  const shapes = fc.constantFrom(
    'GET /infrastructures/{id}', 'GET /infrastructures/{id}/state', 'DELETE /infrastructures/{id}', 'PUT /infrastructures/{id}/stop',
    'GET /infrastructures/{inf}/vms/{id}', 'PUT /infrastructures/{inf}/vms/{id}/stop', 'DELETE /infrastructures/{inf}/vms/x{id}',
    'GET /infrastructures/{inf}/vms/0/{id}', 'GET /infrastructures/{inf}/vms/{id}/contmsg', 'PUT /infrastructures/{inf}/reconfigure?vm_list=x{id}',
    'GET /infrastructures/{inf}/{id}', 'GET /{id}', 'GET /infrastructures?filter=(a%2B)%2B%24{id}',
  );
  const properties = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'class', 'valueOf', 'prototype');
  await fc.assert(fc.asyncProperty(shapes, fc.oneof(junkId, properties), accept, async (shape, id, acc) => {
    const [method, template] = shape.split(' ');
    const path = template.replace('{inf}', aliceInf).replace('{id}', id);
    if (path.startsWith('/infrastructures?filter=')) {
      // Not a refusal: the filter matches none of Alice's templates, in bounded time.
      const r = await rawRequest(srv.url, { method, path, headers: { Authorization: ALICE, Accept: acc } });
      expect(r.status).toBeLessThan(500);
      expect(r.ms).toBeLessThan(5_000);
      return;
    }
    await refused({ method, path, headers: { Authorization: ALICE, Accept: acc } });
  }), { numRuns: 200 });
});

/** Every path of a JSON document down to depth 4, as key lists. */
function jsonPaths(v: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (prefix.length > 0) out.push(prefix);
  if (prefix.length < 4 && v !== null && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) jsonPaths(child, [...prefix, Array.isArray(v) ? Number(k) : k], out);
  }
  return out;
}

it('imports a tampered export only if every later request about it still works', async () => {
  const exported = (await call(srv.url, 'GET', `/infrastructures/${aliceInf}/data`, { auth: ALICE, accept: 'application/json' })).json().data as string;
  const doc = JSON.parse(exported) as Record<string, unknown>;
  const paths = jsonPaths(doc);
  const replacement = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, -1, 1.5, '', 'x', [], {}, [{}], 'deleting', '../x'));
  const edits = fc.array(fc.tuple(fc.constantFrom(...paths), replacement), { minLength: 1, maxLength: 3 });
  await fc.assert(fc.asyncProperty(edits, async (changes) => {
    const tampered = structuredClone(doc);
    for (const [where, value] of changes) {
      let node = tampered as Record<string | number, unknown>;
      for (const k of where.slice(0, -1)) {
        if (node[k] === null || typeof node[k] !== 'object') { node = {}; break; }
        node = node[k] as Record<string | number, unknown>;
      }
      node[where[where.length - 1]] = value;
    }
    const req = { method: 'PUT', path: '/infrastructures', headers: { Authorization: ALICE, 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(tampered) };
    const r = await rawRequest(srv.url, req);
    if (r.status !== 200) return expectRefused(req, r);
    // Accepted: then it is an infrastructure like any other, down to its last VM.
    const inf = (JSON.parse(r.text) as { uri: string }).uri.split('/').pop()!;
    for (const suffix of ['', '/state', '/contmsg', '/outputs', '/radl', '/tosca', '/data', '/vms/0', '/vms/0/state', '/vms/1']) {
      const got = await rawRequest(srv.url, { method: 'GET', path: `/infrastructures/${inf}${suffix}`, headers: { Authorization: ALICE, Accept: 'application/json' } });
      expect([suffix, got.status < 500]).toEqual([suffix, true]);
    }
    const gone = await rawRequest(srv.url, { method: 'DELETE', path: `/infrastructures/${inf}?force=yes`, headers: { Authorization: ALICE } });
    expect(gone.status).toBe(200);
  }), { numRuns: 120 });
});

it('answers junk on the owner, cloud, snapshot and elasticity routes without a 5xx', async () => {
  const route = fc.constantFrom(
    'PUT /infrastructures/{inf}/elasticity', 'POST /infrastructures/{inf}/authorization', 'GET /infrastructures/{inf}/authorization?{q}',
    'PUT /infrastructures/{inf}/vms/0/disks/{id}/snapshot?image_name={q}', 'PUT /infrastructures/{inf}/vms/{id}/disks/0/snapshot',
    'GET /clouds/{id}/images?filters={q}', 'GET /clouds/dummy/images?filters={q}', 'GET /clouds/{id}/quotas', 'GET /infrastructures/{id}/elasticity',
  );
  const body = fc.oneof(fc.constant(undefined), fc.json({ maxDepth: 3 }), randomBytes, yamlBomb);
  await fc.assert(fc.asyncProperty(route, junkId, badFlag, body, fc.constantFrom('application/json', 'text/plain', 'text/yaml', undefined), accept,
    async (shape, id, q, b, type, acc) => {
      const [method, template] = shape.split(' ');
      const path = template.replace('{inf}', aliceInf).replace('{id}', id).replace('{q}', q);
      const req: RawRequest = { method, path, headers: { Authorization: ALICE, Accept: acc, 'Content-Type': b === undefined ? undefined : type }, body: b };
      const reply = await rawRequest(srv.url, req);
      if (reply.status >= 400) expectRefused(req, reply);
      else expect([path, reply.status]).toEqual([path, 200]);
    }), { numRuns: 150 });
});

it('refuses a burst of 150 concurrent bad requests, each with a 4xx', async () => {
  const authReqs = fc.sample(fc.tuple(authorization, aimedAtAlice), 50).map(([auth, [method, suffix, body]]): RawRequest => ({
    method, path: `/infrastructures/${aliceInf}${suffix}`, headers: { Authorization: auth, 'Content-Type': body ? 'text/yaml' : undefined }, body,
  }));
  const bodyReqs = fc.sample(badBody, 50).map((b): RawRequest => {
    const [body, type, extra] = b as readonly [string | Buffer, string | undefined, Record<string, string>?];
    return { method: 'POST', path: `/infrastructures/${aliceInf}`, headers: { Authorization: ALICE, 'Content-Type': type, ...extra }, body };
  });
  const flagReqs = fc.sample(fc.tuple(flagRoutes, badFlag), 50).map(([[method, suffix, name, body], v]): RawRequest => ({
    method, path: `/infrastructures${suffix ? `/${suffix.replace('{inf}', aliceInf)}` : ''}?${name}=${v.replace(/\{name\}/g, name)}`,
    headers: { Authorization: ALICE, 'Content-Type': body ? 'text/yaml' : undefined }, body,
  }));
  const all = [...authReqs, ...bodyReqs, ...flagReqs];
  const replies = await Promise.all(all.map((r) => rawRequest(srv.url, r, 30_000)));
  replies.forEach((reply, i) => expectRefused(all[i], reply));
});

it('answers a filter with catastrophic backtracking at once (linear-time engine)', async () => {
  // Alice's own template holds the text the pattern backtracks on.
  const bait = `${clusterTemplate(1)}# ${'a'.repeat(40)}!\n`;
  const created = await call(srv.url, 'POST', '/infrastructures', { auth: MALLORY, type: 'text/yaml', body: bait });
  expect(created.status).toBe(200);
  const r = await rawRequest(srv.url, { method: 'GET', path: `/infrastructures?filter=${encodeURIComponent('(a+)+$')}`, headers: { Authorization: MALLORY } });
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(5_000);
});

it('checks a TOSCA pattern constraint with catastrophic backtracking in bounded time (IM accepts the default: a warning)', async () => {
  const template = `${TOSCA_HEAD}topology_template:
  inputs:
    name:
      type: string
      default: ${'a'.repeat(40)}!
      constraints:
        - pattern: "(a+)+$"
  node_templates:
    front:
      type: tosca.nodes.Compute
`;
  const r = await rawRequest(srv.url, { method: 'POST', path: '/infrastructures', headers: { Authorization: ALICE, 'Content-Type': 'text/yaml' }, body: template });
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(5_000);
  const contmsg = await call(srv.url, 'GET', `${new URL(r.text.trim()).pathname}/contmsg`, { auth: ALICE });
  expect(contmsg.text).toMatch(/Warning: .*inputs\.name\.default: .*does not match pattern/);
});

it('answers what node refuses before express in IM\'s text shape', async () => {
  const cases: Array<[Record<string, string | Buffer>, number]> = [
    [{ Authorization: Buffer.from(`type = InfrastructureManager; username = a\u0000; password = ${SECRET}`, 'latin1') }, 400],
    [{ Authorization: `type = InfrastructureManager; username = a; password = ${SECRET}${'x'.repeat(20_000)}` }, 431],
    [{ Authorization: ALICE, 'Content-Length': 'ten' }, 400],
    [{ Authorization: ALICE, method: 'CONNECT' }, 405],
  ];
  for (const [{ method, ...headers }, status] of cases) {
    const req = { method: String(method ?? 'GET'), path: method ? 'example.org:443' : '/infrastructures', headers: { ...headers, Accept: 'application/json' } };
    const r = await rawRequest(srv.url, req);
    expect(r.status).toBe(status);
    expectRefused(req, r);
  }
});

it('keeps serving others while a client holds a request with a body it never finishes', async () => {
  const net = await import('node:net');
  const { hostname, port } = new URL(srv.url);
  const stalled = net.connect(Number(port), hostname);
  await new Promise((r) => stalled.once('connect', r));
  stalled.write(`POST /infrastructures HTTP/1.1\r\nHost: x\r\nAuthorization: ${ALICE}\r\nContent-Type: text/yaml\r\nContent-Length: 9999999\r\n\r\n${TOSCA_HEAD}`);
  try {
    const r = await rawRequest(srv.url, { method: 'GET', path: `/infrastructures/${aliceInf}/state`, headers: { Authorization: ALICE } }, 3_000);
    expect(r.status).toBe(200);
  } finally {
    stalled.destroy();
  }
});

it('kept serving, answered no 5xx, and logged no error and no secret', async () => {
  expect(srv.child.exitCode).toBeNull();
  const log = srv.stderr();
  expect(log).toContain('"msg":"request refused"'); // the trace level was on
  const errors = log.split('\n').filter((l) => /"level":(50|60)/.test(l));
  expect(errors).toEqual([]);
  expect(log).not.toMatch(/"status":5\d\d/);
  expect(log).not.toContain(SECRET);
  expect(log).not.toContain('alice-pw');
});
