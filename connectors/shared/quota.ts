/**
 * How many more VMs of one size an account's quotas let through: the elasticity manager clamps a
 * scale-up with it (E-QUOTA-1) instead of learning the limit from a storm of refused launches.
 */
import type { CloudQuotas } from '../types';

/** What one VM of the size takes from the quotas. */
export interface QuotaFootprint {
  cpus: number;
  memoryMB: number;
}

/**
 * The smallest room over instances, cores and ram (GB, as CloudQuotas keeps it); a resource whose
 * limit is -1 (none stated) or that is missing does not bind. Undefined when none binds: unknown
 * and unlimited look the same to the caller, which then does not clamp.
 */
export function vmsThatFit(q: CloudQuotas, size: QuotaFootprint): number | undefined {
  const rooms: number[] = [];
  const room = (key: string, per: number) => {
    const u = q[key];
    if (!u || u.limit < 0 || !(per > 0)) return;
    // Over-used (a lowered quota, reservations) is no room, not negative room.
    rooms.push(Math.max(0, Math.floor((u.limit - u.used) / per)));
  };
  room('instances', 1);
  room('cores', size.cpus);
  // GB here, converted from MB by the connectors: multiples of 1/1024 divide exactly.
  room('ram', size.memoryMB / 1024);
  return rooms.length ? Math.min(...rooms) : undefined;
}
