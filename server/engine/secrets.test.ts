import * as crypto from 'crypto';
import { SecretBox } from './secrets';

test('seals and opens; a wrong key or tampering is refused without leaking the secret', () => {
  const box = new SecretBox(crypto.randomBytes(32));
  const sealed = box.seal('password=hunter2');
  expect(sealed.startsWith('v1:')).toBe(true);
  expect(sealed).not.toContain('hunter2');
  expect(box.seal('password=hunter2')).not.toBe(sealed); // fresh IV each time
  expect(box.open(sealed)).toBe('password=hunter2');
  expect(box.openJson(box.sealJson([{ id: 'a' }]))).toEqual([{ id: 'a' }]);
  const other = new SecretBox(crypto.randomBytes(32));
  expect(() => other.open(sealed)).toThrow(/wrong server key/);
  const raw = Buffer.from(sealed.slice(3), 'base64');
  raw[raw.length - 1] ^= 1;
  expect(() => box.open('v1:' + raw.toString('base64'))).toThrow(/corrupted/);
  expect(() => box.open('plain')).toThrow(/unknown format/);
  expect(() => new SecretBox(Buffer.alloc(16))).toThrow(/32 bytes/);
});
