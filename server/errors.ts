/**
 * The one table from typed error classes (lib/errors.ts, which carry no HTTP codes) to IM's status
 * codes. server/api answers with it; the engine uses it only to pick which cause's status an
 * aggregated CloudError carries (launch, destroy). The classes are re-exported so server rooms keep
 * one import.
 */
import { CloudError, ConflictError, ImError, InfrastructureForbiddenError, InvalidInputError, IssuerUnavailableError, NotFoundError, UnauthorizedError } from '../lib/errors';

export * from '../lib/errors';

/** IM's status for a typed error; 500 for an ImError of no known kind. */
export function imStatus(err: ImError): number {
  if (err instanceof CloudError) return err.status;
  if (err instanceof InvalidInputError) return 400;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof InfrastructureForbiddenError) return 403;
  if (err instanceof IssuerUnavailableError) return 503;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  return 500;
}
