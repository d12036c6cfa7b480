/**
 * One account's shared state in this process: the Keystone session, the API client and memoised
 * lookups (flavors, images, networks, an infrastructure's servers by client token). The engine asks
 * the registry for a new connector on every call, so anything worth keeping lives here, keyed by the
 * credential's cache key (which holds a hash of the secret, never the secret).
 */
import { KeyedSerial } from '../../lib/async';
import { OpenStackApi } from './api';
import type { OpenStackSettings } from './credential';
import { KeystoneSession } from './keystone';

/** A value computed once and kept for `ttlMs`; a failure is not kept. */
export class Memo<T> {
  private value?: { at: number; p: Promise<T> };
  constructor(private readonly ttlMs: number, private readonly load: () => Promise<T>) {}
  get(): Promise<T> {
    if (!this.value || Date.now() - this.value.at > this.ttlMs) {
      const p = this.load();
      const entry = { at: Date.now(), p };
      this.value = entry;
      p.catch(() => {
        if (this.value === entry) this.value = undefined;
      });
    }
    return this.value.p;
  }
  clear(): void {
    this.value = undefined;
  }
}

export interface ServerRef {
  id: string;
  name: string;
}

export class OpenStackCloud {
  readonly session: KeystoneSession;
  readonly api: OpenStackApi;
  /** Serialises picking free floating IPs and creating per-infrastructure groups in this process. */
  readonly locks = new KeyedSerial();
  readonly memos = new Map<string, Memo<unknown>>();
  /** Per infrastructure: client token → server, loaded once from the cloud, then kept current. */
  readonly serverIndex = new Map<string, Promise<Map<string, ServerRef>>>();

  constructor(readonly settings: OpenStackSettings) {
    this.session = new KeystoneSession(settings);
    this.api = new OpenStackApi(this.session);
  }

  memo<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
    let m = this.memos.get(key) as Memo<T> | undefined;
    if (!m) this.memos.set(key, (m = new Memo(ttlMs, load) as Memo<T>));
    return m.get();
  }
}

/** Accounts kept; the least recently used is dropped beyond this (a long-running server meets many). */
export const MAX_ACCOUNTS = 256;
const clouds = new Map<string, OpenStackCloud>();

/** The shared state of this credential's account (created on first use). */
export function cloudFor(settings: OpenStackSettings): OpenStackCloud {
  let c = clouds.get(settings.cacheKey);
  if (c) clouds.delete(settings.cacheKey);
  else c = new OpenStackCloud(settings);
  clouds.set(settings.cacheKey, c); // most recently used last
  if (clouds.size > MAX_ACCOUNTS) clouds.delete(clouds.keys().next().value!);
  // Options that do not identify the account (pool, network, delete_floating_ips) are read from the
  // connector's own settings, never from these shared ones.
  return c;
}

/** Tests: forget every account (tokens, lookups). */
export function resetOpenStackClouds(): void {
  clouds.clear();
}
