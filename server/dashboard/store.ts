/**
 * What the dashboard keeps per person: cloud credentials (fields sealed with the server key, never
 * shown back), the infrastructures launched from it (template, credential, time) and the people it
 * has seen (for sharing). One JSON file under the data directory, written whole and renamed into
 * place, so a crash never leaves half a file; no file (tests) keeps it in memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SecretBox } from '../engine/secrets';
import type { CloudCredential } from '../../connectors/types';

/** The cloud types a person can add, with the fields each one needs (IM's auth-file keys). */
export const CLOUD_TYPES: Record<string, { fields: string[]; secret: string[] }> = {
  OpenStack: { fields: ['host', 'username', 'password', 'tenant', 'domain', 'auth_version', 'service_region'], secret: ['password'] },
  EC2: { fields: ['username', 'password', 'region'], secret: ['password'] },
};

export interface StoredCredential {
  id: string;
  name: string;
  type: string;
  /** Non-secret fields, shown in the edit form. */
  fields: Record<string, string>;
  /** Secret fields, sealed: { key: sealed }. */
  sealed: Record<string, string>;
}

export interface LaunchRecord {
  infId: string;
  template: string;
  credentialId: string;
  createdAt: string;
}

export interface Person {
  owner: string;
  name: string;
  credentials: StoredCredential[];
  launches: LaunchRecord[];
}

export class CredentialInputError extends Error {}

export class DashboardStore {
  private readonly people = new Map<string, Person>();
  private readonly box: SecretBox;

  constructor(serverKey: Buffer, private readonly file?: string) {
    this.box = new SecretBox(serverKey);
    if (file && fs.existsSync(file)) {
      for (const p of JSON.parse(fs.readFileSync(file, 'utf8')) as Person[]) this.people.set(p.owner, p);
    }
  }

  person(owner: string, name: string): Person {
    let p = this.people.get(owner);
    if (!p) {
      p = { owner, name, credentials: [], launches: [] };
      this.people.set(owner, p);
      this.save();
    } else if (p.name !== name) {
      p.name = name;
      this.save();
    }
    return p;
  }

  /** People known by name (for sharing); a name held by two people is ambiguous and refused. */
  findByName(name: string): Person[] {
    return [...this.people.values()].filter((p) => p.name === name);
  }

  /** Adds (no id) or edits a credential; a secret left empty on edit keeps the stored one. */
  saveCredential(owner: string, input: { id?: string; name: string; type: string; values: Record<string, string> }): StoredCredential {
    const p = this.mustGet(owner);
    const spec = CLOUD_TYPES[input.type];
    if (!spec) throw new CredentialInputError(`unknown cloud type "${input.type}" (one of ${Object.keys(CLOUD_TYPES).join(', ')})`);
    const name = input.name.trim();
    if (!/^[A-Za-z0-9_.-]{1,40}$/.test(name)) throw new CredentialInputError('the name must be 1-40 letters, digits, "_", "." or "-"');
    const old = input.id ? p.credentials.find((c) => c.id === input.id) : undefined;
    if (input.id && !old) throw new CredentialInputError('no such credential');
    if (p.credentials.some((c) => c.name === name && c.id !== input.id)) throw new CredentialInputError(`you already have a credential named "${name}"`);
    const fields: Record<string, string> = {};
    const sealed: Record<string, string> = { ...(old?.sealed ?? {}) };
    for (const key of spec.fields) {
      const v = (input.values[key] ?? '').trim();
      if (spec.secret.includes(key)) {
        if (v !== '') sealed[key] = this.box.seal(v);
      } else if (v !== '') fields[key] = v;
    }
    for (const key of spec.secret) if (!sealed[key]) throw new CredentialInputError(`the ${key} is required`);
    const cred: StoredCredential = { id: old?.id ?? randomUUID(), name, type: input.type, fields, sealed };
    p.credentials = old ? p.credentials.map((c) => (c.id === old.id ? cred : c)) : [...p.credentials, cred];
    this.save();
    return cred;
  }

  deleteCredential(owner: string, id: string): void {
    const p = this.mustGet(owner);
    p.credentials = p.credentials.filter((c) => c.id !== id);
    this.save();
  }

  /** The credential as an Authorization line for the engine (secrets opened here only). */
  cloudCredential(owner: string, id: string): CloudCredential | undefined {
    const c = this.people.get(owner)?.credentials.find((x) => x.id === id);
    if (!c) return undefined;
    const secrets = Object.fromEntries(Object.entries(c.sealed).map(([k, v]) => [k, this.box.open(v)]));
    return { id: c.name, type: c.type, fields: { ...c.fields, ...secrets } };
  }

  recordLaunch(owner: string, rec: LaunchRecord): void {
    this.mustGet(owner).launches.push(rec);
    this.save();
  }

  forgetLaunch(owner: string, infId: string): void {
    const p = this.mustGet(owner);
    p.launches = p.launches.filter((l) => l.infId !== infId);
    this.save();
  }

  private mustGet(owner: string): Person {
    const p = this.people.get(owner);
    if (!p) throw new CredentialInputError('unknown person: sign in again');
    return p;
  }

  private save(): void {
    if (!this.file) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify([...this.people.values()]), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}
