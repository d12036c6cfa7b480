/**
 * The IM `Authorization` header: the IM authorization file squeezed into one line.
 *
 * Lines are separated by the two characters `\n` (IM clients) or by real newlines; inside a value the
 * three characters `\\n` stand for a newline (certificates, keys). A line is `key = value; key = value`;
 * `'` or `"` quote a part of a value so that it may hold `;` (the quote characters are dropped, as IM's
 * `Authentication.split_line` does). Lines starting with `#` are comments.
 *
 * IM also accepts `Basic base64(user:pass)` and `Bearer TOKEN` as the InfrastructureManager line alone.
 *
 * Values are secrets: errors name the line (number and type) and the key, never a value.
 */
import { InvalidInputError, UnauthorizedError } from '../errors';
import type { CloudCredential } from '../../connectors/types';

/** The `type = InfrastructureManager` line: who the caller is. */
export type ImIdentity =
  | { kind: 'password'; username: string; password: string }
  | { kind: 'token'; username: string; token: string };

export interface ParsedAuthorization {
  identity: ImIdentity;
  /** Every other credential line, in header order. */
  credentials: CloudCredential[];
}

/** One parsed line, keys as written. */
export type AuthLine = Record<string, string>;

const IM_TYPE = 'InfrastructureManager';
/** IM's key separator is " = "; we accept any spacing around the first `=` (keys never hold one). */
const KEY_VALUE = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s?([\s\S]*)$/;

export function parseAuthorizationHeader(header: string | undefined): ParsedAuthorization {
  if (header === undefined || header.trim() === '') {
    throw new UnauthorizedError('No authentication data provided');
  }
  const lines = header.startsWith('Basic ') ? [basicLine(header.slice(6))]
    : header.startsWith('Bearer ') ? [{ type: IM_TYPE, token: header.slice(7).trim() }]
    : splitLines(header).map(([n, text]) => parseLine(text, n)).filter((l): l is AuthLine => l !== null);

  let identity: ImIdentity | undefined;
  const credentials: CloudCredential[] = [];
  lines.forEach((line, i) => {
    if (line.type === IM_TYPE) {
      // IM takes the first InfrastructureManager line as the owner.
      identity ??= imIdentity(line);
      return;
    }
    credentials.push(cloudCredential(line, i + 1));
  });
  if (!identity) throw new UnauthorizedError('No credentials provided for the InfrastructureManager.');
  return { identity, credentials };
}

/** [line number (1-based, counting comments and blanks), text] of every non-blank, non-comment line. */
function splitLines(header: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  // `\\n` (three chars) is a newline inside a value; protect it before splitting on `\n` (two chars).
  const NL = '\u0000';
  header.replace(/\\\\n/g, NL).split(/\\n|\r?\n/).forEach((raw, i) => {
    const text = raw.split(NL).join('\n').trim();
    if (text !== '' && !text.startsWith('#')) out.push([i + 1, text]);
  });
  return out;
}

/** Splits on `;` outside quotes and drops the quote characters, exactly like IM's split_line. */
function splitTokens(line: string, lineNo: number): string[] {
  const tokens: string[] = [];
  let token = '';
  let single = false;
  let double = false;
  for (const ch of line) {
    if (ch === '"' && !single) double = !double;
    else if (ch === "'" && !double) single = !single;
    else if (ch === ';' && !single && !double) { tokens.push(token); token = ''; }
    else token += ch;
  }
  if (single || double) throw malformed(lineNo, 'a quoted value is not closed');
  if (token.trim() !== '') tokens.push(token);
  return tokens;
}

const OBJECT_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function parseLine(text: string, lineNo: number): AuthLine | null {
  const line: AuthLine = {};
  splitTokens(text, lineNo).forEach((token, i) => {
    if (token.trim() === '') return; // "a = b;; c = d" and a trailing ";" are harmless
    const m = KEY_VALUE.exec(token);
    // The token may be a pasted secret: name its position, never its text.
    if (!m) throw malformed(lineNo, `item ${i + 1} is not "key = value"`, line.type);
    const [, key, value] = m;
    // names of Object's own machinery are no IM key: a plain refusal, not "appears twice" (`key in {}`)
    if (OBJECT_KEYS.has(key)) throw malformed(lineNo, `unknown key "${key}"`, line.type);
    if (Object.hasOwn(line, key)) throw malformed(lineNo, `key "${key}" appears twice`, line.type);
    line[key] = value.trim();
  });
  if (Object.keys(line).length === 0) return null;
  if (!line.type) throw malformed(lineNo, 'it has no "type"');
  return line;
}

function imIdentity(line: AuthLine): ImIdentity {
  if (line.token) return { kind: 'token', username: line.username ?? '', token: line.token };
  if (line.username === undefined || line.username === '') {
    throw new UnauthorizedError('No username nor token for the InfrastructureManager.');
  }
  if (line.password === undefined) {
    throw new UnauthorizedError('No password for the InfrastructureManager user.');
  }
  return { kind: 'password', username: line.username, password: line.password };
}

function cloudCredential(line: AuthLine, index: number): CloudCredential {
  const { id, type, ...fields } = line;
  // IM lets a line go without id; the cloud's own type is then the best name templates can use.
  return { id: id ?? `${type.toLowerCase()}${index}`, type, fields };
}

function basicLine(encoded: string): AuthLine {
  const decoded = Buffer.from(encoded.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new UnauthorizedError('Invalid Basic authorization: expected base64 of "username:password".');
  return { type: IM_TYPE, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function malformed(lineNo: number, why: string, type?: string): InvalidInputError {
  const which = type ? `line ${lineNo} (type = ${type})` : `line ${lineNo}`;
  return new InvalidInputError(`Malformed Authorization header: ${which}: ${why}`);
}
