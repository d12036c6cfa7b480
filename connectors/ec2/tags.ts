/**
 * EC2 tags that mark what an infrastructure owns, on top of the shared naming conventions
 * (connectors/shared/naming.ts): Elastic IPs carry who uses them now and who allocated them.
 */
import { TAG_INFRASTRUCTURE, ownerMarker } from '../shared/naming';

/** On an Elastic IP: ownerMarker(infrastructure that allocated it). Only those may be released by it. */
export const TAG_ALLOCATED_BY = 'im_allocated_by';

export const infrastructureTags = (infrastructureId: string, extra: Record<string, string> = {}) => ({
  [TAG_INFRASTRUCTURE]: infrastructureId,
  ...extra,
});

export const allocationTags = (infrastructureId: string) =>
  infrastructureTags(infrastructureId, { [TAG_ALLOCATED_BY]: ownerMarker(infrastructureId) });
