/**
 * Where the workplace's shared material lives (the TOSCA corpus, the Python judges): `../shared`
 * beside the checkout, as the project is laid out; TOSCA_IM_SHARED_DIR overrides it, and a clone
 * made elsewhere (e.g. a CI work dir) falls back to the workplace's own copy.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return resolve(from, '..');
    dir = up;
  }
  return dir;
}

export function sharedDir(): string {
  if (process.env.TOSCA_IM_SHARED_DIR) return process.env.TOSCA_IM_SHARED_DIR;
  const beside = resolve(repoRoot(), '..', 'shared');
  return existsSync(beside) || !existsSync('/work/shared') ? beside : '/work/shared';
}

export function sharedPath(...parts: string[]): string {
  return join(sharedDir(), ...parts);
}
