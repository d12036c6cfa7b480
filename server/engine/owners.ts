/**
 * Infrastructure owners as IM keeps them (GetInfrastructureOwners / ChangeInfrastructureAuth): an
 * ordered list of InfrastructureManager identities, each of which may use the infrastructure. We keep
 * the keyed owner id (never a password or token) and the IM user name to show.
 */
import type { InfrastructureRecord, OwnerEntry } from '../store/types';

/** Who is to be added as an owner: the keyed id of their InfrastructureManager line, and its user name. */
export interface NewOwner {
  owner: string;
  username: string;
}

export function isOwner(inf: Pick<InfrastructureRecord, 'owner' | 'owners'>, owner: string): boolean {
  return inf.owners ? inf.owners.some((o) => o.id === owner) : inf.owner === owner;
}

/** A token identity may come without a user name: a short, non-secret mark of its owner id stands in. */
export function displayName(username: string, ownerId: string): string {
  return username !== '' ? username : `token:${ownerId.slice(0, 8)}`;
}

/**
 * The owners as recorded. An infrastructure whose owners were never changed has only its creator,
 * whose name was not recorded: the caller is that creator (only owners get here), so it is theirs.
 */
export function ownersOf(inf: InfrastructureRecord, caller: NewOwner): OwnerEntry[] {
  return inf.owners ?? [{ id: inf.owner, username: displayName(caller.username, inf.owner) }];
}

/** IM: overwrite replaces every owner with the new one; otherwise it is appended (once). */
export function changedOwners(current: OwnerEntry[], added: NewOwner, overwrite: boolean): OwnerEntry[] {
  const entry = { id: added.owner, username: displayName(added.username, added.owner) };
  if (overwrite) return [entry];
  return current.some((o) => o.id === entry.id) ? current.map((o) => (o.id === entry.id ? entry : o)) : [...current, entry];
}
