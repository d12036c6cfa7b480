/** Opens the store named by a URL: `sqlite:PATH`, `sqlite::memory:`, `postgres://user:pass@host:port/db`. */
import * as fs from 'fs';
import * as path from 'path';
import type { Store } from './types';
import { SqliteStore } from './sqlite';
import { PostgresStore } from './postgres';

export * from './types';
export { SqliteStore } from './sqlite';
export { PostgresStore } from './postgres';

export class StoreUrlError extends Error {}

export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (!file) throw new StoreUrlError('Store URL "sqlite:" needs a path, e.g. sqlite:./data/tosca-im.db or sqlite::memory:');
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return SqliteStore.open(file);
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      return await PostgresStore.open(url);
    } catch (e) {
      throw new StoreUrlError(`PostgreSQL store "${redact(url)}": ${redact((e as Error).message)}`);
    }
  }
  throw new StoreUrlError(`Unsupported store URL "${redact(url)}": use sqlite:PATH, sqlite::memory: or postgres://user:pass@host:port/db`);
}

/** Hides a password in a URL before it goes into an error message. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
