/** Opens the store named by a URL: `sqlite:PATH`, `sqlite::memory:` (PostgreSQL comes later). */
import * as fs from 'fs';
import * as path from 'path';
import type { Store } from './types';
import { SqliteStore } from './sqlite';

export * from './types';
export { SqliteStore } from './sqlite';

export class StoreUrlError extends Error {}

export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (!file) throw new StoreUrlError('Store URL "sqlite:" needs a path, e.g. sqlite:./data/tosca-im.db or sqlite::memory:');
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return SqliteStore.open(file);
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new StoreUrlError(`PostgreSQL stores are not supported yet (got "${redact(url)}"); use sqlite:PATH`);
  }
  throw new StoreUrlError(`Unsupported store URL "${redact(url)}": use sqlite:PATH or sqlite::memory:`);
}

/** Hides a password in a URL before it goes into an error message. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
