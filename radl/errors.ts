/**
 * One error type for every RADL rejection. Same shape as tosca/'s ToscaError (code, detail, file, line,
 * column, path) so server/api maps both the same way; radl/ may not import tosca/ (they are siblings).
 */
export type RadlErrorCode = 'syntax' | 'conflict' | 'duplicate' | 'json' | 'invalid';

export class RadlError extends Error {
  override readonly name = 'RadlError';
  constructor(
    readonly code: RadlErrorCode,
    readonly detail: string,
    readonly file: string,
    /** 1-based; 0 when unknown (JSON RADL has no lines we track). */
    readonly line: number,
    readonly column: number,
    readonly path: ReadonlyArray<string | number> = [],
  ) {
    super(`${file}:${line}:${column} ${path.length ? path.join('.') : '(root)'}: ${detail}`);
  }
}

/** Where a token or feature came from; carried on model objects so later checks can name the place. */
export interface Loc { line: number; column: number }
