/** The caller's cloud secrets, masked in every error message and logged error that leaves the API. */
import { credentialSecrets, redact } from '../../connectors/shared/redact';
import type { Caller } from '../engine/service';

export { redact };

export function secretsOf(caller: Caller | undefined): string[] {
  return caller ? credentialSecrets(caller.credentials) : [];
}

/** What the log gets of an error: its name, message and stack, masked (the error itself is left alone). */
export function redactedError(err: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0 || !(err instanceof Error)) return err;
  return { type: err.name, message: redact(err.message, secrets), stack: err.stack && redact(err.stack, secrets) };
}
