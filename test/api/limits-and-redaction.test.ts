/**
 * Small pieces behind the robustness guarantees: the body limit is read strictly (an unreadable
 * one used to mean "no limit" to the body parser), secrets are masked in errors where they are born,
 * and caller-written regular expressions run under a time limit.
 */
import { readConfig, UsageError } from '../../cli/serve';
import { parseByteSize } from '../../server/api/body';
import { credentialSecrets, maskingConnector, redact } from '../../lib/redact';
import { linearRegex, testAll, UnsupportedRegexError } from '../../tosca/regex';
import type { CloudCredential } from '../../connectors/types';
import { parseYaml } from '../../tosca/yaml/source';

describe('the body limit', () => {
  it.each([['1mb', 1048576], ['512kb', 524288], ['100', 100], ['1.5MB', 1572864], [' 2 gb ', 2 * 1024 ** 3]])('reads %p', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['lots', '', '-1mb', '1tb', '1 m b'])('refuses --body-limit %p at start', (text) => {
    expect(() => readConfig(['--body-limit', text], {})).toThrow(UsageError);
  });
});

describe('secret masking', () => {
  const creds: CloudCredential[] = [
    { id: 'ost', type: 'OpenStack', fields: { host: 'https://keystone', username: 'demo', password: 'pa55word', tenant: 'demo' } },
    { id: 'aws', type: 'EC2', fields: { username: 'AKID', password: 'pa55', token: 'tok' } },
  ];

  it('masks the values of secret fields only (long enough to be secrets), longest first', () => {
    expect(credentialSecrets(creds)).toEqual(['pa55word', 'pa55']);
    expect(redact("'pa55word' and pa55 at https://keystone for demo", credentialSecrets(creds))).toBe("'***' and *** at https://keystone for demo");
  });

  it('masks what a connector throws or rejects with, keeping the error class', async () => {
    class CloudFailure extends Error {}
    const conn = maskingConnector({
      sync(): never { throw new CloudFailure('bad password pa55word'); },
      async later(): Promise<never> { throw new CloudFailure('pa55word is too short'); },
      value: 3,
    }, credentialSecrets(creds));
    expect(() => conn.sync()).toThrow(new CloudFailure('bad password ***'));
    await expect(conn.later()).rejects.toThrow('*** is too short');
    await expect(conn.later()).rejects.toBeInstanceOf(CloudFailure);
    expect(conn.value).toBe(3);
  });
});

describe('regular expressions written by callers', () => {
  it('match as usual', () => {
    expect(testAll(linearRegex('^ab+c$'), ['abbc', 'ac'])).toEqual([true, false]);
  });

  it('match in linear time: catastrophic backtracking patterns answer at once', () => {
    const started = Date.now();
    for (const p of ['(a+)+$', '(a|aa)+$', '(a*)*b', '^(\\w+\\s?)*$']) {
      expect(testAll(linearRegex(p), [`${'a'.repeat(100_000)}!`])).toEqual([false]);
    }
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuse lookaround and backreferences with a clear error', () => {
    expect(() => linearRegex('(?=a)b')).toThrow(UnsupportedRegexError);
    expect(() => linearRegex('(a)\\1')).toThrow(/lookaround and backreferences are not supported/);
  });
});

describe('YAML nesting', () => {
  const nested = (n: number) => `x: ${'['.repeat(n)}1${']'.repeat(n)}\n`;

  it('is read up to 100 levels', () => {
    expect(() => parseYaml(nested(99), 't.yaml')).not.toThrow();
  });

  it.each([101, 2_000, 200_000])('is refused at %p levels, with the limit named', (n) => {
    expect(() => parseYaml(nested(n), 't.yaml')).toThrow(/YAML nesting too deep \(over 100 levels\)/);
  });
});
