/** Typed errors; server/api maps each to IM's status code and body. */
export class ImError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = new.target.name;
  }
}
/** 400: invalid data (template, body, parameters). */
export class InvalidInputError extends ImError {
  constructor(message: string) { super(message, 400); }
}
/** 401: Authorization header missing, malformed, or without a valid InfrastructureManager line. */
export class UnauthorizedError extends ImError {
  constructor(message: string) { super(message, 401); }
}
/** 403: the infrastructure exists but the caller is neither an owner nor an admin (IM's UnauthorizedUserException). */
export class InfrastructureForbiddenError extends ImError {
  constructor(readonly infrastructureId: string) { super('Access to this infrastructure not granted.', 403); }
}
/** 503: an identity provider the operator trusts cannot be reached; the request may be retried. */
export class IssuerUnavailableError extends ImError {
  constructor(message: string) { super(message, 503); }
}
/** 404 as IM answers: no infrastructure with this id (someone else's gets InfrastructureForbiddenError). */
export class InfrastructureNotFoundError extends ImError {
  constructor(id: string) { super(`Error Getting Inf. info: Invalid infrastructure ID or access not granted.`, 404); this.infrastructureId = id; }
  readonly infrastructureId: string;
}
export class VmNotFoundError extends ImError {
  constructor(infId: string, vmId: string) { super(`Invalid VM ID ${vmId} in infrastructure ${infId}`, 404); }
}
/** 415: unsupported content type. */
export class UnsupportedMediaTypeError extends ImError {
  constructor(message: string) { super(message, 415); }
}
/** 409: the operation conflicts with the infrastructure's current state (e.g. being deleted). */
export class ConflictError extends ImError {
  constructor(message: string) { super(message, 409); }
}
/** A cloud refused or failed (quota, auth); reported in state/contmsg, or 4xx/5xx when synchronous. */
export class CloudError extends ImError {
  constructor(message: string, status = 502, readonly code?: string) { super(message, status); }
}
