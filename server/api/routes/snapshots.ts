/**
 * PUT /infrastructures/{infId}/vms/{vmId}/disks/{diskNum}/snapshot?image_name=N[&auto_delete=yes]:
 * IM's CreateDiskSnapshot. Answers the new image's URI as text/plain, as IM does. A cloud whose
 * connector cannot snapshot answers 400 naming the cloud types that can.
 */
import { Router } from 'express';
import type { InfrastructureService } from '../../engine/service';
import { InvalidInputError } from '../../errors';
import type { EndpointFactory } from '../endpoint';
import { flag, queryString } from '../flags';

export function snapshotRoutes(service: InfrastructureService, endpoint: EndpointFactory): Router {
  const r = Router();
  r.put('/infrastructures/:infId/vms/:vmId/disks/:diskNum/snapshot', endpoint('Error creating snapshot', async ({ req, res, caller, params }) => {
    const disk = Number(params.diskNum);
    if (!/^\d+$/.test(params.diskNum) || !Number.isSafeInteger(disk)) throw new InvalidInputError(`Incorrect disk number "${params.diskNum}": use 0, 1, ...`);
    const imageName = queryString(req, 'image_name')?.trim();
    if (!imageName) throw new InvalidInputError('The image_name parameter is required');
    // IM deletes auto_delete snapshots with the infrastructure; we accept the flag and keep them (docs/api.md).
    flag(req, 'auto_delete', false);
    if (!service.snapshotDisk) throw new InvalidInputError('this server cannot snapshot disks');
    const uri = await service.snapshotDisk(caller, params.infId, params.vmId, disk, imageName);
    res.status(200).type('text/plain').send(uri);
  }));
  return r;
}
