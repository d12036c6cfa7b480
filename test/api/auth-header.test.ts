import { parseAuthorizationHeader } from '../../server/auth/header';
import { CallerResolver, callerFromHeader } from '../../server/auth/caller';
import { ownerId } from '../../server/auth/owner';
import { InvalidInputError, UnauthorizedError } from '../../server/errors';

/** The example authorization file of IM's doc/source/client.rst, sent the way IM clients send it. */
const CLIENT_RST_FILE = [
  '# OpenNebula site',
  'id = one; type = OpenNebula; host = osenserver:2633; username = user; password = pass',
  '# OpenStack site using standard user, password, tenant format',
  'id = ost; type = OpenStack; host = https://ostserver:5000; username = user; password = pass; tenant = tenant',
  '# IM auth data ',
  'id = im; type = InfrastructureManager; username = user; password = pass',
  '# EC2 auth data',
  'id = ec2; type = EC2; username = ACCESS_KEY; password = SECRET_KEY',
  'id = otc; type = OpenStack; host = https://iam.eu-de.otc.t-systems.com:443 ; username = user; password = pass; tenant = tenant; domain = domain; auth_version = 3.x_password; service_name = None; service_region = eu-de',
].join('\n');

describe('IM Authorization header', () => {
  it('reads the client.rst example joined with the two characters \\n, as im_client does', () => {
    const header = CLIENT_RST_FILE.replace(/\n/g, '\\n');
    const auth = parseAuthorizationHeader(header);
    expect(auth.identity).toEqual({ kind: 'password', username: 'user', password: 'pass' });
    expect(auth.credentials.map((c) => [c.id, c.type])).toEqual([
      ['one', 'OpenNebula'], ['ost', 'OpenStack'], ['ec2', 'EC2'], ['otc', 'OpenStack'],
    ]);
    expect(auth.credentials[1].fields).toEqual({ host: 'https://ostserver:5000', username: 'user', password: 'pass', tenant: 'tenant' });
    expect(auth.credentials[3].fields.host).toBe('https://iam.eu-de.otc.t-systems.com:443');
    expect(auth.credentials[3].fields.service_name).toBe('None');
  });

  it('reads the header exactly as imclient.py builds it ("k = v;" per pair, "\\n" after each line)', () => {
    // imclient/imclient.py IMClient.__init__: for each line, "%s = %s;" per key, then the two characters \n;
    // newlines inside values become the three characters \\n.
    const lines = [
      { id: 'im', type: 'InfrastructureManager', username: 'user', password: 'pass' },
      { id: 'ost', type: 'OpenStack', host: 'https://ostserver:5000', username: 'user', password: 'pass', tenant: 'tenant' },
      { id: 'd', type: 'Dummy', private_key: '-----BEGIN KEY-----\nabc\n-----END KEY-----' },
    ];
    const header = lines.map((l) => Object.entries(l).map(([k, v]) => `${k} = ${v.replace(/\n/g, '\\\\n')};`).join('') + '\\n').join('');
    const auth = parseAuthorizationHeader(header);
    expect(auth.identity).toEqual({ kind: 'password', username: 'user', password: 'pass' });
    expect(auth.credentials).toEqual([
      { id: 'ost', type: 'OpenStack', fields: { host: 'https://ostserver:5000', username: 'user', password: 'pass', tenant: 'tenant' } },
      { id: 'd', type: 'Dummy', fields: { private_key: '-----BEGIN KEY-----\nabc\n-----END KEY-----' } },
    ]);
  });

  it('reads real newlines too, and CRLF', () => {
    const auth = parseAuthorizationHeader(CLIENT_RST_FILE.replace(/\n/g, '\r\n'));
    expect(auth.credentials).toHaveLength(4);
  });

  it('keeps ; and the other quote inside quoted values, drops the quotes (client.rst)', () => {
    const auth = parseAuthorizationHeader(
      `type = InfrastructureManager; username = u; password = 'some;"password'\\n` +
      `id = a; type = Dummy; password = "some;'password"; token = x=y==`,
    );
    expect(auth.identity).toEqual({ kind: 'password', username: 'u', password: 'some;"password' });
    expect(auth.credentials[0].fields).toEqual({ password: "some;'password", token: 'x=y==' });
  });

  it('turns \\\\n inside a value into a newline (keys and certificates)', () => {
    const auth = parseAuthorizationHeader('type = InfrastructureManager; token = t\\nid = d; type = Dummy; key = L1\\\\nL2');
    expect(auth.credentials[0].fields.key).toBe('L1\nL2');
  });

  it('takes a token as identity', () => {
    const auth = parseAuthorizationHeader('type = InfrastructureManager; token = abc.def.ghi');
    expect(auth.identity).toEqual({ kind: 'token', username: '', token: 'abc.def.ghi' });
  });

  it('accepts Basic and Bearer as IM does', () => {
    const basic = parseAuthorizationHeader(`Basic ${Buffer.from('ann:s3:cret').toString('base64')}`);
    expect(basic.identity).toEqual({ kind: 'password', username: 'ann', password: 's3:cret' });
    expect(parseAuthorizationHeader('Bearer tok').identity).toEqual({ kind: 'token', username: '', token: 'tok' });
  });

  it('gives a line without id a stable id from its type', () => {
    const auth = parseAuthorizationHeader('type = InfrastructureManager; username = u; password = p\\ntype = Dummy');
    expect(auth.credentials[0]).toEqual({ id: 'dummy2', type: 'Dummy', fields: {} });
  });

  it.each([
    [undefined, UnauthorizedError, /No authentication data provided/],
    ['  ', UnauthorizedError, /No authentication data provided/],
    ['id = one; type = Dummy', UnauthorizedError, /No credentials provided for the InfrastructureManager/],
    ['type = InfrastructureManager; password = p', UnauthorizedError, /No username nor token/],
    ['type = InfrastructureManager; username = u', UnauthorizedError, /No password/],
  ])('refuses %p with 401', (header, cls, message) => {
    expect(() => parseAuthorizationHeader(header)).toThrow(cls);
    expect(() => parseAuthorizationHeader(header)).toThrow(message);
  });

  it('names the malformed line (400) without echoing its secrets', () => {
    const header = 'type = InfrastructureManager; username = u; password = p\\nid = a; type = OpenStack; hunter2secret';
    let err: unknown;
    try { parseAuthorizationHeader(header); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toBe('Malformed Authorization header: line 2 (type = OpenStack): item 3 is not "key = value"');
    expect((err as Error).message).not.toContain('hunter2');
  });

  it.each([
    ['type = InfrastructureManager; username = u; password = \'open', /line 1: a quoted value is not closed/],
    ['type = InfrastructureManager; username = u; password = p\\nusername = x', /line 2: it has no "type"/],
    ['type = InfrastructureManager; username = u; username = v; password = p', /key "username" appears twice/],
  ])('refuses %p with 400', (header, message) => {
    expect(() => parseAuthorizationHeader(header)).toThrow(InvalidInputError);
    expect(() => parseAuthorizationHeader(header)).toThrow(message);
  });

  it('counts comment lines in line numbers', () => {
    expect(() => parseAuthorizationHeader('# c\\ntype = InfrastructureManager; token = t\\nbad')).toThrow(/line 3/);
  });
});

describe('owner id', () => {
  const ann = { kind: 'password', username: 'ann', password: 'pw' } as const;

  it('is stable for the same line and key, and never contains the password', () => {
    const a = ownerId('k', ann);
    expect(ownerId('k', { ...ann })).toBe(a);
    expect(a).not.toContain('pw');
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differs by password, by user, by key, and between token and password', () => {
    const a = ownerId('k', ann);
    expect(ownerId('k', { ...ann, password: 'pw2' })).not.toBe(a);
    expect(ownerId('k', { ...ann, username: 'ann2' })).not.toBe(a);
    expect(ownerId('k2', ann)).not.toBe(a);
    expect(ownerId('k', { kind: 'password', username: 'an', password: 'npw' })).not.toBe(a);
    expect(ownerId('k', { kind: 'oidc', issuer: '', sub: 'pw' })).not.toBe(ownerId('k', { kind: 'password', username: '', password: 'pw' }));
    expect(ownerId('k', { kind: 'oidc', issuer: 'https://a', sub: 'b' })).not.toBe(ownerId('k', { kind: 'oidc', issuer: 'https://ab', sub: '' }));
  });

  it('is the same whether the line comes as a header line or as Basic', () => {
    const line = callerFromHeader('type = InfrastructureManager; username = ann; password = pw', 'k');
    const basic = callerFromHeader(`Basic ${Buffer.from('ann:pw').toString('base64')}`, 'k');
    expect(basic.owner).toBe(line.owner);
    expect(line.username).toBe('ann');
  });
});

describe('CallerResolver', () => {
  const header = (user: string) => `type = InfrastructureManager; username = ${user}; password = pw\\nid = d; type = Dummy; x = 1`;

  it('answers the same frozen Caller for the same header, equal to a fresh parse', async () => {
    const cache = new CallerResolver({ ownerKey: 'k' });
    const a = await cache.get(header('ann'));
    expect(await cache.get(header('ann'))).toBe(a);
    expect(a).toEqual(callerFromHeader(header('ann'), 'k'));
    expect(Object.isFrozen(a) && Object.isFrozen(a.credentials) && Object.isFrozen(a.credentials[0].fields)).toBe(true);
  });

  it('keeps at most maxEntries headers, skips long ones, never caches a failure', async () => {
    const cache = new CallerResolver({ ownerKey: 'k' }, 2, 100);
    const first = await cache.get(header('a'));
    await cache.get(header('b'));
    await cache.get(header('c')); // evicts "a"
    expect(await cache.get(header('a'))).not.toBe(first);
    const long = `${header('d')}; pad = ${'x'.repeat(200)}`;
    expect(await cache.get(long)).not.toBe(await cache.get(long));
    await expect(cache.get('type = InfrastructureManager; username = u')).rejects.toThrow(UnauthorizedError);
    await expect(cache.get('type = InfrastructureManager; username = u')).rejects.toThrow(UnauthorizedError);
  });

  it('marks admins, refuses IM\'s OIDC user prefix for password users and tokens without a trusted issuer', async () => {
    const admin = callerFromHeader(header('root'), 'k').owner;
    const cache = new CallerResolver({ ownerKey: 'k', adminOwners: new Set([admin]) });
    expect((await cache.get(header('root'))).admin).toBe(true);
    expect((await cache.get(header('ann'))).admin).toBe(false);
    await expect(cache.get(header('__OPENID__ann'))).rejects.toThrow('Invalid username used for the InfrastructureManager.');
    await expect(cache.get('type = InfrastructureManager; username = alice; token = x')).rejects.toThrow(/trusts no OIDC issuer: .*--oidc-issuers/);
  });
});
