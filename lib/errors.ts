/**
 * Typed errors that say what went wrong, by class, without HTTP codes: every room may throw them,
 * and server/errors.ts (`imStatus`) is the one table that turns a class into IM's status code,
 * used by server/api when it answers.
 */
export class ImError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** Invalid data (template, body, parameters, credentials). */
export class InvalidInputError extends ImError {}
/** Authorization header missing, malformed, or without a valid InfrastructureManager line. */
export class UnauthorizedError extends ImError {}
/** Something the caller named does not exist (or is not theirs: IM does not tell them apart). */
export class NotFoundError extends ImError {}
export class InfrastructureNotFoundError extends NotFoundError {
  constructor(readonly infrastructureId: string) {
    super('Error Getting Inf. info: Invalid infrastructure ID or access not granted.');
  }
}
export class VmNotFoundError extends NotFoundError {
  constructor(infId: string, vmId: string) { super(`Invalid VM ID ${vmId} in infrastructure ${infId}`); }
}
/** The infrastructure exists but the caller is neither an owner nor an admin (IM's UnauthorizedUserException). */
export class InfrastructureForbiddenError extends ImError {
  constructor(readonly infrastructureId: string) { super('Access to this infrastructure not granted.'); }
}
/** An identity provider the operator trusts cannot be reached; the request may be retried. */
export class IssuerUnavailableError extends ImError {}
/** The operation conflicts with the infrastructure's current state (e.g. being deleted). */
export class ConflictError extends ImError {}
/**
 * A cloud refused or failed (quota, auth). `status` is the cloud's own answer class as IM reports it
 * (401 rejected credentials, 403 quota, 400 bad data, 502/504 the cloud failed): data about the
 * cloud's reply, kept until the connector contract gives CloudError a typed kind instead.
 */
export class CloudError extends ImError {
  constructor(message: string, readonly status = 502, readonly code?: string) { super(message); }
}
