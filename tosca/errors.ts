/**
 * One error type for everything the engine rejects: it always names where (file, line, column, YAML path),
 * so a user can fix the template without reading our code.
 */
export type ToscaErrorCode =
  | 'yaml-syntax'
  | 'duplicate-key'
  | 'unresolvable-import'
  | 'unknown-type'
  | 'unknown-node'
  | 'unknown-input'
  | 'missing-required'
  | 'wrong-type'
  | 'constraint'
  | 'bad-function'
  | 'cycle'
  | 'invalid';

export class ToscaError extends Error {
  override readonly name = 'ToscaError';
  constructor(
    readonly code: ToscaErrorCode,
    readonly detail: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly path: ReadonlyArray<string | number>,
  ) {
    super(`${file}:${line}:${column} ${path.length ? formatPath(path) : '(root)'}: ${detail}`);
  }

  /** The YAML path as written in messages: a.b.0.c */
  get yamlPath(): string {
    return formatPath(this.path);
  }
}

export function formatPath(path: ReadonlyArray<string | number>): string {
  return path.join('.');
}
