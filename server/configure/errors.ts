/** Errors of the configuration layer. A failing step is reported in contmsg, never thrown at the engine. */
import { ConflictError, InvalidInputError } from '../errors';

export class ConfigureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** Could not reach a VM's sshd (directly or through the master) before the deadline. */
export class SshUnreachableError extends ConfigureError {
  constructor(readonly vmId: string, readonly address: string, readonly lastError: string) {
    super(`VM ${vmId}: SSH to ${address} not available: ${lastError}`);
  }
}
/** The VM presented a host key other than the one first seen for it. Never retried. */
export class HostKeyMismatchError extends ConfigureError {
  constructor(readonly vmId: string, readonly address: string) {
    super(`VM ${vmId}: host key of ${address} changed since first contact; refusing to connect`);
  }
}
export class StepTimeoutError extends ConfigureError {}
export class StepCancelledError extends ConfigureError {}
/** An artifact (script, playbook) could not be read or downloaded. */
export class ArtifactError extends ConfigureError {}
/** A get_attribute / function in an operation input cannot be resolved. */
export class AttributeResolutionError extends ConfigureError {}

/** Bad request from the engine (unknown master, master changed): a 400, the caller's bug. */
export class ConfigureInputError extends InvalidInputError {}
/** The infrastructure's configuration state forbids this (e.g. the master would change). */
export class MasterChangedError extends ConflictError {
  constructor(infId: string, was: string, now: string) {
    super(`infrastructure ${infId}: the master VM is ${was} and cannot become ${now}`);
  }
}
