/**
 * The server key (32 bytes): seals cloud credentials at rest (engine) and keys the owner ids.
 * From TOSCA_IM_SECRET_KEY (64 hex characters or base64), else a key file created on first start
 * with mode 0600 — losing it makes stored credentials unreadable and owners unrecognisable.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export class ServerKeyError extends Error {}

export function parseServerKey(text: string, origin: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) return Buffer.from(t, 'base64');
  throw new ServerKeyError(`${origin}: the server key must be 32 bytes, as 64 hex characters or base64`);
}

/** Reads the key file, or creates it (exclusively, 0600) when it does not exist. */
export function loadOrCreateKeyFile(file: string): { key: Buffer; created: boolean } {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return { key: parseServerKey(fs.readFileSync(file, 'utf8'), file), created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) throw new ServerKeyError(`${file}: the key file must not be readable by others (chmod 600 it)`);
  return { key: parseServerKey(fs.readFileSync(file, 'utf8'), file), created: false };
}
