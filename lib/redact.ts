/**
 * Clouds sometimes quote what they were sent in their error messages (Keystone's input validation
 * answers "'<password>' is too short"), and such messages travel on: into contmsg, the log, API
 * answers. The values of secret credential fields are masked in them where they are born (every
 * connector the engine uses is wrapped) and again where an error leaves the server (the API's
 * error handler). The same list keeps secrets out of an account's identity (server/engine/account.ts).
 */

/** The one list of credential fields whose values are secrets (password, token, secret_key, private_key, proxy,
 * cert, application_credential_*). An access key id identifies the account and is not one. */
const SECRET_FIELD = /pass|token|secret|private|proxy|cert|credential/i;
/** Shorter values would mask ordinary words of a message. */
const MIN_SECRET_LENGTH = 4;
const MASK = '***';

export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/** The secret values of these credentials (an IM auth line's fields), longest first. */
export function credentialSecrets(creds: readonly { fields: Readonly<Record<string, string>> }[]): string[] {
  const out = new Set<string>();
  for (const cred of creds) {
    for (const [field, value] of Object.entries(cred.fields)) {
      if (isSecretField(field) && typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) out.add(value);
    }
  }
  // Longest first, so that a secret containing another is masked whole.
  return [...out].sort((a, b) => b.length - a.length);
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/** Masks the secrets in an Error's message and stack, in place (its class and fields stay). */
export function maskError<E>(err: E, secrets: readonly string[]): E {
  if (err instanceof Error && secrets.length > 0) {
    err.message = redact(err.message, secrets);
    if (err.stack) err.stack = redact(err.stack, secrets);
  }
  return err;
}

/** What the log gets of an error: its name, message and stack, masked (the error itself is left alone). */
export function redactedError(err: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0 || !(err instanceof Error)) return err;
  return { type: err.name, message: redact(err.message, secrets), stack: err.stack && redact(err.stack, secrets) };
}

/** The object with every method's thrown or rejected error masked. */
export function maskingConnector<T extends object>(target: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return target;
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const out = (value as (...a: unknown[]) => unknown).apply(obj, args);
          return out instanceof Promise ? out.catch((e: unknown) => { throw maskError(e, secrets); }) : out;
        } catch (e) {
          throw maskError(e, secrets);
        }
      };
    },
  });
}
